// A simulated browser for the SDK's unit tests (no jsdom: the tracker touches a small,
// well-defined surface, and a fake we control lets the tests script time, the network,
// storage quotas, visibility and history exactly).
//
// makeBrowser(opts) -> { w, clock, net, storage, cookieWrites, warnings, ... }
//   w          the window-like object passed to create(w)
//   clock      fake time: w.Date, w.setTimeout; `await clock.tick(ms)` runs due timers
//   net        records fetch requests and beacons; `net.handler(req)` decides the answer
//   storage    the localStorage (shared between "page loads" when passed in opts.storage)
import { create } from '../src/core.js';

export const settle = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

export class Clock {
  constructor(now = Date.UTC(2025, 0, 15, 12, 0, 0)) {
    this.now = now;
    this.timers = [];
    this.seq = 0;
  }
  setTimeout(fn, ms = 0) {
    const id = ++this.seq;
    this.timers.push({ id, at: this.now + Math.max(0, Number(ms) || 0), fn });
    return id;
  }
  clearTimeout(id) {
    this.timers = this.timers.filter((t) => t.id !== id);
  }
  pending() {
    return this.timers.length;
  }
  nextAt() {
    return this.timers.length ? Math.min(...this.timers.map((t) => t.at)) : null;
  }
  /** Advance time by ms, running every timer that falls due, in order (bounded). */
  async tick(ms = 0) {
    const end = this.now + ms;
    for (let guard = 0; guard < 10000; guard++) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = end;
    await settle();
  }
  makeDate() {
    const clock = this;
    return class FakeDate extends Date {
      constructor(...a) {
        if (a.length) super(...a);
        else super(clock.now);
      }
      static now() {
        return clock.now;
      }
    };
  }
}

// ---- events ------------------------------------------------------------------------------
class Target {
  constructor() {
    this._l = {};
  }
  addEventListener(type, fn, opt) {
    const capture = opt === true || !!(opt && opt.capture);
    (this._l[type] = this._l[type] || []).push({ fn, capture });
  }
  removeEventListener(type, fn) {
    this._l[type] = (this._l[type] || []).filter((l) => l.fn !== fn);
  }
  listeners(type) {
    return (this._l[type] || []).length;
  }
}

function propagate(path, ev) {
  // path: [window, document, html, ..., target]. Capture down, then bubble up.
  for (const t of path) for (const l of (t._l[ev.type] || []).slice()) if (l.capture) l.fn.call(t, ev);
  for (const t of path.slice().reverse())
    for (const l of (t._l[ev.type] || []).slice()) if (!l.capture) l.fn.call(t, ev);
}

// ---- a tiny DOM --------------------------------------------------------------------------
const SEL_TOKEN = /([a-zA-Z][\w-]*)|#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\]]*)))?\]|(\*)/g;

function parseSelector(sel) {
  return sel.split(',').map((part) => {
    const c = { tag: null, ids: [], classes: [], attrs: [] };
    const s = part.trim();
    SEL_TOKEN.lastIndex = 0;
    let m, pos = 0;
    while ((m = SEL_TOKEN.exec(s))) {
      if (m.index !== pos) throw new Error('fake DOM: unsupported selector ' + sel);
      pos = SEL_TOKEN.lastIndex;
      if (m[1]) c.tag = m[1].toUpperCase();
      else if (m[2]) c.ids.push(m[2]);
      else if (m[3]) c.classes.push(m[3]);
      else if (m[4]) c.attrs.push([m[4], m[5] ?? m[6] ?? m[7] ?? null]);
    }
    if (pos !== s.length) throw new Error('fake DOM: unsupported selector ' + sel);
    return c;
  });
}

function matchOne(el, c) {
  if (c.tag && el.tagName !== c.tag) return false;
  if (c.ids.some((id) => el.getAttribute('id') !== id)) return false;
  const cls = (el.getAttribute('class') || '').split(/\s+/);
  if (c.classes.some((k) => !cls.includes(k))) return false;
  return c.attrs.every(([k, v]) => el.hasAttribute(k) && (v === null || el.getAttribute(k) === v));
}

export class El extends Target {
  constructor(doc, tag, attrs = {}, children = []) {
    super();
    this.ownerDocument = doc;
    this.tagName = tag.toUpperCase();
    this.nodeType = 1;
    this.attrs = {};
    this.childList = [];
    this.parentElement = null;
    this.text = '';
    this.reads = 0; // how many times .value was read (the tests assert 0 for secrets)
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'value') this._value = String(v);
      else if (k === 'checked') this.checked = !!v;
      else if (k === 'text') this.text = String(v);
      else this.setAttribute(k, v);
    }
    for (const ch of children) this.append(ch);
  }
  append(ch) {
    if (typeof ch === 'string') this.text += ch;
    else {
      ch.parentElement = this;
      this.childList.push(ch);
    }
    return this;
  }
  getAttribute(k) {
    return k in this.attrs ? this.attrs[k] : null;
  }
  setAttribute(k, v) {
    this.attrs[k] = String(v);
  }
  hasAttribute(k) {
    return k in this.attrs;
  }
  get id() {
    return this.getAttribute('id') || '';
  }
  get className() {
    return this.getAttribute('class') || '';
  }
  get children() {
    return this.childList;
  }
  get dataset() {
    const o = {};
    for (const [k, v] of Object.entries(this.attrs))
      if (k.startsWith('data-')) o[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
    return o;
  }
  get type() {
    if (this.tagName === 'INPUT') return (this.getAttribute('type') || 'text').toLowerCase();
    if (this.tagName === 'BUTTON') return (this.getAttribute('type') || 'submit').toLowerCase();
    if (this.tagName === 'SELECT') return 'select-one';
    if (this.tagName === 'TEXTAREA') return 'textarea';
    return undefined;
  }
  get value() {
    this.reads++;
    return this._value ?? this.getAttribute('value') ?? '';
  }
  set value(v) {
    this._value = String(v);
  }
  get textContent() {
    return this.text + this.childList.map((c) => c.textContent).join('');
  }
  get innerText() {
    return this.textContent;
  }
  get href() {
    if (this.tagName !== 'A' || !this.hasAttribute('href')) return '';
    return new URL(this.getAttribute('href'), this.ownerDocument.win.location.href).href;
  }
  get elements() {
    return this.querySelectorAll('input,select,textarea,button');
  }
  get scrollHeight() {
    return this._scrollHeight || 0;
  }
  set scrollHeight(v) {
    this._scrollHeight = v;
  }
  matches(sel) {
    return parseSelector(sel).some((c) => matchOne(this, c));
  }
  closest(sel) {
    const cs = parseSelector(sel);
    for (let n = this; n; n = n.parentElement) if (cs.some((c) => matchOne(n, c))) return n;
    return null;
  }
  *descendants() {
    for (const c of this.childList) {
      yield c;
      yield* c.descendants();
    }
  }
  querySelectorAll(sel) {
    const cs = parseSelector(sel);
    return [...this.descendants()].filter((n) => cs.some((c) => matchOne(n, c)));
  }
  querySelector(sel) {
    return this.querySelectorAll(sel)[0] || null;
  }
  path() {
    const p = [];
    for (let n = this; n; n = n.parentElement) p.unshift(n);
    return p;
  }
}

class FakeStorage {
  constructor() {
    this.map = new Map();
    this.writes = 0;
    this.quota = Infinity; // bytes (sum of key+value lengths)
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    v = String(v);
    let used = 0;
    for (const [kk, vv] of this.map) if (kk !== k) used += kk.length + vv.length;
    if (used + k.length + v.length > this.quota) {
      const e = new Error('QuotaExceededError');
      e.name = 'QuotaExceededError';
      throw e;
    }
    this.writes++;
    this.map.set(k, v);
  }
  removeItem(k) {
    this.writes++;
    this.map.delete(k);
  }
  clear() {
    this.map.clear();
  }
}

/** A network: every fetch and beacon is recorded; `handler` answers fetches. */
export class Net {
  constructor() {
    this.requests = []; // {url, method, headers, body, keepalive, credentials, at, kind}
    this.beacons = [];
    this.offline = false;
    this.beaconOk = true;
    this.handler = () => ({ status: 200, body: '{"success":true}' });
  }
  /** Every message that reached the server (fetch answered 2xx, or a beacon accepted). */
  delivered() {
    const out = [];
    for (const r of this.requests) if (r.status >= 200 && r.status < 300) out.push(...JSON.parse(r.body).batch);
    for (const b of this.beacons) if (b.ok) out.push(...JSON.parse(b.body).batch);
    return out;
  }
  /** Every message in every request body, answered or not. */
  sent() {
    return this.requests.flatMap((r) => JSON.parse(r.body).batch);
  }
}

/**
 * Build a fresh window. opts: url, referrer, title, storage (share it to simulate a reload),
 * net, clock, navigator fields (doNotTrack, globalPrivacyControl, onLine), noStorage (throws),
 * noRandomUUID, innerHeight, scrollHeight.
 */
export function makeBrowser(opts = {}) {
  const clock = opts.clock || new Clock();
  const net = opts.net || new Net();
  const storage = opts.storage || new FakeStorage();
  const warnings = [];
  const cookieWrites = [];
  const w = new Target();
  w.window = w;
  w.self = w;
  const doc = new Target();
  doc.win = w;
  doc.title = opts.title ?? 'Test page';
  doc.referrer = opts.referrer ?? '';
  doc.visibilityState = 'visible';
  doc.readyState = 'complete';
  doc.currentScript = opts.currentScript || null;
  let cookie = '';
  Object.defineProperty(doc, 'cookie', {
    get: () => cookie,
    set: (v) => {
      cookieWrites.push(v);
      cookie = v;
    },
  });
  doc.createElement = (tag, attrs, children) => new El(doc, tag, attrs, children);
  doc.documentElement = new El(doc, 'html');
  doc.body = new El(doc, 'body');
  doc.documentElement.append(doc.body);
  doc.documentElement.scrollHeight = opts.scrollHeight ?? 3000;
  doc.querySelector = (s) => doc.documentElement.querySelector(s);
  doc.querySelectorAll = (s) => doc.documentElement.querySelectorAll(s);
  w.document = doc;

  let loc = new URL(opts.url || 'https://shop.example/');
  w.location = {
    get href() {
      return loc.href;
    },
    get pathname() {
      return loc.pathname;
    },
    get search() {
      return loc.search;
    },
    get hash() {
      return loc.hash;
    },
    get origin() {
      return loc.origin;
    },
  };
  const stack = [loc.href];
  let idx = 0;
  w.history = {
    pushState(state, title, url) {
      loc = new URL(url, loc.href);
      stack.splice(idx + 1, Infinity, loc.href);
      idx++;
    },
    replaceState(state, title, url) {
      loc = new URL(url, loc.href);
      stack[idx] = loc.href;
    },
    back() {
      if (idx > 0) {
        loc = new URL(stack[--idx]);
        fire(w, 'popstate', { state: null });
      }
    },
    get length() {
      return stack.length;
    },
  };
  /** Change only the hash, as clicking <a href="#x"> does (popstate then hashchange). */
  w.setHash = (h) => {
    loc = new URL('#' + h, loc.href);
    stack.splice(idx + 1, Infinity, loc.href);
    idx++;
    fire(w, 'popstate', { state: null });
    fire(w, 'hashchange', {});
  };

  w.navigator = {
    userAgent: 'FakeBrowser/1.0',
    language: 'en-GB',
    onLine: opts.onLine ?? true,
    doNotTrack: opts.doNotTrack ?? null,
    globalPrivacyControl: opts.globalPrivacyControl ?? undefined,
    sendBeacon(url, data) {
      if (net.offline) return false; // Chromium queues it anyway; our SDK must not rely on it
      const b = { url, type: data && data.type, body: null, ok: net.beaconOk, at: clock.now, data };
      net.beacons.push(b);
      return net.beaconOk;
    },
  };
  if (opts.noStorage)
    Object.defineProperty(w, 'localStorage', {
      get() {
        throw new Error('SecurityError');
      },
    });
  else w.localStorage = storage;
  w.sessionStorage = new FakeStorage();
  w.Blob = Blob;
  w.URL = URL;
  w.crypto = opts.noRandomUUID ? { getRandomValues: (b) => crypto.getRandomValues(b) } : crypto;
  if (opts.noCrypto) w.crypto = undefined;
  w.Date = clock.makeDate();
  w.setTimeout = (fn, ms) => clock.setTimeout(fn, ms);
  w.clearTimeout = (id) => clock.clearTimeout(id);
  w.console = { warn: (m) => warnings.push(String(m)), log() {}, error() {} };
  w.innerHeight = opts.innerHeight ?? 1000;
  w.scrollY = 0;
  w.fetch = (url, init = {}) => {
    const req = {
      url: String(url),
      method: init.method || 'GET',
      headers: init.headers || {},
      body: init.body,
      keepalive: init.keepalive,
      credentials: init.credentials,
      at: clock.now,
      status: 0,
    };
    net.requests.push(req);
    if (net.offline) return Promise.reject(new TypeError('Failed to fetch'));
    return Promise.resolve()
      .then(() => net.handler(req))
      .then((r) => {
        if (r === 'network-error') throw new TypeError('Failed to fetch');
        req.status = r.status;
        const h = Object.fromEntries(Object.entries(r.headers || {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
        return { status: r.status, ok: r.status >= 200 && r.status < 300, headers: { get: (k) => h[k.toLowerCase()] ?? null } };
      });
  };

  /** Dispatch an event: on the window/document, or on an element (propagating). */
  function fire(target, type, extra = {}) {
    const ev = { type, target, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...extra };
    const path = target === w ? [w] : target === doc ? [w, doc] : [w, doc, ...target.path()];
    propagate(path, ev);
    return ev;
  }
  w.fire = fire;
  w.el = (tag, attrs, ...children) => new El(doc, tag, attrs, children);
  w.mount = (...els) => {
    for (const e of els) doc.body.append(e);
    return els[0];
  };
  w.click = (el) => fire(el, 'click');
  w.type = (input, text) => {
    input._value = text;
    fire(input, 'input');
  };
  w.submit = (form) => fire(form, 'submit');
  w.scrollToY = (y) => {
    w.scrollY = y;
    fire(w, 'scroll');
  };
  w.hide = () => {
    doc.visibilityState = 'hidden';
    fire(doc, 'visibilitychange');
  };
  w.show = () => {
    doc.visibilityState = 'visible';
    fire(doc, 'visibilitychange');
  };
  /** Leaving the page as Chromium does: pagehide, then visibilitychange to hidden. */
  w.leave = () => {
    fire(w, 'pagehide', { persisted: false });
    w.hide();
  };
  w.goOffline = () => {
    net.offline = true;
    w.navigator.onLine = false;
    fire(w, 'offline');
  };
  w.goOnline = () => {
    net.offline = false;
    w.navigator.onLine = true;
    fire(w, 'online');
  };
  return { w, clock, net, storage, warnings, cookieWrites, fire };
}

/** Build a browser and a loaded tracker in one go. */
export function boot(loadOpts = {}, browserOpts = {}) {
  const b = makeBrowser(browserOpts);
  const ff = create(b.w);
  ff.load({ writeKey: 'wk_test', host: 'https://collector.example', ...loadOpts });
  return { ...b, ff };
}

/** Beacon bodies are Blobs: read them (async) into b.body. */
export async function readBeacons(net) {
  for (const b of net.beacons) if (b.body == null) b.body = await b.data.text();
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
