// Identity, sessions, consent, DNT/GPC, cookieless mode, query-string masking, pre-load calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, makeBrowser, Clock, UUID_RE } from './fakebrowser.mjs';
import { create } from '../src/core.js';

const base = { writeKey: 'wk', host: 'https://c.example', autocapture: false, flushAt: 1 };

test('anonymous id: generated once, kept in localStorage across page loads', async () => {
  const a = boot(base);
  const id = a.ff.track('x').anonymousId;
  assert.match(id, UUID_RE);
  assert.equal(JSON.parse(a.storage.getItem('ff_a')), id);
  const b = makeBrowser({ storage: a.storage, clock: a.clock });
  const ff2 = create(b.w).load(base);
  assert.equal(ff2.track('y').anonymousId, id);
});

test('session: same id within 30 min of inactivity, a new one after; shared across loads', async () => {
  const { ff, clock, storage } = boot(base);
  const s1 = ff.track('a').context.sessionId;
  await clock.tick(29 * 60000);
  assert.equal(ff.track('b').context.sessionId, s1, 'activity 29 min later: same session');
  await clock.tick(29 * 60000);
  assert.equal(ff.track('c').context.sessionId, s1, 'the timeout counts from the last event');
  const b = makeBrowser({ storage, clock });
  const ff2 = create(b.w).load(base);
  assert.equal(ff2.track('d').context.sessionId, s1, 'next page load, same session');
  await clock.tick(30 * 60000 + 1);
  const s2 = ff2.track('e').context.sessionId;
  assert.match(s2, UUID_RE);
  assert.notEqual(s2, s1, 'new session after 30 min idle');
  assert.equal(ff2.status().sessionId, s2);
});

test('sessionTimeout is configurable', async () => {
  const { ff, clock } = boot({ ...base, sessionTimeout: 1000 });
  const s1 = ff.track('a').context.sessionId;
  await clock.tick(1001);
  assert.notEqual(ff.track('b').context.sessionId, s1);
});

test('identify stitches: userId on every later event, both ids on the identify, same session', async () => {
  const { ff, storage, clock } = boot(base);
  const before = ff.track('browse');
  const idm = ff.identify('user-42', { email: 'a@b.example', plan: 'gold' });
  assert.equal(idm.type, 'identify');
  assert.equal(idm.userId, 'user-42');
  assert.equal(idm.anonymousId, before.anonymousId);
  assert.deepEqual(idm.traits, { email: 'a@b.example', plan: 'gold' });
  assert.equal(idm.context.sessionId, before.context.sessionId);
  const after = ff.track('buy');
  assert.equal(after.userId, 'user-42');
  assert.equal(after.anonymousId, before.anonymousId);
  assert.equal(after.context.sessionId, before.context.sessionId);
  assert.equal(before.userId, undefined);
  const b = makeBrowser({ storage, clock });
  assert.equal(create(b.w).load(base).track('z').userId, 'user-42', 'remembered across loads');
  assert.equal(ff.identify({ plan: 'silver' }).userId, 'user-42', 'traits-only identify');
});

test('alias and group', () => {
  const { ff } = boot(base);
  const anon = ff.track('x').anonymousId;
  const a = ff.alias('new-id');
  assert.equal(a.type, 'alias');
  assert.equal(a.userId, 'new-id');
  assert.equal(a.previousId, anon);
  assert.equal(ff.alias('newer').previousId, 'new-id');
  const g = ff.group('org-1', { name: 'Acme' });
  assert.equal(g.type, 'group');
  assert.equal(g.groupId, 'org-1');
  assert.deepEqual(g.traits, { name: 'Acme' });
});

test('reset(): forgets the user, new anonymous id and session', () => {
  const { ff, storage } = boot(base);
  ff.identify('u1');
  const m1 = ff.track('a');
  ff.reset();
  assert.equal(storage.getItem('ff_u'), null);
  const m2 = ff.track('b');
  assert.equal(m2.userId, undefined);
  assert.notEqual(m2.anonymousId, m1.anonymousId);
  assert.notEqual(m2.context.sessionId, m1.context.sessionId);
});

test('cookieless mode: no localStorage, sessionStorage or cookie writes; events still flow', async () => {
  const { ff, net, clock, storage, cookieWrites, w } = boot({ ...base, cookieless: true, autocapture: true });
  ff.identify('u1');
  ff.track('a');
  ff.optIn();
  w.goOffline();
  ff.track('offline');
  w.goOnline();
  await clock.tick(5000);
  assert.equal(storage.writes, 0, 'localStorage untouched');
  assert.equal(storage.length, 0);
  assert.equal(w.sessionStorage.writes, 0);
  assert.deepEqual(cookieWrites, []);
  const sent = net.sent();
  assert.ok(sent.length >= 4, 'page + identify + 2 tracks');
  assert.equal(new Set(sent.map((m) => m.anonymousId)).size, 1, 'one in-memory anonymous id');
  assert.ok(sent.every((m) => UUID_RE.test(m.context.sessionId)));
});

test('requireConsent: nothing queued, stored or sent before optIn(); page view on opt-in', async () => {
  const { ff, net, clock, storage } = boot({ ...base, requireConsent: true, autocapture: true });
  ff.track('before');
  ff.identify('u1');
  ff.productViewed({ product_id: 'p' });
  await clock.tick(10000);
  assert.equal(net.requests.length, 0);
  assert.equal(storage.length, 0, 'not even an anonymous id');
  assert.equal(storage.writes, 0);
  assert.equal(ff.status().queued, 0);
  assert.equal(ff.status().capturing, false);
  ff.optIn();
  ff.track('after');
  await clock.tick(5000);
  const ev = net.sent().map((m) => m.type + ':' + (m.event || ''));
  assert.deepEqual(ev, ['page:', 'track:after'], 'the current page is recorded on opt-in');
  assert.equal(JSON.parse(storage.getItem('ff_c')), 1, 'the choice is remembered');
  const b = makeBrowser({ storage, clock });
  const ff2 = create(b.w).load({ ...base, requireConsent: true });
  assert.ok(ff2.track('next-page'), 'consent remembered on the next load');
});

test('optOut(): stops capture, wipes queue and ids, remembered across loads', async () => {
  const { ff, net, clock, storage, w } = boot(base);
  w.goOffline();
  ff.track('a');
  assert.ok(storage.getItem('ff_q'));
  ff.optOut();
  for (const k of ['ff_q', 'ff_a', 'ff_s', 'ff_u']) assert.equal(storage.getItem(k), null, k);
  assert.equal(ff.track('b'), undefined);
  w.goOnline();
  await clock.tick(5000);
  assert.equal(net.requests.length, 0);
  const b = makeBrowser({ storage, clock });
  const ff2 = create(b.w).load(base);
  assert.equal(ff2.track('c'), undefined);
  assert.equal(ff2.status().capturing, false);
  ff2.optIn();
  assert.ok(ff2.track('d'));
});

test('Do Not Track and Global Privacy Control are honoured by default', async () => {
  for (const nav of [{ doNotTrack: '1' }, { globalPrivacyControl: true }]) {
    const { ff, net, clock, storage } = boot({ ...base, autocapture: true }, nav);
    ff.track('x');
    await clock.tick(5000);
    assert.equal(net.requests.length, 0, JSON.stringify(nav));
    assert.equal(storage.writes, 0);
  }
  const { ff, net, clock } = boot({ ...base, honorDNT: false }, { doNotTrack: '1' });
  ff.track('x');
  await clock.tick(100);
  assert.equal(net.requests.length, 1, 'honorDNT: false');
  const c = boot(base, { globalPrivacyControl: true, doNotTrack: '0' });
  c.ff.optIn();
  assert.ok(c.ff.track('x'), 'an explicit opt-in by the user wins over GPC');
});

test('query-string masking by name: url, search, referrer; other params kept byte-exact', async () => {
  const { ff } = boot(
    { ...base, autocapture: true },
    {
      url: 'https://shop.example/reset?token=abc123&q=red%20mug&Email=x%40y.z&utm_source=news#/a?access_token=zz',
      referrer: 'https://mail.example/?sid=99&x=1',
    },
  );
  const m = ff.track('x');
  const p = m.context.page;
  assert.equal(p.url, 'https://shop.example/reset?token=masked&q=red%20mug&Email=masked&utm_source=news#/a?access_token=masked');
  assert.equal(p.search, '?token=masked&q=red%20mug&Email=masked&utm_source=news');
  assert.equal(p.referrer, 'https://mail.example/?sid=masked&x=1');
  assert.ok(!JSON.stringify(m).includes('abc123'));
  const custom = boot({ ...base, maskParams: ['q'] }, { url: 'https://s.example/?q=secret&token=t' });
  assert.equal(custom.ff.track('y').context.page.url, 'https://s.example/?q=masked&token=t');
});

test('calls before load() are replayed in order by load()', async () => {
  const b = makeBrowser();
  const ff = create(b.w);
  assert.equal(ff.track('early1'), undefined);
  ff.identify('u9');
  ff.track('early2');
  assert.equal(await ff.flush(), true, 'flush before load settles');
  ff.load(base);
  await b.clock.tick(5000);
  const sent = b.net.sent();
  assert.deepEqual(sent.map((m) => m.type + ':' + (m.event || '')), ['track:early1', 'identify:', 'track:early2']);
  assert.equal(sent[2].userId, 'u9');
});

test('load(): writeKey required; a second load() is ignored with a warning; inert without window', () => {
  const b = makeBrowser();
  const ff = create(b.w);
  ff.load({});
  assert.ok(b.warnings.some((w) => /writeKey/.test(w)));
  assert.equal(ff.status().loaded, false);
  ff.load(base);
  ff.load({ ...base, writeKey: 'other' });
  assert.ok(b.warnings.some((w) => /twice/.test(w)));
  const inert = create(undefined);
  inert.load(base);
  assert.equal(inert.track('x'), undefined);
  assert.equal(inert.status().loaded, false);
});

test('e-commerce helpers emit the Segment spec names with the given properties', () => {
  const { ff } = boot(base);
  const p = { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 2, currency: 'EUR' };
  const cases = [
    ['productViewed', 'Product Viewed'],
    ['productAdded', 'Product Added'],
    ['productRemoved', 'Product Removed'],
    ['cartViewed', 'Cart Viewed'],
    ['checkoutStarted', 'Checkout Started'],
    ['paymentInfoEntered', 'Payment Info Entered'],
    ['orderCompleted', 'Order Completed'],
    ['paymentFailed', 'Payment Failed'],
    ['productListViewed', 'Product List Viewed'],
    ['productClicked', 'Product Clicked'],
  ];
  for (const [fn, name] of cases) {
    const m = ff[fn](p);
    assert.equal(m.type, 'track');
    assert.equal(m.event, name, fn);
    assert.deepEqual(m.properties, p);
  }
  const s = ff.search('red mug', { results: 3 });
  assert.equal(s.event, 'Products Searched');
  assert.deepEqual(s.properties, { query: 'red mug', results: 3 });
});

test('status() reports queue and identity', async () => {
  const { ff, clock } = boot({ ...base, flushAt: 10 });
  ff.identify('u1');
  ff.track('a');
  const s = ff.status();
  assert.equal(s.loaded, true);
  assert.equal(s.capturing, true);
  assert.equal(s.queued, 2);
  assert.equal(s.userId, 'u1');
  assert.match(s.anonymousId, UUID_RE);
  await clock.tick(5000);
  assert.equal(ff.status().sent, 2);
  assert.equal(ff.status().queued, 0);
});

test('onEvent sees every queued message', () => {
  const seen = [];
  const { ff } = boot({ ...base, onEvent: (m) => seen.push(m.event || m.type) });
  ff.track('a');
  ff.page();
  assert.deepEqual(seen, ['a', 'page']);
});

test('clock: timestamps follow the client clock; sentAt is set per request', async () => {
  const clock = new Clock(Date.UTC(2030, 5, 1));
  const { ff, net } = boot({ ...base, flushAt: 5 }, { clock });
  ff.track('a');
  await clock.tick(1500);
  ff.track('b');
  await clock.tick(2000);
  const body = JSON.parse(net.requests[0].body);
  assert.equal(body.batch[0].timestamp, '2030-06-01T00:00:00.000Z');
  assert.equal(body.sentAt, '2030-06-01T00:00:02.000Z', 'flushInterval after the first event');
});
