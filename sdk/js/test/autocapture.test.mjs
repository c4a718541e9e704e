// Autocapture: page views (incl. SPA), clicks, scroll depth, time on page, site search,
// login/register submits — and proof that password and card field contents are never read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, readBeacons } from './fakebrowser.mjs';
import { selector, formKind } from '../src/autocapture.js';

const base = { flushAt: 1000, flushInterval: 60000 };
async function drain(b) {
  await b.ff.flush();
  return b.net.sent();
}
const names = (ms) => ms.map((m) => (m.type == 'page' ? 'page ' + m.context.page.path : m.event));

test('initial page view with Segment page properties', async () => {
  const b = boot(base, { url: 'https://shop.example/products?cat=mugs', title: 'Mugs', referrer: 'https://g.example/' });
  const [p] = await drain(b);
  assert.equal(p.type, 'page');
  assert.deepEqual(p.properties, {
    url: 'https://shop.example/products?cat=mugs',
    path: '/products',
    referrer: 'https://g.example/',
    title: 'Mugs',
    search: '?cat=mugs',
  });
});

test('SPA: pushState, replaceState, popstate and hashchange each give one page view', async () => {
  const b = boot(base, { url: 'https://shop.example/' });
  const { w, clock } = b;
  w.history.pushState({}, '', '/products');
  await clock.tick(0);
  w.history.replaceState({}, '', '/products?sort=price');
  await clock.tick(0);
  w.history.pushState({}, '', '/products?sort=price'); // same URL: no new view
  await clock.tick(0);
  w.history.back(); // popstate to the same URL (the duplicate entry): no view
  await clock.tick(0);
  w.history.back(); // popstate back to '/'
  await clock.tick(0);
  w.setHash('reviews'); // popstate + hashchange for one change: one view
  await clock.tick(0);
  const pages = (await drain(b)).filter((m) => m.type == 'page');
  assert.deepEqual(pages.map((m) => m.context.page.url), [
    'https://shop.example/',
    'https://shop.example/products',
    'https://shop.example/products?sort=price',
    'https://shop.example/',
    'https://shop.example/#reviews',
  ]);
  // referrer of an SPA view = the previous URL
  assert.equal(pages[1].context.page.referrer, 'https://shop.example/');
  assert.equal(pages[2].properties.referrer, 'https://shop.example/products');
  assert.equal(pages[3].properties.referrer, 'https://shop.example/products?sort=price');
});

test('pageview: false turns SPA page views off (the app calls page() itself)', async () => {
  const b = boot({ ...base, autocapture: { pageview: false } });
  b.w.history.pushState({}, '', '/x');
  await b.clock.tick(0);
  assert.equal((await drain(b)).filter((m) => m.type == 'page').length, 0);
});

test('clicks: links and buttons with a stable selector and visible text, never input values', async () => {
  const b = boot(base, { url: 'https://shop.example/p/1?token=t' });
  const { w } = b;
  const nav = w.el('nav', { id: 'top' }, w.el('ul', {}, w.el('li', {}, w.el('a', { href: '/cart?token=zz', class: 'link cart-link' }, 'Cart  (2) '))));
  const span = w.el('span', {}, 'Add to cart');
  const card1 = w.el('div', { class: 'card' }, w.el('button', { class: 'btn add', 'data-ff': 'add-to-cart' }, span));
  const card2 = w.el('div', { class: 'card' }, w.el('button', { class: 'btn add active' }, 'Add'));
  const grid = w.el('section', { class: 'grid' }, card1, card2);
  const secret = w.el('input', { type: 'submit', value: 'hunter2-in-value', name: 'go' });
  const notClickable = w.el('p', {}, 'just text');
  w.mount(nav, grid, secret, notClickable);
  w.click(nav.querySelector('a'));
  w.click(span); // inner element of a button
  w.click(card2.querySelector('button'));
  w.click(secret);
  w.click(notClickable);
  const clicks = (await drain(b)).filter((m) => m.event == 'Element Clicked');
  assert.equal(clicks.length, 4);
  assert.deepEqual(clicks[0].properties, {
    element: 'nav#top>ul>li>a.link.cart-link',
    tag: 'a',
    text: 'Cart (2)',
    href: 'https://shop.example/cart?token=masked',
  });
  assert.deepEqual(clicks[1].properties, { element: '[data-ff="add-to-cart"]', tag: 'button', text: 'Add to cart' });
  assert.equal(clicks[2].properties.element, 'section.grid>div.card:nth-of-type(2)>button.btn.add');
  assert.deepEqual(clicks[3].properties, { element: 'input', tag: 'input' });
  assert.equal(secret.reads, 0, 'the input value was never read');
  assert.ok(!JSON.stringify(clicks).includes('hunter2'));
});

test('clicks: [data-ff-ignore] and .ff-ignore are skipped; card-like text is redacted', async () => {
  const b = boot(base);
  const { w } = b;
  const ign = w.el('div', { 'data-ff-ignore': '' }, w.el('button', {}, 'Secret'));
  const ign2 = w.el('a', { class: 'ff-ignore', href: '/x' }, 'x');
  const pan = w.el('button', {}, 'Pay with 4242 4242 4242 4242');
  w.mount(ign, ign2, pan);
  w.click(ign.querySelector('button'));
  w.click(ign2);
  w.click(pan);
  const clicks = (await drain(b)).filter((m) => m.event == 'Element Clicked');
  assert.equal(clicks.length, 1);
  assert.equal(clicks[0].properties.text, 'Pay with [REDACTED]');
});

test('selector: ids with digit runs and state classes are not used; depth is bounded', () => {
  const b = boot(base);
  const { w } = b;
  let leaf = w.el('button', { id: 'btn-12345', class: 'is-loading x' }, 'go');
  let n = leaf;
  for (let i = 0; i < 8; i++) n = w.el('div', {}, n);
  w.mount(n);
  const s = selector(leaf);
  assert.ok(!s.includes('12345'), s);
  assert.ok(!s.includes('is-loading'), s);
  assert.equal(s.split('>').length, 5);
  assert.ok(s.endsWith('button.x'), s);
});

test('scroll depth: 25/50/75/100 once each per page view, reset by SPA navigation', async () => {
  const b = boot(base, { innerHeight: 1000, scrollHeight: 4000 });
  const { w, clock } = b;
  w.scrollToY(0); // 25% seen
  w.scrollToY(500); // 37.5%
  w.scrollToY(1000); // 50%
  w.scrollToY(3000); // 100% -> 75 and 100
  w.scrollToY(0);
  w.scrollToY(3000);
  w.history.pushState({}, '', '/next');
  await clock.tick(0);
  w.scrollToY(1000);
  const s = (await drain(b)).filter((m) => m.event == 'Page Scrolled');
  assert.deepEqual(s.map((m) => m.properties.depth), [25, 50, 75, 100, 25, 50]);
  assert.equal(s[4].context.page.path, '/next');
});

test('scroll: a page that does not scroll reports nothing', async () => {
  const b = boot(base, { innerHeight: 1000, scrollHeight: 800 });
  b.w.scrollToY(0);
  assert.equal((await drain(b)).filter((m) => m.event == 'Page Scrolled').length, 0);
});

test('time on page: visible time only, reported on hide, pagehide and SPA navigation', async () => {
  const b = boot(base, { url: 'https://shop.example/a', innerHeight: 1000, scrollHeight: 2000 });
  const { w, clock } = b;
  await clock.tick(4000);
  w.hide(); // 4 s visible
  await clock.tick(60000); // hidden: not counted
  w.show();
  await clock.tick(2500);
  w.scrollToY(1000); // depth 100
  w.history.pushState({}, '', '/b'); // SPA nav: report 2.5 s for /a
  await clock.tick(1000);
  w.leave(); // pagehide: 1 s for /b, then the hidden event adds nothing
  await b.clock.tick(0);
  await readBeacons(b.net);
  const t = b.net.delivered().filter((m) => m.event == 'Time On Page');
  assert.deepEqual(
    t.map((m) => [m.context.page.path, m.properties.seconds, m.properties.depth]),
    [
      ['/a', 4, 0],
      ['/a', 2.5, 100],
      ['/b', 1, 0],
    ],
  );
  assert.equal(b.net.requests.length, 1, 'the first hide sent by fetch keepalive');
  assert.equal(b.net.beacons.length, 1, 'pagehide sent the rest by beacon');
  assert.ok(JSON.parse(b.net.beacons[0].body).batch.some((m) => m.event == 'Time On Page'));
});

test('time on page: pagehide then visibilitychange a few ms later report once (Chromium order)', async () => {
  const b = boot(base);
  const { w, clock } = b;
  await clock.tick(3000);
  w.fire(w, 'pagehide', { persisted: false });
  await clock.tick(7);
  w.hide();
  await clock.tick(0);
  await readBeacons(b.net);
  const t = b.net.delivered().filter((m) => m.event == 'Time On Page');
  assert.deepEqual(t.map((m) => m.properties.seconds), [3]);
});

test('search: debounced input reports once; submit of the same term does not repeat', async () => {
  const b = boot(base);
  const { w, clock } = b;
  const q = w.el('input', { type: 'search', name: 'q' });
  const form = w.el('form', { role: 'search', action: '/search' }, q, w.el('button', {}, 'Go'));
  w.mount(form);
  w.type(q, 'm');
  await clock.tick(300);
  w.type(q, 'mu');
  await clock.tick(300);
  w.type(q, 'mug');
  await clock.tick(999);
  assert.equal(b.ff.status().queued, 1, 'only the page view so far');
  await clock.tick(1);
  w.submit(form);
  w.type(q, 'red mug');
  w.submit(form); // submit before the debounce fires: reported at once, debounce cancelled
  await clock.tick(5000);
  const s = (await drain(b)).filter((m) => m.event == 'Products Searched');
  assert.deepEqual(s.map((m) => m.properties.query), ['mug', 'red mug']);
});

test('search: inputs named q/query/search count; a card-like term is redacted', async () => {
  const b = boot(base);
  const { w, clock } = b;
  const q = w.el('input', { name: 'query' });
  const form = w.el('form', {}, q);
  w.mount(form);
  q.value = '4111 1111 1111 1111';
  w.submit(form);
  await clock.tick(0);
  const s = (await drain(b)).filter((m) => m.event == 'Products Searched');
  assert.deepEqual(s.map((m) => m.properties.query), ['[REDACTED]']);
});

function loginForm(w, attrs = { id: 'login-form' }) {
  const f = w.el(
    'form',
    attrs,
    w.el('input', { type: 'email', name: 'email', value: 'ann@example.com' }),
    w.el('input', { type: 'password', name: 'pw', value: 'Tr0ub4dor&3' }),
    w.el('input', { type: 'text', name: 'user_password_again', value: 'Tr0ub4dor&3' }), // excluded by name
    w.el('input', { type: 'text', name: 'otp', value: '123456' }),
    w.el('input', { type: 'hidden', name: 'csrf', value: 'csrf-secret' }),
    w.el('input', { type: 'checkbox', name: 'remember', checked: true }),
    w.el('button', { type: 'submit' }, 'Log in'),
  );
  w.mount(f);
  return f;
}

test('login submit: "Signed In" with safe fields only; password fields never read', async () => {
  const b = boot(base);
  const f = loginForm(b.w);
  b.w.submit(f);
  const [m] = (await drain(b)).filter((x) => x.event == 'Signed In');
  assert.deepEqual(m.properties, {
    form: 'form#login-form',
    method: 'password',
    fields: { email: 'ann@example.com', remember: true },
  });
  const body = b.net.requests.map((r) => r.body).join('\n');
  for (const secret of ['Tr0ub4dor', 'csrf-secret', '123456']) assert.ok(!body.includes(secret), secret);
  for (const el of f.querySelectorAll('input[type=password],input[type=hidden],input[name=user_password_again],input[name=otp]'))
    assert.equal(el.reads, 0, 'never read: ' + el.getAttribute('name'));
});

test('register submit: "Signed Up"; card fields excluded by name and autocomplete, card-like values redacted', async () => {
  const b = boot(base);
  const { w } = b;
  const f = w.el(
    'form',
    { action: '/account/register' },
    w.el('input', { name: 'name', value: 'Ann' }),
    w.el('input', { name: 'card_number', value: '4000 0000 0000 0002' }), // by name
    w.el('input', { name: 'x1', autocomplete: 'cc-number', value: '5555555555554444' }), // by autocomplete
    w.el('input', { name: 'cvc', value: '123' }),
    w.el('input', { name: 'exp', value: '12/30' }),
    w.el('input', { name: 'notes', value: 'my card is 4242424242424242' }), // by value
    w.el('input', { type: 'password', name: 'password', value: 'pw-one' }),
    w.el('input', { type: 'password', name: 'password2', value: 'pw-one' }),
  );
  w.mount(f);
  w.submit(f);
  const [m] = (await drain(b)).filter((x) => x.event == 'Signed Up');
  assert.deepEqual(m.properties.fields, { name: 'Ann', exp: '12/30', notes: 'my card is [REDACTED]' });
  const body = b.net.requests.map((r) => r.body).join('\n');
  for (const s of ['4000 0000', '5555555555554444', '4242424242424242', 'pw-one', '"123"']) assert.ok(!body.includes(s), s);
});

test('form kind: data-ff-form, names, then password count; other forms are ignored', () => {
  const b = boot(base);
  const { w } = b;
  assert.equal(formKind(w.el('form', { 'data-ff-form': 'register' })), 'register');
  assert.equal(formKind(w.el('form', { 'data-ff-form': 'newsletter' })), 0);
  assert.equal(formKind(w.el('form', { id: 'signin' })), 'login');
  assert.equal(formKind(w.el('form', { class: 'signup-box' })), 'register');
  assert.equal(formKind(w.el('form', {}, w.el('input', { type: 'password' }))), 'login');
  assert.equal(formKind(w.el('form', {}, w.el('input', { type: 'password' }), w.el('input', { type: 'password' }))), 'register');
  assert.equal(formKind(w.el('form', {}, w.el('input', { name: 'address' }))), 0);
});

test('payment form submit: no event from autocapture, no card field read', async () => {
  const b = boot(base);
  const { w } = b;
  const cc = w.el('input', { name: 'cardnumber', inputmode: 'numeric', value: '4000000000000002' });
  const f = w.el('form', { id: 'pay' }, cc, w.el('input', { name: 'cvc', value: '999' }), w.el('button', {}, 'Pay'));
  w.mount(f);
  w.click(f.querySelector('button'));
  w.submit(f);
  const ms = await drain(b);
  assert.deepEqual(names(ms), ['page /', 'Element Clicked']);
  assert.equal(cc.reads, 0);
});

test('formValues: false keeps only form and method; forms: false and search: false switch off', async () => {
  const b = boot({ ...base, autocapture: { formValues: false } });
  b.w.submit(loginForm(b.w));
  const [m] = (await drain(b)).filter((x) => x.event == 'Signed In');
  assert.deepEqual(m.properties, { form: 'form#login-form', method: 'password' });

  const c = boot({ ...base, autocapture: { forms: false, search: false, clicks: false, scroll: false, time: false } });
  const f = loginForm(c.w);
  c.w.click(f.querySelector('button'));
  c.w.submit(f);
  const q = c.w.el('input', { type: 'search' });
  c.w.mount(c.w.el('form', {}, q));
  c.w.type(q, 'abc');
  c.w.scrollToY(2000);
  await c.clock.tick(5000);
  c.w.hide();
  assert.deepEqual(names(await drain(c)), ['page /']);
});

test('autocapture: false installs nothing and sends no page view', async () => {
  const b = boot({ ...base, autocapture: false });
  b.w.history.pushState({}, '', '/x');
  await b.clock.tick(10);
  assert.equal(b.ff.status().queued, 0);
  assert.equal(b.w.listeners('popstate'), 0);
});

test('a restored bfcache page counts as a new view', async () => {
  const b = boot(base);
  b.w.fire(b.w, 'pageshow', { persisted: true });
  assert.equal((await drain(b)).filter((m) => m.type == 'page').length, 2);
});
