// chart.js -- uPlot time series and CSS bars.
import uPlot from 'uplot';
import { h } from './dom.js';
import { isUtc } from './tz.js';

function cssVar(name, dflt) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || dflt;
}

/**
 * A time-series chart in `el`. x in unix seconds; series [{label, values}]; the axis and the
 * legend read times in `zone` (an IANA name; the browser's zone when not given).
 * Returns {set(x, ys), destroy()}; follows the container's width.
 */
export function timeChart(el, { series, height = 220, bars = false, zone = null }) {
  const colors = [cssVar('--accent', '#2563eb'), cssVar('--bad', '#dc2626'), cssVar('--good', '#16a34a'), cssVar('--warn', '#d97706')];
  const axis = { stroke: cssVar('--muted', '#888'), grid: { stroke: cssVar('--grid', '#8883'), width: 1 }, ticks: { stroke: cssVar('--grid', '#8883') } };
  const opts = {
    width: Math.max(200, el.clientWidth || 600),
    height,
    cursor: { drag: { x: false, y: false } },
    ...(zone ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), isUtc(zone) ? 'UTC' : zone) } : {}),
    legend: { show: series.length > 1 },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{ ...axis }, { ...axis, size: 50 }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: colors[i % colors.length],
      width: 2,
      fill: i === 0 ? colors[0] + '22' : undefined,
      paths: bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      points: { show: false },
    }))],
  };
  const data = [[], ...series.map((s) => s.values || [])];
  const u = new uPlot(opts, data, el);
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w && Math.abs(w - u.width) > 2) u.setSize({ width: w, height });
  });
  ro.observe(el);
  return {
    u,
    set(x, ys) {
      u.setData([x, ...ys]);
    },
    destroy() {
      ro.disconnect();
      u.destroy();
    },
  };
}

/**
 * Horizontal bars: rows [{label, value, note?, mark?}] scaled to max. Labels and notes are text.
 */
export function barList(rows, { fmt = (v) => String(v), cls = '', empty = 'No data in this range.' } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty);
  const max = Math.max(1, ...rows.map((r) => Number(r.value) || 0));
  return h('div', { class: 'bars ' + cls },
    rows.map((r) => {
      const bar = h('div', { class: 'bar-fill' + (r.mark ? ' mark' : '') });
      bar.style.width = ((100 * (Number(r.value) || 0)) / max).toFixed(2) + '%';
      return h('div', { class: 'bar-row', dataset: r.data || {} },
        h('div', { class: 'bar-label', title: r.label }, r.label),
        h('div', { class: 'bar-track' }, bar),
        h('div', { class: 'bar-value' }, fmt(r.value), r.note ? h('span', { class: 'bar-note' }, r.note) : null));
    }));
}

/** Vertical mini columns (e.g. a rate per minute) with anomaly marks; x labels as text.
 * A marked point carries data-anomaly (its markBy, else "1") and data-t (its t, when given). */
export function columns(points, { fmt = (v) => String(v), max: maxIn } = {}) {
  const max = maxIn || Math.max(1e-9, ...points.map((p) => Number(p.value) || 0));
  return h('div', { class: 'cols' },
    points.map((p) => {
      const c = h('div', { class: 'col' + (p.mark ? ' mark' : ''), title: `${p.label}: ${fmt(p.value)}${p.mark ? ' (anomaly)' : ''}`, dataset: p.mark ? { anomaly: p.markBy || '1', ...(p.t !== undefined ? { t: String(p.t) } : {}) } : {} });
      c.style.height = Math.max(2, (100 * (Number(p.value) || 0)) / max).toFixed(1) + '%';
      return c;
    }));
}
