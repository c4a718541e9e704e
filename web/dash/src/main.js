// main.js -- the Footfall dashboard: login, navigation, time range, theme; pages in pages/.
import './style.css';
import { auth, checkKey, hooks, query, lit } from './api.js';
import { h, fill, $ } from './dom.js';
import * as state from './state.js';
import * as tz from './tz.js';
import live from './pages/live.js';
import funnels from './pages/funnels.js';
import retention from './pages/retention.js';
import users from './pages/users.js';
import products from './pages/products.js';
import alerts from './pages/alerts.js';
import sql from './pages/sql.js';

const PAGES = [
  ['live', 'Live', live],
  ['funnels', 'Funnels', funnels],
  ['retention', 'Retention', retention],
  ['users', 'Users & sessions', users],
  ['products', 'Products & search', products],
  ['alerts', 'Alerts', alerts],
  ['sql', 'SQL', sql],
];

// ---- theme: system preference, or the user's choice (kept in localStorage) ----
function applyTheme() {
  const t = localStorage.getItem('footfall.theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
function toggleTheme() {
  const dark = document.documentElement.dataset.theme ? document.documentElement.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  localStorage.setItem('footfall.theme', dark ? 'light' : 'dark');
  applyTheme();
  render(true);
}

// ---- login ----
function loginView(message) {
  const input = h('input', { type: 'password', id: 'key', name: 'key', autocomplete: 'off', placeholder: 'ffr_…', required: true, 'aria-label': 'Read key' });
  const err = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '');
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', {
    class: 'login',
    onsubmit: async (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      err.textContent = 'Checking…';
      const problem = await checkKey(key);
      button.disabled = false;
      if (problem) {
        err.textContent = problem;
        return;
      }
      auth.set(key);
      render(true);
    },
  },
  h('h1', null, 'Footfall'),
  h('p', null, 'Sign in with a read key (', h('code', null, 'footfall keys create --kind read'), '). It is kept in this tab only (sessionStorage).'),
  h('label', { for: 'key' }, 'Read key'), input, button, err);
  return h('main', { class: 'login-wrap' }, form);
}

// ---- shell ----
let current = null; // {name, cleanup, abort}

function rangePicker(z) {
  const r = state.range(Date.now(), z);
  const zn = z.error ? 'UTC' : z.name;
  // the URL keeps instants (ISO, Z): the inputs show and take wall times in the view's zone
  const iso = (ms) => new Date(ms).toISOString().replace(/(:00)?\.000Z$/, 'Z');
  const sel = h('select', { id: 'range', 'aria-label': 'Time range', onchange: () => {
    if (sel.value === 'custom') {
      const now = Date.now();
      state.set({ r: 'custom', from: state.get('from') || iso(Math.floor((now - 86400000) / 60000) * 60000), to: state.get('to') || iso(Math.floor(now / 60000) * 60000) });
    } else state.set({ r: sel.value, from: null, to: null });
  } }, Object.entries(state.RANGES).map(([k, label]) => h('option', { value: k, selected: r.key === k }, label)));
  const parts = [sel];
  if (r.key === 'custom') {
    const toLocal = (ms) => tz.format(ms, zn).slice(0, 16).replace(' ', 'T');
    const from = h('input', { type: 'datetime-local', id: 'range-from', value: toLocal(r.from), 'aria-label': `From (${z.label})` });
    const to = h('input', { type: 'datetime-local', id: 'range-to', value: toLocal(r.to), 'aria-label': `To (${z.label})` });
    const apply = () => {
      const f = tz.parseWhen(from.value, zn), t = tz.parseWhen(to.value, zn);
      if (Number.isFinite(f) && Number.isFinite(t)) state.set({ from: iso(f), to: iso(t) });
    };
    from.addEventListener('change', apply);
    to.addEventListener('change', apply);
    parts.push(from, to);
  }
  return h('div', { class: 'range' }, parts);
}

// ---- time zone: the browser's, UTC, or any IANA name (typed or picked from the list) ----
function zonePicker(z) {
  const browser = tz.browserZone();
  const param = state.get('tz');
  const cur = param === 'UTC' && browser !== 'UTC' ? 'UTC' : z.name === browser ? 'browser' : z.name;
  const input = h('input', { id: 'tz-input', type: 'text', list: 'tz-names', placeholder: 'Area/City', 'aria-label': 'IANA time zone', autocomplete: 'off', spellcheck: 'false', hidden: true });
  const list = h('datalist', { id: 'tz-names' });
  const sel = h('select', { id: 'tz', 'aria-label': 'Time zone', title: 'Days and hours are counted in this time zone' },
    h('option', { value: 'browser', selected: cur === 'browser' }, `Browser (${browser})`),
    browser !== 'UTC' ? h('option', { value: 'UTC', selected: cur === 'UTC' }, 'UTC') : null,
    cur !== 'browser' && cur !== 'UTC' ? h('option', { value: cur, selected: true }, z.name) : null,
    h('option', { value: '*' }, 'Other zone…'));
  const other = () => {
    input.hidden = false;
    if (!list.firstChild) list.append(...tz.allZones().map((n) => h('option', { value: n })));
    input.focus();
  };
  sel.addEventListener('change', () => {
    if (sel.value === '*') return other();
    input.hidden = true;
    state.set({ tz: sel.value === 'browser' ? browser : sel.value });
  });
  input.addEventListener('change', () => {
    const v = input.value.trim();
    if (!v) return;
    if (!tz.validName(v)) {
      input.setCustomValidity('An IANA time zone name: letters, digits, _ + - and /, e.g. Europe/Berlin');
      input.reportValidity();
      return;
    }
    input.setCustomValidity('');
    state.set({ tz: v });
  });
  return h('div', { class: 'zone' }, sel, input, list);
}

// The view's zone cannot be used: say why (for a name the browser does not know, with the
// server's own answer), and offer the browser's zone and UTC. The header stays usable.
function zoneProblem(main, z, signal) {
  const browser = tz.browserZone();
  const msg = h('pre', { class: 'error', id: 'tz-error-message' },
    z.error === 'invalid' ? `Invalid time zone name ${JSON.stringify(z.name)}: an IANA name has letters, digits, _ + - and / only (e.g. Europe/Berlin). It was not sent to the server.` : `Checking the time zone ${z.name}…`);
  fill(main, h('section', { class: 'panel', id: 'tz-error' },
    h('h2', null, 'This time zone cannot be used'), msg,
    h('div', { class: 'filters' },
      h('button', { type: 'button', id: 'tz-use-browser', onclick: () => state.set({ tz: browser }) }, `Use the browser's zone (${browser})`),
      browser !== 'UTC' ? h('button', { type: 'button', class: 'ghost', id: 'tz-use-utc', onclick: () => state.set({ tz: 'UTC' }) }, 'Use UTC') : null)));
  if (z.error !== 'unknown') return;
  // a well-formed name this browser does not know: what does the server say?
  query(`SELECT toDate(now(), ${lit(z.name)}) AS d`, { signal }).then(
    () => (msg.textContent = `The server knows the time zone ${z.name}, but this browser does not, so it cannot count its days here.`),
    (e) => {
      if (e.name !== 'AbortError') msg.textContent = (e.status ? `${e.status} ${e.code}: ` : '') + e.message;
    });
}

function shell(page, z) {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Pages' },
    PAGES.map(([id, label]) => h('a', {
      href: '?' + new URLSearchParams({ ...state.viewParams(), p: id }).toString(),
      class: id === page ? 'active' : null,
      'aria-current': id === page ? 'page' : null,
      dataset: { page: id },
      onclick: (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        const p = new URLSearchParams({ ...state.viewParams(), p: id });
        history.pushState(null, '', location.pathname + '?' + p.toString());
        render();
      },
    }, label)));
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Footfall'),
    nav,
    h('div', { class: 'tools' },
      rangePicker(z),
      zonePicker(z),
      h('button', { class: 'ghost', id: 'theme', title: 'Light / dark', onclick: toggleTheme }, '◐'),
      h('button', { class: 'ghost', id: 'logout', onclick: () => { auth.clear(); render(true); } }, 'Sign out')));
}

function render(force = false) {
  const root = $('#app');
  if (auth.key) state.pinZone(); // links and reloads keep the zone the page was counted in
  const page = state.get('p', 'live');
  const key = JSON.stringify([page, location.search, auth.key ? 1 : 0]);
  if (!force && current && current.key === key) return;
  if (current) {
    current.abort.abort();
    try {
      current.cleanup && current.cleanup();
    } catch (e) {
      console.error(e);
    }
    current = null;
  }
  if (!auth.key) {
    fill(root, loginView(render.message));
    render.message = '';
    document.title = 'Footfall — sign in';
    return;
  }
  const def = PAGES.find((p) => p[0] === page) || PAGES[0];
  const main = h('main', { class: 'page', id: 'page-' + def[0] });
  const z = state.zone();
  const banner = h('div', { id: 'tz-banner', role: 'alert', hidden: true });
  fill(root, shell(def[0], z), banner, main);
  document.title = `Footfall — ${def[1]}`;
  const abort = new AbortController();
  current = { key, abort, cleanup: null, page: def[0], zone: z, banner };
  // the SQL console does not use the view's zone: it runs whatever is typed
  if (z.error && def[0] !== 'sql') return zoneProblem(main, z, abort.signal);
  const ctx = { range: state.range(Date.now(), z), zone: z, get: state.get, set: state.set, signal: abort.signal, rerender: () => render(true) };
  try {
    current.cleanup = def[2](main, ctx) || null;
  } catch (e) {
    fill(main, h('p', { class: 'error' }, 'This page failed: ' + e.message));
  }
}

hooks.onUnauthorized = (e) => {
  auth.clear();
  render.message = e.status === 401 ? 'The server no longer accepts this key (401): sign in again.' : 'This key cannot read (403 ' + e.code + ').';
  render(true);
};

// A page query refused the view's zone (a name the browser knows and the server does not):
// the server's message above the page, once; each panel shows its own error too.
hooks.onZoneError = (e) => {
  if (!current || current.page === 'sql' || !current.banner || !current.zone.sql || !e.message.includes(`'${current.zone.sql}'`)) return;
  if (!current.banner.hidden) return;
  fill(current.banner, h('pre', { class: 'error', id: 'tz-banner-message' }, `Time zone ${current.zone.name}: ${e.status} ${e.code}: ${e.message}`));
  current.banner.hidden = false;
};

state.onChange(() => render());
applyTheme();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => render(true));
render();
