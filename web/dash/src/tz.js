// tz.js -- the view's time zone on the JavaScript side: which names are allowed, and local
// days, hours and wall times in a zone (range bounds, labels, inputs). The SQL side passes the
// same name to the engine's time functions (api.js inZone: toDate(ts, 'Europe/Berlin')); UTC
// stays the plain toDate(ts), which the engine runs by UTC day partitions.
//
// Local time comes from Intl.DateTimeFormat (the browser's copy of the IANA database; the
// server reads the system's tzdata: the two agree on current rules). A zone's offset is found
// by formatting an instant; a local wall time is turned into an instant by trying the offsets
// in force around it (at most one change within 26 hours is assumed). As in the engine
// (docs/sql.md, "Time"), a wall time that a DST change skips maps to the first instant after
// the gap (a day whose midnight is skipped starts at the change), and a repeated one to its
// first occurrence.
//
// UTC, and its aliases below, take exact arithmetic without Intl.

/** An IANA zone name as the engine accepts it: letters, digits, `_ + -`, `/`-separated
 * non-empty parts, 1-255 bytes. Only such a name is ever put into SQL. */
export const NAME_RE = /^(?=[\x21-\x7e]{1,255}$)[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/;

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu', 'GMT', 'Etc/GMT', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'GMT0', 'GMT+0', 'GMT-0', 'Greenwich', 'Etc/Greenwich']);

export const validName = (name) => typeof name === 'string' && NAME_RE.test(name);

/** Names that are UTC all year: the dashboard sends the engine's plain (fast) forms. */
export const isUtc = (name) => UTC_NAMES.has(name);

/** The browser's own zone (UTC when it does not say). */
export function browserZone() {
  try {
    const z = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    return validName(z) ? z : 'UTC';
  } catch (e) {
    return 'UTC';
  }
}

const formats = new Map(); // zone -> Intl.DateTimeFormat (creating one costs far more than using it)
function formatOf(zone) {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (formats.size > 64) formats.clear();
    formats.set(zone, f);
  }
  return f;
}

/** True when the browser knows the zone (Intl refuses unknown names with a RangeError). */
export function known(zone) {
  if (!validName(zone)) return false;
  if (isUtc(zone)) return true;
  try {
    formatOf(zone);
    return true;
  } catch (e) {
    return false;
  }
}

/** The local wall time of instant `ms` in `zone`, as the ms of the same wall time in UTC. */
function wallOf(ms, zone) {
  if (isUtc(zone)) return ms;
  const sec = Math.floor(ms / 1000) * 1000;
  const p = {};
  for (const x of formatOf(zone).formatToParts(new Date(sec))) p[x.type] = x.value;
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return wall + (ms - sec);
}

/** The zone's offset from UTC at instant `ms`, in ms (New York in winter: -5 h). */
export const offsetMs = (ms, zone) => wallOf(ms, zone) - ms;

/**
 * The instant of a local wall time (given as the ms of the same wall time in UTC, e.g.
 * Date.UTC(y, m - 1, d, H, M)): the first occurrence when it repeats, the end of the gap when a
 * DST change skips it.
 */
export function wallToMs(wall, zone) {
  if (isUtc(zone)) return wall;
  const H = 3600000;
  const offs = [...new Set([offsetMs(wall - 14 * H, zone), offsetMs(wall, zone), offsetMs(wall + 12 * H, zone)])];
  const hits = offs.map((o) => wall - o).filter((t) => wallOf(t, zone) === wall);
  if (hits.length) return Math.min(...hits);
  // skipped: the first instant whose wall time is past `wall` (the end of the gap)
  let lo = Math.min(...offs.map((o) => wall - o)), hi = Math.max(...offs.map((o) => wall - o));
  if (wallOf(lo, zone) >= wall) return lo; // (more than one change nearby: not expected)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallOf(mid, zone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** {y, m, d, H, M, S} of instant `ms` in `zone` (m: 1-12). */
export function parts(ms, zone) {
  const w = new Date(wallOf(ms, zone));
  return { y: w.getUTCFullYear(), m: w.getUTCMonth() + 1, d: w.getUTCDate(), H: w.getUTCHours(), M: w.getUTCMinutes(), S: w.getUTCSeconds() };
}

/** The first instant of local date y-m-d (d may overflow: d + 1 is the next day). */
export const dateStart = (y, m, d, zone) => wallToMs(Date.UTC(y, m - 1, d), zone);

/** The local day holding instant `ms`: {from, to} (to exclusive; 23 or 25 hours on DST days). */
export function dayOf(ms, zone) {
  const p = parts(ms, zone);
  return { from: dateStart(p.y, p.m, p.d, zone), to: dateStart(p.y, p.m, p.d + 1, zone) };
}

/** The start of the local hour holding `ms` (differs from the UTC hour in zones such as
 * Asia/Kathmandu, +05:45). */
export function hourStart(ms, zone) {
  const w = wallOf(ms, zone);
  return wallToMs(Math.floor(w / 3600000) * 3600000, zone);
}

/** "YYYY-MM-DD hh:mm:ss" of instant `ms` in `zone`. */
export function format(ms, zone) {
  return new Date(wallOf(ms, zone)).toISOString().replace('T', ' ').slice(0, 19);
}

/** "YYYY-MM-DD[Thh:mm[:ss]]" read as a wall time in `zone`; anything else (with Z or an
 * offset) as an ISO instant. NaN when it is neither. */
export function parseWhen(s, zone) {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?$/.exec(String(s));
  if (m) return wallToMs(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0)), zone);
  return /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)$/.test(String(s)) ? Date.parse(s) : NaN;
}

/** Every zone the browser knows, for the picker's list (empty when it cannot say). */
export function allZones() {
  try {
    return Intl.supportedValuesOf('timeZone').filter(validName);
  } catch (e) {
    return [];
  }
}
