// common.js -- small building blocks shared by the pages.
import { h, fill } from '../dom.js';

export function panel(title, ...children) {
  return h('section', { class: 'panel' }, title ? h('h2', null, title) : null, ...children);
}

export function tile(id, label) {
  const value = h('div', { class: 'tile-value', id: 'tile-' + id }, '…');
  const sub = h('div', { class: 'tile-sub' });
  const el = h('div', { class: 'tile', dataset: { tile: id } }, h('div', { class: 'tile-label' }, label), value, sub);
  return {
    el,
    set(text, note, data) {
      value.textContent = text;
      sub.textContent = note || '';
      if (data) for (const [k, v] of Object.entries(data)) value.dataset[k] = String(v);
    },
  };
}

/** Show an error in `el` (text only). */
export function showError(el, e) {
  if (e && e.name === 'AbortError') return;
  fill(el, h('pre', { class: 'error' }, (e && e.status ? `${e.status} ${e.code}: ` : '') + (e && e.message ? e.message : String(e))));
}

/** Run `fn` now and every `ms` until `signal` aborts; never two at once. */
export function every(ms, fn, signal) {
  let timer = null;
  const loop = async () => {
    if (signal.aborted) return;
    try {
      await fn();
    } catch (e) {
      if (e.name !== 'AbortError') console.warn(e);
    }
    if (!signal.aborted) timer = setTimeout(loop, ms);
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  loop();
}

/** Debounce for inputs. */
export function debounce(fn, ms = 300) {
  let t = null;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}

export function loading() {
  return h('p', { class: 'muted loading' }, 'Loading…');
}
