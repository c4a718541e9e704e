#!/usr/bin/env node
// Runs every browser test, each in its own process with a time limit, and prints the summed
// "N passed, N failed" line; exits non-zero if any failed.
//   node tests/browser/run-all.mjs [--mode static|server|both]   (default both)
// static: pages and SDK from a node server in the test (the fresh sdk/js build);
// server: the footfall binary's own /demo/ and /sdk/footfall.js (what ships).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--mode');
const mode = i > 0 ? process.argv[i + 1] : process.env.FF_DEMO_FROM || 'both';
const modes = mode === 'both' ? ['static', 'server'] : [mode];
const runs = [['assets.mjs', 'server', 90], ['dashboard.mjs', 'server', 240], ['dashboard-live.mjs', 'server', 120], ['dashboard-tz.mjs', 'server', 150]];
for (const m of modes) for (const [f, s] of [['journey.mjs', 240], ['delivery.mjs', 300], ['spa-privacy.mjs', 240]]) runs.push([f, m, s]);

let passed = 0, failed = 0;
for (const [file, m, limit] of runs) {
  const t0 = Date.now();
  const out = await new Promise((res) => {
    const p = spawn(process.execPath, [join(here, file)], { env: { ...process.env, FF_DEMO_FROM: m }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; process.stdout.write(d); });
    const to = setTimeout(() => p.kill('SIGKILL'), (limit + 30) * 1000);
    p.on('exit', (code, sig) => { clearTimeout(to); res({ text, code, sig }); });
  });
  const m2 = /(\d+) passed, (\d+) failed\s*$/.exec(out.text.trim());
  if (m2) { passed += +m2[1]; failed += +m2[2]; } else failed++;
  if (out.code !== 0 && !(m2 && +m2[2] > 0)) failed++; // crashed or killed without reporting a failure
  console.log(`# ${file} (${m}): exit ${out.code}${out.sig ? ' ' + out.sig : ''}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
