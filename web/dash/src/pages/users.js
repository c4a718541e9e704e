// users.js -- look up a person (user id or anonymous id): profile, their sessions as a timeline;
// and the most recent sessions in the range. A session is a session id when events carry one,
// else a run of events with gaps under 30 minutes.
import { query, between, lit, num, UID, NOT_DERIVED, inZone } from '../api.js';
import { hourStart } from '../tz.js';
import { h, fill, append, fmtInt, fmtTime, parseTs, table, show } from '../dom.js';
import { panel, showError, loading } from './common.js';

const GAP = 30 * 60000;

function sessionsOf(events) {
  const out = [];
  let cur = null;
  for (const e of events) {
    const t = parseTs(e.ts);
    const sid = e.session_id || '';
    if (!cur || (sid && sid !== cur.sid) || (!sid && t - cur.end > GAP)) {
      cur = { sid, start: t, end: t, events: [] };
      out.push(cur);
    }
    cur.end = t;
    cur.events.push(e);
  }
  return out;
}

/** The session key of the Recent sessions list: the session id, else the person and the local
 * hour in the view's zone (`zone` null: UTC, the plain toStartOfHour(ts)). */
export function sessionKeySql(bySid, zone = null) {
  return bySid ? 'session_id' : `concat(${UID}, '@', toString(${inZone('toStartOfHour', 'ts', zone)}))`;
}

export default function users(root, ctx) {
  const { signal, zone } = ctx;
  const at = (ms) => fmtTime(ms, zone.name);
  const id = ctx.get('u');
  const input = h('input', { id: 'user-id', type: 'search', value: id, placeholder: 'user id or anonymous id', 'aria-label': 'User or anonymous id' });
  const person = h('div', { id: 'user-result' });
  const recent = h('div', { id: 'recent-sessions' }, loading());
  append(root, [
    panel('Look up a person',
      h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); ctx.set({ u: input.value.trim() }); } }, input, h('button', { type: 'submit' }, 'Look up'))),
    id ? panel(null, person) : null,
    panel(`Recent sessions (${ctx.range.label})`, recent)]);

  if (id) {
    person.append(loading());
    (async () => {
      try {
        const r = await query(`SELECT ts, event, user_id, anonymous_id, session_id, url, product_id, search_term, revenue, currency, device, browser, os, country FROM events WHERE (user_id = ${lit(id)} OR anonymous_id = ${lit(id)}) AND ${between(ctx.range.from, ctx.range.to)} ORDER BY ts LIMIT 2000`, { signal });
        if (!r.data.length) return fill(person, h('p', { class: 'muted' }, 'No events for ', h('code', null, id), ` in ${ctx.range.label}.`));
        const first = r.data[0], last = r.data[r.data.length - 1];
        const ids = new Set(), anons = new Set();
        for (const e of r.data) {
          if (e.user_id) ids.add(e.user_id);
          if (e.anonymous_id) anons.add(e.anonymous_id);
        }
        const ss = sessionsOf(r.data).reverse();
        fill(person,
          h('h2', null, 'Person ', h('code', null, id)),
          h('dl', { class: 'facts' },
            h('dt', null, 'user ids'), h('dd', null, [...ids].join(', ') || '–'),
            h('dt', null, 'anonymous ids'), h('dd', null, [...anons].join(', ') || '–'),
            h('dt', null, 'first / last event'), h('dd', null, `${at(parseTs(first.ts))} – ${at(parseTs(last.ts))} ${zone.label}`),
            h('dt', null, 'device'), h('dd', null, [last.device, last.browser, last.os, last.country].filter(Boolean).join(' · ') || '–'),
            h('dt', null, 'events / sessions'), h('dd', null, `${fmtInt(r.data.length)}${r.data.length >= 2000 ? '+' : ''} / ${ss.length}`)),
          h('div', { class: 'timeline', id: 'user-timeline' }, ss.map((s) => h('div', { class: 'session' },
            h('div', { class: 'session-head' }, h('strong', null, at(s.start)), ` · ${Math.max(1, Math.round((s.end - s.start) / 60000))} min · ${s.events.length} events`, s.sid ? h('span', { class: 'muted' }, ' · ', s.sid) : null),
            h('ol', { class: 'chips' }, s.events.map((e) => h('li', { class: 'chip ev-' + (/^(order_completed|payment_failed)$/.test(e.event) ? e.event : 'x'), title: `${at(parseTs(e.ts))} ${e.url || ''}` },
              e.event, e.product_id ? h('span', { class: 'muted' }, ' ', e.product_id) : null, e.search_term ? h('span', { class: 'muted' }, ' “', e.search_term, '”') : null,
              e.revenue !== null && e.revenue !== undefined ? h('span', { class: 'muted' }, ` ${e.revenue} ${e.currency}`) : null)))))));
      } catch (e) {
        showError(person, e);
      }
    })();
  }

  (async () => {
    try {
      // sessions by session id when events carry one (not counting the stream's derived
      // events, which carry the session id it assigned); else one row per person and local hour
      const has = await query(`SELECT countIf(session_id != '') AS n FROM events WHERE ${between(ctx.range.from, ctx.range.to)} AND ${NOT_DERIVED}`, { signal });
      const bySid = num(has.data[0].n) > 0;
      const key = sessionKeySql(bySid, zone.sql);
      // The latest 50 sessions are among the latest hours: group the last 2 hours of the range
      // (whole local hours), else 12 hours, 3 days, the whole range, until 50 sessions start in the
      // window at least 30 minutes (a session gap) after its beginning, so that none of them is
      // a session cut by the window. (Grouping a week of events by session is slow.)
      const to = ctx.range.to;
      let r;
      for (const back of [2, 12, 72, Infinity]) {
        const from = Math.max(ctx.range.from, back === Infinity ? -Infinity : hourStart(to - back * 3600000, zone.name));
        r = await query(`SELECT ${key} AS s, any(${UID}) AS person, min(ts) AS start, max(ts) AS last, count() AS events, countIf(event = 'order_completed') AS orders, any(device) AS device, any(country) AS country FROM events WHERE ${between(from, to)} AND ${NOT_DERIVED}${bySid ? " AND session_id != ''" : ''} GROUP BY s ORDER BY start DESC LIMIT 50`, { signal });
        if (from <= ctx.range.from || (r.data.length >= 50 && parseTs(r.data[49].start) >= from + 1800000)) break;
      }
      fill(recent, bySid ? null : h('p', { class: 'muted' }, `Events carry no session id: rows are a person's activity per hour (${zone.label}).`), table(r.data, [
        { key: 'start', label: `Start (${zone.label})`, fmt: (v) => at(parseTs(v)), cls: 'nowrap' },
        { key: 'person', label: 'Person', fmt: (v) => h('span', { class: 'person' }, show(v)) },
        { key: 'last', label: 'Length', fmt: (v, row) => `${Math.max(0, Math.round((parseTs(v) - parseTs(row.start)) / 60000))} min`, cls: 'num' },
        { key: 'events', label: 'Events', fmt: fmtInt, cls: 'num' },
        { key: 'orders', label: 'Orders', fmt: fmtInt, cls: 'num' },
        { key: 'device', label: 'Device' },
        { key: 'country', label: 'Country' },
      ], { onRow: (row) => ctx.set({ u: row.person }) }));
    } catch (e) {
      showError(recent, e);
    }
  })();
}
