// Browser test 3+4: delivery in headless Chromium against a real `footfall serve`:
//   - offline: events queue in localStorage, nothing is sent; back online each arrives once;
//   - offline events survive the page being closed and are sent by the next page load;
//   - a page closed while events are pending delivers them by sendBeacon;
//   - 429 + Retry-After is honoured; 500/503 are retried with growing backoff; 400 is dropped
//     with a console warning and not retried; a real 429 from `footfall serve --rate-limit`.
// Fault answers are injected by the recording proxy in front of the real server.
//
//   node tests/browser/delivery.mjs        (FOOTFALL_BIN, FF_DEMO_FROM=static|server)
import { run, startFootfall, startProxy, demoSite, launchBrowser, consoleOf, waitFor, fixturePage, DEMO_FROM } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

run(`delivery (${DEMO_FROM})`, 240000, async (t, cleanup) => {
  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const proxy = await startProxy(ff.url);
  cleanup(() => proxy.stop());
  const fixtures = {};
  const site = await demoSite({ footfall: ff, collector: proxy.url, fixtures });
  cleanup(() => site.web.stop());
  const fx = (name, options, script = '', body = '') =>
    (fixtures[name] = fixturePage({ sdkUrl: site.sdkUrl, key: ff.key, host: proxy.url, options: { autocapture: false, ...options }, script, body }));
  const br = await launchBrowser();
  cleanup(() => br.close());
  const stored = () => ff.dump();
  const storedIds = () => new Set(stored().map((r) => r.event_id));
  const wireIds = () => proxy.batches().flatMap((b) => b.messages.map((m) => m.messageId));
  const queueOf = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('ff_q') || '[]').map((m) => m.messageId));

  // ---- 1. offline, then online: the demo shop ----------------------------------------------
  {
    const page = await br.ctx.newPage();
    await page.goto(site.demo('index.html'));
    await page.waitForSelector('#products .card');
    await waitFor(() => stored().length >= 2, 10000); // page + Product List Viewed (sent after flushInterval)
    t.eq(stored().length, 2, 'online: the first page view and list view arrived');
    const before = proxy.batches().length;
    await br.ctx.setOffline(true);
    await page.waitForFunction(() => navigator.onLine === false, null, { timeout: 5000 });
    await page.click('[data-product=p-lamp] button.add');
    await page.click('[data-product=p-tent] button.add');
    await page.evaluate(() => [1, 2, 3].forEach((n) => window.footfall.track('Offline Test', { n })));
    await sleep(4000); // two flush intervals
    const queued = await queueOf(page);
    t.eq(queued.length, 7, 'offline: 2 clicks + 2 Product Added + 3 tracks queued in localStorage');
    t.eq(proxy.batches().length, before, 'offline: no request was attempted');
    t.check(await page.evaluate(() => navigator.onLine === false), 'navigator.onLine is false');
    await br.ctx.setOffline(false);
    await waitFor(() => queued.every((id) => storedIds().has(id)), 10000);
    const ids = storedIds();
    t.check(queued.every((id) => ids.has(id)), 'back online: every queued event arrived');
    await waitFor(async () => (await queueOf(page)).length === 0, 5000); // the 200 reaches the page after the store
    t.eq(await queueOf(page), [], 'back online: the stored queue is empty');
    const onWire = wireIds().filter((id) => queued.includes(id));
    t.eq(onWire.length, queued.length, 'back online: each queued event was sent exactly once');
    t.eq(stored().filter((r) => queued.includes(r.event_id)).length, 7, 'stored exactly once');
    await page.close();
  }

  // ---- 2. offline events survive closing the page; the next page sends them -----------------
  for (let attempt = 1; attempt <= 3; attempt++) {
    fx('persist.html', { flushAt: 1 });
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('persist.html'));
    await br.ctx.setOffline(true);
    const tOffline = Date.now();
    // The page learns it is offline asynchronously; until it does, the SDK may still send (a
    // beacon on close then outlives the page and the emulated network): wait for it.
    await page.waitForFunction(() => navigator.onLine === false, null, { timeout: 5000 });
    const ids = await page.evaluate(() => [1, 2].map((n) => window.footfall.track('Survives Close', { n }).messageId));
    // Leave the page while offline: no beacon, the events stay stored. (Unload it fully before
    // going online: a page still unloading would see the 'online' event and send them itself.)
    await page.goto('about:blank');
    await page.close();
    // page.close() can resolve while the renderer still tears the old document down (it failed
    // about 1 run in 6 here, every time as if the page had seen the 'online' event): give it a
    // moment before the network comes back. The detail of a failure names the request.
    await sleep(1000);
    await br.ctx.setOffline(false);
    const sentEarly = proxy.batches().filter((b) => b.messages.some((m) => ids.includes(m.messageId)));
    const detail = sentEarly.map((b) => `${b.beacon ? 'beacon' : 'fetch'} at +${b.at - tOffline} ms after offline, status ${b.status}`).join('; ');
    // Chromium's offline emulation reaches the network service after navigator.onLine flips:
    // a request that still gets through (status 200 while "offline") is the emulation's race,
    // not the SDK's (which sends nothing while navigator.onLine is false). Such an attempt is
    // repeated with new events, at most 3 times; an SDK that sends while offline fails all 3.
    if (sentEarly.length && attempt < 3) {
      console.log(`info delivery: offline attempt ${attempt}: ${detail}; repeated`);
      await waitFor(() => ids.every((id) => storedIds().has(id)), 10000);
      continue;
    }
    t.check(!sentEarly.length, 'closed while offline: nothing was sent', detail);
    const next = await br.ctx.newPage();
    await next.goto(site.fixture('persist.html'));
    await waitFor(() => ids.every((id) => storedIds().has(id)), 10000);
    t.check(ids.every((id) => storedIds().has(id)), 'the next page load delivered the stored events');
    t.eq(wireIds().filter((id) => ids.includes(id)).length, 2, 'each sent once');
    await next.close();
    break;
  }

  // ---- 3. page closed with events pending: sendBeacon --------------------------------------
  {
    fx('beacon.html', { flushInterval: 60000, flushAt: 100 });
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('beacon.html'));
    const ids = await page.evaluate(() => ['a', 'b', 'c'].map((x) => window.footfall.track('Pending At Close', { x }).messageId));
    await sleep(500);
    t.check(!ids.some((id) => wireIds().includes(id)), 'pending: not sent before the page closes');
    await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
    await waitFor(() => ids.every((id) => storedIds().has(id)), 10000);
    t.check(ids.every((id) => storedIds().has(id)), 'closing the page delivered the pending events');
    const carrier = proxy.batches().filter((b) => b.messages.some((m) => ids.includes(m.messageId)));
    t.check(carrier.length === 1 && carrier[0].beacon, 'in one sendBeacon request (Sec-Fetch-Mode: no-cors)', carrier.map((b) => b.headers['sec-fetch-mode']));
    t.check(carrier.length === 1 && /^text\/plain/.test(carrier[0].headers['content-type']), 'beacon body is text/plain', carrier[0] && carrier[0].headers['content-type']);
  }

  // ---- 4. 429 with Retry-After ---------------------------------------------------------------
  fx('fast.html', { flushAt: 1 });
  async function sendOne(name, answers) {
    proxy.fail(...answers);
    const page = await br.ctx.newPage();
    const cons = consoleOf(page);
    await page.goto(site.fixture('fast.html'));
    const id = await page.evaluate((n) => window.footfall.track(n).messageId, name);
    return { page, id, cons };
  }
  const attempts = (id) => proxy.batches().filter((b) => b.messages.some((m) => m.messageId === id));
  // stored, and every attempt answered (the server stores before it replies to the proxy)
  const settled = (id, ms) => waitFor(() => storedIds().has(id) && attempts(id).every((b) => b.status), ms);
  {
    const { page, id } = await sendOne('Rate Limited', [{ status: 429, headers: { 'Retry-After': '2', 'Access-Control-Expose-Headers': 'Retry-After' } }]);
    await settled(id, 10000);
    const a = attempts(id);
    t.eq(a.map((b) => b.status), [429, 200], '429 then retried and accepted');
    const gap = a.length == 2 ? a[1].at - a[0].at : -1;
    t.check(gap >= 1900 && gap < 8000, `Retry-After: 2 honoured (retried after ${gap} ms)`);
    t.eq(stored().filter((r) => r.event_id === id).length, 1, 'stored once');
    await page.close();
  }
  {
    // Without Access-Control-Expose-Headers a cross-origin page cannot read Retry-After: the
    // SDK falls back to its backoff (this is why the collector must expose the header).
    const { page, id } = await sendOne('Rate Limited Unexposed', [{ status: 429, headers: { 'Retry-After': '5' } }]);
    await settled(id, 10000);
    const a = attempts(id);
    const gap = a.length == 2 ? a[1].at - a[0].at : -1;
    if (DEMO_FROM === 'static') t.check(gap >= 200 && gap < 4500, `unexposed Retry-After (cross-origin): backoff used instead (${gap} ms)`);
    t.eq(stored().filter((r) => r.event_id === id).length, 1, 'stored once');
    await page.close();
  }

  // ---- 5. 500s: retried with growing backoff -----------------------------------------------
  {
    const { page, id } = await sendOne('Server Errors', [{ status: 500 }, { status: 503 }, { status: 500 }]);
    await settled(id, 30000);
    const a = attempts(id);
    t.eq(a.map((b) => b.status), [500, 503, 500, 200], '500, 503, 500 retried, then accepted');
    const gaps = a.slice(1).map((b, i) => b.at - a[i].at);
    // The lower bounds are the SDK's (250·2^k ms before jitter); the upper bound is loose on
    // purpose: a loaded CI machine delays timers, and this is a behaviour test, not a timing one.
    const ok = gaps.length === 3 && gaps.every((g, k) => g >= 250 * 2 ** k - 50 && g <= 500 * 2 ** k + 15000);
    t.check(ok, `exponential backoff with jitter: gaps ${gaps.join(', ')} ms, each at least 250·2^k`);
    t.eq(new Set(a.map((b) => b.messages[0].messageId)).size, 1, 'the same messageId every time');
    t.eq(stored().filter((r) => r.event_id === id).length, 1, 'stored once');
    await page.close();
  }

  // ---- 6. 400: dropped with a console warning, not retried ------------------------------------
  {
    const { page, id, cons } = await sendOne('Bad Batch', [{ status: 400, body: '{"code":"invalid_json","message":"injected"}' }]);
    await sleep(3000);
    t.eq(attempts(id).map((b) => b.status), [400], '400: one attempt, no retry');
    t.check(!storedIds().has(id), '400: not stored');
    t.check(cons.some((l) => /^warning: footfall: batch rejected with HTTP 400, 1 events dropped/.test(l)), '400: console warning', cons);
    t.eq(await queueOf(page), [], '400: removed from the stored queue');
    const id2 = await page.evaluate(() => window.footfall.track('After Bad Batch').messageId);
    await waitFor(() => storedIds().has(id2), 10000);
    t.check(storedIds().has(id2), 'later events are still delivered');
    await page.close();
  }

  // ---- 7. a real 429 from footfall serve --rate-limit ------------------------------------------
  {
    const rl = await startFootfall(['--rate-limit', '1']);
    cleanup(() => rl.stop());
    const rlProxy = await startProxy(rl.url);
    cleanup(() => rlProxy.stop());
    fixtures['ratelimit.html'] = fixturePage({ sdkUrl: site.sdkUrl, key: rl.key, host: rlProxy.url, options: { autocapture: false, flushAt: 1 } });
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('ratelimit.html'));
    const ids = [];
    for (let i = 0; i < 4; i++) {
      ids.push(await page.evaluate((n) => window.footfall.track('Burst', { n }).messageId, i));
      await sleep(50);
    }
    await waitFor(() => rl.dump().length >= 4, 20000);
    const statuses = rlProxy.batches().map((b) => b.status);
    t.check(statuses.includes(429), 'the real server answered 429 to the burst', statuses);
    t.eq(rl.dump().map((r) => r.event_id).sort(), ids.slice().sort(), 'every burst event stored exactly once after the retries');
    const ra = rlProxy.batches().find((b) => b.status === 429);
    console.log(`info delivery: real 429 headers: retry-after=${ra && ra.responseHeaders && ra.responseHeaders['retry-after']} access-control-expose-headers=${ra && ra.responseHeaders && ra.responseHeaders['access-control-expose-headers']}`);
    await page.close();
  }
  t.check(ff.exited() === null, 'footfall serve is still running');
});
