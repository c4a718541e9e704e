// Browser test: the dashboard's time zone (docs: web/dash/README.md, "Time zone").
//
// Chromium runs with timezoneId America/New_York and the page's clock fixed at
// 2025-03-09 12:00 EDT (16:00 UTC), New York's spring-forward day (23 hours: 05:00Z to 04:00Z
// the next day). The data set has events just before and after New York's midnights, so the
// local days of New York, Tokyo and UTC hold different events; each event below names its day
// in each zone, and every expected figure is counted from those names.
//   - a page opened without `tz` counts in the browser's zone and writes it into the URL; the
//     page links carry it; the picker says "Browser (America/New_York)";
//   - Live: today's events and people are New York's day (its tiles' window is 05:00Z-04:00Z);
//     Funnels with the range "today": the people of that day; Retention: cohorts of New York
//     days (toDate(ts, tz), `first + INTERVAL 1 DAY` on those dates); Users: events without a
//     session id are grouped per person and local hour (Asia/Kathmandu, +05:45);
//   - the picker: another zone typed in (Asia/Tokyo), UTC, the browser's again; custom range
//     inputs show and take New York wall times;
//   - tz=UTC gives the UTC answers with exactly the plain SQL (toDate(ts), no zone argument);
//   - an unknown zone shows the server's unknown_time_zone message and the page still works;
//     an invalid name never reaches the server; a zone the server refuses for a page's query
//     gets a banner with the server's message.
//
//   node tests/browser/dashboard-tz.mjs        (FOOTFALL_BIN)
import { execFileSync } from 'node:child_process';
import { run, startFootfall, launchBrowser, waitFor, FOOTFALL_BIN } from './lib.mjs';

const NOW = Date.parse('2025-03-09T16:00:00Z'); // 12:00 in New York (EDT since 07:00Z), 01:00 on the 10th in Tokyo
const LATER = Date.parse('2025-03-12T12:00:00Z'); // for Retention: the cohorts' first days are all past
const NY = 'America/New_York';

// [instant, people, local date in New York, in Tokyo] (the UTC date is the instant's)
const AT = {
  A: ['2025-03-09T04:59:00Z', '03-08', '03-09'], // 23:59 EST on the 8th in New York
  B: ['2025-03-09T05:01:00Z', '03-09', '03-09'], // 00:01 EST on the 9th
  H: ['2025-03-09T14:10:00Z', '03-09', '03-09'], // 19:55 in Kathmandu (+05:45: its hours start at :15 UTC)
  I: ['2025-03-09T14:20:00Z', '03-09', '03-09'], // 20:05 in Kathmandu: the same UTC hour, the next local one
  G: ['2025-03-09T14:30:00Z', '03-09', '03-09'], // 23:30 in Tokyo
  F: ['2025-03-09T15:30:00Z', '03-09', '03-10'], // 00:30 on the 10th in Tokyo
  C: ['2025-03-10T03:30:00Z', '03-09', '03-10'], // 23:30 EDT on the 9th in New York (UTC: the 10th)
  E: ['2025-03-10T04:30:00Z', '03-10', '03-10'], // 00:30 EDT on the 10th (a day of 24 h from 05:00Z would hold it)
};
const WHO = {
  A: ['a1', 'r2'],
  B: ['b1', 'b2', 'r1', 'r2'],
  G: ['g1'],
  H: ['h1'],
  I: ['h1'],
  F: ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'],
  C: ['c1', 'c2', 'c3', 'c4', 'r1'],
  E: ['e1'],
};
const EVENTS = [];
for (const [k, people] of Object.entries(WHO)) for (const p of people) EVENTS.push({ ts: Date.parse(AT[k][0]), p, day: { UTC: AT[k][0].slice(5, 10), [NY]: AT[k][1], 'Asia/Tokyo': AT[k][2] } });
const TODAY = { UTC: '03-09', [NY]: '03-09', 'Asia/Tokyo': '03-10' }; // each zone's date at NOW
const today = (z) => EVENTS.filter((e) => e.day[z] === TODAY[z]);
const expectTiles = (z) => ({ events: today(z).length, users: new Set(today(z).map((e) => e.p)).size });
// retention by day: per person the set of local dates; cohort = the first; D1 = back the next date
function expectCohorts(z) {
  const days = new Map();
  for (const e of EVENTS) days.set(e.p, (days.get(e.p) || new Set()).add(e.day[z]));
  const out = {};
  const next = (d) => { const t = new Date(Date.parse(`2025-${d}T00:00:00Z`) + 86400000); return t.toISOString().slice(5, 10); };
  for (const ds of days.values()) {
    const first = [...ds].sort()[0];
    const c = (out['2025-' + first] ||= { size: 0, d1: 0 });
    c.size++;
    if (ds.has(next(first))) c.d1++;
  }
  return out;
}

run('dashboard-tz', 150000, async (t, cleanup) => {
  // the figures must tell the zones apart, or the test proves nothing
  t.check(new Set([NY, 'UTC', 'Asia/Tokyo'].map((z) => expectTiles(z).events)).size === 3, 'the data set: today holds a different number of events in each zone', [NY, 'UTC', 'Asia/Tokyo'].map(expectTiles));
  t.check(JSON.stringify(expectCohorts(NY)) !== JSON.stringify(expectCohorts('UTC')), 'the data set: New York and UTC cohorts differ', { ny: expectCohorts(NY), utc: expectCohorts('UTC') });

  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const readKey = execFileSync(FOOTFALL_BIN, ['keys', 'create', '--data', ff.dir, '--kind', 'read'], { encoding: 'utf8', timeout: 15000 }).trim().split(/\s+/)[0];
  const msgs = EVENTS.map((e, i) => ({ type: 'track', event: 'product_viewed', anonymousId: e.p, messageId: `tz-${i}`, timestamp: new Date(e.ts).toISOString(), properties: { product_id: 'p-1' } }));
  const r = await fetch(ff.url + '/v1/batch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ batch: msgs, writeKey: ff.key, sentAt: new Date().toISOString() }) });
  const j = await r.json();
  if (r.status !== 200 || j.accepted !== msgs.length) throw new Error('batch not stored: ' + JSON.stringify(j));
  const stored = await waitFor(async () => {
    const q = await fetch(ff.url + '/v1/query', { method: 'POST', headers: { Authorization: 'Bearer ' + readKey }, body: "SELECT count() AS n FROM events WHERE event = 'product_viewed'" });
    return q.ok && Number((await q.json()).data[0].n) === msgs.length;
  }, 15000, 200);
  t.check(stored, `the ${msgs.length} events are queryable`);

  const br = await launchBrowser({ timezoneId: NY });
  cleanup(() => br.close());
  await br.ctx.addInitScript((key) => sessionStorage.setItem('footfall.readKey', key), readKey);
  const page = await br.ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  const sent = []; // SQL the page sends
  page.on('request', (q) => {
    if (q.url().includes('/v1/query') && q.method() === 'POST') sent.push(q.postData() || '');
  });
  await page.clock.setFixedTime(NOW);
  const dash = (params) => `${ff.url}/dash/?${new URLSearchParams(params)}`;
  const urlTz = () => new URL(page.url()).searchParams.get('tz');
  // the tiles once their window is the zone's day and the figures have settled
  const tiles = async (from) => {
    // (on a timeout: whatever is shown, for the checks below to report)
    await page.waitForFunction((f) => document.querySelector('#tile-events')?.dataset.from === String(f) && document.querySelector('#tile-users')?.dataset.value !== undefined, from, { timeout: 10000 }).catch(() => page.waitForSelector('#tile-users[data-value]', { timeout: 5000 }).catch(() => {}));
    return page.evaluate(() => {
      const d = (id) => (document.querySelector(id) || { dataset: {} }).dataset;
      return { events: Number(d('#tile-events').value), users: Number(d('#tile-users').value), from: Number(d('#tile-events').from), to: Number(d('#tile-events').to) };
    });
  };

  // ---- opened without tz: the browser's zone, written into the URL ----
  await page.goto(dash({ p: 'live', r: '1h' }));
  const ny = await tiles(Date.parse('2025-03-09T05:00:00Z'));
  t.eq(urlTz(), NY, 'a page opened without tz gets the browser\'s zone in its URL');
  t.eq(await page.$eval('#tz', (s) => s.selectedOptions[0].textContent), `Browser (${NY})`, 'the picker says "Browser (America/New_York)"');
  t.eq([ny.from, ny.to], [Date.parse('2025-03-09T05:00:00Z'), Date.parse('2025-03-10T04:00:00Z')], 'Live: "today" is New York\'s day, 23 hours on the spring-forward day (05:00Z to 04:00Z)');
  t.eq({ events: ny.events, users: ny.users }, expectTiles(NY), `Live: events and people today are New York's (${expectTiles(NY).events} events; UTC would be ${expectTiles('UTC').events})`);
  t.check(/day in America\/New_York/.test(await page.textContent('[data-tile="events"] .tile-sub')), 'the events tile names the zone of its day');
  const links = await page.$$eval('nav a', (as) => as.map((a) => new URL(a.href).searchParams.get('tz')));
  t.check(links.length > 5 && links.every((z) => z === NY), 'every page link carries the zone', links);

  // ---- Funnels with the range "today": New York's day ----
  const step1 = async () => {
    await page.waitForSelector('#funnel-result [data-step="1"]');
    return page.$eval('#funnel-result [data-step="1"]', (e) => Number(e.dataset.count));
  };
  await page.goto(dash({ p: 'funnels', r: 'today', tz: NY, steps: JSON.stringify([{ e: 'product_viewed' }, { e: 'order_completed' }]) }));
  t.eq(await step1(), expectTiles(NY).users, 'Funnels, range "today": the people of New York\'s day');
  t.check((await page.textContent('#page-funnels')).includes(`Today (${NY})`), 'the range is labelled with the zone');

  // ---- custom range: the inputs show and take New York wall times, the URL keeps instants ----
  await page.goto(dash({ p: 'funnels', r: 'custom', from: '2025-03-09T05:00Z', to: '2025-03-10T04:00Z', tz: NY, steps: JSON.stringify([{ e: 'product_viewed' }, { e: 'order_completed' }]) }));
  t.eq([await page.inputValue('#range-from'), await page.inputValue('#range-to')], ['2025-03-09T00:00', '2025-03-10T00:00'], 'custom range inputs show New York wall times');
  t.eq(await step1(), expectTiles(NY).users, 'a custom range of New York\'s day counts its people');
  await page.fill('#range-to', '2025-03-09T12:00');
  const kept = await page.waitForFunction(() => new URL(location.href).searchParams.get('to') === '2025-03-09T16:00Z', null, { timeout: 5000 }).then(() => true, () => false);
  t.check(kept, 'a wall time typed into the range (12:00 EDT) is kept in the URL as its instant (16:00Z)', page.url());

  // ---- Retention: cohorts of New York days ----
  await page.clock.setFixedTime(LATER);
  const cohorts = async () => {
    await page.waitForSelector('#retention-grid table, #retention-grid .error');
    return page.$$eval('#retention-grid tr[data-cohort]', (trs) => Object.fromEntries(trs.map((tr) => {
      const td = [...tr.children];
      return [tr.dataset.cohort, { size: Number(td[1].textContent), d1: Number(td[3].dataset.n) }];
    })));
  };
  const retention = (z) => dash({ p: 'retention', r: 'custom', from: '2025-03-07T00:00Z', to: '2025-03-12T00:00Z', tz: z });
  sent.length = 0;
  await page.goto(retention(NY));
  t.eq(await cohorts(), expectCohorts(NY), 'Retention: cohorts by New York day, D1 = back on the next New York day');
  t.check(sent.some((s) => s.includes(`toDate(ts, '${NY}') AS d`) && s.includes(`toDate(fromUnixTimestamp64Milli(${Date.parse('2025-03-07T00:00:00Z')}), '${NY}')`)), 'Retention sends toDate(ts, zone) and the range start as a local date', sent.filter((s) => s.includes('first')));
  await page.clock.setFixedTime(NOW);

  // ---- Users: a person's activity per local hour (events carry no session id) ----
  const sessions = async (z) => {
    await page.goto(dash({ p: 'users', r: 'custom', from: '2025-03-09T14:00Z', to: '2025-03-09T15:00Z', tz: z }));
    await page.waitForSelector('#recent-sessions table');
    const head = await page.$eval('#recent-sessions th', (th) => th.textContent);
    const rows = await page.$$eval('#recent-sessions tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    return { head, h1: rows.filter((r) => r[1] === 'h1').map((r) => r[0]).sort() };
  };
  t.eq(await sessions('Asia/Kathmandu'), { head: 'Start (Asia/Kathmandu)', h1: ['2025-03-09 19:55:00', '2025-03-09 20:05:00'] }, 'Users: 14:10Z and 14:20Z are two local hours in Kathmandu (19:55, 20:05), shown in local time');
  t.eq(await sessions('UTC'), { head: 'Start (UTC)', h1: ['2025-03-09 14:10:00'] }, 'Users: ... and one hour in UTC');

  // ---- UTC: the UTC answers, with the plain SQL ----
  sent.length = 0;
  await page.goto(dash({ p: 'live', r: '1h', tz: 'UTC' }));
  const utc = await tiles(Date.parse('2025-03-09T00:00:00Z'));
  t.eq({ events: utc.events, users: utc.users, from: utc.from, to: utc.to }, { ...expectTiles('UTC'), from: Date.parse('2025-03-09T00:00:00Z'), to: Date.parse('2025-03-10T00:00:00Z') }, 'tz=UTC: today is the UTC day with its figures');
  t.eq(await page.$eval('#tz', (s) => s.value), 'UTC', 'the picker shows UTC');
  await page.clock.setFixedTime(LATER);
  await page.goto(retention('UTC'));
  t.eq(await cohorts(), expectCohorts('UTC'), 'tz=UTC: Retention cohorts by UTC day');
  t.check(sent.some((s) => s.includes('toDate(ts) AS d') && s.includes(`first >= toDate(fromUnixTimestamp64Milli(${Date.parse('2025-03-07T00:00:00Z')})) GROUP BY first`)), 'tz=UTC: Retention sends the plain toDate(ts) (the engine\'s UTC day partitions)');
  t.eq(sent.filter((s) => /'(UTC|Etc\/UTC)'/.test(s)), [], 'tz=UTC: no query names a zone');
  await page.clock.setFixedTime(NOW);

  // ---- the picker: another zone typed in, UTC, the browser's again ----
  await page.goto(dash({ p: 'live', r: '1h' }));
  await tiles(Date.parse('2025-03-09T05:00:00Z'));
  await page.selectOption('#tz', '*');
  await page.fill('#tz-input', 'Asia/Tokyo');
  await page.press('#tz-input', 'Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tz') === 'Asia/Tokyo');
  const tokyo = await tiles(Date.parse('2025-03-09T15:00:00Z'));
  t.eq({ events: tokyo.events, users: tokyo.users }, expectTiles('Asia/Tokyo'), 'a zone typed into the picker (Asia/Tokyo): the URL carries it and today is Tokyo\'s day');
  await page.selectOption('#tz', 'UTC');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tz') === 'UTC');
  t.eq((await tiles(Date.parse('2025-03-09T00:00:00Z'))).events, expectTiles('UTC').events, 'picking UTC: the UTC day');
  await page.selectOption('#tz', 'browser');
  await page.waitForFunction((z) => new URL(location.href).searchParams.get('tz') === z, NY);
  t.eq((await tiles(Date.parse('2025-03-09T05:00:00Z'))).events, expectTiles(NY).events, 'picking "Browser": New York again');
  await page.goBack();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tz') === 'UTC');
  t.eq((await tiles(Date.parse('2025-03-09T00:00:00Z'))).events, expectTiles('UTC').events, 'back: the previous zone (UTC) and its figures');

  // ---- an unknown zone: the server's message; the page still works ----
  await page.goto(dash({ p: 'live', r: '1h', tz: 'Mars/Olympus_Mons' }));
  await page.waitForFunction(() => /unknown_time_zone/.test(document.querySelector('#tz-error-message')?.textContent || ''), null, { timeout: 10000 });
  const msg = await page.textContent('#tz-error-message');
  t.check(/unknown time zone 'Mars\/Olympus_Mons'/.test(msg), 'an unknown zone shows the server\'s error (unknown_time_zone)', msg);
  t.eq(await page.$eval('#tz', (s) => s.value), 'Mars/Olympus_Mons', 'the picker shows the zone asked for');
  await page.click('#tz-use-utc');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tz') === 'UTC');
  t.eq((await tiles(Date.parse('2025-03-09T00:00:00Z'))).events, expectTiles('UTC').events, '"Use UTC" brings the page back');

  // ---- an invalid name is never sent ----
  sent.length = 0;
  const bad = "Europe/Berlin') OR 1=1 --";
  await page.goto(dash({ p: 'retention', r: '7d', tz: bad }));
  await page.waitForSelector('#tz-error-message');
  t.check(/Invalid time zone name/.test(await page.textContent('#tz-error-message')), 'an invalid zone name is refused by the page', await page.textContent('#tz-error-message'));
  await page.waitForTimeout(500);
  t.eq(sent.filter((s) => s.includes('Berlin')), [], 'the invalid name reaches no query');

  // ---- a zone the browser knows and the server refuses: a banner with the server's message ----
  await page.route('**/v1/query', async (route) => {
    const body = route.request().postData() || '';
    if (!body.includes("'Asia/Kolkata'")) return route.fallback();
    await route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ success: false, code: 'unknown_time_zone', message: "unknown time zone 'Asia/Kolkata'" }) });
  });
  await page.goto(dash({ p: 'retention', r: '7d', tz: 'Asia/Kolkata' }));
  await page.waitForSelector('#tz-banner-message', { timeout: 10000 }).catch(() => {});
  const banner = await page.$eval('#tz-banner-message', (e) => e.textContent).catch(() => '(no banner)');
  t.check(/Asia\/Kolkata: 400 unknown_time_zone: unknown time zone 'Asia\/Kolkata'/.test(banner), 'a page query refused for the zone: the server\'s message in a banner', banner);
  t.check(/unknown_time_zone/.test(await page.textContent('#retention-grid')), '... and in the panel whose query failed');
  t.eq(await page.locator('#tz').count(), 1, '... with the picker still there');
  await page.unroute('**/v1/query');

  t.eq(problems, [], 'no page error');
});
