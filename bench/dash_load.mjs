#!/usr/bin/env node
// Dashboard bundle size and first-load time on loopback (docs/benchmarks.md, "Dashboard").
//
//   FOOTFALL_BIN=build/footfall node bench/dash_load.mjs [--runs N]
//
// Starts `footfall serve` (tests/browser/lib.mjs), sends 20,000 simulated-shop-like events,
// then loads pages in headless Chromium with a cold cache (a fresh browser context each run):
//   login   /dash/ until the sign-in form is on screen (HTML + app.js/css + uplot.js/css, no
//           query);
//   live    /dash/?p=live with a read key until the "events today" tile shows its number
//           (bundle + the first /v1/query answers);
//   demo    /demo/ (the demo shop's index page, same server): the baseline.
// Prints one JSON line: sizes (raw, gzip -9) of what /dash/ serves and the median/min/max ms,
// and page_clock_ms: the medians of the page's own timings (ms after navigation start: HTML,
// app.js, app.css and uplot.js received, DOMContentLoaded, first paint, first /v1/query sent,
// the number of /v1/query requests sent, and `shown`: when the awaited element appeared, by a
// MutationObserver in the page; the wall-clock ms also count starting the tab's renderer
// process and the driver's round trips).
// The browser asks for gzip, as browsers do (the server sends the assets compressed).
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
  // (sent: the bytes the server sends to a client that accepts gzip)
  const get = (path) => fetch(ff.url + path, { headers: { 'Accept-Encoding': 'gzip' } });
  const hr = await get('/dash/');
  const html = await hr.text();
  const files = { 'index.html': Buffer.from(html) };
  const sent = { 'index.html': Number(hr.headers.get('content-length')) };
  for (const m of html.matchAll(/(?:src|href)="([\w-]+\.(?:js|css)\?v=[0-9a-f]+)"/g)) {
    const r = await get('/dash/' + m[1]);
    files[m[1].replace(/\?.*/, '')] = Buffer.from(await r.arrayBuffer());
    sent[m[1].replace(/\?.*/, '')] = Number(r.headers.get('content-length'));
  }
  const sizes = Object.fromEntries(Object.entries(files).map(([f, b]) => [f, { raw: b.length, gzip: gzipSync(b, { level: 9 }).length, sent: sent[f] }]));
  const total = Object.values(sizes).reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip, sent: a.sent + s.sent }), { raw: 0, gzip: 0, sent: 0 });

  const require = createRequire(join(SDK_DIR, 'package.json'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
  const time = async (kind) => {
    const ctx = await browser.newContext({ userAgent: ua, viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    if (kind === 'live') await ctx.addInitScript((k) => sessionStorage.setItem('footfall.readKey', k), readKey);
    // the page's own clock when the awaited element appears (ms after navigation start)
    await ctx.addInitScript((sel) => {
      const mo = new MutationObserver(() => {
        if (document.querySelector(sel)) {
          window.__ffShown = performance.now();
          mo.disconnect();
        }
      });
      mo.observe(document, { subtree: true, childList: true, attributes: true });
    }, kind === 'demo' ? 'body *' : kind === 'login' ? 'form.login' : '#tile-events[data-value]');
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
    // where the time went, from the page's own clock (ms since navigation start)
    const at = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] || {};
      const res = performance.getEntriesByType('resource');
      const end = (re) => Math.round((res.find((r) => re.test(r.name)) || {}).responseEnd || 0);
      const qs = res.filter((r) => /\/v1\/query/.test(r.name));
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        html: Math.round(nav.responseEnd || 0),
        js: end(/app\.js/),
        css: end(/app\.css/),
        uplot_js: end(/uplot\.js/),
        dcl: Math.round(nav.domContentLoadedEventEnd || 0),
        fcp: fcp ? Math.round(fcp.startTime) : 0,
        first_query_start: qs.length ? Math.round(Math.min(...qs.map((r) => r.startTime))) : 0,
        queries: qs.length,
        shown: Math.round(window.__ffShown || 0),
        checked_at: Math.round(performance.now()),
      };
    });
    await ctx.close();
    times.push({ kind, ms, at });
    return ms;
  };
  const times = [];
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
  };
  const res = {};
  const breakdown = {};
  for (const kind of ['demo', 'login', 'live']) {
    await time(kind); // warm the server and the browser binary
    times.length = 0;
    const xs = [];
    for (let r = 0; r < RUNS; r++) xs.push(await time(kind));
    res[kind] = stats(xs);
    // median of each step over the runs
    breakdown[kind] = Object.fromEntries(Object.keys(times[0].at).map((k) => [k, stats(times.map((x) => x.at[k])).median]));
  }
  await browser.close();
  console.log(JSON.stringify({ bench: 'dash_load', at: new Date().toISOString(), machine: `${cpus().length} cpu ${cpus()[0].model}`, loadavg: loadavg().map((x) => +x.toFixed(2)), events: Number(n.data[0].n), runs: RUNS, sizes, total, ms: res, page_clock_ms: breakdown, ratio_login_to_demo: +(res.login.median / res.demo.median).toFixed(2) }));
} finally {
  await ff.stop();
}
await waitFor(() => true, 1);
process.exit(0);
