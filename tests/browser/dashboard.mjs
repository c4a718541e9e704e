// Browser test: the live dashboard (/dash/) in headless Chromium against a real `footfall serve`
// fed by `footfall simulate` and by batches this test sends with known answers.
//   - `/` redirects to /dash/; /dash/ has a strict CSP and cache headers; app.js goes out
//     gzip-compressed (its own ETag, Vary: Accept-Encoding) only to clients that accept gzip;
//   - a bad key (401) and a write key (403) are refused with a clear message; a read key signs in;
//   - Live: the "events today" counter rises while the simulator runs, and once it stops the
//     figures shown equal what /v1/query answers for the same window; a payment incident makes
//     the server's detector fire anomaly:payment_failure_rate and the page marks that minute
//     (and, with /v1/alerts answering 404, falls back to its own rule and says so); cart
//     conversion is the share of today's people with a cart add who also ordered (buyers with
//     no cart add today do not count: never over 100 %), worked out here from the raw events;
//   - Funnels: exactly the step counts of a small data set (historical-but-recent timestamps),
//     also with a property filter on a step;
//   - hostile strings (<script>, <img onerror>, javascript:, RTL override) show as text, and no
//     script runs (dialog / pageerror / CSP-violation listeners);
//   - SQL console: runs a query and shows its rows;
//   - screenshots of every page (desktop, phone, dark) into <build>/screenshots/.
//
//   node tests/browser/dashboard.mjs        (FOOTFALL_BIN)
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { run, startFootfall, launchBrowser, waitFor, FOOTFALL_BIN } from './lib.mjs';

const SHOTS = process.env.FF_SCREENSHOTS || join(dirname(FOOTFALL_BIN), 'screenshots');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NOT_DERIVED = "event NOT IN ('session_ended', 'cart_abandoned', 'checkout_abandoned')";

// Funnel data set: product_viewed -> product_added -> checkout_started -> order_completed,
// window 60 min. Expected people per step: 7, 4, 3, 2.
const F = [
  ['f-u1', [['product_viewed', 0], ['product_added', 1, 'Shoes'], ['checkout_started', 2], ['order_completed', 3]]],
  ['f-u2', [['product_viewed', 0], ['product_added', 1, 'Books'], ['checkout_started', 5]]],
  ['f-u3', [['product_viewed', 0], ['product_added', 2, 'Books']]],
  ['f-u4', [['product_viewed', 0]]],
  ['f-u5', [['product_viewed', 0], ['product_added', 120, 'Shoes']]], // add outside the 60 min window
  ['f-u6', [['product_added', 0, 'Shoes'], ['product_viewed', 1]]], // wrong order
  ['f-u7', [['order_completed', 0]]], // never entered
  ['f-u8', [['product_viewed', 0], ['product_viewed', 1], ['product_added', 2, 'Shoes'], ['checkout_started', 3], ['order_completed', 4]]],
];
const EXPECT = [7, 4, 3, 2];
const EXPECT_SHOES = [7, 2]; // product_viewed -> product_added where category = Shoes (u1, u8; u5 late, u6 wrong order)

const HOSTILE = {
  event: '<img src=x onerror=alert(1)>',
  user: '<script>alert(2)</script>\u202Eevil',
  search: '"><svg onload=alert(3)>',
  note: 'javascript:alert(4)',
};

function key(dir, kind) {
  return execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', dir, '--kind', kind], { encoding: 'utf8', timeout: 15000 }).trim().split(/\s+/)[0];
}

run('dashboard', 240000, async (t, cleanup) => {
  mkdirSync(SHOTS, { recursive: true });
  const ff = await startFootfall(['--anomaly-warmup-min', '5']);
  cleanup(() => ff.stop());
  const readKey = key(ff.dir, 'read');
  const q = async (sql) => {
    const r = await fetch(ff.url + '/v1/query', { method: 'POST', headers: { Authorization: 'Bearer ' + readKey }, body: sql });
    if (!r.ok) throw new Error(`query ${r.status}: ${await r.text()}`);
    return (await r.json()).data;
  };
  const batch = async (msgs) => {
    const r = await fetch(ff.url + '/v1/batch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ batch: msgs, writeKey: ff.key, sentAt: new Date().toISOString() }) });
    const j = await r.json();
    if (r.status !== 200 || j.accepted !== msgs.length) throw new Error('batch not stored: ' + JSON.stringify(j));
  };

  // ---- headers (no browser) ----
  const root = await fetch(ff.url + '/', { redirect: 'manual' });
  t.check(root.status === 302 && root.headers.get('location') === '/dash/', 'GET / redirects to /dash/', `${root.status} ${root.headers.get('location')}`);
  const idx = await fetch(ff.url + '/dash/');
  const html = await idx.text();
  const csp = idx.headers.get('content-security-policy') || '';
  t.check(idx.status === 200 && /script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && /default-src 'none'/.test(csp), 'GET /dash/: strict Content-Security-Policy', csp);
  t.check(!/<script>|<script(?![^>]*\bsrc=)[^>]*>/i.test(html) && !/\son\w+=/i.test(html) && !/style=/.test(html), 'index.html has no inline script, handler or style');
  t.check(idx.headers.get('cache-control') === 'no-cache' && !!idx.headers.get('etag'), 'index.html: Cache-Control no-cache + ETag', idx.headers.get('cache-control'));
  const js = /src="(app\.js\?v=[0-9a-f]+)"/.exec(html);
  const jsr = js && (await fetch(ff.url + '/dash/' + js[1]));
  t.check(!!jsr && jsr.status === 200 && /immutable/.test(jsr.headers.get('cache-control') || '') && /javascript/.test(jsr.headers.get('content-type') || ''), 'app.js?v=<hash> is cached immutable', jsr && jsr.headers.get('cache-control'));
  const r304 = jsr && (await fetch(ff.url + '/dash/' + js[1], { headers: { 'If-None-Match': jsr.headers.get('etag') } }));
  t.eq(r304 && r304.status, 304, 'app.js revalidates by ETag (304)');
  // gzip: precompressed at build time, sent when the client accepts it (raw bytes, node:http)
  const raw = (path, ae) => new Promise((res, rej) => {
    http.get(ff.url + path, { headers: ae === null ? {} : { 'Accept-Encoding': ae } }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
    }).on('error', rej);
  });
  const plain = await raw('/dash/' + js[1], null);
  const gz = await raw('/dash/' + js[1], 'gzip, deflate, br');
  t.check(!plain.headers['content-encoding'] && plain.headers.vary === 'Accept-Encoding' && /javascript/.test(plain.headers['content-type']), 'app.js without Accept-Encoding: identity, Vary: Accept-Encoding', plain.headers);
  t.check(gz.headers['content-encoding'] === 'gzip' && gz.headers.vary === 'Accept-Encoding' && gz.body.length < plain.body.length / 2, `app.js with Accept-Encoding gzip: Content-Encoding gzip (${gz.body.length} of ${plain.body.length} bytes)`, gz.headers);
  t.check(gunzipSync(gz.body).equals(plain.body), 'the gzip body decompresses to the identity body');
  t.check(gz.headers.etag !== plain.headers.etag && /immutable/.test(gz.headers['cache-control'] || '') && /default-src 'none'/.test(gz.headers['content-security-policy'] || ''), 'the gzip answer has its own ETag and the same cache and CSP headers', gz.headers);
  t.check(!(await raw('/dash/' + js[1], 'gzip;q=0, identity')).headers['content-encoding'] && (await raw('/dash/' + js[1], 'br, *;q=0.5')).headers['content-encoding'] === 'gzip', 'gzip;q=0 refuses gzip; * accepts it');
  const gz304 = await new Promise((res, rej) => http.get(ff.url + '/dash/' + js[1], { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag } }, (r) => (r.resume(), res(r.statusCode))).on('error', rej));
  t.eq(gz304, 304, 'the gzip ETag revalidates (304)');

  // ---- data with known answers ----
  const base = Date.now() - 4 * 3600000; // historical but recent: 4 h ago
  const msgs = [];
  let n = 0;
  for (const [uid, steps] of F)
    for (const [ev, min, cat] of steps)
      msgs.push({ type: 'track', event: ev, anonymousId: uid, messageId: `dash-f-${n++}`, timestamp: new Date(base + min * 60000).toISOString(), properties: { ...(cat ? { category: cat, product_id: 'p-' + cat.toLowerCase() } : {}), ...(ev === 'order_completed' ? { revenue: 10, currency: 'USD' } : {}) } });
  const recent = Date.now() - 30000;
  // Cart conversion (Live tile): 4 people add to the cart a minute ago, 2 of them also
  // order; 6 more order with no cart add today (their cart was filled before the window). Only
  // the 2 count as converted: buyers / people with a cart would be 8 / 4 = 200 % (the payment
  // incident's buyers below have no cart add either).
  for (const [uid, evs] of [['cv-a1', ['product_added', 'order_completed']], ['cv-a2', ['product_added', 'product_added', 'order_completed']], ['cv-a3', ['product_added']], ['cv-a4', ['product_added']],
    ...[1, 2, 3, 4, 5, 6].map((k) => [`cv-b${k}`, ['order_completed']])])
    evs.forEach((ev, k) => msgs.push({ type: 'track', event: ev, anonymousId: uid, messageId: `dash-cv-${uid}-${k}`, timestamp: new Date(recent - 60000 + k * 10000).toISOString(), properties: ev === 'order_completed' ? { order_id: `o-${uid}`, revenue: 10, currency: 'USD' } : { product_id: 'p-shoes', category: 'Shoes' } }));
  msgs.push({ type: 'track', event: HOSTILE.event, userId: HOSTILE.user, messageId: 'dash-h-1', timestamp: new Date(recent).toISOString(), properties: { note: HOSTILE.note, html: '<b>bold</b>', rtl: 'abc\u202Edef' } });
  msgs.push({ type: 'track', event: 'products_searched', userId: HOSTILE.user, messageId: 'dash-h-2', timestamp: new Date(recent + 1000).toISOString(), properties: { query: HOSTILE.search } });
  // retention: people first seen 3 and 2 days ago (UTC), active again on known days
  const day0 = Math.floor(Date.now() / 86400000) * 86400000;
  const dayIso = (k) => new Date(day0 - k * 86400000).toISOString().slice(0, 10);
  for (const [uid, days] of [['r-u1', [3, 2, 0]], ['r-u2', [3, 1]], ['r-u3', [3]], ['r-u4', [2, 1]]])
    for (const k of days) msgs.push({ type: 'track', event: 'page_viewed', anonymousId: uid, messageId: `dash-r-${uid}-${k}`, timestamp: new Date(day0 - k * 86400000 + 60000).toISOString() });
  // A payment incident for the server's anomaly detector (--anomaly-warmup-min 5): 15 minutes of
  // payment attempts, 30 a minute with 1-2 failures, except the minute 6 minutes ago where 24
  // of 30 fail. Sent first and in time order, so that the stream processor judges each minute
  // as the watermark passes it (before the rest moves the watermark to now): it fires
  // anomaly:payment_failure_rate for that minute, and resolves it after 3 normal ones.
  const nowMin = Math.floor(Date.now() / 60000) * 60000;
  const spike = nowMin - 6 * 60000;
  const pay = [];
  for (let k = 16; k >= 2; k--) {
    const m0 = nowMin - k * 60000;
    const failed = m0 === spike ? 24 : 1 + (k % 2);
    for (let i = 0; i < 30; i++) {
      const at = new Date(m0 + 1000 + i * 1900).toISOString();
      const id = `pay-${k}-${i}`;
      pay.push(i < failed
        ? { type: 'track', event: 'Payment Failed', anonymousId: id, messageId: `dash-${id}`, timestamp: at, properties: { reason: 'card_declined' } }
        : { type: 'track', event: 'Order Completed', anonymousId: id, messageId: `dash-${id}`, timestamp: at, properties: { order_id: `o-${id}`, revenue: 20, currency: 'EUR' } });
    }
  }
  await batch(pay);
  const alertOf = async () => {
    const r = await fetch(ff.url + '/v1/alerts', { headers: { Authorization: 'Bearer ' + readKey } });
    const j = await r.json();
    return [...(j.firing || []), ...(j.resolved || [])].find((a) => a.rule === 'anomaly:payment_failure_rate') || null;
  };
  const alert = await waitFor(alertOf, 15000, 200);
  t.check(!!alert && alert.fired_at_ms - 60000 === spike, 'the server\'s detector fires anomaly:payment_failure_rate for the incident minute', alert);
  await batch(msgs);

  // ---- the simulator (by PID) ----
  const sim = spawn(FOOTFALL_BIN, ['simulate', '--url', ff.url, '--key', ff.key, '--rate', '60', '--duration', '60', '--seed', '11'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let simDone = false;
  sim.on('exit', () => (simDone = true));
  const stopSim = async () => {
    if (!simDone) {
      try {
        process.kill(sim.pid, 'SIGTERM');
      } catch (e) {
        /* gone */
      }
      await waitFor(() => simDone, 5000, 50);
    }
  };
  cleanup(stopSim);

  // UTC: the known answers below (retention cohorts, "today") are UTC days; the time zones
  // have their own test (dashboard-tz.mjs)
  const br = await launchBrowser({ timezoneId: 'UTC' });
  cleanup(() => br.close());
  const page = await br.ctx.newPage();
  const problems = [];
  page.on('dialog', (d) => {
    problems.push('dialog: ' + d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push('csp: ' + m.text());
  });
  const dash = (params) => `${ff.url}/dash/?${new URLSearchParams(params)}`;
  const shot = (name) => page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });

  // ---- login ----
  await page.goto(ff.url + '/');
  t.check(page.url().endsWith('/dash/'), 'the browser lands on /dash/', page.url());
  await page.waitForSelector('form.login');
  t.eq(await page.locator('#page-live').count(), 0, 'no key, no data: only the sign-in form');
  await shot('login');
  await page.fill('#key', 'ffr_not_a_real_key');
  await page.click('form.login button');
  await page.waitForFunction(() => /401/.test(document.querySelector('#login-error').textContent));
  t.check(/refused/i.test(await page.textContent('#login-error')), 'a bad key is refused: ' + (await page.textContent('#login-error')));
  await page.fill('#key', ff.key);
  await page.click('form.login button');
  await page.waitForFunction(() => /403/.test(document.querySelector('#login-error').textContent));
  t.check(/write keys/i.test(await page.textContent('#login-error')), 'a write key is refused (403) with a clear message');
  t.eq(await page.evaluate(() => sessionStorage.getItem('footfall.readKey')), null, 'refused keys are not kept');
  await page.fill('#key', readKey);
  await page.click('form.login button');
  await page.waitForSelector('#page-live');
  t.eq(await page.evaluate(() => sessionStorage.getItem('footfall.readKey')), readKey, 'the read key is kept in sessionStorage');

  // ---- Live: the counter rises while the simulator runs ----
  const tileValue = () => page.evaluate(() => {
    const el = document.querySelector('#tile-events');
    return el && el.dataset.value !== undefined ? Number(el.dataset.value) : null;
  });
  await waitFor(async () => (await tileValue()) !== null, 15000);
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name)).filter((u) => /^\/dash\/[\w-]+\.(?:js|css)$/.test(u.pathname)).map((u) => u.pathname + (u.searchParams.get('v') ? '?v=HASH' : '')).sort());
  t.eq(loaded, ['/dash/app.css?v=HASH', '/dash/app.js?v=HASH', '/dash/uplot.css?v=HASH', '/dash/uplot.js?v=HASH'], 'the page loads app.* and uPlot\'s own uplot.* once each, by hash (the preload serves the import)');
  await page.waitForSelector('#eps-chart .uplot canvas', { timeout: 10000 });
  const first = await tileValue();
  await sleep(7000);
  const second = await tileValue();
  t.check(first !== null && second > first, `the events counter rises while the simulator runs (${first} -> ${second})`);
  const eps = await page.textContent('#eps-now');
  t.check(Number(eps.replace(/,/g, '')) > 0, `events per second shown (${eps}, ${await page.textContent('#live-source')})`);
  await page.waitForFunction(() => document.querySelectorAll('#feed tbody tr').length > 3, null, { timeout: 10000 });
  await page.waitForSelector('#anomaly-source', { timeout: 15000 });
  const marks = () => page.$$eval('#anomaly [data-anomaly]', (els) => els.map((e) => [e.dataset.anomaly, Number(e.dataset.t)]));
  t.eq(await page.getAttribute('#anomaly-source', 'data-source'), 'server', 'the Live page draws its marks from the server\'s alerts (/v1/alerts)');
  t.eq(await marks(), [['server', spike]], 'the incident minute carries the one anomaly mark, from the server\'s alert');
  t.check(/anomaly:payment_failure_rate/.test(await page.textContent('#anomaly-source')) && /80\.0 %/.test(await page.textContent('#anomaly-source')), 'the note names the alert and its value', await page.textContent('#anomaly-source'));
  await shot('live');
  // without /v1/alerts (an older server: 404), the page falls back to its own rule and says so
  await page.route('**/v1/alerts', (r) => r.fulfill({ status: 404, contentType: 'application/json', body: '{"success":false,"code":"not_found","message":"no such endpoint"}' }));
  await page.goto(dash({ p: 'live', r: '1h' }));
  await page.waitForSelector('#anomaly-source[data-source="dashboard"]', { timeout: 15000 });
  t.check(/not available.*404.*dashboard's own rule/.test(await page.textContent('#anomaly-source')), 'without /v1/alerts the page says its marks come from its own rule', await page.textContent('#anomaly-source'));
  t.check((await marks()).some(([by, at]) => by === 'dashboard' && at === spike), 'the fallback rule marks the incident minute too', await marks());
  await page.unroute('**/v1/alerts');

  // ---- after the simulator stops, the figures equal /v1/query for the same window ----
  await stopSim();
  let settled = null;
  const end = Date.now() + 15000;
  while (Date.now() < end) {
    await sleep(3500); // the store seals every second; the tiles refresh every 3 s
    const v = await page.evaluate(() => Object.fromEntries(['events', 'users', 'orders'].map((k) => [k, { ...document.querySelector('#tile-' + k).dataset }])));
    const w = `ts >= fromUnixTimestamp64Milli(${v.events.from}) AND ts < fromUnixTimestamp64Milli(${v.events.to})`;
    const [a] = await q(`SELECT count() AS events, uniqExact(if(anonymous_id != '', anonymous_id, user_id)) AS users, countIf(event = 'order_completed') AS orders FROM events WHERE ${w} AND ${NOT_DERIVED}`);
    settled = { shown: { events: +v.events.value, users: +v.users.value, orders: +v.orders.value }, query: { events: +a.events, users: +a.users, orders: +a.orders } };
    if (JSON.stringify(settled.shown) === JSON.stringify(settled.query)) break;
  }
  t.eq(settled.shown, settled.query, 'Live figures (events, users, orders today) equal /v1/query for the same window');
  t.check(settled.query.events >= 100, `the simulator's events are in (${settled.query.events})`);

  // ---- cart conversion: people with a cart add who also ordered / people with a cart add ----
  // The expected value is worked out here from each person's events of the tile's window (not
  // with the page's SQL); buyers with no cart add in the window must not count.
  let cart = null;
  const cartEnd = Date.now() + 10000;
  while (Date.now() < cartEnd) {
    const v = await page.evaluate(() => ({ text: document.querySelector('#tile-cart').textContent, sub: document.querySelector('[data-tile="cart"] .tile-sub').textContent, ...document.querySelector('#tile-cart').dataset }));
    const win = await page.evaluate(() => ({ ...document.querySelector('#tile-events').dataset })); // today, UTC
    const w = `ts >= fromUnixTimestamp64Milli(${win.from}) AND ts < fromUnixTimestamp64Milli(${win.to})`;
    const rows = await q(`SELECT if(anonymous_id != '', anonymous_id, user_id) AS p, event FROM events WHERE ${w} AND event IN ('product_added', 'order_completed') GROUP BY p, event`);
    const added = new Set(rows.filter((x) => x.event === 'product_added').map((x) => x.p));
    const bought = new Set(rows.filter((x) => x.event === 'order_completed').map((x) => x.p));
    const both = [...added].filter((p) => bought.has(p)).length;
    cart = { shown: v, added: added.size, bought: bought.size, both, boughtWithoutCart: [...bought].filter((p) => !added.has(p)).length, expected: added.size ? ((100 * both) / added.size).toFixed(1) + ' %' : '–' };
    if (v.text === cart.expected && +v.carts === added.size) break;
    await sleep(1000);
  }
  t.check(cart.added >= 4 && cart.boughtWithoutCart >= 6, `the window has buyers with no cart add (${cart.boughtWithoutCart} of ${cart.bought} buyers; ${cart.added} people with a cart)`, cart);
  t.eq(cart.shown.text, cart.expected, `Cart conversion shows ${cart.both} of ${cart.added} people with a cart add who also ordered (not buyers / carts = ${((100 * cart.bought) / cart.added).toFixed(1)} %)`);
  t.eq([+cart.shown.converted, +cart.shown.carts], [cart.both, cart.added], 'the tile\'s counts are the people with both events and the people with a cart add');
  t.check(+cart.shown.value >= 0 && +cart.shown.value <= 1 && parseFloat(cart.shown.text) <= 100, `Cart conversion is within 0..100 % (${cart.shown.text})`);
  t.eq(cart.shown.sub, `${cart.both.toLocaleString('en-US')} of ${cart.added.toLocaleString('en-US')} people with a cart bought`, 'the subtitle names both counts');

  // ---- hostile strings: shown as text, nothing runs ----
  await page.goto(dash({ p: 'live', r: '1h', fu: HOSTILE.user }));
  await page.waitForFunction(() => document.querySelectorAll('#feed tbody tr').length === 2, null, { timeout: 10000 });
  const feedText = await page.textContent('#feed');
  t.check(feedText.includes(HOSTILE.event) && feedText.includes('<script>alert(2)</script>') && feedText.includes(HOSTILE.search), 'hostile event name, user id and search term are shown as text in the feed');
  t.check(feedText.includes('javascript:alert(4)') && feedText.includes('<b>bold</b>'), 'hostile property values are shown as text');
  t.check(feedText.includes('</script>⟨U+202E⟩evil') && !feedText.includes('\u202E'), 'an RTL override is shown as a visible marker, not applied', feedText.slice(0, 400));
  t.eq(await page.locator('#feed img, #feed script, #feed svg, #feed b').count(), 0, 'no element was made from data');
  t.eq(await page.locator('#feed a[href^="javascript"]').count(), 0, 'no javascript: link');
  await shot('hostile');
  await page.goto(dash({ p: 'users', r: '1h', u: HOSTILE.user }));
  await page.waitForSelector('#user-timeline .chip');
  t.check((await page.textContent('#user-result')).includes(HOSTILE.event), 'the user timeline shows the hostile event name as text');
  t.eq(await page.locator('#user-result img, #user-result script').count(), 0, 'no element was made from data on the Users page');

  // ---- Funnels: exact step counts ----
  const iso = (ms) => new Date(ms).toISOString().slice(0, 16) + 'Z';
  const range = { r: 'custom', from: iso(base - 60000), to: iso(base + 3 * 3600000) };
  const counts = () => page.$$eval('#funnel-result [data-step]', (els) => els.map((e) => Number(e.dataset.count)));
  await page.goto(dash({ p: 'funnels', ...range }));
  await page.waitForSelector('#funnel-result [data-step]');
  t.eq(await counts(), EXPECT, 'Funnels: default funnel step counts of the known data set');
  t.check(/28\.6 %/.test(await page.textContent('#funnel-overall')), 'overall conversion 2 of 7 = 28.6 %', await page.textContent('#funnel-overall'));
  await shot('funnels');
  await page.goto(dash({ p: 'funnels', ...range, steps: JSON.stringify([{ e: 'product_viewed' }, { e: 'product_added', k: 'category', v: 'Shoes' }]), bd: 'category' }));
  await page.waitForSelector('#funnel-result [data-step]');
  t.eq(await counts(), EXPECT_SHOES, 'Funnels: a property filter on a step (category = Shoes)');

  // ---- SQL console ----
  const sql = "SELECT event, count() AS n FROM events WHERE event LIKE 'product%' GROUP BY event ORDER BY n DESC, event";
  await page.goto(dash({ p: 'sql', q: sql }));
  await page.waitForSelector('#sql-result tbody tr');
  const shown = await page.$$eval('#sql-result tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const want = (await q(sql)).map((r) => [r.event, String(r.n)]);
  t.eq(shown, want, 'SQL console shows the rows /v1/query answers');
  t.check((await page.locator('#sql-chart .bar-row').count()) > 0, 'SQL console draws bars for a category column');
  await shot('sql');
  await page.fill('#sql-text', 'SELECT cuont() FROM events');
  await page.click('#sql-run');
  await page.waitForSelector('#sql-result .error');
  t.check(/unknown function/i.test(await page.textContent('#sql-result')), 'a wrong query shows the server\'s message');

  // ---- Retention: the known cohorts ----
  await page.goto(dash({ p: 'retention', r: '7d' }));
  await page.waitForSelector('#retention-grid table');
  const cohort = (d) => page.$$eval(`#retention-grid tr[data-cohort="${d}"] td`, (tds) => tds.map((td) => (td.dataset.n !== undefined ? Number(td.dataset.n) : td.textContent)));
  t.eq((await cohort(dayIso(3))).slice(1, 5), ['3', 3, 1, 1], 'Retention: cohort of 3 days ago: 3 people, 1 back on day 1 and day 2');
  t.eq((await cohort(dayIso(3)))[5], 1, 'Retention: ... and 1 back on day 3');
  t.eq((await cohort(dayIso(2))).slice(1, 4), ['1', 1, 1], 'Retention: cohort of 2 days ago: 1 person, back on day 1');
  await shot('retention');

  // ---- the other pages render (screenshots) ----
  for (const [p, sel] of [['users', '#recent-sessions table'], ['products', '#products-viewed .bars'], ['alerts', '#alerts h3, #alerts-unavailable, #alerts pre']]) {
    await page.goto(dash({ p, r: 'today' }));
    const ok = await page.waitForSelector(sel, { timeout: 10000 }).then(() => true, () => false);
    t.check(ok, `${p} page renders (${sel})`);
    await shot(p);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(dash({ p: 'live', r: '1h' }));
  await page.waitForSelector('#tile-events[data-value]');
  await sleep(1500);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const wide = {};
  wide.live = await overflow();
  await shot('live-phone');
  for (const [p, sel, extra] of [['funnels', '#funnel-result [data-step]', range], ['retention', '#retention-grid table', {}], ['users', '#recent-sessions table', {}], ['products', '#products-viewed', {}], ['alerts', '#alerts', {}], ['sql', '#sql-result tbody tr', { q: sql }]]) {
    await page.goto(dash({ p, r: 'today', ...extra }));
    await page.waitForSelector(sel);
    await sleep(300);
    wide[p] = await overflow();
    if (p === 'funnels') await shot('funnels-phone');
  }
  t.check(Object.values(wide).every((x) => x <= 1), 'phone width (390 px): no page scrolls sideways', wide);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('#theme');
  await page.waitForSelector('html[data-theme]');
  await page.goto(dash({ p: 'funnels', ...range }));
  await page.waitForSelector('#funnel-result [data-step]');
  await shot('funnels-dark');

  // ---- sign out ----
  await page.click('#logout');
  await page.waitForSelector('form.login');
  t.eq(await page.evaluate(() => sessionStorage.getItem('footfall.readKey')), null, 'sign out forgets the key');

  t.eq(problems, [], 'no dialog, page error or CSP violation on any page');
  console.log(`note dashboard: screenshots in ${SHOTS}`);
});
