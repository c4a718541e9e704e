// dom.js -- the only way the dashboard builds DOM.
//
// Every string goes in as a text node (createTextNode), never as HTML, so event data (names,
// URLs, properties) shows inertly whatever it holds: "<script>", "<img onerror>"; bidi
// overrides and zero-width characters are shown as visible ⟨U+202E⟩ markers. Attributes are
// set one by one; event handlers are functions (never strings) and `href` only takes http(s),
// same-origin paths or same-page links (anything else becomes "#").

import { format as tzFormat } from './tz.js';

const SAFE_URL = /^(https?:\/\/|\/(?!\/)|\?|#)/i;

/**
 * h('div', {class: 'x', onclick: fn, dataset: {k: 'v'}}, 'text', node, [more]) -> Element.
 * Children: strings/numbers become text nodes; null/false are skipped; arrays are flattened.
 */
export function h(tag, attrs, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k.startsWith('on')) throw new Error('event handlers must be functions');
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'href') el.setAttribute('href', SAFE_URL.test(String(v)) ? String(v) : '#');
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(visible(String(c))));
  }
  return el;
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Bidi controls (U+202A-E, U+2066-9, U+200E/F, U+061C) and zero-width characters (U+200B-D,
// U+2060-4, U+FEFF) in data are shown as visible markers: they can neither reorder what is
// around them nor hide in a value that looks like another.
const INVISIBLE = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B-\u200D\u2060-\u2064\uFEFF]/g;
export function visible(s) {
  return s.replace(INVISIBLE, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/** A value as text (null/undefined as empty). */
export function show(s) {
  if (s === null || s === undefined) return '';
  return String(s);
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function fmtInt(n) {
  if (n === null || n === undefined || n === '' || Number.isNaN(Number(n))) return '–';
  return Number(n).toLocaleString('en-US');
}

export function fmtPct(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(Number(x))) return '–';
  return (Number(x) * 100).toFixed(digits) + ' %';
}

export function fmtMoney(v, cur) {
  if (v === null || v === undefined || v === '') return '–';
  const n = Number(v);
  const s = Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(v);
  return cur ? `${s} ${cur}` : s;
}

/** "YYYY-MM-DD hh:mm:ss" of an instant (ms, or DateTime text in UTC), as wall time in `zone`
 * (an IANA name the browser knows; UTC when not given). */
export function fmtTime(ms, zone = 'UTC') {
  if (ms === null || ms === undefined) return '';
  const t = typeof ms === 'number' ? ms : parseTs(ms);
  return Number.isNaN(t) ? String(ms) : tzFormat(t, zone);
}

/** "2026-11-22 22:37:13.143" (ClickHouse DateTime text, UTC) -> ms. */
export function parseTs(s) {
  if (typeof s === 'number') return s;
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?/.exec(String(s));
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0), m[7] ? Math.round(Number('0.' + m[7]) * 1000) : 0);
}

/** A table from query rows: cols = [{key, label, fmt?, cls?, onclick?}]. */
export function table(rows, cols, opts = {}) {
  const thead = h('thead', null, h('tr', null, cols.map((c) => h('th', { class: c.cls }, c.label ?? c.key))));
  const tbody = h('tbody', null,
    rows.map((r) => h('tr', opts.onRow ? { class: 'clickable', onclick: () => opts.onRow(r) } : null,
      cols.map((c) => h('td', { class: c.cls }, c.fmt ? c.fmt(r[c.key], r) : show(r[c.key]))))));
  if (!rows.length) tbody.appendChild(h('tr', null, h('td', { colspan: cols.length, class: 'empty' }, opts.empty || 'No data in this range.')));
  return h('div', { class: 'table-wrap' }, h('table', { class: opts.cls || 'data' }, thead, tbody));
}
