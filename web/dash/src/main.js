// main.js -- the Footfall dashboard: login, navigation, time range, theme; pages in pages/.
import './style.css';
import { auth, checkKey, hooks } from './api.js';
import { h, fill, $ } from './dom.js';
import * as state from './state.js';
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

function rangePicker() {
  const r = state.range();
  const sel = h('select', { id: 'range', 'aria-label': 'Time range', onchange: () => {
    if (sel.value === 'custom') {
      const now = new Date();
      const iso = (d) => d.toISOString().slice(0, 16);
      state.set({ r: 'custom', from: state.get('from') || iso(new Date(now - 86400000)) + 'Z', to: state.get('to') || iso(now) + 'Z' });
    } else state.set({ r: sel.value, from: null, to: null });
  } }, Object.entries(state.RANGES).map(([k, label]) => h('option', { value: k, selected: r.key === k }, label)));
  const parts = [sel];
  if (r.key === 'custom') {
    const toLocal = (ms) => new Date(ms).toISOString().slice(0, 16);
    const from = h('input', { type: 'datetime-local', id: 'range-from', value: toLocal(r.from), 'aria-label': 'From (UTC)' });
    const to = h('input', { type: 'datetime-local', id: 'range-to', value: toLocal(r.to), 'aria-label': 'To (UTC)' });
    const apply = () => from.value && to.value && state.set({ from: from.value + 'Z', to: to.value + 'Z' });
    from.addEventListener('change', apply);
    to.addEventListener('change', apply);
    parts.push(from, to);
  }
  return h('div', { class: 'range' }, parts);
}

function shell(page) {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Pages' },
    PAGES.map(([id, label]) => h('a', {
      href: '?' + new URLSearchParams({ ...Object.fromEntries(rangeParams()), p: id }).toString(),
      class: id === page ? 'active' : null,
      'aria-current': id === page ? 'page' : null,
      dataset: { page: id },
      onclick: (e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        const keep = Object.fromEntries(rangeParams());
        const p = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...keep, p: id })) p.set(k, v);
        history.pushState(null, '', location.pathname + '?' + p.toString());
        render();
      },
    }, label)));
  return h('header', { class: 'top' },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Footfall'),
    nav,
    h('div', { class: 'tools' },
      rangePicker(),
      h('button', { class: 'ghost', id: 'theme', title: 'Light / dark', onclick: toggleTheme }, '◐'),
      h('button', { class: 'ghost', id: 'logout', onclick: () => { auth.clear(); render(true); } }, 'Sign out')));
}

function rangeParams() {
  const p = state.params();
  const out = [];
  for (const k of ['r', 'from', 'to']) if (p.get(k)) out.push([k, p.get(k)]);
  return out;
}

function render(force = false) {
  const root = $('#app');
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
  fill(root, shell(def[0]), main);
  document.title = `Footfall — ${def[1]}`;
  const abort = new AbortController();
  current = { key, abort, cleanup: null };
  const ctx = { range: state.range(), get: state.get, set: state.set, signal: abort.signal, rerender: () => render(true) };
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

state.onChange(() => render());
applyTheme();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => render(true));
render();
