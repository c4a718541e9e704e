// live.js -- the Live page: events per second over the last 5 minutes (GET /v1/live stream,
// /v1/query polling when the stream is not available), today's figures, payment failures per
// minute with anomaly marks, and a filterable feed of the latest events.
import { query, streamLive, between, lit, field, num, UID, NOT_DERIVED, getJson } from '../api.js';
import { h, fill, fmtInt, fmtPct, fmtMoney, fmtTime, show, parseTs, table } from '../dom.js';
import { timeChart, columns } from '../chart.js';
import { today, viewParams } from '../state.js';
import { panel, tile, every, showError, debounce } from './common.js';

const WINDOW_S = 300;

export default function live(root, ctx) {
  const { signal, zone } = ctx;
  const at = (ms) => fmtTime(ms, zone.name); // wall time in the view's zone
  const badge = h('span', { class: 'badge', id: 'live-source' }, 'connecting…');
  const chartBox = h('div', { class: 'chart', id: 'eps-chart' });
  const epsNow = h('span', { class: 'big', id: 'eps-now' }, '–');
  const tiles = {
    events: tile('events', 'Events today'),
    active: tile('active', 'Active users (5 min)'),
    users: tile('users', 'Users today'),
    sessions: tile('sessions', 'Sessions'),
    orders: tile('orders', 'Orders today'),
    revenue: tile('revenue', 'Revenue today'),
    aov: tile('aov', 'Average order value'),
    cart: tile('cart', 'Cart conversion'),
    paysucc: tile('pay-success', 'Payment success'),
    payfail: tile('pay-failure', 'Payment failure'),
  };
  const anomalyBox = h('div', { class: 'anomaly', id: 'anomaly' });
  const feedBox = h('div', { id: 'feed' });

  const evSel = h('select', { id: 'feed-event', 'aria-label': 'Filter by event' }, h('option', { value: '' }, 'All events'));
  const userIn = h('input', { id: 'feed-user', type: 'search', placeholder: 'user or anonymous id', value: ctx.get('fu'), 'aria-label': 'Filter by user' });
  const propIn = h('input', { id: 'feed-prop', type: 'search', placeholder: 'property=value', value: ctx.get('fp'), 'aria-label': 'Filter by property' });
  const saveFilters = debounce(() => ctx.set({ fe: evSel.value, fu: userIn.value.trim(), fp: propIn.value.trim() }, { replace: true }), 400);
  evSel.addEventListener('change', saveFilters);
  userIn.addEventListener('input', saveFilters);
  propIn.addEventListener('input', saveFilters);

  root.append(
    panel(null, h('div', { class: 'row-head' }, h('h2', null, 'Events per second, last 5 minutes'), h('div', null, epsNow, ' events/s ', badge)), chartBox),
    h('div', { class: 'tiles' }, Object.values(tiles).map((t) => t.el)),
    panel('Payment failure rate per minute (last hour)', anomalyBox),
    panel(`Latest events (${ctx.range.label})`, h('div', { class: 'filters' }, evSel, userIn, propIn), feedBox),
  );

  // Start-up: today's figures and the per-second counts are asked for first; the figures are
  // drawn first, the chart next, and the per-minute failures and the feed start once the
  // figures are on screen (or after 1.5 s), so the first answers do not queue behind them (a
  // browser opens 6 connections per host, and the live stream keeps one).
  let firstFigures;
  const figuresShown = new Promise((res) => (firstFigures = res));
  const afterFirstPaint = Promise.race([figuresShown, new Promise((res) => setTimeout(res, 1500))]);

  // ---- events per second ----
  const perSec = new Map(); // unix second -> events
  // built at the first draw, once the first answer is in: creating it (style and layout reads)
  // before the first queries are sent would delay them
  let chart = null;
  let lastStream = 0; // ms: last message from the stream
  let activeFromStream = null;
  let sessionsFromStream = null;
  const draw = () => {
    const end = Math.floor(Date.now() / 1000);
    const x = [], y = [];
    for (let s = end - WINDOW_S; s < end; s++) {
      x.push(s);
      y.push(perSec.get(s) || 0);
    }
    for (const k of perSec.keys()) if (k < end - WINDOW_S - 10) perSec.delete(k);
    if (!chart) chart = timeChart(chartBox, { series: [{ label: 'events/s' }], height: 200, zone: zone.name });
    chart.set(x, [y]);
    // the last complete seconds (the newest one is still filling)
    const recent = y.slice(-6, -1);
    epsNow.textContent = recent.length ? fmtInt(Math.round(recent.reduce((a, b) => a + b, 0) / recent.length)) : '–';
  };
  const perSecondSql = (from, to) => `SELECT intDiv(toUnixTimestamp64Milli(ts), 1000) AS s, count() AS n FROM events WHERE ${between(from, to)} AND ${NOT_DERIVED} GROUP BY s ORDER BY s`;
  const pollSeconds = async (back) => {
    const now = Date.now();
    const r = await query(perSecondSql(now - back * 1000, now + 1000), { signal });
    for (const row of r.data) perSec.set(num(row.s), num(row.n));
  };

  const useStream = async () => {
    let lastId = null;
    let seq = null;
    for (let attempt = 0; !signal.aborted; attempt++) {
      seq = null; // every connection starts with a fresh snapshot that replaces the state
      try {
        await streamLive({
          signal,
          lastEventId: lastId,
          onEvent: (type, d, id) => {
            if (type !== 'snapshot' && type !== 'delta') return;
            if (type === 'delta' && seq !== null && d.seq !== seq + 1) throw new Error(`gap in live sequence (${seq} -> ${d.seq}): resync`);
            seq = d.seq;
            lastId = id || d.seq;
            lastStream = Date.now();
            attempt = 0;
            for (const w of d.seconds || []) perSec.set(Math.floor(w.t / 1000), w.events);
            if (d.active_users) activeFromStream = d.active_users['5m'];
            if (typeof d.active_sessions === 'number') sessionsFromStream = d.active_sessions;
            badge.textContent = 'live stream';
            badge.className = 'badge ok';
          },
        });
      } catch (e) {
        if (signal.aborted) return;
        if (e.status === 404 || e.status === 503 || e.status === 405) return 'unavailable';
        if (e.status === 401 || e.status === 403) return 'refused';
      }
      badge.textContent = 'reconnecting…';
      badge.className = 'badge warn';
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1))));
    }
  };

  (async () => {
    try {
      await pollSeconds(WINDOW_S + 5);
    } catch (e) {
      showError(chartBox, e);
    }
    await afterFirstPaint;
    if (signal.aborted) return;
    draw();
    every(1000, async () => {
      // when the stream is quiet (absent, or between reconnects), poll the last seconds
      if (Date.now() - lastStream > 2500) {
        await pollSeconds(10);
        if (!lastStream) {
          badge.textContent = 'polling /v1/query';
          badge.className = 'badge';
        }
      }
      draw();
    }, signal);
    const r = await useStream();
    if (r === 'unavailable' && !signal.aborted) {
      badge.textContent = 'polling /v1/query (no /v1/live on this server)';
      badge.className = 'badge';
    }
  })();

  // ---- today's figures (the local day in the view's zone) ----
  every(3000, async () => {
    const t = today(Date.now(), zone);
    const where = `${between(t.from, t.to)} AND ${NOT_DERIVED}`;
    const now = Date.now();
    // the 5-minute active users come from the same scan (today contains the last 5 minutes,
    // except in the first 5 minutes of the day: then from a query of their own)
    const activeIn = activeFromStream === null && now - 300000 >= t.from ? `, uniqExactIf(${UID}, ts >= fromUnixTimestamp64Milli(${now - 300000})) AS active` : '';
    // cart conversion: of the people with a cart add today, the share who also completed an
    // order today (both per person, so always 0..100 %; buyers with no cart add today, e.g. a
    // cart filled yesterday, do not count). Only the two events' rows are grouped by person.
    const cartSql = `SELECT count() AS carts, countIf(o > 0) AS converted FROM (SELECT ${UID} AS p, countIf(event = 'order_completed') AS o FROM events WHERE ${between(t.from, t.to)} AND event IN ('product_added', 'order_completed') GROUP BY p HAVING countIf(event = 'product_added') > 0)`;
    const [a, money, cart, act] = await Promise.all([
      query(`SELECT count() AS events, uniqExact(${UID}) AS users, uniqExactIf(session_id, session_id != '') AS sessions, countIf(event = 'order_completed') AS orders, countIf(event = 'payment_failed') AS failed${activeIn} FROM events WHERE ${where}`, { signal }),
      query(`SELECT currency, count() AS orders, sum(revenue) AS revenue FROM events WHERE ${between(t.from, t.to)} AND event = 'order_completed' GROUP BY currency ORDER BY orders DESC, currency`, { signal }),
      query(cartSql, { signal }),
      activeFromStream === null && !activeIn ? query(`SELECT uniqExact(${UID}) AS n FROM events WHERE ${between(now - 300000, now + 1000)} AND ${NOT_DERIVED}`, { signal }) : null,
    ]).catch((e) => {
      firstFigures();
      throw e;
    });
    const r = a.data[0] || {};
    const win = { from: t.from, to: t.to };
    tiles.events.set(fmtInt(r.events), `stored events, day in ${zone.label}`, { value: num(r.events), ...win });
    tiles.users.set(fmtInt(r.users), 'distinct people', { value: num(r.users), ...win });
    tiles.active.set(fmtInt(activeFromStream ?? (act ? num(act.data[0].n) : num(r.active))), activeFromStream !== null ? 'from the live stream' : 'distinct people, last 5 min', {});
    if (num(r.sessions) > 0) tiles.sessions.set(fmtInt(r.sessions), 'today, distinct session ids', { value: num(r.sessions), ...win });
    else if (sessionsFromStream !== null) tiles.sessions.set(fmtInt(sessionsFromStream), 'open now (live stream)', {});
    else tiles.sessions.set('–', 'events carry no session id', {});
    tiles.orders.set(fmtInt(r.orders), 'order_completed', { value: num(r.orders), ...win });
    const main = money.data[0];
    if (main) {
      const others = money.data.length - 1;
      tiles.revenue.set(fmtMoney(main.revenue, main.currency || ''), others > 0 ? `+ ${others} other currenc${others > 1 ? 'ies' : 'y'}` : '', { value: main.revenue });
      tiles.aov.set(fmtMoney(Number(main.revenue) / Number(main.orders), main.currency || ''), `${fmtInt(main.orders)} orders in ${main.currency || 'no currency'}`, {});
    } else {
      tiles.revenue.set('0.00', 'no orders yet', { value: 0 });
      tiles.aov.set('–', '', {});
    }
    const c = cart.data[0] || {};
    const carts = num(c.carts) || 0, converted = num(c.converted) || 0, orders = num(r.orders), failed = num(r.failed);
    tiles.cart.set(carts ? fmtPct(converted / carts) : '–', carts ? `${fmtInt(converted)} of ${fmtInt(carts)} people with a cart bought` : 'no cart adds yet', { value: carts ? converted / carts : '', converted, carts, ...win });
    const attempts = orders + failed;
    tiles.paysucc.set(attempts ? fmtPct(orders / attempts) : '–', `${fmtInt(orders)} of ${fmtInt(attempts)} attempts`, {});
    tiles.payfail.set(attempts ? fmtPct(failed / attempts) : '–', `${fmtInt(failed)} payment_failed`, { value: attempts ? failed / attempts : '' });
    tiles.payfail.el.classList.toggle('alarm', attempts >= 10 && failed / attempts > 0.15);
    firstFigures();
  }, signal);

  // ---- payment failures per minute with anomaly marks ----
  // The marks are the server's anomaly alerts (GET /v1/alerts, rule
  // anomaly:payment_failure_rate: the minute each one fired on, firing or resolved). Only when
  // the server does not answer /v1/alerts does the page fall back to a rule of its own, and it
  // says so under the chart.
  const RULE = 'anomaly:payment_failure_rate';
  const minuteOf = (a) => {
    const m = Date.parse((a.evidence && a.evidence.minute) || '');
    // fired_at is the end of the minute that fired; the evidence's minute is the latest one
    // judged (for a resolved alert: the minute that resolved it)
    return Math.floor((num(a.fired_at_ms) ? num(a.fired_at_ms) - 60000 : m) / 60000);
  };
  afterFirstPaint.then(() => every(10000, async () => {
    const now = Date.now();
    const from = Math.floor(now / 60000) * 60000 - 59 * 60000;
    const [r, al] = await Promise.all([
      query(`SELECT intDiv(toUnixTimestamp64Milli(ts), 60000) AS m, countIf(event = 'payment_failed') AS failed, countIf(event = 'order_completed') AS ok FROM events WHERE ${between(from, now + 60000)} AND event IN ('payment_failed', 'order_completed') GROUP BY m ORDER BY m`, { signal }),
      getJson('/v1/alerts', { signal }).catch((e) => (e && e.name === 'AbortError' ? Promise.reject(e) : { error: e })),
    ]);
    const byMin = new Map(r.data.map((x) => [num(x.m), x]));
    const pts = [];
    for (let m = from / 60000; m <= Math.floor(now / 60000); m++) {
      const x = byMin.get(m);
      const f = x ? num(x.failed) : 0, ok = x ? num(x.ok) : 0;
      pts.push({ m, t: m * 60000, failed: f, attempts: f + ok, value: f + ok ? f / (f + ok) : 0, label: at(m * 60000).slice(11, 16) });
    }
    const fromServer = al && !al.error && Array.isArray(al.firing);
    let note;
    if (fromServer) {
      const mine = [...al.firing, ...(al.resolved || [])].filter((x) => x && x.rule === RULE);
      const shown = [];
      for (const x of mine) {
        const p = pts.find((q) => q.m === minuteOf(x));
        if (!p) continue; // older than the last hour
        p.mark = true;
        p.markBy = 'server';
        shown.push({ p, x });
      }
      shown.sort((u, v) => u.p.m - v.p.m);
      const ev = (x) => x.evidence || {};
      const one = ({ p, x }) => {
        const v = ev(x).fired_at_value ?? x.value;
        const exp = x.state === 'firing' ? x.threshold : ev(x).expected;
        return `${p.label} ${zone.label}: ${fmtPct(v)}, expected ${fmtPct(exp)}` + (x.state === 'firing' ? ' (firing)' : ` (resolved ${x.resolved_at ? at(x.resolved_at).slice(11, 16) : ''})`);
      };
      note = h('p', { class: 'muted', id: 'anomaly-source', dataset: { source: 'server' } },
        `Marked minutes: the server's anomaly detector (${RULE} in /v1/alerts), `,
        shown.length ? h('strong', { class: 'bad' }, `${shown.length} alert(s) in the last hour: ${shown.map(one).join('; ')}.`) : 'no alert in the last hour.');
    } else {
      // fallback: the median rate of the other minutes with enough attempts is the baseline; a
      // minute is marked when its rate is over 3x that baseline and over 15 % (>= 5 attempts)
      const medianOf = (xs) => (xs.length ? xs.sort((u, v) => u - v)[Math.floor(xs.length / 2)] : 0);
      const busy = pts.filter((p) => p.attempts >= 5);
      const median = medianOf(busy.map((p) => p.value));
      for (const p of pts) {
        p.mark = p.attempts >= 5 && p.value > Math.max(0.15, 3 * medianOf(busy.filter((o) => o !== p).map((o) => o.value)));
        p.markBy = 'dashboard';
      }
      const marked = pts.filter((p) => p.mark);
      const why = al && al.error ? (al.error.status ? `${al.error.status} ${al.error.code}` : al.error.message) : 'no answer';
      note = h('p', { class: 'muted', id: 'anomaly-source', dataset: { source: 'dashboard' } },
        h('strong', null, `The server's alerts are not available (/v1/alerts: ${why}): marks come from the dashboard's own rule. `),
        `Median ${fmtPct(median)} over ${busy.length} minute(s) with at least 5 attempts; such a minute is marked when its rate is over 15 % and over 3x the median of the others. `,
        marked.length ? h('strong', { class: 'bad' }, `${marked.length} anomalous minute(s), latest ${marked[marked.length - 1].label} ${zone.label} (${fmtPct(marked[marked.length - 1].value)}).`) : 'No anomaly in the last hour.');
    }
    const firing = fromServer ? al.firing : [];
    fill(anomalyBox,
      columns(pts, { fmt: (v) => fmtPct(v), max: Math.max(0.2, ...pts.map((p) => p.value)) }),
      note,
      firing.length ? h('p', { class: 'bad' }, `${firing.length} alert(s) firing — see Alerts.`) : null);
  }, signal));

  // ---- feed ----
  // the event names of the filter come once, in parallel with the first feed query
  const want = ctx.get('fe');
  if (want) evSel.append(h('option', { value: want, selected: true }, want));
  afterFirstPaint.then(async () => {
    if (signal.aborted) return;
    const rg = ctx.range;
    try {
      const ev = await query(`SELECT event, count() AS n FROM events WHERE ${between(rg.from, rg.to)} GROUP BY event ORDER BY n DESC LIMIT 200`, { signal });
      for (const row of ev.data) if (row.event !== want) evSel.append(h('option', { value: row.event }, row.event));
    } catch (e) {
      if (e.name !== 'AbortError') console.warn(e);
    }
  });
  // The 30 latest events: looked for in the last 5 minutes of the range first; when fewer are
  // there, back from the newest matching event (max(ts), a cheap aggregate) over 5 minutes, an
  // hour, a day, then the whole range, until 30 are found. (Sorting a week of rows with their
  // properties to keep 30 is slow, and over the server's memory limit on a big store.)
  const FEED_WINDOWS = [300000, 3600000, 86400000, Infinity];
  const FEED_COLS = 'ts, event, user_id, anonymous_id, url, product_id, search_term, revenue, currency, properties';
  const latest = async (rg, end, conds) => {
    const sel = (from, to) => query(`SELECT ${FEED_COLS} FROM events WHERE ${[between(from, to), ...conds].join(' AND ')} ORDER BY ts DESC LIMIT 30`, { signal });
    const recent = await sel(Math.max(rg.from, end - 300000), end);
    if (recent.data.length >= 30 || end - 300000 <= rg.from) return recent;
    const m = await query(`SELECT toUnixTimestamp64Milli(max(ts)) AS t, count() AS n FROM events WHERE ${[between(rg.from, end), ...conds].join(' AND ')}`, { signal });
    const n = num(m.data[0].n);
    if (!n) return recent;
    const top = Math.min(end, num(m.data[0].t) + 1);
    let r = recent;
    for (const back of FEED_WINDOWS) {
      const from = n <= 30 ? rg.from : Math.max(rg.from, top - back);
      r = await sel(from, top);
      if (r.data.length >= 30 || from <= rg.from) break;
    }
    return r;
  };
  afterFirstPaint.then(() => every(2000, async () => {
    const rg = ctx.range;
    const end = Math.min(rg.to, Date.now() + 1000);
    const conds = [];
    if (evSel.value) conds.push(`event = ${lit(evSel.value)}`);
    const u = userIn.value.trim();
    if (u) conds.push(`(user_id = ${lit(u)} OR anonymous_id = ${lit(u)})`);
    const p = propIn.value.trim();
    if (p) {
      const eq = p.indexOf('=');
      if (eq > 0) conds.push(`${field(p.slice(0, eq).trim())} = ${lit(p.slice(eq + 1).trim())}`);
      else conds.push(`JSONHas(properties, ${lit(p)})`);
    }
    const r = await latest(rg, end, conds);
    fill(feedBox, table(r.data, [
      { key: 'ts', label: `Time (${zone.label})`, fmt: (v) => at(parseTs(v)).slice(11), cls: 'nowrap' },
      { key: 'event', label: 'Event', cls: 'ev' },
      { key: 'user_id', label: 'Person', fmt: (v, row) => h('a', { href: '?' + new URLSearchParams({ ...viewParams(), p: 'users', u: v || row.anonymous_id }), class: 'person' }, show(v || row.anonymous_id)) },
      { key: 'url', label: 'Detail', fmt: (v, row) => show(row.search_term ? `search: ${row.search_term}` : row.product_id ? `product ${row.product_id}` : row.revenue !== null && row.revenue !== undefined ? `${row.revenue} ${row.currency}` : v), cls: 'clip' },
      { key: 'properties', label: 'Properties', fmt: (v) => show(v && v.length > 160 ? v.slice(0, 160) + '…' : v), cls: 'clip props' },
    ], { cls: 'data feed', empty: 'No events match.' }));
  }, signal));

  return () => chart && chart.destroy();
}
