// retention.js -- cohorts by first-seen day or week and the share of each cohort that came back
// in each later period. SQL: per person the distinct active periods (groupArray), the first
// one is the cohort; has(periods, first + INTERVAL k UNIT) says "active k periods later".
// Periods are local days (or Monday weeks) in the view's zone: toDate(ts, zone), toMonday(ts,
// zone); their values are Dates, so `first + INTERVAL k DAY` is calendar arithmetic.
import { query, lit, num, UID, NOT_DERIVED, inZone } from '../api.js';
import { dateStart } from '../tz.js';
import { h, fill, fmtInt } from '../dom.js';
import { panel, showError, loading } from './common.js';

/** zone: the engine's zone name, null for UTC (then the SQL is exactly the UTC one: plain
 * toDate(ts), which the engine runs by UTC day partitions). */
export function retentionSql({ unit, periods, range, startEvent, returnEvent, zone = null }) {
  const bucket = inZone(unit === 'week' ? 'toMonday' : 'toDate', 'ts', zone);
  const U = unit === 'week' ? 'WEEK' : 'DAY';
  const cond = (e) => (e ? `event = ${lit(e)}` : NOT_DERIVED);
  // first: the period of the first start event; days: the periods with a return event.
  // Rows that are neither are left out by the WHERE (they count for nothing below): with two
  // named events the store reads only their rows (event IN uses its row lists), with "any
  // event" for both the counts need no condition per row.
  const any = !startEvent && !returnEvent;
  const only = any ? ` AND ${NOT_DERIVED}` : startEvent && returnEvent ? ` AND event IN (${lit(startEvent)}, ${lit(returnEvent)})` : '';
  const count = (e) => (any ? 'count()' : `countIf(${cond(e)})`);
  const inner = `SELECT ${UID} AS uid, ${bucket} AS d, ${count(startEvent)} AS starts, ${count(returnEvent)} AS returns FROM events WHERE ts < fromUnixTimestamp64Milli(${Math.ceil(range.to)})${only} GROUP BY uid, d`;
  const per = `SELECT uid, minIf(d, starts > 0) AS first, groupArrayIf(d, returns > 0) AS days, countIf(starts > 0) AS active FROM (${inner}) GROUP BY uid`;
  const cols = [];
  for (let k = 1; k < periods; k++) cols.push(`countIf(has(days, first + INTERVAL ${k} ${U})) AS p${k}`);
  const fromDay = inZone('toDate', `fromUnixTimestamp64Milli(${Math.floor(range.from)})`, zone);
  return `SELECT first, count() AS size${cols.length ? ', ' + cols.join(', ') : ''} FROM (${per}) WHERE active > 0 AND first >= ${unit === 'week' ? `toMonday(${fromDay})` : fromDay} GROUP BY first ORDER BY first LIMIT 100`;
}

export default function retention(root, ctx) {
  const { signal, zone } = ctx;
  const unit = ctx.get('unit', ctx.range.key === '1h' || ctx.range.key === 'today' ? 'day' : 'day') === 'week' ? 'week' : 'day';
  const periods = Math.min(14, Math.max(2, Number(ctx.get('n', unit === 'week' ? '6' : '8')) || 8));
  const unitSel = h('select', { id: 'ret-unit', 'aria-label': 'Cohort period' }, ['day', 'week'].map((u) => h('option', { value: u, selected: u === unit }, `by first-seen ${u}`)));
  const nIn = h('input', { id: 'ret-n', type: 'number', min: 2, max: 14, value: periods, 'aria-label': 'Periods' });
  const startIn = h('input', { id: 'ret-start', type: 'text', value: ctx.get('se'), placeholder: 'any event', 'aria-label': 'Start event' });
  const retIn = h('input', { id: 'ret-return', type: 'text', value: ctx.get('re'), placeholder: 'any event', 'aria-label': 'Return event' });
  const out = h('div', { id: 'retention-grid' }, loading());
  root.append(
    panel('Retention',
      h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); ctx.set({ unit: unitSel.value, n: nIn.value, se: startIn.value.trim(), re: retIn.value.trim() }); } },
        unitSel, h('label', null, nIn, ' periods'), h('label', null, 'first ', startIn), h('label', null, 'returning with ', retIn), h('button', { type: 'submit' }, 'Update')),
      h('p', { class: 'muted' }, `Cohorts first seen in ${ctx.range.label} (${unit}s in ${zone.label}; first seen over all stored history). Cell = share of the cohort active again that many ${unit}s later.`)),
    panel(null, out));

  (async () => {
    try {
      const r = await query(retentionSql({ unit, periods, range: ctx.range, startEvent: ctx.get('se'), returnEvent: ctx.get('re'), zone: zone.sql }), { signal });
      const now = Date.now();
      const head = h('tr', null, h('th', null, `cohort (${unit})`), h('th', { class: 'num' }, 'people'), Array.from({ length: periods }, (_, k) => h('th', { class: 'num' }, `${unit === 'week' ? 'W' : 'D'}${k}`)));
      const rows = r.data.map((c) => {
        const size = num(c.size);
        // period k starts at local midnight of the cohort's date + k days (or weeks)
        const [y, m, d] = String(c.first).split('-').map(Number);
        const step = unit === 'week' ? 7 : 1;
        return h('tr', { dataset: { cohort: String(c.first) } }, h('td', { class: 'nowrap' }, String(c.first)), h('td', { class: 'num' }, fmtInt(size)),
          Array.from({ length: periods }, (_, k) => {
            if (dateStart(y, m, d + k * step, zone.name) > now) return h('td', { class: 'cell future' }, '');
            const n = k === 0 ? size : num(c[`p${k}`]);
            const share = size ? n / size : 0;
            const td = h('td', { class: 'cell num', title: `${fmtInt(n)} of ${fmtInt(size)}`, dataset: { n: String(n) } }, `${(share * 100).toFixed(share < 0.1 && share > 0 ? 1 : 0)}%`);
            td.style.setProperty('--v', share.toFixed(3));
            return td;
          }));
      });
      if (!rows.length) rows.push(h('tr', null, h('td', { colspan: periods + 2, class: 'empty' }, 'No cohort starts in this range.')));
      fill(out, h('div', { class: 'table-wrap' }, h('table', { class: 'data retention' }, h('thead', null, head), h('tbody', null, rows))));
    } catch (e) {
      showError(out, e);
    }
  })();
}
