// Shared harness for the browser tests (headless Debian Chromium driven by playwright-core).
//
//   footfall  a real `footfall serve` on 127.0.0.1:0 in a temp data dir, started and stopped
//             by PID; events are read back with `footfall log dump`.
//   proxy     a recording HTTP proxy in front of it: it keeps the raw bytes of every request
//             the browser sends (fetch and sendBeacon alike, even during page unload) and can
//             answer chosen requests itself (429/500/400 fault injection).
//   web       where the pages come from. DEMO_FROM = 'static': a tiny node server in the test
//             serves web/demo/, a fresh build of sdk/js at /sdk/footfall.js, /demo/config.js and
//             test fixtures; 'server': the demo and SDK come from the footfall binary itself
//             (/demo/..., /sdk/footfall.js) — the pages then get ?key=&host=.
//
// Env: FOOTFALL_BIN (default <repo>/build/footfall), FF_DEMO_FROM (static|server),
//      FF_CHROMIUM (default /usr/bin/chromium).
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SDK_DIR = join(ROOT, 'sdk/js');
export const FOOTFALL_BIN = process.env.FOOTFALL_BIN || join(ROOT, 'build/footfall');
export const CHROMIUM = process.env.FF_CHROMIUM || '/usr/bin/chromium';
// The one line to change to test the binary's own /demo/ and /sdk/ instead of the static server:
export const DEMO_FROM = process.env.FF_DEMO_FROM || 'static';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fail early, with the fix, when a prerequisite is missing. */
export function preflight() {
  const missing = [];
  if (!existsSync(FOOTFALL_BIN)) missing.push(`footfall binary ${FOOTFALL_BIN} (build it, or set FOOTFALL_BIN)`);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (run scripts/install-browser-deps.sh)`);
  if (!existsSync(join(SDK_DIR, 'node_modules/playwright-core')) || !existsSync(join(SDK_DIR, 'node_modules/esbuild')))
    missing.push('sdk/js/node_modules (run scripts/install-browser-deps.sh)');
  if (missing.length) {
    console.error('browser tests cannot run; missing:\n  ' + missing.join('\n  '));
    console.log('0 passed, 1 failed');
    process.exit(2);
  }
}

/** Test bookkeeping: prints "ok"/"FAIL" lines and the final "N passed, N failed". */
export function reporter(name) {
  let passed = 0;
  let failed = 0;
  const r = {
    check(cond, what, detail) {
      if (cond) {
        passed++;
        console.log(`ok   ${name}: ${what}`);
      } else {
        failed++;
        console.log(`FAIL ${name}: ${what}` + (detail !== undefined ? `\n     ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''));
      }
      return !!cond;
    },
    eq(actual, expected, what) {
      const a = JSON.stringify(actual);
      const e = JSON.stringify(expected);
      return r.check(a === e, what, a === e ? undefined : `expected ${e}\n     actual   ${a}`);
    },
    get failed() {
      return failed;
    },
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      return failed ? 1 : 0;
    },
  };
  return r;
}

/** Run `main(t, cleanup)` with a watchdog; always cleans up; exits with the result. */
export async function run(name, limitMs, main) {
  preflight();
  const t = reporter(name);
  const cleanups = [];
  const cleanup = (fn) => cleanups.push(fn);
  let code = 1;
  const dog = setTimeout(async () => {
    console.log(`FAIL ${name}: timed out after ${limitMs} ms`);
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
    console.log('0 passed, 1 failed');
    process.exit(1);
  }, limitMs);
  try {
    await main(t, cleanup);
  } catch (e) {
    t.check(false, 'no exception', e && e.stack ? e.stack : String(e));
  } finally {
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch((e) => console.error('cleanup:', e.message));
    clearTimeout(dog);
    code = t.finish();
  }
  process.exit(code);
}

/** Poll `fn` until it returns truthy or `ms` pass (bounded). */
export async function waitFor(fn, ms = 10000, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(step);
  }
}

// ---- footfall serve ------------------------------------------------------------------------
// The URL a spawned `footfall serve` prints on its "listening" line (rejects when it exits
// first or prints none within ms); stderrTail() gives its last stderr for error messages.
export function listeningUrl(proc, stderrTail, ms) {
  return new Promise((res, rej) => {
    let buf = '';
    const to = setTimeout(() => rej(new Error(`footfall serve printed no "listening" line in ${ms / 1000} s: ` + stderrTail())), ms);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening (http:\/\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(to);
        res(m[1]);
      }
    });
    proc.on('exit', (c) => rej(new Error(`footfall serve exited (${c}): ${stderrTail()}`)));
  });
}

export async function startFootfall(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'ff-browser-data-'));
  const out = execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', dir, '--kind', 'write'], { encoding: 'utf8', timeout: 15000, stdio: ['ignore', 'pipe', 'pipe'] });
  const key = out.trim().split(/\s+/)[0];
  const proc = spawn(FOOTFALL_BIN, ['serve', '--data', dir, '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const url = await listeningUrl(proc, () => stderr, 10000);
  proc.stdout.resume();
  let exited = null;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
    if (!stopping) console.log(`FAIL footfall serve (pid ${proc.pid}) exited unexpectedly: code ${code} signal ${signal}\n${stderr}`);
  });
  let stopping = false;
  return {
    dir,
    key,
    url,
    pid: proc.pid,
    stderr: () => stderr,
    /** The stored canonical records (footfall log dump). */
    dump() {
      const txt = execFileSync(FOOTFALL_BIN, ['log', 'dump', '--data', dir], { encoding: 'utf8', timeout: 15000, maxBuffer: 64 << 20 });
      return txt.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    /** null while running, else {code, signal} */
    exited: () => exited,
    async stop() {
      stopping = true;
      try {
        if (exited === null) {
          process.kill(proc.pid, 'SIGTERM');
          const done = await waitFor(() => exited !== null, 5000, 50);
          if (!done) process.kill(proc.pid, 'SIGKILL');
        }
      } catch (e) {
        /* already gone (ESRCH) */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- recording proxy -----------------------------------------------------------------------
export async function startProxy(target) {
  const t = new URL(target);
  const log = []; // {at, method, path, headers, body, status, injected}
  const faults = []; // canned answers for the next POSTs: {status, headers, body}
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const rec = { at: Date.now(), method: req.method, path: req.url, headers: req.headers, body: body.toString('utf8'), status: 0, injected: false };
      log.push(rec);
      if (req.method === 'POST' && faults.length) {
        const f = faults.shift();
        rec.status = f.status;
        rec.injected = true;
        res.writeHead(f.status, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json', ...(f.headers || {}) });
        res.end(f.body || JSON.stringify({ code: 'injected', message: 'fault injected by the test proxy' }));
        return;
      }
      const headers = { ...req.headers, host: t.host };
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (ur) => {
        rec.status = ur.statusCode;
        rec.responseHeaders = ur.headers;
        rec.response = '';
        res.writeHead(ur.statusCode, ur.headers);
        ur.on('data', (d) => (rec.response += d));
        ur.pipe(res);
      });
      up.on('error', () => {
        rec.status = 502;
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    log,
    fail(...answers) {
      faults.push(...answers);
    },
    /** Ingest requests (POST /v1/batch), each with its parsed messages. */
    batches() {
      return log
        .filter((r) => r.method === 'POST' && r.path.startsWith('/v1/batch'))
        .map((r) => {
          let parsed = null;
          try {
            parsed = JSON.parse(r.body);
          } catch (e) {
            /* not JSON */
          }
          return { ...r, beacon: r.headers['sec-fetch-mode'] === 'no-cors', messages: parsed && Array.isArray(parsed.batch) ? parsed.batch : [] };
        });
    },
    /** All request bytes seen, joined (for "never contains" checks). */
    rawText() {
      return log.map((r) => r.path + '\n' + JSON.stringify(r.headers) + '\n' + r.body).join('\n');
    },
    stop: () =>
      new Promise((r) => {
        // FF_PROXY_LOG=file keeps every request/answer for debugging (e.g. to replay a crash)
        if (process.env.FF_PROXY_LOG) writeFileSync(process.env.FF_PROXY_LOG, JSON.stringify(log, null, 1));
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

// ---- static web server (demo + fresh SDK build + fixtures) ---------------------------------
let builtSdk = null;
export function buildSdk() {
  if (builtSdk) return builtSdk;
  const out = mkdtempSync(join(tmpdir(), 'ff-browser-sdk-'));
  execFileSync(process.execPath, [join(SDK_DIR, 'build.mjs'), '--outdir', out], { stdio: 'pipe', timeout: 60000 });
  builtSdk = out;
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  return out;
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml' };

/**
 * opts: { key, collector, fixtures: {name: html} }. Serves /demo/* from web/demo, a generated
 * /demo/config.js (the same shape footfall serves), /sdk/footfall(.esm).js from a fresh build
 * and /t/<name> fixtures.
 */
export async function startStatic(opts) {
  const sdk = buildSdk();
  const fixtures = opts.fixtures || {};
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (path === '/demo/config.js')
      return send(200, TYPES['.js'], `window.FOOTFALL_DEMO = {writeKey: ${JSON.stringify(opts.key)}, host: ${JSON.stringify(opts.collector)}};\n`);
    let m = /^\/sdk\/(footfall(?:\.esm)?\.js)$/.exec(path);
    if (m) return send(200, TYPES['.js'], readFileSync(join(sdk, m[1])));
    m = /^\/demo\/([\w.-]*)$/.exec(path);
    if (m) {
      const f = join(ROOT, 'web/demo', m[1] || 'index.html');
      if (existsSync(f)) return send(200, TYPES[f.slice(f.lastIndexOf('.'))] || 'application/octet-stream', readFileSync(f));
    }
    m = /^\/t\/([\w.-]+)$/.exec(path);
    if (m && fixtures[m[1]] !== undefined) return send(200, TYPES['.html'], fixtures[m[1]]);
    send(404, 'text/plain', 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/**
 * Where the demo shop lives for this run, and how a page URL is made.
 * static: http://127.0.0.1:S/demo/index.html (config.js names key and collector)
 * server: http://127.0.0.1:F/demo/index.html?key=K&host=C (the binary's own pages)
 */
export async function demoSite({ footfall, collector, fixtures }) {
  const web = await startStatic({ key: footfall.key, collector, fixtures });
  const demoBase = DEMO_FROM === 'server' ? footfall.url : web.url;
  return {
    web,
    sdkUrl: (DEMO_FROM === 'server' ? footfall.url : web.url) + '/sdk/footfall.js',
    esmUrl: (DEMO_FROM === 'server' ? footfall.url : web.url) + '/sdk/footfall.esm.js',
    /** First page of the demo: the key/host ride along in the query string for 'server'. */
    demo: (page = 'index.html') =>
      `${demoBase}/demo/${page}` + (DEMO_FROM === 'server' ? `${page.includes('?') ? '&' : '?'}key=${encodeURIComponent(footfall.key)}&host=${encodeURIComponent(collector)}` : ''),
    /** A fixture page (always from the static server). */
    fixture: (name) => `${web.url}/t/${name}`,
  };
}

// ---- Chromium --------------------------------------------------------------------------
/**
 * Headless Debian Chromium with a fresh --user-data-dir. The user agent is Chromium's own
 * with "HeadlessChrome" replaced by "Chrome": the collector drops bot user agents
 * (HeadlessChrome included, bad-inputs.md row 78), and these tests play a real shopper.
 */
export async function launchBrowser(extra = {}) {
  const require = createRequire(join(SDK_DIR, 'package.json'));
  const { chromium } = require('playwright-core');
  const major = (/(\d+)\./.exec(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 15000, stdio: ['ignore', 'pipe', 'ignore'] })) || [, '120'])[1];
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'ff-browser-profile-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    // --user-agent (browser-wide), not Playwright's per-page `userAgent` override: that one is
    // dropped while a page unloads, so pagehide events would say HeadlessChrome again.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-agent=${userAgent}`],
    viewport: { width: 1280, height: 800 },
    timeout: 30000,
    ...extra,
  });
  ctx.setDefaultTimeout(10000);
  return {
    ctx,
    userAgent,
    async close() {
      await ctx.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Collect console warnings of a page (the SDK warns on dropped batches). */
export function consoleOf(page) {
  const lines = [];
  page.on('console', (m) => lines.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => lines.push('pageerror: ' + e.message));
  return lines;
}

/** An HTML fixture that loads the SDK (script tag) with the given load() options and script. */
export function fixturePage({ sdkUrl, key, host, options = {}, body = '', script = '', title = 'Fixture' }) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}
<script src="${sdkUrl}"></script>
<script>
footfall.load(Object.assign({writeKey: ${JSON.stringify(key)}, host: ${JSON.stringify(host)}}, ${JSON.stringify(options)}));
${script}
</script></body></html>`;
}
