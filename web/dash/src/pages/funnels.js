// funnels.js -- ordered funnels with ClickHouse's windowFunnel over /v1/query: steps with
// property filters, a conversion window, bars with conversion and drop-off per step, and a
// breakdown by device / country / browser / os / category / any property.
import { query, between, lit, field, num, UID } from '../api.js';
import { h, fill, fmtInt, fmtPct, table } from '../dom.js';
import { barList } from '../chart.js';
import { panel, showError, loading } from './common.js';

export const DEFAULT_STEPS = [{ e: 'product_viewed' }, { e: 'product_added' }, { e: 'checkout_started' }, { e: 'order_completed' }];
const BREAKDOWNS = ['', 'device', 'country', 'browser', 'os', 'category', 'property'];

function readSteps(ctx) {
  try {
    const s = JSON.parse(ctx.get('steps') || 'null');
    if (Array.isArray(s) && s.length >= 2 && s.every((x) => x && typeof x.e === 'string')) return s.slice(0, 10);
  } catch (e) {
    /* bad URL: defaults */
  }
  return DEFAULT_STEPS.map((x) => ({ ...x }));
}

function stepCond(s) {
  let c = `event = ${lit(s.e)}`;
  if (s.k && s.v !== undefined && s.v !== '') c += ` AND ${field(s.k)} = ${lit(s.v)}`;
  return c;
}

/** The funnel SQL (exported for the tests and the SQL console's "open in SQL"). */
export function funnelSql(steps, windowMin, range, bdExpr) {
  const conds = steps.map(stepCond);
  const events = [...new Set(steps.map((s) => s.e))];
  const inner = `SELECT ${UID} AS uid${bdExpr ? `, ${bdExpr} AS bd` : ''}, windowFunnel(${Math.round(windowMin * 60000)})(ts, ${conds.map((c) => `(${c})`).join(', ')}) AS level FROM events WHERE ${between(range.from, range.to)} AND event IN (${events.map(lit).join(', ')}) GROUP BY uid${bdExpr ? ', bd' : ''}`;
  const counts = steps.map((_, i) => `countIf(level >= ${i + 1}) AS s${i + 1}`).join(', ');
  return bdExpr
    ? `SELECT bd, ${counts} FROM (${inner}) GROUP BY bd ORDER BY s1 DESC, bd LIMIT 20`
    : `SELECT ${counts} FROM (${inner})`;
}

export default function funnels(root, ctx) {
  const { signal } = ctx;
  let steps = readSteps(ctx);
  const windowIn = h('input', { id: 'funnel-window', type: 'number', min: 1, max: 10080, value: ctx.get('w', '60'), 'aria-label': 'Window (minutes)' });
  const bdSel = h('select', { id: 'funnel-breakdown', 'aria-label': 'Breakdown' }, BREAKDOWNS.map((b) => h('option', { value: b, selected: ctx.get('bd') === b || (b === 'property' && ctx.get('bd').startsWith('p:')) }, b ? (b === 'property' ? 'a property…' : b) : 'no breakdown')));
  const bdProp = h('input', { id: 'funnel-bd-prop', type: 'text', placeholder: 'property key', value: ctx.get('bd').startsWith('p:') ? ctx.get('bd').slice(2) : '', 'aria-label': 'Breakdown property' });
  const stepsBox = h('ol', { class: 'steps', id: 'funnel-steps' });
  const out = h('div', { id: 'funnel-result' });
  const list = h('datalist', { id: 'event-names' });

  const save = () => {
    const bd = bdSel.value === 'property' ? (bdProp.value.trim() ? 'p:' + bdProp.value.trim() : '') : bdSel.value;
    ctx.set({ steps: JSON.stringify(steps.map((s) => (s.k ? { e: s.e, k: s.k, v: s.v || '' } : { e: s.e }))), w: windowIn.value, bd });
  };

  const drawSteps = () => {
    fill(stepsBox, steps.map((s, i) => {
      const e = h('input', { type: 'text', list: 'event-names', value: s.e, 'aria-label': `Step ${i + 1} event`, class: 'step-event' });
      const k = h('input', { type: 'text', value: s.k || '', placeholder: 'property', 'aria-label': `Step ${i + 1} property`, class: 'step-key' });
      const v = h('input', { type: 'text', value: s.v || '', placeholder: 'value', 'aria-label': `Step ${i + 1} value`, class: 'step-value' });
      e.addEventListener('change', () => (s.e = e.value.trim()));
      k.addEventListener('change', () => (s.k = k.value.trim()));
      v.addEventListener('change', () => (s.v = v.value));
      return h('li', null, e, h('span', { class: 'muted' }, 'where'), k, h('span', { class: 'muted' }, '='), v,
        steps.length > 2 ? h('button', { type: 'button', class: 'ghost', title: 'Remove step', onclick: () => { steps.splice(i, 1); drawSteps(); } }, '✕') : null);
    }));
  };
  drawSteps();
  bdProp.hidden = bdSel.value !== 'property';
  bdSel.addEventListener('change', () => (bdProp.hidden = bdSel.value !== 'property'));

  root.append(
    panel('Funnel',
      h('form', { class: 'funnel-form', onsubmit: (e) => { e.preventDefault(); steps = steps.filter((s) => s.e); save(); } },
        stepsBox, list,
        h('div', { class: 'filters' },
          h('button', { type: 'button', class: 'ghost', onclick: () => { if (steps.length < 10) { steps.push({ e: '' }); drawSteps(); } } }, '+ step'),
          h('label', null, 'window ', windowIn, ' min'),
          h('label', null, 'breakdown ', bdSel), bdProp,
          h('button', { type: 'submit', id: 'funnel-run' }, 'Update'),
          h('button', { type: 'button', class: 'ghost', onclick: () => ctx.set({ steps: null, w: null, bd: null }) }, 'Default funnel'))),
      h('p', { class: 'muted' }, `People (anonymous id, else user id) who did the steps in order, each within the window of the first, in ${ctx.range.label}. Computed with windowFunnel.`)),
    panel(null, out));

  query(`SELECT event, count() AS n FROM events WHERE ${between(ctx.range.from, ctx.range.to)} GROUP BY event ORDER BY n DESC LIMIT 200`, { signal })
    .then((r) => r.data.forEach((x) => list.append(h('option', { value: x.event }))))
    .catch(() => {});

  const win = Math.max(1, Number(ctx.get('w', '60')) || 60);
  const bd = ctx.get('bd');
  const bdExpr = bd.startsWith('p:') ? field(bd.slice(2)) : BREAKDOWNS.includes(bd) && bd ? bd : '';
  out.append(loading());
  (async () => {
    try {
      const total = await query(funnelSql(steps, win, ctx.range, ''), { signal });
      const row = total.data[0] || {};
      const counts = steps.map((_, i) => num(row[`s${i + 1}`]) || 0);
      const first = counts[0];
      const rows = steps.map((s, i) => ({
        label: `${i + 1}. ${s.e}${s.k ? ` (${s.k} = ${s.v || ''})` : ''}`,
        value: counts[i],
        note: i === 0 ? '100 %' : ` ${fmtPct(first ? counts[i] / first : null)} of step 1 · −${fmtInt(counts[i - 1] - counts[i])} (${fmtPct(counts[i - 1] ? (counts[i - 1] - counts[i]) / counts[i - 1] : null)} drop-off)`,
        data: { step: String(i + 1), count: String(counts[i]) },
      }));
      const parts = [
        h('h2', null, 'Conversion'),
        barList(rows, { fmt: (v) => fmtInt(v), cls: 'funnel' }),
        h('p', { class: 'summary', id: 'funnel-overall' }, `Overall conversion ${fmtPct(first ? counts[counts.length - 1] / first : null)} (${fmtInt(counts[counts.length - 1])} of ${fmtInt(first)}).`),
      ];
      if (bdExpr) {
        const b = await query(funnelSql(steps, win, ctx.range, bdExpr), { signal });
        parts.push(h('h2', null, `By ${bd.startsWith('p:') ? bd.slice(2) : bd}`), table(b.data, [
          { key: 'bd', label: bd.startsWith('p:') ? bd.slice(2) : bd, fmt: (v) => (v === '' ? '(none)' : String(v)) },
          ...steps.map((s, i) => ({ key: `s${i + 1}`, label: `${i + 1}. ${s.e}`, fmt: fmtInt, cls: 'num' })),
          { key: 's1', label: 'conversion', fmt: (v, r) => fmtPct(num(r.s1) ? num(r[`s${steps.length}`]) / num(r.s1) : null), cls: 'num' },
        ]));
      }
      fill(out, parts);
    } catch (e) {
      showError(out, e);
    }
  })();
}
