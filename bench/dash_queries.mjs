#!/usr/bin/env node
// Every dashboard page's SQL against a big store, timed through /v1/query (docs/benchmarks.md,
// "Dashboard queries").
//
//   cp -r /var/tmp/bq3 /var/tmp/dash-bq3          # the server writes to its data folder
//   FOOTFALL_BIN=build/footfall node bench/dash_queries.mjs --data /var/tmp/dash-bq3 [--runs 3] [--tz ZONE]
//
// 1. Starts `footfall serve` on DATA (a read key is created there) and waits until its stream
//    processor has caught up with the log (it replays the log on a fresh data folder).
// 2. Opens every page in headless Chromium with the range "Last 7 days" and the clock set to
//    an hour before the store's newest event, so that "today", "last hour" and "7 days" hold
//    data (the clock runs on from there), and
//    records the SQL each page sends (the Users page twice: its session list, and the timeline
//    of the busiest person). Repeats of the same query shape (the Live page polls) count once.
// 3. Runs each recorded query --runs times on its own (no browser, nothing else running) and
//    prints one JSON line per query and a summary: page, median/min ms, rows, the SQL.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg, cpus } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const { FOOTFALL_BIN, launchBrowser, waitFor, listeningUrl } = await import(join(here, '../tests/browser/lib.mjs'));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const DATA = arg('--data');
const RUNS = Number(arg('--runs', '3'));
const SLOW_MS = 300;
if (!DATA) {
  console.error('usage: node bench/dash_queries.mjs --data DIR [--runs N]   (DIR is written to: use a copy)');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const readKey = execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', DATA, '--kind', 'read'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
const proc = spawn(FOOTFALL_BIN, ['serve', '--data', DATA, '--listen', '127.0.0.1:0', '--stream-derived=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
let exited = false;
proc.on('exit', () => (exited = true));
let stderr = '';
proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
const url = await listeningUrl(proc, () => stderr, 60000);
proc.stdout.resume();
const stop = async () => {
  if (!exited) {
    process.kill(proc.pid, 'SIGTERM');
    if (!(await waitFor(() => exited, 20000, 100))) process.kill(proc.pid, 'SIGKILL');
  }
};

const q = async (sql) => {
  const t0 = performance.now();
  const r = await fetch(url + '/v1/query', { method: 'POST', headers: { Authorization: 'Bearer ' + readKey }, body: sql });
  const body = await r.text();
  const ms = performance.now() - t0;
  if (!r.ok) return { ms, error: `${r.status} ${body.slice(0, 200)}` };
  const j = JSON.parse(body);
  return { ms, rows: j.rows, data: j.data };
};

try {
  // the stream processor replays the log of a fresh folder: wait until it has caught up
  const lagOf = async () => {
    const m = await (await fetch(url + '/metrics')).text();
    const x = /^footfall_stream_lag_records (\d+)/m.exec(m);
    return x ? Number(x[1]) : 0;
  };
  const caught = await waitFor(async () => (await lagOf()) === 0, 600000, 1000);
  if (!caught) console.error(`note: stream lag still ${await lagOf()} records after 10 minutes`);

  const info = (await q("SELECT count() AS n, toUnixTimestamp64Milli(max(ts)) AS last FROM events")).data[0];
  const now = Number(info.last) - 3600000; // an hour before the newest event: "today" is its last day
  const person = (await q(`SELECT if(anonymous_id != '', anonymous_id, user_id) AS p, count() AS n FROM events WHERE ts >= fromUnixTimestamp64Milli(${now - 7 * 86400000}) GROUP BY p ORDER BY n DESC LIMIT 1`)).data[0].p;

  // ---- record what the pages send ----
  // the pages count days in the browser's zone: UTC here, so the SQL is the same on any machine
  // (and the engine's UTC day partitions apply); --tz ZONE times a zoned view instead
  const br = await launchBrowser({ timezoneId: arg('--tz', 'UTC') });
  const seen = new Map(); // shape -> {page, sql}
  const shape = (sql) => sql.replace(/\d{9,}/g, 'N');
  let pageName = '';
  await br.ctx.addInitScript(({ key, now }) => {
    sessionStorage.setItem('footfall.readKey', key);
    const off = Date.now() - now;
    const RealDate = Date;
    const realNow = RealDate.now.bind(RealDate);
    class FakeDate extends RealDate {
      constructor(...a) {
        if (a.length) super(...a);
        else super(realNow() - off);
      }
      static now() {
        return realNow() - off;
      }
    }
    window.Date = FakeDate;
  }, { key: readKey, now });
  const page = await br.ctx.newPage();
  page.on('request', (r) => {
    if (!r.url().includes('/v1/query') || r.method() !== 'POST') return;
    const sql = r.postData() || '';
    if (sql === 'SELECT 1 AS ok') return;
    const k = pageName + ' ' + shape(sql);
    if (!seen.has(k)) seen.set(k, { page: pageName, sql });
  });
  const visits = [
    ['live', { p: 'live', r: '7d' }, '#tile-events[data-value]'],
    ['funnels', { p: 'funnels', r: '7d' }, '#funnel-result [data-step], #funnel-result .error'],
    ['retention', { p: 'retention', r: '7d' }, '#retention-grid table, #retention-grid .error'],
    ['users', { p: 'users', r: '7d' }, '#recent-sessions table, #recent-sessions .error'],
    ['users (person)', { p: 'users', r: '7d', u: person }, '#user-timeline .chip, #user-result .error'],
    ['products', { p: 'products', r: '7d' }, '#products-viewed .bars, #products-viewed .error'],
  ];
  for (const [name, params, sel] of visits) {
    pageName = name;
    await page.goto(`${url}/dash/?${new URLSearchParams(params)}`);
    await page.waitForSelector(sel, { timeout: 120000 }).catch(() => console.error(`note: ${name}: ${sel} not shown in 120 s`));
    await sleep(name === 'live' ? 12000 : 3000); // the Live page's slower loops (10 s) run once
  }
  await br.close();

  // ---- time each query on its own ----
  const out = [];
  for (const { page: pg, sql } of seen.values()) {
    const xs = [];
    let rows = 0, error = null;
    for (let i = 0; i < RUNS; i++) {
      const r = await q(sql);
      if (r.error) {
        error = r.error;
        break;
      }
      xs.push(r.ms);
      rows = r.rows;
    }
    xs.sort((a, b) => a - b);
    const res = { page: pg, median_ms: xs.length ? Math.round(xs[Math.floor(xs.length / 2)]) : null, min_ms: xs.length ? Math.round(xs[0]) : null, rows, ...(error ? { error } : {}), sql };
    out.push(res);
    console.log(JSON.stringify(res));
  }
  const slow = out.filter((r) => r.error || r.median_ms > SLOW_MS);
  console.log(JSON.stringify({ bench: 'dash_queries', at: new Date().toISOString(), machine: `${cpus().length} cpu ${cpus()[0].model}`, loadavg: loadavg().map((x) => +x.toFixed(2)), events: Number(info.n), clock: new Date(now).toISOString(), runs: RUNS, queries: out.length, over_300ms: slow.length, slowest: [...out].sort((a, b) => (b.median_ms || 0) - (a.median_ms || 0)).slice(0, 5).map((r) => `${r.page}: ${r.median_ms} ms`) }));
} finally {
  await stop();
}
process.exit(0);
