// Unit tests of the dashboard's time-zone code (src/tz.js) and the SQL it feeds (api.js inZone,
// the Retention and Users builders). Node's Intl has the full IANA database, as browsers do.
// The expected instants were checked against the engine (toStartOfDay/toStartOfHour(x, tz)).
//   node --test web/dash/test/        (ctest dash_unit)
import test from 'node:test';
import assert from 'node:assert/strict';
import * as tz from '../src/tz.js';
import { inZone, lit } from '../src/api.js';
import { retentionSql } from '../src/pages/retention.js';
import { sessionKeySql } from '../src/pages/users.js';

const Z = (s) => Date.parse(s);

test('names: only IANA-name characters pass', () => {
  for (const ok of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'Etc/GMT-14', 'America/Port-au-Prince', 'Mars/Olympus_Mons'])
    assert.ok(tz.validName(ok), ok);
  for (const bad of ['', "Europe/Berlin'", 'Europe/Berlin)', 'a b', '/Europe/Berlin', 'Europe//Berlin', 'Europe/', '../etc/passwd', 'Europe/../x', 'Zürich', 'x\\y', 'x'.repeat(256), null, undefined, 42])
    assert.ok(!tz.validName(bad), String(bad));
  assert.ok(tz.isUtc('UTC') && tz.isUtc('Etc/UTC') && !tz.isUtc('Europe/London'));
  assert.ok(tz.known('Asia/Tokyo') && !tz.known('Mars/Olympus_Mons') && !tz.known("x'y"));
});

test('local days: New York across both DST changes, Tokyo, UTC', () => {
  // 2025-03-09: clocks go from 02:00 EST to 03:00 EDT, a 23-hour day
  assert.deepEqual(tz.dayOf(Z('2025-03-09T16:00:00Z'), 'America/New_York'), { from: Z('2025-03-09T05:00:00Z'), to: Z('2025-03-10T04:00:00Z') });
  // an instant before local midnight belongs to the day before
  assert.deepEqual(tz.dayOf(Z('2025-03-09T04:59:00Z'), 'America/New_York'), { from: Z('2025-03-08T05:00:00Z'), to: Z('2025-03-09T05:00:00Z') });
  // 2025-11-02: back from 02:00 EDT to 01:00 EST, a 25-hour day
  assert.deepEqual(tz.dayOf(Z('2025-11-02T12:00:00Z'), 'America/New_York'), { from: Z('2025-11-02T04:00:00Z'), to: Z('2025-11-03T05:00:00Z') });
  assert.deepEqual(tz.dayOf(Z('2025-03-09T16:00:00Z'), 'Asia/Tokyo'), { from: Z('2025-03-09T15:00:00Z'), to: Z('2025-03-10T15:00:00Z') });
  assert.deepEqual(tz.dayOf(Z('2025-03-09T23:59:59.999Z'), 'UTC'), { from: Z('2025-03-09T00:00:00Z'), to: Z('2025-03-10T00:00:00Z') });
});

test('a skipped midnight starts the day at the change; a repeated one at its first occurrence', () => {
  // Santiago 2024-09-08: 24:00 -04 becomes 01:00 -03 (engine: 1725768000000)
  assert.equal(tz.dateStart(2024, 9, 8, 'America/Santiago'), 1725768000000);
  assert.equal(tz.dateStart(2024, 9, 8, 'America/Santiago'), Z('2024-09-08T04:00:00Z'));
  // Havana 2024-11-03: 01:00 CDT goes back to 00:00 CST, so 00:00 comes twice (engine: 1730606400000)
  assert.equal(tz.dateStart(2024, 11, 3, 'America/Havana'), 1730606400000);
  // a wall time inside a gap maps to the end of the gap (New York 02:30 on 2025-03-09)
  assert.equal(tz.wallToMs(Date.UTC(2025, 2, 9, 2, 30), 'America/New_York'), Z('2025-03-09T07:00:00Z'));
});

test('local hours: Kathmandu (+05:45) hours start at :15 UTC', () => {
  // engine: toStartOfHour(fromUnixTimestamp64Milli(1795444440000), 'Asia/Kathmandu') = 1795443300000
  assert.equal(tz.hourStart(1795444440000, 'Asia/Kathmandu'), 1795443300000);
  assert.equal(tz.hourStart(Z('2025-03-09T16:59:59Z'), 'America/New_York'), Z('2025-03-09T16:00:00Z'));
  assert.equal(tz.hourStart(Z('2025-03-09T16:30:00Z'), 'UTC'), Z('2025-03-09T16:00:00Z'));
});

test('wall times: format and parse', () => {
  assert.equal(tz.format(Z('2025-03-10T03:30:00Z'), 'America/New_York'), '2025-03-09 23:30:00');
  assert.equal(tz.format(Z('2025-03-10T03:30:00Z'), 'UTC'), '2025-03-10 03:30:00');
  assert.equal(tz.format(Z('2025-03-10T03:30:00Z'), 'Asia/Tokyo'), '2025-03-10 12:30:00');
  assert.equal(tz.parseWhen('2025-03-09T00:00', 'America/New_York'), Z('2025-03-09T05:00:00Z'));
  assert.equal(tz.parseWhen('2025-03-09', 'Asia/Tokyo'), Z('2025-03-08T15:00:00Z'));
  assert.equal(tz.parseWhen('2025-03-09T00:00Z', 'Asia/Tokyo'), Z('2025-03-09T00:00:00Z'));
  assert.equal(tz.parseWhen('2025-03-09T00:00:00+09:00', 'UTC'), Z('2025-03-08T15:00:00Z'));
  assert.ok(Number.isNaN(tz.parseWhen('yesterday', 'UTC')));
  assert.equal(tz.offsetMs(Z('2025-07-01T00:00:00Z'), 'Europe/Berlin'), 2 * 3600000);
});

test('inZone: plain forms for UTC, the quoted name otherwise, never a bad name', () => {
  assert.equal(inZone('toDate', 'ts', null), 'toDate(ts)');
  assert.equal(inZone('toStartOfHour', 'ts', 'Asia/Tokyo'), "toStartOfHour(ts, 'Asia/Tokyo')");
  assert.equal(inZone('toDate', 'ts', 'Etc/GMT+5'), `toDate(ts, ${lit('Etc/GMT+5')})`);
  for (const bad of ["UTC') OR 1=1 --", 'a b', '', '../x']) assert.throws(() => inZone('toDate', 'ts', bad), /invalid time zone name/);
});

const RANGE = { from: 1741305600000, to: 1741651200000 };

test('retentionSql in UTC is exactly the SQL of before (the engine runs it by UTC day partitions)', () => {
  assert.equal(retentionSql({ unit: 'day', periods: 3, range: RANGE, startEvent: '', returnEvent: '' }),
    "SELECT first, count() AS size, countIf(has(days, first + INTERVAL 1 DAY)) AS p1, countIf(has(days, first + INTERVAL 2 DAY)) AS p2 FROM (SELECT uid, minIf(d, starts > 0) AS first, groupArrayIf(d, returns > 0) AS days, countIf(starts > 0) AS active FROM (SELECT if(anonymous_id != '', anonymous_id, user_id) AS uid, toDate(ts) AS d, count() AS starts, count() AS returns FROM events WHERE ts < fromUnixTimestamp64Milli(1741651200000) AND event NOT IN ('session_ended', 'cart_abandoned', 'checkout_abandoned') GROUP BY uid, d) GROUP BY uid) WHERE active > 0 AND first >= toDate(fromUnixTimestamp64Milli(1741305600000)) GROUP BY first ORDER BY first LIMIT 100");
  assert.equal(retentionSql({ unit: 'week', periods: 2, range: { from: 1741305600000.5, to: 1741651200000.2 }, startEvent: 'signup', returnEvent: 'order_completed', zone: null }),
    "SELECT first, count() AS size, countIf(has(days, first + INTERVAL 1 WEEK)) AS p1 FROM (SELECT uid, minIf(d, starts > 0) AS first, groupArrayIf(d, returns > 0) AS days, countIf(starts > 0) AS active FROM (SELECT if(anonymous_id != '', anonymous_id, user_id) AS uid, toMonday(ts) AS d, countIf(event = 'signup') AS starts, countIf(event = 'order_completed') AS returns FROM events WHERE ts < fromUnixTimestamp64Milli(1741651200001) AND event IN ('signup', 'order_completed') GROUP BY uid, d) GROUP BY uid) WHERE active > 0 AND first >= toMonday(toDate(fromUnixTimestamp64Milli(1741305600000))) GROUP BY first ORDER BY first LIMIT 100");
});

test('retentionSql in a zone: local days and weeks, the range start as a local date', () => {
  const day = retentionSql({ unit: 'day', periods: 3, range: RANGE, startEvent: '', returnEvent: '', zone: 'America/New_York' });
  assert.match(day, /, toDate\(ts, 'America\/New_York'\) AS d,/);
  assert.match(day, /first >= toDate\(fromUnixTimestamp64Milli\(1741305600000\), 'America\/New_York'\) GROUP BY first/);
  assert.match(day, /countIf\(has\(days, first \+ INTERVAL 2 DAY\)\) AS p2/); // Date arithmetic, no zone needed
  assert.doesNotMatch(day, /toDate\(ts\)/);
  const week = retentionSql({ unit: 'week', periods: 2, range: RANGE, startEvent: '', returnEvent: '', zone: 'Asia/Tokyo' });
  assert.match(week, /, toMonday\(ts, 'Asia\/Tokyo'\) AS d,/);
  assert.match(week, /first >= toMonday\(toDate\(fromUnixTimestamp64Milli\(1741305600000\), 'Asia\/Tokyo'\)\)/);
  assert.throws(() => retentionSql({ unit: 'day', periods: 2, range: RANGE, zone: "x') --" }), /invalid time zone name/);
});

test('sessionKeySql: the local hour in a zone, the plain one in UTC', () => {
  assert.equal(sessionKeySql(true, 'Asia/Tokyo'), 'session_id');
  assert.equal(sessionKeySql(false, null), "concat(if(anonymous_id != '', anonymous_id, user_id), '@', toString(toStartOfHour(ts)))");
  assert.equal(sessionKeySql(false, 'Asia/Kathmandu'), "concat(if(anonymous_id != '', anonymous_id, user_id), '@', toString(toStartOfHour(ts, 'Asia/Kathmandu')))");
});
