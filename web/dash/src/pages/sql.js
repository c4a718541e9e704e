// sql.js -- the SQL console: run a query, see its rows (first 1,000), a chart when there is a
// time or category column, and download the whole answer as CSV (/v1/query?format=csv).
import { query, num } from '../api.js';
import { h, fill, fmtInt, parseTs, table } from '../dom.js';
import { timeChart, barList } from '../chart.js';
import { panel, showError } from './common.js';

const EXAMPLE = "SELECT toStartOfHour(ts) AS hour, count() AS events, countIf(event = 'order_completed') AS orders\nFROM events\nWHERE ts >= now() - INTERVAL 1 DAY\nGROUP BY hour\nORDER BY hour";
const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const TIME = /^(Nullable\()?(Date|DateTime)/;

export default function sql(root, ctx) {
  const text = h('textarea', { id: 'sql-text', rows: 8, spellcheck: 'false', 'aria-label': 'SQL' });
  text.value = ctx.get('q') || EXAMPLE;
  const out = h('div', { id: 'sql-result' });
  const chartBox = h('div', { class: 'chart', id: 'sql-chart' });
  const stats = h('p', { class: 'muted', id: 'sql-stats' });
  const csv = h('button', { type: 'button', class: 'ghost', id: 'sql-csv', disabled: true }, 'Download CSV');
  let chart = null;
  const runNow = () => ctx.set({ q: text.value.trim() });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      runNow();
    }
  });
  csv.addEventListener('click', async () => {
    csv.disabled = true;
    try {
      const body = await query(text.value, { format: 'csv' });
      const url = URL.createObjectURL(new Blob([body], { type: 'text/csv' }));
      const a = h('a', { download: 'footfall-query.csv' });
      a.href = url; // a blob: URL made here, not from data
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      showError(out, e);
    } finally {
      csv.disabled = false;
    }
  });
  root.append(panel('SQL', h('p', { class: 'muted' }, 'ClickHouse dialect over the table ', h('code', null, 'events'), ' (docs/sql.md). Ctrl+Enter runs. The time range picker does not apply here: write it in WHERE.'),
    text, h('div', { class: 'filters' }, h('button', { type: 'button', id: 'sql-run', onclick: runNow }, 'Run'), csv), stats),
  panel(null, chartBox, out));

  const q = ctx.get('q');
  if (!q) return;
  (async () => {
    try {
      const r = await query(q, { signal: ctx.signal });
      csv.disabled = false;
      const meta = r.meta || [];
      stats.textContent = `${fmtInt(r.rows)} row(s) · ${r.statistics ? (r.statistics.elapsed * 1000).toFixed(1) + ' ms · ' + fmtInt(r.statistics.rows_read) + ' rows read' : ''}${r.rows > 1000 ? ' · showing the first 1,000' : ''}`;
      const rows = r.data.slice(0, 1000);
      fill(out, table(rows, meta.map((m) => ({ key: m.name, label: m.name, cls: NUMERIC.test(m.type) ? 'num' : '', fmt: (v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v)) })), { cls: 'data sql', empty: 'No rows.' }));
      // a chart: a time column and numeric columns -> lines; a text column and a number -> bars
      const tcol = meta.find((m) => TIME.test(m.type));
      const ncols = meta.filter((m) => NUMERIC.test(m.type) && m !== tcol);
      if (tcol && ncols.length && rows.length > 1) {
        const sorted = rows.map((x) => [parseTs(x[tcol.name]) / 1000, x]).sort((a, b) => a[0] - b[0]);
        chart = timeChart(chartBox, { series: ncols.slice(0, 4).map((m) => ({ label: m.name })), height: 220 });
        chart.set(sorted.map((s) => s[0]), ncols.slice(0, 4).map((m) => sorted.map((s) => num(s[1][m.name]))));
      } else {
        const ccol = meta.find((m) => !NUMERIC.test(m.type) && !TIME.test(m.type));
        if (ccol && ncols.length && rows.length) fill(chartBox, barList(rows.slice(0, 20).map((x) => ({ label: String(x[ccol.name]), value: num(x[ncols[0].name]) })), { fmt: (v) => fmtInt(v) }));
      }
    } catch (e) {
      showError(out, e);
    }
  })();
  return () => chart && chart.destroy();
}
