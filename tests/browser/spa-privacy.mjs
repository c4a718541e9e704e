// Browser test 5: single-page-app navigation produces page views; cookieless mode writes
// nothing to localStorage, sessionStorage or cookies; consent and Global Privacy Control are
// honoured; query parameters are masked; the ES module build works in a real browser.
//
//   node tests/browser/spa-privacy.mjs     (FOOTFALL_BIN, FF_DEMO_FROM=static|server)
import { run, startFootfall, startProxy, demoSite, launchBrowser, waitFor, fixturePage, DEMO_FROM } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SPA_BODY = `<nav><a id="to-products" href="/app/products">Products</a></nav><main id="view">home</main>
<script>
  // a minimal router: links go through pushState
  document.getElementById('to-products').addEventListener('click', function (e) {
    e.preventDefault();
    history.pushState({}, '', this.getAttribute('href'));
    document.title = 'Products';
    document.getElementById('view').textContent = 'products';
  });
</script>`;

run(`spa-privacy (${DEMO_FROM})`, 180000, async (t, cleanup) => {
  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const proxy = await startProxy(ff.url);
  cleanup(() => proxy.stop());
  const fixtures = {};
  const site = await demoSite({ footfall: ff, collector: proxy.url, fixtures });
  cleanup(() => site.web.stop());
  const fx = (name, options, script = '', body = '', title = 'Fixture') =>
    (fixtures[name] = fixturePage({ sdkUrl: site.sdkUrl, key: ff.key, host: proxy.url, options, script, body, title }));
  const br = await launchBrowser();
  cleanup(() => br.close());
  // every scenario starts with empty storage on the fixture origin (opt-outs are remembered)
  fixtures['blank.html'] = '<!doctype html><title>blank</title>';
  const fresh = async () => {
    const p = await br.ctx.newPage();
    await p.goto(site.fixture('blank.html'));
    await p.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
    await p.close();
  };
  const byAnon = (aid) => ff.dump().filter((r) => r.anonymous_id === aid);
  const path = (r) => { const u = new URL(r.url); return u.pathname + u.search + u.hash; };

  // ---- SPA page views ----------------------------------------------------------------------
  {
    await fresh();
    fx('spa.html', { flushAt: 50, autocapture: { clicks: false, time: false, scroll: false } }, '', SPA_BODY, 'Home');
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('spa.html') + '?token=s3cr3t-t0ken&tab=1');
    await page.click('#to-products'); // pushState from a click handler
    await sleep(50);
    await page.evaluate(() => history.replaceState({}, '', '/app/products?sort=price'));
    await sleep(50);
    await page.evaluate(() => history.pushState({}, '', '/app/products?sort=price')); // same URL: no view
    await sleep(50);
    await page.evaluate(() => history.back()); // popstate to the same URL: no view
    await sleep(100);
    await page.evaluate(() => history.back()); // popstate back to the first page
    await sleep(100);
    await page.evaluate(() => (location.hash = '#reviews')); // hashchange
    await sleep(100);
    const aid = await page.evaluate(() => window.footfall.status().anonymousId);
    await page.evaluate(() => window.footfall.flush());
    await waitFor(() => byAnon(aid).filter((r) => r.type === 'page').length >= 5, 10000);
    const pages = byAnon(aid).filter((r) => r.type === 'page').sort((a, b) => a.ts - b.ts);
    t.eq(pages.map(path), [
      '/t/spa.html?token=masked&tab=1',
      '/app/products',
      '/app/products?sort=price',
      '/t/spa.html?token=masked&tab=1',
      '/t/spa.html?token=masked&tab=1#reviews',
    ], 'one page view per SPA navigation (pushState, replaceState, popstate, hashchange), token masked');
    t.eq(pages[1].referrer || (pages[1].context && pages[1].context.page && pages[1].context.page.referrer), pages[0].url, 'SPA view referrer is the previous URL');
    t.check(pages[1].context && pages[1].context.page && pages[1].context.page.title === 'Products', 'SPA view has the title the app set', pages[1].context);
    t.check(!proxy.rawText().includes('s3cr3t-t0ken'), 'the masked token never left the page');
    await page.close();
  }

  // ---- cookieless mode -----------------------------------------------------------------------
  {
    await fresh();
    fx('cookieless.html', { cookieless: true, flushAt: 50 }, '', SPA_BODY);
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('cookieless.html'));
    await page.click('#to-products');
    await page.evaluate(() => {
      window.footfall.identify('cookieless-user', { plan: 'x' });
      window.footfall.track('Cookieless Event');
      window.footfall.productViewed({ product_id: 'p1' });
    });
    await page.evaluate(() => window.scrollTo(0, 10));
    const st = await page.evaluate(() => ({ ls: localStorage.length, ss: sessionStorage.length, cookie: document.cookie, status: window.footfall.status() }));
    t.eq([st.ls, st.ss, st.cookie], [0, 0, ''], 'cookieless: localStorage, sessionStorage and document.cookie stay empty');
    const origin = new URL(site.fixture('x')).origin;
    t.eq((await br.ctx.cookies(origin)).length, 0, 'cookieless: no cookies in the browser');
    await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
    await waitFor(() => byAnon(st.status.anonymousId).length >= 6, 10000);
    const got = byAnon(st.status.anonymousId);
    t.eq(got.map((r) => r.type === 'track' ? r.event_original || r.event : r.type).sort(),
      ['Cookieless Event', 'Element Clicked', 'Product Viewed', 'Time On Page', 'Time On Page', 'identify', 'page', 'page'].sort(), 'cookieless: events still delivered');
    t.check(got.every((r) => r.session_id === st.status.sessionId), 'cookieless: in-memory session id on every event');

    // control: the default mode does use localStorage (so the check above can fail)
    fx('default.html', {});
    const p2 = await br.ctx.newPage();
    await p2.goto(site.fixture('default.html'));
    t.check((await p2.evaluate(() => localStorage.length)) > 0, 'control: default mode keeps ids in localStorage');
    await p2.close();
  }

  // ---- consent -------------------------------------------------------------------------------
  {
    await fresh();
    fx('consent.html', { requireConsent: true, flushAt: 1 });
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('consent.html'));
    const before = proxy.batches().length;
    await page.evaluate(() => { window.footfall.track('Before Consent'); window.footfall.identify('nobody'); });
    await sleep(2500);
    t.eq(proxy.batches().length, before, 'requireConsent: nothing sent before optIn()');
    t.eq(await page.evaluate(() => localStorage.length), 0, 'requireConsent: nothing stored before optIn()');
    await page.evaluate(() => { window.footfall.optIn(); window.footfall.track('After Consent'); });
    const aid = await page.evaluate(() => window.footfall.status().anonymousId);
    await waitFor(() => byAnon(aid).length >= 2, 10000);
    t.eq(byAnon(aid).map((r) => (r.type === 'track' ? r.event_original || r.event : r.type)).sort(), ['After Consent', 'page'], 'after optIn(): the current page view and later events only');
    await page.evaluate(() => window.footfall.optOut());
    t.eq(await page.evaluate(() => Object.keys(localStorage).filter((k) => k !== 'ff_c')), [], 'optOut(): ids and queue wiped (only the choice is kept)');
    await page.close();
  }

  // ---- Global Privacy Control (a browser that sends it) --------------------------------------
  {
    await fresh();
    fx('gpc.html', { flushAt: 1 });
    const page = await br.ctx.newPage();
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    const before = proxy.batches().length;
    await page.goto(site.fixture('gpc.html'));
    await page.evaluate(() => window.footfall.track('Under GPC'));
    await sleep(2500);
    t.eq(proxy.batches().length, before, 'GPC: nothing sent by default');
    t.eq(await page.evaluate(() => [localStorage.length, window.footfall.status().capturing]), [0, false], 'GPC: nothing stored, not capturing');
    await page.close();
  }

  // ---- the ES module build in a real browser -------------------------------------------------
  {
    await fresh();
    fixtures['esm.html'] = `<!doctype html><html><head><meta charset="utf-8"><title>ESM</title></head><body>
<script type="module">
  import footfall from ${JSON.stringify(site.esmUrl)};
  footfall.load({ writeKey: ${JSON.stringify(ff.key)}, host: ${JSON.stringify(proxy.url)}, autocapture: false, flushAt: 1 });
  window.esm = { footfall, id: footfall.track('ESM Works').messageId, global: typeof window.footfall };
</script></body></html>`;
    const page = await br.ctx.newPage();
    await page.goto(site.fixture('esm.html'));
    await page.waitForFunction(() => window.esm);
    const { id, global } = await page.evaluate(() => ({ id: window.esm.id, global: window.esm.global }));
    await waitFor(() => ff.dump().some((r) => r.event_id === id), 10000);
    t.check(ff.dump().some((r) => r.event_id === id && (r.event_original || r.event) === 'ESM Works'), 'ESM build: import, load, track, delivered');
    t.eq(global, 'undefined', 'ESM build does not touch window.footfall');
    await page.close();
  }
  t.check(ff.exited() === null, 'footfall serve is still running');
});
