/* ff_cli.h -- the subcommands of the `footfall` binary.
 *
 * WHAT: src/cli only parses the command line (through the option table in
 * src/config) and wires modules together; no logic of its own lives here.
 * Each subcommand is one file cmd_<name>.c with one entry point taking the
 * arguments after its command words and returning the process exit code:
 * 0 success, 1 failure (message on stderr), 2 usage error.
 */
#ifndef FF_CLI_H
#define FF_CLI_H

#include "config/ff_options.h"

int ff_cmd_serve(int argc, char **argv);
int ff_cmd_demo(int argc, char **argv);
int ff_cmd_keys(int argc, char **argv);
int ff_cmd_log(int argc, char **argv);
int ff_cmd_simulate(int argc, char **argv);
int ff_cmd_config(int argc, char **argv);
int ff_cmd_store(int argc, char **argv);
int ff_cmd_query(int argc, char **argv);
int ff_cmd_import(int argc, char **argv);

/* Load options for cmd; prints help (returns 0 via *exit_code) or errors. */
bool ff_cli_load(ff_config *cfg, unsigned cmd, const char *usage, int argc, char **argv,
                 const char **pos, int max_pos, int *n_pos, int *exit_code);

/* Block SIGINT/SIGTERM (call before starting threads) and wait up to ms
 * for one; true when a stop was requested. */
void ff_cli_signals_block(void);
bool ff_cli_wait_signal(int ms);

#endif /* FF_CLI_H */
