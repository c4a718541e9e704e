// state.js -- the dashboard's state lives in the URL query string, so every view is shareable:
//   /dash/?p=funnels&r=7d&tz=Europe/Berlin&steps=[...]&w=60&bd=device
// p: page; r: 1h | today | 7d | custom (with from/to: ISO 8601 instants, `...Z`, or wall times
// `2026-05-01T00:00` in the view's zone); tz: the view's time zone (an IANA name; a signed-in
// page without one gets the browser's written in, so a copied link shows the same days to
// anyone); the rest is per page.
import * as tz from './tz.js';

const listeners = new Set();

export function params() {
  return new URLSearchParams(location.search);
}

export function get(name, dflt = '') {
  const v = params().get(name);
  return v === null ? dflt : v;
}

/** Merge `changes` (null deletes) into the URL; push a history entry unless replace. */
export function set(changes, { replace = false } = {}) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') p.delete(k);
    else p.set(k, String(v));
  }
  const url = location.pathname + (p.toString() ? '?' + p.toString() : '');
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const fn of listeners) fn();
}

export function onChange(fn) {
  listeners.add(fn);
}

window.addEventListener('popstate', () => {
  for (const fn of listeners) fn();
});

/**
 * The view's time zone: {name, sql, label, error}. name: the URL's `tz`, else the browser's.
 * sql: the name to pass to the engine's time functions, null for UTC (the plain forms).
 * error: 'invalid' (not an IANA-style name: never put into SQL) or 'unknown' (this browser's
 * time zone data does not have it); the pages are not drawn then (main.js says why).
 */
export function zone() {
  const name = get('tz') || tz.browserZone();
  if (!tz.validName(name)) return { name, sql: null, label: name, error: 'invalid' };
  if (!tz.known(name)) return { name, sql: null, label: name, error: 'unknown' };
  const utc = tz.isUtc(name);
  return { name, sql: utc ? null : name, label: utc ? 'UTC' : name, error: null };
}

/** Write the browser's zone into a URL that names none (replacing the entry; no re-render). */
export function pinZone() {
  if (get('tz')) return;
  const p = params();
  p.set('tz', tz.browserZone());
  history.replaceState(history.state, '', location.pathname + '?' + p.toString());
}

/** The view's state that every link between pages carries: range and zone. */
export function viewParams() {
  const p = params();
  const out = {};
  for (const k of ['r', 'from', 'to', 'tz']) if (p.get(k)) out[k] = p.get(k);
  return out;
}

export const RANGES = { '1h': 'Last hour', today: 'Today', '7d': 'Last 7 days', custom: 'Custom' };

/**
 * The time range of the current URL: {key, from, to, label} (ms since the epoch; `to`
 * exclusive). "today" is the local day in the view's zone `z` (23 or 25 hours on a DST day);
 * custom bounds without Z or an offset are wall times in that zone.
 */
export function range(now = Date.now(), z = zone()) {
  const key = get('r', '1h');
  const name = z.error ? 'UTC' : z.name;
  if (key === 'today') return { key, ...tz.dayOf(now, name), label: `Today (${z.label})` };
  if (key === '7d') return { key, from: now - 7 * 86400000, to: now + 1000, label: RANGES['7d'] };
  if (key === 'custom') {
    const from = tz.parseWhen(get('from'), name);
    const to = tz.parseWhen(get('to'), name);
    const at = (ms) => tz.format(ms, name).slice(0, 16);
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) return { key, from, to, label: `${at(from)} – ${at(to)} (${z.label})` };
  }
  return { key: '1h', from: now - 3600000, to: now + 1000, label: RANGES['1h'] };
}

/** Today in the view's zone as a fixed window, whatever range is picked (the Live page's
 * "today" tiles): {from, to}, ms. */
export function today(now = Date.now(), z = zone()) {
  return tz.dayOf(now, z.error ? 'UTC' : z.name);
}
