#!/usr/bin/env node
// Dashboard bundle size and first-load time on loopback (docs/benchmarks.md, "Dashboard").
//
//   FOOTFALL_BIN=build/footfall node bench/dash_load.mjs [--runs N]
//
// Starts `footfall serve` (tests/browser/lib.mjs), sends 20,000 simulated-shop-like events,
// then loads pages in headless Chromium with a cold cache (a fresh browser context each run):
//   login   /dash/ until the sign-in form is on screen (HTML + app.js + app.css, no query);
//   live    /dash/?p=live with a read key until the "events today" tile shows its number
//           (bundle + the first /v1/query answers);
//   demo    /demo/ (the demo shop's index page, same server): the baseline.
// Prints one JSON line: sizes (raw, gzip -9) of what /dash/ serves and the median/min/max ms.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const lib = await import(join(here, '../tests/browser/lib.mjs'));
const { startFootfall, FOOTFALL_BIN, CHROMIUM, SDK_DIR, waitFor } = lib;
const i = process.argv.indexOf('--runs');
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 7;

const ff = await startFootfall();
const readKey = execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', ff.dir, '--kind', 'read'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
try {
  // data: the simulator at a high rate for a few seconds
  await new Promise((res) => spawn(FOOTFALL_BIN, ['simulate', '--url', ff.url, '--key', ff.key, '--rate', '4000', '--duration', '5', '--seed', '3'], { stdio: 'ignore' }).on('exit', res));
  await new Promise((r) => setTimeout(r, 1500));
  const n = await (await fetch(ff.url + '/v1/query', { method: 'POST', headers: { Authorization: 'Bearer ' + readKey }, body: 'SELECT count() AS n FROM events' })).json();

  // sizes of what the server sends
  const html = await (await fetch(ff.url + '/dash/')).text();
  const files = { 'index.html': Buffer.from(html) };
  for (const m of html.matchAll(/(?:src|href)="(app\.(?:js|css)\?v=[0-9a-f]+)"/g)) files[m[1].replace(/\?.*/, '')] = Buffer.from(await (await fetch(ff.url + '/dash/' + m[1])).arrayBuffer());
  const sizes = Object.fromEntries(Object.entries(files).map(([f, b]) => [f, { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }]));
  const total = Object.values(sizes).reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }), { raw: 0, gzip: 0 });

  const require = createRequire(join(SDK_DIR, 'package.json'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
  const time = async (kind) => {
    const ctx = await browser.newContext({ userAgent: ua, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    if (kind === 'live') await ctx.addInitScript((k) => sessionStorage.setItem('footfall.readKey', k), readKey);
    const t0 = Date.now();
    if (kind === 'demo') {
      await page.goto(ff.url + '/demo/', { waitUntil: 'load' });
    } else if (kind === 'login') {
      await page.goto(ff.url + '/dash/');
      await page.waitForSelector('form.login');
    } else {
      await page.goto(ff.url + '/dash/?p=live&r=today');
      await page.waitForSelector('#tile-events[data-value]');
    }
    const ms = Date.now() - t0;
    await ctx.close();
    return ms;
  };
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
  };
  const res = {};
  for (const kind of ['demo', 'login', 'live']) {
    await time(kind); // warm the server and the browser binary
    const xs = [];
    for (let r = 0; r < RUNS; r++) xs.push(await time(kind));
    res[kind] = stats(xs);
  }
  await browser.close();
  console.log(JSON.stringify({ bench: 'dash_load', at: new Date().toISOString(), machine: `${cpus().length} cpu ${cpus()[0].model}`, loadavg: loadavg().map((x) => +x.toFixed(2)), events: Number(n.data[0].n), runs: RUNS, sizes, total, ms: res, ratio_login_to_demo: +(res.login.median / res.demo.median).toFixed(2) }));
} finally {
  await ff.stop();
}
await waitFor(() => true, 1);
process.exit(0);
