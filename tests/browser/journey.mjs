// Browser test 1+2: a scripted journey through the demo shop in headless Chromium against a
// real `footfall serve`: search, view, add to cart, remove, check out, a declined payment, a
// paid order, log in, register, scroll, leave. Checks, through `footfall log dump`:
// every expected event is stored exactly once, with the right names, properties, one session
// and anonymous id, and the user id after each login/registration. Checks, on the raw bytes
// the browser sent: the typed passwords and card numbers never leave the page.
//
//   node tests/browser/journey.mjs        (FOOTFALL_BIN, FF_DEMO_FROM=static|server)
import { run, startFootfall, startProxy, demoSite, launchBrowser, consoleOf, waitFor, DEMO_FROM } from './lib.mjs';

const PASSWORD = 'S3cret-Passw0rd!x';
const REG_PASSWORD = 'An0ther-Secret#42';
const CARD_DECLINED = '4000 0000 0000 0002';
const CARD_OK = '4242 4242 4242 4242';
const CVC = '987';

const EXPECTED_COUNTS = {
  page: 12,
  identify: 2,
  'Product List Viewed': 3,
  'Products Searched': 1,
  'Product Viewed': 2,
  'Product Added': 2,
  'Cart Viewed': 1,
  'Product Removed': 1,
  'Checkout Started': 1,
  'Payment Info Entered': 2,
  'Payment Failed': 1,
  'Order Completed': 1,
  'Signed In': 1,
  'Signed Up': 1,
  'Page Scrolled': 4,
  'Element Clicked': 13,
  'Time On Page': 12,
};
const TOTAL = Object.values(EXPECTED_COUNTS).reduce((a, b) => a + b, 0);

run(`journey (${DEMO_FROM})`, 180000, async (t, cleanup) => {
  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const proxy = await startProxy(ff.url);
  cleanup(() => proxy.stop());
  const site = await demoSite({ footfall: ff, collector: proxy.url });
  cleanup(() => site.web.stop());
  const br = await launchBrowser();
  cleanup(() => br.close());

  const page = await br.ctx.newPage();
  const cons = consoleOf(page);
  const go = async (sel, url) => {
    await Promise.all([page.waitForURL(url), page.click(sel)]);
  };

  // ---- the journey ----
  await page.goto(site.demo('index.html'));
  await page.waitForSelector('#products .card');
  await page.fill('#search-form input[name=q]', 'mug');
  await go('#search-form button', /search\.html\?q=mug/);
  await page.waitForSelector('#results a.name');
  await go('#results a.name', /product\.html\?id=p-mug/);
  for (const f of [0.3, 0.6, 1]) {
    await page.evaluate((x) => window.scrollTo(0, (document.documentElement.scrollHeight - window.innerHeight) * x), f);
    await page.waitForTimeout(100);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.click('#add-to-cart');
  await page.goto(site.demo('product.html?id=p-tea'));
  await page.click('#add-to-cart');
  await go('#go-cart', /cart\.html/);
  await page.click('tr[data-id=p-tea] button.remove');
  await page.waitForSelector('tr[data-id=p-tea]', { state: 'detached' });
  await go('#checkout', /checkout\.html/);
  await page.fill('#ship-name', 'Ann Example');
  await page.fill('#ship-street', 'Hauptstr. 1');
  await page.fill('#ship-postcode', '10115');
  await page.fill('#ship-city', 'Berlin');
  await go('#to-payment', /pay\.html/);
  await page.fill('#cc-name', 'Ann Example');
  await page.fill('#cc-number', CARD_DECLINED);
  await page.fill('#cc-exp', '12/30');
  await page.fill('#cc-cvc', CVC);
  await page.click('#pay');
  await page.waitForSelector('#pay-msg.error');
  await page.fill('#cc-number', CARD_OK);
  await go('#pay', /thanks\.html/);
  await go('#login-link', /login\.html/);
  await page.fill('#login-email', 'ann@example.com');
  await page.fill('#login-password', PASSWORD);
  await go('#login-submit', /index\.html/);
  const annId = await page.evaluate(() => window.Shop.userIdFor('ann@example.com'));
  await page.goto(site.demo('register.html'));
  await page.fill('#reg-name', 'Bob Example');
  await page.fill('#reg-email', 'bob@example.com');
  await page.fill('#reg-password', REG_PASSWORD);
  await page.fill('#reg-password2', REG_PASSWORD);
  await go('#register-submit', /index\.html/);
  const bobId = await page.evaluate(() => window.Shop.userIdFor('bob@example.com'));
  await page.waitForTimeout(200);
  await page.close({ runBeforeUnload: true }); // leave: pagehide -> time on page + sendBeacon

  // ---- what the server stored ----
  // (the bytes are witnessed by the proxy: Chromium does not report requests made while a page
  // unloads, and in this journey every batch leaves at a pagehide)
  await waitFor(() => ff.dump().length >= TOTAL, 15000);
  await waitFor(() => proxy.log.every((r) => r.status), 5000);
  await new Promise((r) => setTimeout(r, 300)); // anything late would show up as a surplus
  const all = ff.dump();
  t.eq(all.length, TOTAL, `the server stored exactly ${TOTAL} events`);
  all.sort((a, b) => a.ts - b.ts);
  const nameOf = (r) => (r.type === 'track' ? r.event_original || r.event : r.type);
  const counts = {};
  for (const r of all) counts[nameOf(r)] = (counts[nameOf(r)] || 0) + 1;
  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  t.eq(sorted(counts), sorted(EXPECTED_COUNTS), 'every expected event, each the expected number of times');
  t.eq(new Set(all.map((r) => r.event_id)).size, all.length, 'no event id stored twice');
  const of = (n) => all.filter((r) => nameOf(r) === n);

  // identity and session
  t.eq([...new Set(all.map((r) => r.session_id))].length, 1, 'one session id for the whole journey');
  t.check(/^[0-9a-f-]{36}$/.test(all[0].session_id || ''), 'session id is a UUID from the SDK (context.sessionId)', all[0].session_id);
  t.eq([...new Set(all.map((r) => r.anonymous_id))].length, 1, 'one anonymous id throughout (stitched by identify)');
  t.eq(of('identify').map((r) => r.user_id), [annId, bobId], 'identify after login and after registration');
  t.check(of('identify').every((r) => r.anonymous_id === all[0].anonymous_id), 'identify carries the anonymous id too');
  t.eq(of('page').map((r) => r.user_id || null), [...Array(9).fill(null), annId, annId, bobId], 'page views: anonymous before login, then the user id');
  t.eq(of('Product List Viewed').map((r) => r.user_id || null), [null, annId, bobId], 'home page list views per identity');
  t.check(['Order Completed', 'Payment Failed', 'Checkout Started', 'Signed In'].every((n) => of(n).every((r) => !r.user_id)), 'checkout and login submit happened before identify: anonymous');

  // names and properties
  const paths = of('page').map((r) => new URL(r.url).pathname.replace(/^.*\//, ''));
  t.eq(paths, ['index.html', 'search.html', 'product.html', 'product.html', 'cart.html', 'checkout.html', 'pay.html', 'thanks.html', 'login.html', 'index.html', 'register.html', 'index.html'], 'page views in order');
  const canon = Object.fromEntries(all.filter((r) => r.type === 'track').map((r) => [r.event_original || r.event, r.event]));
  t.eq(
    ['Product Viewed', 'Product Added', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Payment Info Entered', 'Order Completed', 'Payment Failed', 'Products Searched'].map((n) => canon[n]),
    ['product_viewed', 'product_added', 'product_removed', 'cart_viewed', 'checkout_started', 'payment_info_entered', 'order_completed', 'payment_failed', 'products_searched'],
    'Segment spec names map to the canonical vocabulary',
  );
  const search = of('Products Searched')[0];
  t.check(search && (search.search_term === 'mug' || (search.properties && search.properties.query === 'mug')), 'Products Searched with query "mug"', search);
  t.eq(of('Product Viewed').map((r) => r.product_id), ['p-mug', 'p-tea'], 'Product Viewed product ids');
  const num = (x) => (x === undefined ? x : Number(x)); // the server keeps money as exact decimal text ("12.50")
  t.eq(of('Product Viewed').map((r) => [num(r.price), r.currency]), [[12.5, 'EUR'], [8.75, 'EUR']], 'Product Viewed prices and currency');
  t.eq(of('Product Added').map((r) => [r.product_id, r.quantity]), [['p-mug', 1], ['p-tea', 1]], 'Product Added ids and quantities');
  t.eq(of('Product Removed').map((r) => r.product_id), ['p-tea'], 'Product Removed');
  const cartProps = of('Cart Viewed')[0].properties || {};
  t.eq((cartProps.products || []).map((p) => p.product_id), ['p-mug', 'p-tea'], 'Cart Viewed lists the cart');
  const order = of('Checkout Started')[0];
  t.check(order && /^ord_/.test(order.order_id || ''), 'Checkout Started has an order id', order);
  t.eq(of('Payment Failed').map((r) => [r.order_id, num(r.revenue), r.currency, (r.properties || {}).decline_code]), [[order.order_id, 17.49, 'EUR', 'card_declined']], 'Payment Failed: order, amount, decline code');
  t.eq(of('Order Completed').map((r) => [r.order_id, num(r.revenue), r.currency]), [[order.order_id, 12.5, 'EUR']], 'Order Completed: same order, revenue');
  t.eq(of('Payment Info Entered').map((r) => (r.properties || {}).payment_method), ['visa', 'visa'], 'Payment Info Entered twice, card brand only');
  const signIn = of('Signed In')[0];
  t.eq(signIn && signIn.properties, { form: 'form#login-form', method: 'password', fields: { email: 'ann@example.com' } }, 'Signed In: form and safe fields only');
  const signUp = of('Signed Up')[0];
  t.eq(signUp && signUp.properties && signUp.properties.fields, { name: 'Bob Example', email: 'bob@example.com' }, 'Signed Up: no password fields');
  t.eq(of('Page Scrolled').map((r) => [(r.properties || {}).depth, new URL(r.url).search]), [[25, '?id=p-mug'], [50, '?id=p-mug'], [75, '?id=p-mug'], [100, '?id=p-mug']], 'scroll depth 25/50/75/100 on the scrolled page');
  const clicks = of('Element Clicked').map((r) => r.element || (r.properties || {}).element);
  const texts = of('Element Clicked').map((r) => (r.properties || {}).text);
  t.eq(texts, ['Search', 'Enamel camping mug', 'Add to cart', 'Add to cart', 'Go to cart', 'Remove', 'Checkout', 'Continue to payment', 'Pay now', 'Pay now', 'Log in', 'Log in', 'Register'], 'clicks: visible text of each clicked link/button');
  t.check(clicks.includes('button#add-to-cart') && clicks.includes('button#pay') && clicks.includes('a#checkout'), 'clicks carry stable selectors', clicks);
  const tops = of('Time On Page');
  t.eq(tops.map((r) => new URL(r.url).pathname.replace(/^.*\//, '')), paths, 'one Time On Page per page view, for that page');
  t.check(tops.every((r) => typeof (r.properties || {}).seconds === 'number' && r.properties.seconds >= 0), 'Time On Page has seconds');
  t.check(all.every((r) => r.context && r.context.library && r.context.library.name === 'footfall.js'), 'context.library is footfall.js');

  // ---- the wire ----
  const batches = proxy.batches();
  const raw = proxy.rawText();
  const dump = JSON.stringify(all);
  for (const [what, s] of [
    ['login password', PASSWORD],
    ['registration password', REG_PASSWORD],
    ['declined card number', CARD_DECLINED],
    ['declined card number (digits)', CARD_DECLINED.replace(/ /g, '')],
    ['paying card number', CARD_OK],
    ['paying card number (digits)', CARD_OK.replace(/ /g, '')],
    ['CVC', `"${CVC}"`],
  ]) {
    t.check(!raw.includes(s), `raw request bytes never contain the ${what}`);
    t.check(!dump.includes(s), `stored events never contain the ${what}`);
  }
  t.check(batches.length > 0 && batches.every((b) => /^text\/plain/.test(b.headers['content-type'] || '')), 'every ingest request is text/plain');
  t.eq(proxy.log.filter((r) => r.method === 'OPTIONS').length, 0, 'no CORS preflight');
  t.check(batches.every((b) => b.status === 200), 'every ingest request answered 200', batches.map((b) => b.status));
  t.check(batches.some((b) => b.beacon), 'pagehide used sendBeacon', batches.map((b) => b.beacon));
  t.check(batches.every((b) => { try { const j = JSON.parse(b.body); return typeof j.writeKey === 'string' && /Z$/.test(j.sentAt); } catch (e) { return false; } }), 'envelope has writeKey and sentAt');
  for (const b of batches) if (!/"accepted":\d+,"duplicates":\d+,"dropped":0/.test(b.response || '')) console.log('info journey: server answered ' + b.response);
  const wireIds = batches.flatMap((b) => b.messages.map((m) => m.messageId));
  console.log(`info journey: ${batches.length} requests (${batches.filter((b) => b.beacon).length} beacons), ${wireIds.length} messages on the wire, ${wireIds.length - new Set(wireIds).size} resent`);
  t.eq(new Set(wireIds).size, TOTAL, 'the wire carried exactly the stored events (by id)');
  t.eq(cons.filter((l) => /^(warning|error|pageerror)/.test(l) && !/favicon/.test(l)), [], 'no warnings or errors in the page console');
});
