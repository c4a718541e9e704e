// Delivery: wire format, batching, retries, 400 drops, beacons, offline queue, flush().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, makeBrowser, readBeacons, UUID_RE, Net, Clock } from './fakebrowser.mjs';
import { create } from '../src/core.js';

const noAuto = { autocapture: false };

test('wire format: POST /v1/batch, text/plain, Segment envelope and message fields', async () => {
  const { ff, net, clock } = boot(
    { ...noAuto, flushAt: 2 },
    { url: 'https://shop.example/p/mug?color=red', referrer: 'https://search.example/', title: 'Mug' },
  );
  const t0 = clock.now;
  ff.track('Product Viewed', { product_id: 'p1', price: 12.5 });
  assert.equal(net.requests.length, 0, 'one event is below flushAt');
  await clock.tick(10);
  ff.page();
  await clock.tick(10);
  assert.equal(net.requests.length, 1);
  const r = net.requests[0];
  assert.equal(r.url, 'https://collector.example/v1/batch');
  assert.equal(r.method, 'POST');
  assert.deepEqual(r.headers, { 'Content-Type': 'text/plain' });
  assert.equal(r.keepalive, true);
  assert.equal(r.credentials, 'omit');
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body).sort(), ['batch', 'sentAt', 'writeKey']);
  assert.equal(body.writeKey, 'wk_test');
  assert.equal(body.sentAt, new Date(t0 + 10).toISOString(), 'sent when the 2nd event arrived');
  const [t, p] = body.batch;
  assert.equal(t.type, 'track');
  assert.equal(t.event, 'Product Viewed');
  assert.deepEqual(t.properties, { product_id: 'p1', price: 12.5 });
  assert.match(t.messageId, UUID_RE);
  assert.match(t.anonymousId, UUID_RE);
  assert.equal(t.timestamp, new Date(t0).toISOString(), 'client time of the call');
  assert.equal(t.userId, undefined);
  assert.deepEqual(t.context.page, {
    url: 'https://shop.example/p/mug?color=red',
    path: '/p/mug',
    referrer: 'https://search.example/',
    title: 'Mug',
    search: '?color=red',
  });
  assert.equal(t.context.userAgent, 'FakeBrowser/1.0');
  assert.equal(t.context.locale, 'en-GB');
  assert.equal(t.context.library.name, 'footfall.js');
  assert.equal(typeof t.context.library.version, 'string');
  assert.match(t.context.sessionId, UUID_RE);
  assert.equal(p.type, 'page');
  assert.equal(p.properties.path, '/p/mug');
  assert.equal(p.properties.title, 'Mug');
  assert.notEqual(p.messageId, t.messageId);
  assert.equal(p.anonymousId, t.anonymousId);
  assert.equal(p.context.sessionId, t.context.sessionId);
});

test('batching by time: one request flushInterval after the first event', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushInterval: 2000 });
  ff.track('a');
  await clock.tick(500);
  ff.track('b');
  await clock.tick(1400);
  assert.equal(net.requests.length, 0);
  await clock.tick(200);
  assert.equal(net.requests.length, 1);
  assert.deepEqual(net.sent().map((m) => m.event), ['a', 'b']);
});

test('batching by count: flushAt events go at once, in batches of at most flushAt', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 5 });
  for (let i = 0; i < 12; i++) ff.track('e' + i);
  await clock.tick(0);
  // first 5 immediately; the rest follow as each answer arrives (one request in flight)
  assert.ok(net.requests.length >= 2, 'sent without waiting for the timer');
  await clock.tick(5000);
  const sizes = net.requests.map((r) => JSON.parse(r.body).batch.length);
  assert.ok(sizes.every((n) => n <= 5), 'batches of at most flushAt: ' + sizes);
  assert.deepEqual(net.sent().map((m) => m.event), Array.from({ length: 12 }, (_, i) => 'e' + i));
});

test('batching by size: requests stay under maxBatchBytes, nothing is lost or reordered', async () => {
  const { ff, net, clock } = boot({ ...noAuto, maxBatchBytes: 3000, flushAt: 100 });
  for (let i = 0; i < 20; i++) ff.track('big' + i, { blob: 'x'.repeat(500) });
  await clock.tick(10000);
  assert.ok(net.requests.length >= 4, 'split by size: ' + net.requests.length);
  for (const r of net.requests) {
    const b = JSON.parse(r.body).batch;
    const bytes = b.reduce((a, m) => a + JSON.stringify(m).length, 0);
    assert.ok(bytes <= 3000, 'batch bytes ' + bytes);
  }
  assert.deepEqual(net.sent().map((m) => m.event), Array.from({ length: 20 }, (_, i) => 'big' + i));
});

test('an event over maxEventBytes is dropped with a warning; others are sent', async () => {
  const { ff, net, clock, warnings } = boot({ ...noAuto, flushAt: 1 });
  assert.equal(ff.track('huge', { s: 'x'.repeat(40000) }), undefined);
  ff.track('small');
  await clock.tick(100);
  assert.deepEqual(net.sent().map((m) => m.event), ['small']);
  assert.ok(warnings.some((w) => /over 32000 bytes/.test(w)));
});

test('retries: network errors and 5xx back off exponentially with jitter, then deliver once', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
  let n = 0;
  net.handler = () => (++n <= 2 ? 'network-error' : n <= 4 ? { status: 503 } : { status: 200 });
  ff.track('x');
  await clock.tick(0);
  for (let i = 0; i < 10 && net.requests.length < 5; i++) await clock.tick(clock.nextAt() - clock.now);
  assert.equal(net.requests.length, 5);
  const gaps = net.requests.slice(1).map((r, i) => r.at - net.requests[i].at);
  // attempt k waits in [0.5, 1] * 500 * 2^k
  gaps.forEach((g, k) => {
    const base = 500 * 2 ** k;
    assert.ok(g >= base / 2 && g <= base, `gap ${k} = ${g} not in [${base / 2}, ${base}]`);
  });
  const ids = net.requests.map((r) => JSON.parse(r.body).batch[0].messageId);
  assert.equal(new Set(ids).size, 1, 'the same messageId is retried (server dedupes)');
  assert.equal(ff.status().queued, 0);
  assert.equal(ff.status().sent, 1);
  assert.equal(ff.status().retries, 4);
  await clock.tick(600000);
  assert.equal(net.requests.length, 5, 'nothing more after success');
});

test('retries: backoff is capped at 60 s', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
  net.handler = () => ({ status: 500 });
  ff.track('x');
  await clock.tick(0);
  for (let i = 0; i < 12; i++) await clock.tick(clock.nextAt() - clock.now);
  const gaps = net.requests.slice(1).map((r, i) => r.at - net.requests[i].at);
  assert.ok(Math.max(...gaps) <= 60000, 'max gap ' + Math.max(...gaps));
  assert.ok(gaps.at(-1) >= 30000, 'reached the cap region: ' + gaps.at(-1));
});

test('429 with Retry-After (seconds) waits exactly that long; HTTP-date form too', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
  let n = 0;
  net.handler = () => (++n === 1 ? { status: 429, headers: { 'Retry-After': '7' } } : { status: 200 });
  ff.track('x');
  await clock.tick(6999);
  assert.equal(net.requests.length, 1, 'not before Retry-After');
  await clock.tick(1);
  assert.equal(net.requests.length, 2);
  assert.equal(net.requests[1].at - net.requests[0].at, 7000);

  const b = boot({ ...noAuto, flushAt: 1 });
  let m = 0;
  b.net.handler = () =>
    ++m === 1 ? { status: 503, headers: { 'retry-after': new Date(b.clock.now + 12000).toUTCString() } } : { status: 200 };
  b.ff.track('y');
  await b.clock.tick(11000);
  assert.equal(b.net.requests.length, 1);
  await b.clock.tick(1000);
  assert.equal(b.net.requests.length, 2);
});

test('429 without Retry-After uses the backoff; 408 is retried', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
  let n = 0;
  net.handler = () => (++n === 1 ? { status: 429 } : n === 2 ? { status: 408 } : { status: 200 });
  ff.track('x');
  await clock.tick(5000);
  assert.equal(net.requests.length, 3);
  assert.equal(ff.status().sent, 1);
});

test('400 drops the batch with a console warning and is not retried', async () => {
  const { ff, net, clock, warnings, storage } = boot({ ...noAuto, flushAt: 2 });
  net.handler = () => ({ status: 400, body: '{"code":"bad"}' });
  ff.track('a');
  ff.track('b');
  await clock.tick(600000);
  assert.equal(net.requests.length, 1);
  assert.equal(ff.status().queued, 0);
  assert.equal(ff.status().dropped, 2);
  assert.ok(warnings.some((w) => /HTTP 400, 2 events dropped/.test(w)), warnings.join('|'));
  assert.deepEqual(JSON.parse(storage.getItem('ff_q')), [], 'and gone from storage');
  net.handler = () => ({ status: 200 });
  ff.track('c');
  await clock.tick(3000);
  assert.deepEqual(net.sent().map((m) => m.event), ['a', 'b', 'c'], 'later events still go');
});

test('other 4xx (401, 413) drop too; 501 and 505 are not retried', async () => {
  for (const status of [401, 413, 501, 505]) {
    const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
    net.handler = () => ({ status });
    ff.track('a');
    await clock.tick(120000);
    assert.equal(net.requests.length, 1, 'status ' + status);
    assert.equal(ff.status().dropped, 1);
  }
});

test('flush() resolves true after delivery, false on 400 and while offline', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushInterval: 60000 });
  assert.equal(await ff.flush(), true, 'nothing queued');
  ff.track('a');
  ff.track('b');
  const p = ff.flush();
  await clock.tick(0);
  assert.equal(await p, true);
  assert.equal(net.requests.length, 1, 'flush sends at once, not after flushInterval');

  net.handler = () => ({ status: 400 });
  ff.track('c');
  const q = ff.flush();
  await clock.tick(0);
  assert.equal(await q, false);

  const { ff: f2, w: w2 } = boot(noAuto);
  w2.goOffline();
  f2.track('d');
  assert.equal(await f2.flush(), false);
  assert.equal(f2.status().queued, 1, 'still queued');
});

test('flush() settles false after maxRetries failures; delivery continues later', async () => {
  const { ff, net, clock } = boot({ ...noAuto, maxRetries: 2 });
  net.handler = () => ({ status: 500 });
  ff.track('a');
  const p = ff.flush();
  let settled = null;
  p.then((v) => (settled = v));
  for (let i = 0; i < 5 && settled === null; i++) await clock.tick(clock.nextAt() - clock.now);
  assert.equal(settled, false);
  assert.equal(net.requests.length, 3, '1 try + 2 retries before settling');
  net.handler = () => ({ status: 200 });
  await clock.tick(120000);
  assert.equal(ff.status().queued, 0, 'the retry loop delivered it afterwards');
});

test('a flush() during a request in flight waits for both batches', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 });
  let release;
  net.handler = () => (net.requests.length === 1 ? new Promise((r) => (release = () => r({ status: 200 }))) : { status: 200 });
  ff.track('a');
  await clock.tick(0);
  ff.track('b');
  const p = ff.flush();
  let v = null;
  p.then((x) => (v = x));
  await clock.tick(0);
  assert.equal(v, null, 'waiting for the in-flight request');
  release();
  await clock.tick(0);
  assert.equal(v, true);
  assert.deepEqual(net.sent().map((m) => m.event), ['a', 'b']);
});

test('pagehide sends pending events with sendBeacon (Blob text/plain) and clears storage', async () => {
  const { ff, net, w, storage } = boot({ ...noAuto, flushInterval: 60000 });
  ff.track('a');
  ff.track('b');
  assert.equal(JSON.parse(storage.getItem('ff_q')).length, 2);
  w.leave();
  await readBeacons(net);
  assert.equal(net.beacons.length, 1);
  assert.equal(net.beacons[0].url, 'https://collector.example/v1/batch');
  assert.equal(net.beacons[0].type, 'text/plain');
  const body = JSON.parse(net.beacons[0].body);
  assert.equal(body.writeKey, 'wk_test');
  assert.deepEqual(body.batch.map((m) => m.event), ['a', 'b']);
  assert.deepEqual(JSON.parse(storage.getItem('ff_q')), []);
  assert.equal(net.requests.length, 0, 'no fetch for those');
});

test('pagehide: beacon refused (quota) keeps events stored; the next page sends them once', async () => {
  const a = boot({ ...noAuto, flushInterval: 60000 });
  a.net.beaconOk = false;
  a.ff.track('a');
  a.w.leave();
  assert.equal(JSON.parse(a.storage.getItem('ff_q')).length, 1);
  const net = new Net();
  const b = makeBrowser({ storage: a.storage, net, clock: a.clock });
  const ff2 = create(b.w).load({ writeKey: 'wk_test', host: 'https://collector.example', autocapture: false });
  assert.equal(ff2.status().queued, 1, 'adopted from storage');
  await b.clock.tick(3000);
  assert.deepEqual(net.sent().map((m) => m.event), ['a']);
  assert.deepEqual(JSON.parse(a.storage.getItem('ff_q')), []);
});

test('pagehide with a request in flight: beacons only the rest (no double send)', async () => {
  const { ff, net, clock, w } = boot({ ...noAuto, flushAt: 1 });
  net.handler = () => new Promise(() => {}); // never answers
  ff.track('a');
  await clock.tick(0);
  ff.track('b');
  w.leave();
  await readBeacons(net);
  assert.deepEqual(JSON.parse(net.beacons[0].body).batch.map((m) => m.event), ['b']);
  assert.deepEqual(net.sent().map((m) => m.event), ['a']);
});

test('visibilitychange to hidden sends at once with fetch keepalive', async () => {
  const { ff, net, clock, w } = boot({ ...noAuto, flushInterval: 60000 });
  ff.track('a');
  w.hide();
  await clock.tick(0);
  assert.equal(net.requests.length, 1);
  assert.equal(net.requests[0].keepalive, true);
});

test('offline: events queue in localStorage, nothing is sent; back online they go once', async () => {
  const { ff, net, clock, w, storage } = boot({ ...noAuto, flushAt: 2 });
  w.goOffline();
  for (let i = 0; i < 5; i++) ff.track('off' + i);
  await clock.tick(60000);
  assert.equal(net.requests.length, 0, 'no attempts while navigator.onLine is false');
  const stored = JSON.parse(storage.getItem('ff_q'));
  assert.deepEqual(stored.map((m) => m.event), ['off0', 'off1', 'off2', 'off3', 'off4']);
  w.leave(); // no beacon while offline either
  assert.equal(net.beacons.length, 0);
  w.fire(w, 'pageshow', { persisted: true }); // back from the bfcache
  w.show();
  w.goOnline();
  await clock.tick(10000);
  const ids = net.sent().map((m) => m.messageId);
  assert.equal(ids.length, 5);
  assert.equal(new Set(ids).size, 5, 'each once');
  assert.deepEqual(JSON.parse(storage.getItem('ff_q')), []);
});

test('fetch failing while navigator says online: retried, then the online event retries at once', async () => {
  const { ff, net, clock, w } = boot({ ...noAuto, flushAt: 1 });
  net.handler = () => 'network-error';
  ff.track('a');
  await clock.tick(0);
  for (let i = 0; i < 6; i++) await clock.tick(clock.nextAt() - clock.now);
  const before = net.requests.length;
  assert.ok(before >= 5);
  net.handler = () => ({ status: 200 });
  w.goOnline();
  await clock.tick(0);
  assert.equal(net.requests.length, before + 1, 'online event skips the remaining backoff');
  assert.equal(ff.status().queued, 0);
});

test('bounded queue: oldest dropped first and counted (counter survives a reload)', async () => {
  const { ff, clock, w, storage, warnings } = boot({ ...noAuto, maxQueue: 10 });
  w.goOffline();
  for (let i = 0; i < 15; i++) {
    ff.track('e' + i);
    await clock.tick(1); // distinct timestamps
  }
  const stored = JSON.parse(storage.getItem('ff_q'));
  assert.deepEqual(stored.map((m) => m.event), Array.from({ length: 10 }, (_, i) => 'e' + (i + 5)));
  assert.equal(ff.status().dropped, 5);
  assert.equal(ff.status().queued, 10);
  assert.ok(warnings.some((m) => /queue full/.test(m)));
  const b = makeBrowser({ storage, clock });
  const ff2 = create(b.w).load({ writeKey: 'k', autocapture: false });
  assert.equal(ff2.status().dropped, 5);
});

test('localStorage quota exceeded: the page keeps working from memory', async () => {
  const b = makeBrowser();
  b.storage.quota = 2000;
  const ff = create(b.w).load({ writeKey: 'k', host: 'https://c.example', autocapture: false, flushAt: 50 });
  for (let i = 0; i < 10; i++) ff.track('q' + i, { pad: 'y'.repeat(300) });
  await b.clock.tick(3000);
  assert.equal(b.net.sent().length, 10);
});

test('localStorage unavailable (throws): works in memory', async () => {
  const { ff, net, clock } = boot({ ...noAuto, flushAt: 1 }, { noStorage: true });
  ff.track('a');
  await clock.tick(100);
  assert.equal(net.sent().length, 1);
});

test('two tabs: one tab does not erase the other tab\'s stored events', async () => {
  const storage = makeBrowser().storage;
  const clock = new Clock();
  const A = makeBrowser({ storage, clock });
  const B = makeBrowser({ storage, clock });
  A.w.goOffline();
  B.w.goOffline();
  const fa = create(A.w).load({ writeKey: 'k', autocapture: false });
  const fb = create(B.w).load({ writeKey: 'k', autocapture: false });
  fa.track('fromA');
  fb.track('fromB');
  fa.track('fromA2');
  const ev = JSON.parse(storage.getItem('ff_q')).map((m) => m.event).sort();
  assert.deepEqual(ev, ['fromA', 'fromA2', 'fromB']);
  A.w.goOnline();
  await clock.tick(5000);
  assert.deepEqual(A.net.sent().map((m) => m.event), ['fromA', 'fromA2'], 'A sends only its own');
  assert.deepEqual(JSON.parse(storage.getItem('ff_q')).map((m) => m.event), ['fromB'], "B's event stays");
});

test('uuid fallback without crypto.randomUUID (or without crypto) still gives v4 UUIDs', async () => {
  for (const o of [{ noRandomUUID: true }, { noCrypto: true }]) {
    const { ff } = boot(noAuto, o);
    const ids = new Set();
    for (let i = 0; i < 50; i++) ids.add(ff.track('x').messageId);
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, UUID_RE);
  }
});

test('host with a trailing slash; default host is same-origin', async () => {
  const a = boot({ ...noAuto, flushAt: 1, host: 'https://c.example/' });
  a.ff.track('x');
  await a.clock.tick(0);
  assert.equal(a.net.requests[0].url, 'https://c.example/v1/batch');
  const b = makeBrowser();
  const ff = create(b.w).load({ writeKey: 'k', autocapture: false, flushAt: 1 });
  ff.track('x');
  await b.clock.tick(0);
  assert.equal(b.net.requests[0].url, '/v1/batch');
});

test('pagehide with a keepalive request in flight: its events leave storage (not resent by the next page)', async () => {
  const a = boot({ ...noAuto, flushAt: 1 });
  a.net.handler = () => new Promise(() => {}); // the browser finishes it after unload; we never see the answer
  a.ff.track('inflight');
  await a.clock.tick(0);
  a.ff.track('pending');
  assert.equal(JSON.parse(a.storage.getItem('ff_q')).length, 2);
  a.w.leave();
  await readBeacons(a.net);
  assert.deepEqual(JSON.parse(a.net.beacons[0].body).batch.map((m) => m.event), ['pending']);
  assert.deepEqual(JSON.parse(a.storage.getItem('ff_q')), [], 'neither stays stored');
  const b = makeBrowser({ storage: a.storage, clock: a.clock });
  const ff2 = create(b.w).load({ writeKey: 'wk_test', autocapture: false });
  await b.clock.tick(5000);
  assert.equal(ff2.status().queued, 0);
  assert.equal(b.net.requests.length, 0, 'nothing resent');
});

test('pagehide while offline: nothing beaconed, everything kept for the next page', async () => {
  const a = boot({ ...noAuto, flushAt: 1 });
  a.w.goOffline();
  a.ff.track('x');
  a.w.leave();
  assert.equal(a.net.beacons.length, 0);
  assert.equal(JSON.parse(a.storage.getItem('ff_q')).length, 1);
});

test('after pagehide, a send triggered later (e.g. going online while unloading) uses sendBeacon', async () => {
  const { ff, net, clock, w, storage } = boot({ ...noAuto, flushAt: 1 });
  w.goOffline();
  ff.track('a');
  w.leave();
  assert.equal(net.beacons.length, 0);
  w.goOnline();
  await clock.tick(0);
  await readBeacons(net);
  assert.equal(net.requests.length, 0, 'no fetch whose answer the page would never see');
  assert.deepEqual(JSON.parse(net.beacons[0].body).batch.map((m) => m.event), ['a']);
  assert.deepEqual(JSON.parse(storage.getItem('ff_q')), []);
  w.fire(w, 'pageshow', { persisted: true });
  ff.track('b');
  await clock.tick(0);
  assert.equal(net.requests.length, 1, 'restored from the bfcache: fetch again');
});
