/*
 * WHAT: automatic capture, each part switchable through load({autocapture: {...}}):
 *   pageview  page views, including single-page apps (pushState, replaceState, popstate,
 *             hashchange, bfcache restores); the referrer of an SPA view is the previous URL
 *   clicks    "Element Clicked" {element: stable selector, tag, text (visible text), href}
 *             on links and buttons; input values are never read
 *   scroll    "Page Scrolled" {depth: 25|50|75|100}, once per threshold per page view
 *   time      "Time On Page" {seconds, depth} of visible time, when the page is hidden, left
 *             or replaced by an SPA navigation (several events per view add up)
 *   search    "Products Searched" {query} on search form submits and, debounced, on typing
 *             into search inputs (the same term is not reported twice in a row)
 *   forms     "Signed In" / "Signed Up" {form, method, fields} on login/register submits;
 *             fields holds non-sensitive values only (formValues: false drops them)
 * INVARIANTS: the content of password, hidden, file and card-like fields (by type, name, id
 *   or autocomplete) is never read; digit runs that could be card numbers are redacted from
 *   any text taken from the page. Elements inside [data-ff-ignore] / .ff-ignore are skipped.
 */
import { scrub, sensitive } from './util.js';

const CLICKABLE = 'a,button,[role=button],input[type=submit],input[type=button]';
const SEARCH =
  'input[type=search],[role=searchbox],input[name=q],input[name=query],input[name=search],input[name=s],input[name=term],input[name=keyword],input[name=keywords]';
const IGNORE = '[data-ff-ignore],.ff-ignore';

/** A selector that survives content changes: data-ff / id anchored, classes, nth-of-type. */
export function selector(el) {
  const out = [];
  for (let n = el; n && n.nodeType == 1 && out.length < 5; n = n.parentElement) {
    const tag = n.tagName.toLowerCase();
    const ff = n.getAttribute('data-ff');
    const id = n.getAttribute('id');
    if (ff) {
      out.unshift('[data-ff="' + ff + '"]');
      break;
    }
    if (id && !/\d{3}|\s/.test(id)) {
      out.unshift(tag + '#' + id);
      break;
    }
    if (tag == 'body' || tag == 'html') break;
    let s = tag;
    const cls = (n.getAttribute('class') || '')
      .split(/\s+/)
      .filter((c) => c && !/\d{3}|[:[]|^(active|hover|focus|open|selected|disabled|is-)/.test(c))
      .slice(0, 2);
    if (cls.length) s += '.' + cls.join('.');
    const p = n.parentElement;
    if (p) {
      const same = [].filter.call(p.children, (c) => c.tagName == n.tagName);
      if (same.length > 1) s += ':nth-of-type(' + (same.indexOf(n) + 1) + ')';
    }
    out.unshift(s);
  }
  return out.join('>');
}

/** 'login' | 'register' | 0, from data-ff-form, then id/name/action/class, then password count. */
export function formKind(f) {
  const a = f.getAttribute('data-ff-form');
  if (a) return a == 'login' || a == 'register' ? a : 0;
  const s = ['id', 'name', 'action', 'class'].map((k) => f.getAttribute(k)).join(' ');
  if (/sign.?up|regist|create.?account|join/i.test(s)) return 'register';
  if (/log.?in|sign.?in/i.test(s)) return 'login';
  const n = f.querySelectorAll('input[type=password]').length;
  return n > 1 ? 'register' : n ? 'login' : 0;
}

/** Values of the form's non-sensitive named fields. */
export function formFields(f) {
  const o = {};
  [].forEach.call(f.elements || [], (el) => {
    const n = el.getAttribute('name');
    const t = (el.type || '').toLowerCase();
    if (!n || /^(submit|button|reset|image)$/.test(t) || sensitive(el)) return;
    if (/^(checkbox|radio)$/.test(t)) {
      if (el.checked) o[n] = t == 'radio' ? scrub(el.value) : true;
    } else o[n] = scrub(el.value).slice(0, 200);
  });
  return o;
}

export function autocapture(w, api, capture, pageContext, mask, o) {
  const d = w.document;
  const want = (k) => o[k] !== false;
  const on = (t, ev, fn, opt) => t.addEventListener(ev, fn, opt || true);
  const now = () => w.Date.now();
  const hidden = () => d.visibilityState == 'hidden';
  const track = (event, properties, page) => capture('track', { event, properties }, page);
  let last = null; /* href of the current page view */
  let ctx = null; /* its context.page */
  let marks = {};
  let depth = 0;
  let vis = 0;
  let since = 0;
  let term = '';
  let deb = 0;

  /* Report the visible time of the current page view since the last report. After pagehide
   * (gone) the clock stays stopped: Chromium fires pagehide before visibilitychange. */
  function leave(gone) {
    const t = now();
    if (since) vis += t - since;
    since = gone === 1 || hidden() ? 0 : t;
    if (vis > 0 && ctx && want('time')) track('Time On Page', { seconds: Math.round(vis / 100) / 10, depth }, ctx);
    vis = 0;
  }

  function view(force) {
    const h = w.location.href;
    if (h == last && !force) return;
    if (last != null && h != last) leave();
    const prev = last;
    last = h;
    marks = {};
    depth = 0;
    term = '';
    vis = 0;
    since = hidden() ? 0 : now();
    ctx = pageContext();
    if (prev != null && prev != h) ctx.referrer = mask(prev);
    if (want('pageview')) capture('page', { properties: Object.assign({}, ctx) }, ctx);
  }
  const later = () => w.setTimeout(view, 0); /* let the app set document.title first */

  const hs = w.history;
  ['pushState', 'replaceState'].forEach((k) => {
    const orig = hs[k];
    if (orig)
      hs[k] = function () {
        const r = orig.apply(this, arguments);
        later();
        return r;
      };
  });
  on(w, 'popstate', later);
  on(w, 'hashchange', later);
  on(w, 'pageshow', (e) => e.persisted && view(1));
  on(d, 'visibilitychange', () => (hidden() ? leave() : (since = now())));
  on(w, 'pagehide', () => leave(1));

  if (want('clicks'))
    on(d, 'click', (e) => {
      let t = e.target;
      if (t && t.nodeType == 3) t = t.parentElement;
      const el = t && t.closest && t.closest(CLICKABLE);
      if (!el || el.closest(IGNORE)) return;
      const p = { element: selector(el), tag: el.tagName.toLowerCase() };
      if (p.tag != 'input') {
        const x = scrub((el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim()).slice(0, 100);
        if (x) p.text = x;
      }
      if (typeof el.href == 'string' && el.href) p.href = mask(el.href);
      track('Element Clicked', p);
    });

  if (want('scroll'))
    on(
      w,
      'scroll',
      () => {
        const de = d.documentElement;
        const vh = w.innerHeight;
        const h = Math.max(de.scrollHeight, d.body ? d.body.scrollHeight : 0);
        if (h <= vh) return;
        const seen = (w.scrollY || de.scrollTop || 0) + vh;
        [25, 50, 75, 100].forEach((m) => {
          if (!marks[m] && seen + 2 >= (h * m) / 100) {
            marks[m] = depth = m;
            track('Page Scrolled', { depth: m });
          }
        });
      },
      { passive: true },
    );

  function search(v) {
    w.clearTimeout(deb);
    v = scrub(String(v || '').trim()).slice(0, 200);
    if (v && v != term) api.search((term = v));
  }
  const searchInput = (el) => el && el.matches && el.matches(SEARCH) && !sensitive(el);

  if (want('search'))
    on(d, 'input', (e) => {
      const t = e.target;
      if (!searchInput(t)) return;
      w.clearTimeout(deb);
      deb = w.setTimeout(() => search(t.value), o.searchDebounce || 1000);
    });

  on(d, 'submit', (e) => {
    const f = e.target;
    if (!f || !f.querySelector || f.closest(IGNORE)) return;
    const s = f.querySelector(SEARCH);
    if (searchInput(s)) {
      if (want('search')) search(s.value);
      return;
    }
    const k = want('forms') && formKind(f);
    if (!k) return;
    const p = { form: selector(f), method: 'password' };
    if (o.formValues !== false) p.fields = formFields(f);
    track(k == 'register' ? 'Signed Up' : 'Signed In', p);
  });

  view();
  return { view };
}
