// state.js -- the dashboard's state lives in the URL query string, so every view is shareable:
//   /dash/?p=funnels&r=7d&steps=[...]&w=60&bd=device
// p: page; r: 1h | today | 7d | custom (with from/to, ISO 8601 UTC); the rest is per page.
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

export const RANGES = { '1h': 'Last hour', today: 'Today (UTC)', '7d': 'Last 7 days', custom: 'Custom' };

/** The time range of the current URL: {key, from, to, label} (ms, UTC; `to` exclusive). */
export function range(now = Date.now()) {
  const key = get('r', '1h');
  const day = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  if (key === 'today') return { key, from: day, to: day + 86400000, label: RANGES.today };
  if (key === '7d') return { key, from: now - 7 * 86400000, to: now + 1000, label: RANGES['7d'] };
  if (key === 'custom') {
    const from = Date.parse(get('from'));
    const to = Date.parse(get('to'));
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) return { key, from, to, label: `${get('from')} – ${get('to')}` };
  }
  return { key: '1h', from: now - 3600000, to: now + 1000, label: RANGES['1h'] };
}

/** Today (UTC) as a fixed window, whatever range is picked (the Live page's "today" tiles). */
export function today(now = Date.now()) {
  const d = new Date(now);
  const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return { from, to: from + 86400000 };
}
