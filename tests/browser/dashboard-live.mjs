// Browser test: the Live page's client for GET /v1/live (SSE, docs/api.md "Live metrics"):
// snapshot then deltas with sequence numbers; on reconnect the client sends Last-Event-ID and
// replaces its state with the fresh snapshot; a gap in `seq` makes it reconnect (resync).
//
// A scripted SSE server in this test plays /v1/live (so each phase has known numbers) and
// proxies everything else (/dash/, /v1/query) to a real `footfall serve`:
//   connection 1: snapshot seq 10 (7 events/s, 42 active users), deltas 11..13, then it ends;
//   connection 2: must carry Last-Event-ID 13; snapshot seq 1 (a restarted server: 13 events/s,
//                 43 active), deltas 2, 3, then seq 5 (a gap);
//   connection 3: snapshot seq 20 (21 events/s, 44 active), deltas every second.
//
//   node tests/browser/dashboard-live.mjs        (FOOTFALL_BIN)
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { run, startFootfall, launchBrowser, waitFor, FOOTFALL_BIN } from './lib.mjs';

const PHASES = [
  { seq: 10, eps: 7, active: 42, deltas: 3, end: 'close' },
  { seq: 1, eps: 13, active: 43, deltas: 2, end: 'gap' },
  { seq: 20, eps: 21, active: 44, deltas: 1000, end: 'never' },
];

function windowsUpTo(nowMs, n, eps) {
  const last = Math.floor(nowMs / 1000) * 1000;
  const out = [];
  for (let t = last - (n - 1) * 1000; t <= last; t += 1000) out.push({ t, final: t < last - 2000, events: eps, by_type: { track: eps }, by_event: {}, sessions_started: 0, orders: 0, revenue: {}, aov: {}, cart_sessions: 0, converted: 0, cart_conversion: null, checkouts_started: 0, checkout_success_rate: null, payments: { attempts: 0, succeeded: 0, failed: 0, failure_rate: null, by_method: {}, by_currency: {} } });
  return out;
}

function common(seq, ph, now) {
  return { seq, generated_at: now, watermark: now - 2000, max_event_ts: now, log_offset: 0, lag: 0, totals: { events: 0 }, active_users: { '1m': ph.active, '5m': ph.active, '30m': ph.active }, active_sessions: 3, summary: {}, top: { window_minutes: 30, pages: [], products: [], search_terms: [] } };
}

run('dashboard-live', 120000, async (t, cleanup) => {
  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const readKey = execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', ff.dir, '--kind', 'read'], { encoding: 'utf8', timeout: 15000 }).trim().split(/\s+/)[0];
  const up = new URL(ff.url);
  const conns = []; // {lastEventId, auth}
  const timers = new Set();
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/v1/live')) {
      const n = conns.length;
      conns.push({ lastEventId: req.headers['last-event-id'] || null, auth: req.headers.authorization || '' });
      if (req.headers.authorization !== 'Bearer ' + readKey) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        return res.end('{"success":false,"code":"unauthorized","message":"no key"}');
      }
      const ph = PHASES[Math.min(n, PHASES.length - 1)];
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      let seq = ph.seq;
      const now = Date.now();
      res.write(`id: ${seq}\nevent: snapshot\ndata: ${JSON.stringify({ ...common(seq, ph, now), config: { second_windows: 120, minute_windows: 60 }, seconds: windowsUpTo(now, 120, ph.eps), minutes: [] })}\n\n`);
      let sent = 0;
      const iv = setInterval(() => {
        const t2 = Date.now();
        if (sent === ph.deltas) {
          clearInterval(iv);
          timers.delete(iv);
          if (ph.end === 'close') return res.end();
          if (ph.end === 'gap') seq += 1; // skip one: the client must resync
        }
        seq += 1;
        sent += 1;
        res.write(`id: ${seq}\nevent: delta\ndata: ${JSON.stringify({ ...common(seq, ph, t2), seconds: windowsUpTo(t2, 3, ph.eps), minutes: [] })}\n\n`);
        if (ph.end === 'gap' && sent > ph.deltas) {
          clearInterval(iv);
          timers.delete(iv);
        }
      }, 1000);
      timers.add(iv);
      req.on('close', () => {
        clearInterval(iv);
        timers.delete(iv);
      });
      return;
    }
    const p = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    p.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(p);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanup(() => new Promise((r) => {
    for (const iv of timers) clearInterval(iv);
    server.closeAllConnections();
    server.close(r);
  }));
  const base = `http://127.0.0.1:${server.address().port}`;

  const br = await launchBrowser();
  cleanup(() => br.close());
  const page = await br.ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base + '/dash/');
  await page.fill('#key', readKey);
  await page.click('form.login button');
  await page.waitForSelector('#page-live');

  const read = () => page.evaluate(() => ({ eps: document.querySelector('#eps-now').textContent, active: document.querySelector('#tile-active').textContent, badge: document.querySelector('#live-source').textContent }));
  const phase1 = await waitFor(async () => {
    const r = await read();
    return r.eps === '7' && r.active === '42' && r.badge === 'live stream' ? r : null;
  }, 10000);
  t.check(!!phase1, 'snapshot 1: the page shows the stream\'s figures (7 events/s, 42 active users)', await read());
  t.check(conns[0] && conns[0].auth === 'Bearer ' + readKey, 'the key goes in the Authorization header, not the URL');

  const phase2 = await waitFor(async () => conns.length >= 2 && (await read()).eps === '13', 15000);
  t.check(!!phase2, 'after the stream ended, the client reconnected and took the new snapshot (13 events/s)', { conns: conns.length, ...(await read()) });
  t.eq(conns[1] && conns[1].lastEventId, '13', 'the reconnect carries Last-Event-ID of the last message');

  const phase3 = await waitFor(async () => {
    const r = await read();
    return conns.length >= 3 && r.eps === '21' && r.active === '44' ? r : null;
  }, 20000);
  t.check(!!phase3, 'a gap in seq (3 -> 5) made the client resync from a fresh snapshot (21 events/s, 44 active)', { conns: conns.length, ...(await read()) });
  t.eq(conns.length, 3, 'exactly one reconnect per break (no reconnect storm)');
  t.eq(errors, [], 'no page errors');
});
