/*
 * WHAT: the Footfall browser tracker: analytics.js-style API (load, track, page, identify,
 *       alias, group, reset, flush), e-commerce helpers with Segment spec names, consent,
 *       sessions, and reliable delivery to POST {host}/v1/batch.
 * DESIGN:
 *   - create(w) builds one tracker bound to a window-like object `w`. Every browser API is
 *     reached through `w` (fetch, navigator, localStorage, setTimeout, Date, ...) so the unit
 *     tests drive the real code with a simulated browser.
 *   - Every accepted event goes into one queue that is mirrored to localStorage ("ff_q") at
 *     once, so a reload, a crash or being offline loses nothing; the queue is bounded
 *     (maxQueue, oldest dropped first, counted in status().dropped).
 *   - Delivery: one fetch (text/plain: no CORS preflight; keepalive) at a time, batches cut
 *     by count (flushAt) and size (maxBatchBytes), sent when the count or size is reached or
 *     flushInterval after the first pending event. 2xx removes the batch; network errors,
 *     408, 429 and 5xx (not 501/505) are retried with exponential backoff and jitter
 *     (Retry-After honoured); any other status (400: bad batch) drops it with a warning.
 *     On pagehide the pending events go by navigator.sendBeacon (Blob text/plain).
 *   - Every event carries a UUID messageId, so a batch sent twice (a retry whose first answer
 *     was lost, two tabs adopting the same stored events) is stored once by the server.
 * INVARIANTS: nothing is captured or written to storage while capture is not allowed
 *   (opted out, consent required and not given, DNT/GPC). Cookieless mode never touches
 *   localStorage, sessionStorage or cookies. Password and card fields are never read.
 * THREADING: browser main thread; one request in flight at a time.
 * OWNERSHIP: storage keys ff_a (anonymous id), ff_u (user id), ff_s (session), ff_q (queue),
 *   ff_c (consent), ff_d (dropped counter).
 */
import { uuid, maskUrl, storage } from './util.js';
import { autocapture } from './autocapture.js';

/* global __FF_VERSION__ */
const VERSION = typeof __FF_VERSION__ == 'string' ? __FF_VERSION__ : 'dev';

const MASK = 'token access_token id_token refresh_token auth code email mail e-mail password pass pwd secret key apikey api_key session sid signature sig phone otp'.split(' ');

const DEFAULTS = {
  host: '',
  flushAt: 20,
  flushInterval: 2000,
  maxBatchBytes: 30000 /* keepalive and sendBeacon allow 64 KB in flight in total */,
  maxEventBytes: 32000 /* the collector's per-event cap */,
  maxQueue: 500,
  maxRetries: 8 /* after this many failures flush() settles false; retrying goes on */,
  sessionTimeout: 30 * 60000,
  cookieless: false,
  requireConsent: false,
  honorDNT: true,
  maskParams: MASK,
  autocapture: true,
};

/* E-commerce helpers -> Segment e-commerce v2 event names (api-compat.md §3). */
const ECOM = {
  productListViewed: 'Product List Viewed',
  productClicked: 'Product Clicked',
  productViewed: 'Product Viewed',
  productAdded: 'Product Added',
  productRemoved: 'Product Removed',
  cartViewed: 'Cart Viewed',
  checkoutStarted: 'Checkout Started',
  paymentInfoEntered: 'Payment Info Entered',
  orderCompleted: 'Order Completed',
  paymentFailed: 'Payment Failed',
};

export function create(w, defaults) {
  const api = {};
  const stats = { sent: 0, dropped: 0, retries: 0 };
  let cfg, st, url, consent, aid, uid, sess, nav, D;
  let queue = [];
  let removed = []; /* ids delivered/dropped since the last persist (multi-tab merge) */
  let busy = 0, tt = 0, rt = 0, fails = 0, keep = 0, left = 0;
  const waiters = [];
  const pre = [];
  const size = new Map();
  const fly = new Set(); /* ids in the request in flight */

  const warn = (m) => {
    try {
      w.console.warn('footfall: ' + m);
    } catch (e) {
      /* no console */
    }
  };
  const now = () => D.now();
  const iso = () => new D(now()).toISOString();
  const online = () => nav.onLine !== false;
  const sz = (m) => {
    let n = size.get(m.messageId);
    if (!n) size.set(m.messageId, (n = JSON.stringify(m).length));
    return n;
  };
  const qbytes = () => queue.reduce((a, m) => a + sz(m), 0);

  /* ---- consent and privacy ------------------------------------------------------------ */
  function allowed() {
    if (consent === 0) return false;
    if (consent === 1) return true; /* an explicit opt-in beats the defaults below */
    if (cfg.requireConsent) return false;
    return !(cfg.honorDNT && (nav.doNotTrack == '1' || w.doNotTrack == '1' || nav.globalPrivacyControl === true));
  }

  /* ---- identity and session ----------------------------------------------------------- */
  function ids() {
    if (!aid) {
      aid = cfg.anonymousId || st.get('a') || uuid(w);
      st.set('a', aid);
      uid = st.get('u');
    }
    const t = now();
    const s = st.get('s') || sess; /* another tab may have moved it on */
    sess = s && t - s.t < cfg.sessionTimeout ? { id: s.id, t } : { id: uuid(w), t };
    st.set('s', sess);
  }

  const mask = (u) => maskUrl(u, cfg.maskParams);
  function pageContext() {
    const l = w.location, d = w.document;
    return { url: mask(l.href), path: l.pathname, referrer: mask(d.referrer), title: d.title, search: mask(l.search) };
  }

  /* Build and enqueue one message. `page` overrides context.page (autocapture uses it). */
  function capture(type, fields, page) {
    if (!allowed()) return;
    ids();
    const m = {
      type,
      messageId: uuid(w),
      timestamp: iso(),
      anonymousId: aid,
      context: {
        page: page || pageContext(),
        userAgent: nav.userAgent,
        locale: nav.language,
        library: { name: 'footfall.js', version: VERSION },
        sessionId: sess.id,
      },
    };
    if (uid) m.userId = uid;
    Object.assign(m, fields);
    if (sz(m) > cfg.maxEventBytes) {
      size.delete(m.messageId);
      warn('event over ' + cfg.maxEventBytes + ' bytes dropped');
      return;
    }
    if (cfg.onEvent) cfg.onEvent(m);
    queue.push(m);
    persist();
    kick();
    return m;
  }

  /* ---- the queue: memory + localStorage mirror ---------------------------------------- */
  function persist() {
    let all = queue;
    if (st.ls()) {
      /* keep what other tabs stored meanwhile (never resurrect what we removed) */
      const mine = new Set(queue.map((m) => m.messageId).concat(removed));
      all = (st.get('q') || []).filter((m) => m && !mine.has(m.messageId)).concat(queue);
      all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    }
    const over = all.length - cfg.maxQueue;
    if (over > 0) {
      const gone = new Set(all.splice(0, over).map((m) => m.messageId));
      queue = queue.filter((m) => !gone.has(m.messageId));
      stats.dropped += over;
      warn('queue full, ' + over + ' oldest events dropped');
      settle(gone, 0);
    }
    removed = [];
    /* after pagehide a keepalive request in flight outlives the page: its events leave
     * storage, or the next page would send them again */
    if (left && keep) all = all.filter((m) => !fly.has(m.messageId));
    if (all.length || st.get('q')) st.set('q', all);
    if (over > 0) st.set('d', stats.dropped);
  }

  /* Remove delivered (ok=1) or dropped (ok=0) events and settle flush() promises. */
  function done(gone, ok) {
    queue = queue.filter((m) => !gone.has(m.messageId));
    gone.forEach((id) => {
      removed.push(id);
      size.delete(id);
    });
    persist();
    settle(gone, ok);
  }
  function settle(gone, ok) {
    for (const x of waiters.slice()) {
      gone.forEach((id) => x.ids.delete(id));
      if (!ok) x.ok = false;
      if (!x.ids.size) finish(x, x.ok);
    }
  }
  function finish(x, ok) {
    const i = waiters.indexOf(x);
    if (i >= 0) waiters.splice(i, 1);
    x.res(ok);
  }

  /* Next batch: oldest events not in flight, cut by count and bytes (at least one). */
  function take(max) {
    const out = [];
    let b = 0;
    for (const m of queue) {
      if (fly.has(m.messageId)) continue;
      if (out.length && (out.length >= cfg.flushAt || b + sz(m) > max)) break;
      out.push(m);
      b += sz(m);
    }
    return out;
  }
  const envelope = (batch) => JSON.stringify({ batch, writeKey: cfg.writeKey, sentAt: iso() });

  /* Decide whether to send now, later (flushInterval), or not at all (busy, backing off). */
  function kick(force) {
    if (busy || rt || !cfg) return;
    if (!online()) {
      waiters.slice().forEach((x) => finish(x, false));
      return;
    }
    const n = queue.length - fly.size;
    if (!n) return;
    if (left) return beacon(); /* after pagehide no answer would be seen: fire and forget */
    if (force || waiters.length || n >= cfg.flushAt || qbytes() >= cfg.maxBatchBytes) {
      w.clearTimeout(tt);
      tt = 0;
      send();
    } else if (!tt) {
      tt = w.setTimeout(() => {
        tt = 0;
        kick(1);
      }, cfg.flushInterval);
    }
  }

  function send() {
    const batch = take(cfg.maxBatchBytes);
    const body = envelope(batch);
    busy = 1;
    keep = body.length < 60000;
    const gone = new Set(batch.map((m) => m.messageId));
    gone.forEach((id) => fly.add(id));
    const fin = (r) => {
      busy = 0;
      fly.clear();
      const s = r ? r.status : 0;
      if (s >= 200 && s < 300) {
        fails = 0;
        stats.sent += gone.size;
        done(gone, 1);
      } else if (!s || s == 408 || s == 429 || (s >= 500 && s != 501 && s != 505)) {
        stats.retries++;
        const ra = r && (s == 429 || s == 503) ? retryAfter(r.headers.get('Retry-After')) : 0;
        const d = ra || Math.min(60000, 500 * 2 ** fails) * (0.5 + Math.random() / 2);
        if (!ra) fails++;
        for (const x of waiters.slice()) if (++x.f > cfg.maxRetries) finish(x, false);
        rt = w.setTimeout(() => {
          rt = 0;
          kick(1);
        }, d);
        return;
      } else {
        stats.dropped += gone.size;
        warn('batch rejected with HTTP ' + s + ', ' + gone.size + ' events dropped');
        done(gone, 0);
      }
      kick();
    };
    let p;
    try {
      p = w.fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body,
        keepalive: keep,
        credentials: 'omit',
      });
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(fin, () => fin());
  }

  function retryAfter(v) {
    if (!v) return 0;
    const ms = /^\d+$/.test(v) ? v * 1000 : D.parse(v) - now();
    return ms > 0 ? Math.min(ms, 300000) : 0;
  }

  /* Page is going away: send what is not in flight by sendBeacon, now. */
  function beacon() {
    if (!cfg) return;
    left = 1;
    persist();
    if (!online()) return;
    for (let batch; (batch = take(cfg.maxBatchBytes)).length; ) {
      let ok = false;
      try {
        ok = nav.sendBeacon(url, new w.Blob([envelope(batch)], { type: 'text/plain' }));
      } catch (e) {
        /* no sendBeacon */
      }
      if (!ok) return; /* over the beacon quota: they stay stored for the next page */
      stats.sent += batch.length;
      done(new Set(batch.map((m) => m.messageId)), 1);
    }
  }

  /* ---- public API --------------------------------------------------------------------- */
  /* Calls made before load() are kept (up to 100) and replayed by load(). */
  const def = (name, fn) =>
    (api[name] = (...a) => {
      if (cfg) return fn(...a);
      if (pre.length < 100) pre.push([fn, a]);
    });

  api.load = (opts) => {
    if (cfg) return warn('load() called twice'), api;
    if (!w || !w.document) return api; /* not a browser (SSR): stay inert */
    cfg = Object.assign({}, DEFAULTS, defaults, opts);
    if (!cfg.writeKey) {
      cfg = null;
      warn('load() needs a writeKey');
      return api;
    }
    nav = w.navigator;
    D = w.Date;
    url = String(cfg.host).replace(/\/+$/, '') + '/v1/batch';
    st = storage(w, !cfg.cookieless);
    consent = st.get('c');
    if (allowed()) {
      queue = (st.get('q') || []).filter((m) => m && m.messageId);
      stats.dropped = st.get('d') || 0;
    }
    /* autocapture first: its pagehide/visibilitychange handlers (time on page) must run
     * before the ones below that send the queue */
    const ac = cfg.autocapture;
    api._ac = ac ? autocapture(w, api, capture, pageContext, mask, ac === true ? {} : ac) : null;
    w.addEventListener('online', () => {
      w.clearTimeout(rt);
      rt = 0;
      fails = 0;
      kick(1);
    });
    w.addEventListener('pagehide', beacon);
    w.addEventListener('pageshow', () => (left = 0)); /* back from the bfcache */
    w.document.addEventListener('visibilitychange', () => {
      if (w.document.visibilityState == 'hidden') kick(1);
    });
    pre.splice(0).forEach((c) => c[0](...c[1]));
    kick();
    return api;
  };

  def('track', (event, properties) => capture('track', { event: String(event), properties: properties || {} }));

  def('page', (name, properties) => {
    if (typeof name == 'object' && name) (properties = name), (name = undefined);
    const ctx = pageContext();
    const f = { properties: Object.assign({}, ctx, properties) };
    if (name) f.name = String(name);
    return capture('page', f, ctx);
  });

  def('identify', (userId, traits) => {
    if (typeof userId == 'object' && userId) (traits = userId), (userId = undefined);
    if (!allowed()) return;
    ids();
    if (userId != null) st.set('u', (uid = String(userId)));
    return capture('identify', { traits: traits || {} });
  });

  def('alias', (userId, previousId) => {
    if (!allowed()) return;
    ids();
    const prev = previousId || uid || aid;
    st.set('u', (uid = String(userId)));
    return capture('alias', { userId: uid, previousId: String(prev) });
  });

  def('group', (groupId, traits) => capture('group', { groupId: String(groupId), traits: traits || {} }));

  /* Forget the user: new anonymous id and session on the next event. */
  def('reset', () => {
    aid = uid = sess = null;
    'uas'.split('').forEach((k) => st.del(k));
  });

  def('search', (query, properties) =>
    capture('track', { event: 'Products Searched', properties: Object.assign({ query: String(query) }, properties) }),
  );
  Object.keys(ECOM).forEach((k) => def(k, (properties) => api.track(ECOM[k], properties)));

  /* Consent: optIn() allows capture (and records the page being viewed); optOut() stops it
   * and wipes the queue and ids. Both choices are remembered (not in cookieless mode). */
  def('optIn', () => {
    const was = allowed();
    st.set('c', (consent = 1));
    if (!was && api._ac) api._ac.view(1);
  });
  def('optOut', () => {
    st.set('c', (consent = 0));
    queue = [];
    aid = uid = sess = null;
    'aqsud'.split('').forEach((k) => st.del(k));
    waiters.slice().forEach((x) => finish(x, false));
  });

  /* Resolves true when every event queued so far was delivered, false when one was dropped,
   * the browser is offline, or delivery kept failing for maxRetries attempts. */
  api.flush = () =>
    new Promise((res) => {
      const x = { ids: new Set(queue.map((m) => m.messageId)), ok: true, f: 0, res };
      if (!cfg || !x.ids.size) return res(true);
      waiters.push(x);
      kick(1);
    });

  api.status = () => ({
    loaded: !!cfg,
    capturing: !!cfg && allowed(),
    queued: queue.length,
    sent: stats.sent,
    dropped: stats.dropped,
    retries: stats.retries,
    anonymousId: aid || null,
    userId: uid || null,
    sessionId: sess ? sess.id : null,
    version: VERSION,
  });

  api.VERSION = VERSION;
  return api;
}
