// api.js -- talking to the footfall server: the read key, /v1/query, /v1/live, /v1/alerts.
import { validName } from './tz.js';
const KEY = 'footfall.readKey';

export const auth = {
  get key() {
    return sessionStorage.getItem(KEY) || '';
  },
  set(k) {
    sessionStorage.setItem(KEY, k);
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Handlers the app installs: onUnauthorized when the server refuses the key; onZoneError
 * when a query fails with `unknown_time_zone` (the view's zone, or one typed in SQL). */
export const hooks = { onUnauthorized: null, onZoneError: null };

async function failure(r) {
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    /* not JSON */
  }
  const code = (body && body.code) || `http_${r.status}`;
  let msg = (body && body.message) || r.statusText || 'request failed';
  if (body && body.snippet) msg += '\n' + body.snippet;
  return new ApiError(r.status, code, msg, body);
}

/** POST SQL to /v1/query; resolves to {meta, data, rows, statistics}. */
export async function query(sql, { key = auth.key, format = 'json', signal } = {}) {
  const r = await fetch('/v1/query' + (format !== 'json' ? `?format=${format}` : ''), {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'text/plain' },
    body: sql,
    signal,
    cache: 'no-store',
  });
  if (!r.ok) {
    const e = await failure(r);
    if ((r.status === 401 || r.status === 403) && hooks.onUnauthorized && key === auth.key) hooks.onUnauthorized(e);
    if (e.code === 'unknown_time_zone' && hooks.onZoneError) hooks.onZoneError(e);
    throw e;
  }
  return format === 'json' ? r.json() : r.text();
}

/** Check a key: resolves to null when it can query, else to a message for the login form. */
export async function checkKey(key) {
  try {
    await query('SELECT 1 AS ok', { key });
    return null;
  } catch (e) {
    if (e.status === 401) return 'This key was refused (401 unauthorized): it is unknown or revoked. Create one with `footfall keys create --kind read`.';
    if (e.status === 403) return 'This key cannot read (403 ' + e.code + '): write keys only send events; use a read key (ffr_…).';
    return 'Could not check the key: ' + e.message;
  }
}

export async function getJson(path, { signal } = {}) {
  const r = await fetch(path, { headers: { Authorization: 'Bearer ' + auth.key }, signal, cache: 'no-store' });
  if (!r.ok) throw await failure(r);
  return r.json();
}

/** SQL string literal (ClickHouse escapes). */
export function lit(s) {
  return "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0') + "'";
}

/**
 * A time function in the view's zone: inZone('toDate', 'ts', 'Asia/Tokyo') is
 * `toDate(ts, 'Asia/Tokyo')`. `zone` null (UTC) gives the plain `toDate(ts)`: exactly the SQL
 * of a UTC view, which the engine runs by UTC day partitions. The name is checked against the
 * IANA name characters before it is quoted (a bad one throws; it never reaches the SQL).
 */
export function inZone(fn, arg, zone) {
  if (zone === null || zone === undefined) return `${fn}(${arg})`;
  if (!validName(zone)) throw new Error(`invalid time zone name ${JSON.stringify(String(zone))}`);
  return `${fn}(${arg}, ${lit(zone)})`;
}

/** Typed columns of `events` that a property filter or breakdown may name directly. */
export const COLUMNS = ['event', 'type', 'user_id', 'anonymous_id', 'session_id', 'url', 'referrer', 'product_id', 'category', 'order_id', 'currency', 'search_term', 'element', 'country', 'device', 'browser', 'os'];

/** A column, or a top-level key of `properties`. */
export function field(name) {
  return COLUMNS.includes(name) ? name : `JSONExtractString(properties, ${lit(name)})`;
}

/** The person behind an event: the anonymous id the SDK sets, else the user id. */
export const UID = "if(anonymous_id != '', anonymous_id, user_id)";

/** Events the stream processor derives and writes back to the log (not user behaviour). */
export const NOT_DERIVED = "event NOT IN ('session_ended', 'cart_abandoned', 'checkout_abandoned')";

export function between(from, to) {
  return `ts >= fromUnixTimestamp64Milli(${Math.floor(from)}) AND ts < fromUnixTimestamp64Milli(${Math.ceil(to)})`;
}

/** Number from a query cell (64-bit integers come quoted). */
export const num = (v) => (v === null || v === undefined ? null : Number(v));

/**
 * GET /v1/live as a fetch stream (so the key goes in the Authorization header, not the URL).
 * onEvent(type, data, id). Resolves when the stream ends; rejects on HTTP errors.
 */
export async function streamLive({ onEvent, signal, lastEventId }) {
  const headers = { Authorization: 'Bearer ' + auth.key, Accept: 'text/event-stream' };
  if (lastEventId) headers['Last-Event-ID'] = String(lastEventId);
  const r = await fetch('/v1/live', { headers, signal, cache: 'no-store' });
  if (!r.ok) throw await failure(r);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i).replace(/^\r?\n\r?\n/, '');
      let type = 'message', data = '', id = null;
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        const c = line.indexOf(':');
        const k = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (k === 'event') type = v;
        else if (k === 'data') data += (data ? '\n' : '') + v;
        else if (k === 'id') id = v;
      }
      if (data) {
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch (e) {
          continue;
        }
        try {
          onEvent(type, parsed, id);
        } catch (e) {
          reader.cancel().catch(() => {});
          throw e;
        }
      }
    }
  }
}
