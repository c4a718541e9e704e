#!/usr/bin/env python3
"""End-to-end: `footfall import` loads files through the collector into the log and the store.

- ndjson with known rows: exact answers from `footfall query` right after the command
  (counts, exact decimals, historical timestamps kept as given, derived ids stable);
- segment format (single messages and {"batch": [...]} lines);
- a bad line is reported as FILE:LINE with a reason code, the rest is imported, exit 1;
- importing the same file twice changes nothing (duplicates counted, exit 0);
- usage errors exit 2; a data folder held by a running server is refused (exit 3) with a
  message that says what to do;
- the shared data sets (skipped with SKIPPED when ../shared/data is absent): the Taobao slice
  (count = lines, per-behaviour counts = a Python count of the CSV, users, time span) and the
  Apache access log (bots dropped unless --keep-bots, IPs anonymised, times from the log).
"""

import calendar
import collections
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402


def q(c, data, sql):
    p = fflib.run_cli(["query", "--data", data, "--format", "json", sql], timeout=120)
    if not c.check(p.returncode == 0, "query ok: %s" % sql, p.stderr.decode()[-300:]):
        return []
    return json.loads(p.stdout)["data"]


def imp(data, path, *args, timeout=300):
    p = fflib.run_cli(["import", "--data", data, path] + list(args), timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def summary(out):
    """The numbers of the summary line."""
    m = re.search(r"read (\d+) lines, (\d+) events: imported (\d+), rejected (\d+), "
                  r"duplicates (\d+), dropped (\d+) in [0-9.]+ s \((\d+) events/s\)", out)
    if not m:
        return None
    k = ["read", "events", "imported", "rejected", "duplicates", "dropped", "rate"]
    return dict(zip(k, map(int, m.groups())))


NDJSON_ROWS = [
    {"event_id": "n-1", "ts": "2021-03-01T10:00:00Z", "event": "product_viewed", "user_id": "u1",
     "product_id": "p1", "category": "shoes", "price": "19.99", "currency": "EUR"},
    {"event_id": "n-2", "ts": 1614592860000, "event": "product_added", "user_id": "u1",
     "product_id": "p1", "price": 19.99, "quantity": 2, "currency": "EUR"},
    {"event_id": "n-3", "ts": "2021-03-01T10:05:00.250Z", "event": "order_completed",
     "user_id": "u1", "order_id": "o1", "revenue": "39.98", "currency": "EUR",
     "properties": {"coupon": "SPRING"}},
    {"ts": "1999-12-31T23:59:59Z", "event": "search", "anonymous_id": "a9",
     "search_term": "red shoes"},
    {"ts": "2024-02-29T12:00:00Z", "type": "page", "anonymous_id": "a9",
     "url": "https://shop.example/p/1", "referrer": "https://www.google.com/"},
    {"ts": "2021-03-02T08:00:00Z", "event": "order_completed", "user_id": "u2", "order_id": "o2",
     "revenue": "0.10", "currency": "EUR"},
]


def write_lines(path, lines):
    with open(path, "w") as f:
        for l in lines:
            f.write((l if isinstance(l, str) else json.dumps(l)) + "\n")


def part_ndjson(c, work):
    data = os.path.join(work, "nd")
    path = os.path.join(work, "known.ndjson")
    write_lines(path, NDJSON_ROWS)
    rc, out, err = imp(data, path)
    c.eq(rc, 0, "ndjson import exits 0 (%s)" % err[-300:])
    s = summary(out)
    c.eq(s and (s["read"], s["imported"], s["rejected"], s["duplicates"]), (6, 6, 0, 0),
         "summary: 6 read, 6 imported")
    c.eq(err, "", "no stderr output when all is well and stderr is not a terminal")
    rows = q(c, data, "SELECT count() AS n, sum(revenue) AS r, uniqExact(event_id) AS ids "
                      "FROM events")
    c.eq(rows and (rows[0]["n"], rows[0]["ids"]), ("6", "6"), "6 rows, 6 distinct ids")
    c.check(rows and str(rows[0]["r"]) in ("40.08", "40.0800"), "sum(revenue) is exact 40.08",
            rows)
    rows = q(c, data, "SELECT event_id, toString(ts) AS t, event, price, quantity FROM events "
                      "WHERE user_id = 'u1' ORDER BY ts")
    c.eq([(r["event_id"], r["t"], r["event"]) for r in rows],
         [("n-1", "2021-03-01 10:00:00.000", "product_viewed"),
          ("n-2", "2021-03-01 10:01:00.000", "product_added"),
          ("n-3", "2021-03-01 10:05:00.250", "order_completed")],
         "ids, event names and historical ts (RFC 3339 and epoch ms) kept as given")
    c.eq([(str(r["price"]) if r["price"] is not None else None) for r in rows][:2],
         ["19.99", "19.99"], "price exact from text and from a JSON number")
    c.eq(rows and rows[1]["quantity"], "2" if isinstance(rows[1]["quantity"], str) else 2,
         "quantity")
    rows = q(c, data, "SELECT toString(ts) AS t, search_term, event_original FROM events "
                      "WHERE anonymous_id = 'a9' AND event = 'products_searched'")
    c.eq([(r["t"], r["search_term"], r["event_original"]) for r in rows],
         [("1999-12-31 23:59:59.000", "red shoes", "search")],
         "a 1999 timestamp is kept (backfill: no past clamping); names go through the "
         "vocabulary as over HTTP (search -> products_searched)")
    rows = q(c, data, "SELECT type, event, url, referrer FROM events WHERE type = 'page'")
    c.eq([(r["type"], r["event"], r["url"], r["referrer"]) for r in rows],
         [("page", "page_viewed", "https://shop.example/p/1", "https://www.google.com/")],
         "page row with url and referrer")
    ids = q(c, data, "SELECT event_id FROM events WHERE anonymous_id = 'a9' ORDER BY event_id")
    rc, out, err = imp(data, path)
    s = summary(out)
    c.eq(rc, 0, "re-import exits 0")
    c.eq(s and (s["imported"], s["duplicates"]), (0, 6), "re-import: 0 imported, 6 duplicates")
    rows = q(c, data, "SELECT count() AS n FROM events")
    c.eq(rows and rows[0]["n"], "6", "count unchanged after importing the same file twice")
    c.eq(q(c, data, "SELECT event_id FROM events WHERE anonymous_id = 'a9' ORDER BY event_id"), ids,
         "derived ids are the same on re-import")

    # a bad line among good ones
    bad = os.path.join(work, "bad.ndjson")
    write_lines(bad, [
        {"event_id": "b-1", "ts": "2022-01-01T00:00:00Z", "event": "x", "user_id": "u"},
        {"event_id": "b-2", "ts": "2022-01-01T00:00:01Z", "event": "x", "user_id": "u"},
        '{"event_id": "b-3", "ts": ',
        {"event_id": "b-4", "ts": "2022-01-01T00:00:03Z", "event": "x"},
        {"event_id": "b-5", "ts": "2022-01-01T00:00:04Z", "event": "x", "user_id": "u",
         "colour": "red"},
        {"event_id": "b-6", "ts": "2022-01-01T00:00:05Z", "event": "x", "user_id": "u"},
    ])
    data2 = os.path.join(work, "bad")
    rc, out, err = imp(data2, bad)
    c.eq(rc, 1, "a rejected line makes the exit code 1")
    c.check(("%s:3: rejected: invalid_json" % bad) in err, "line 3 reported with invalid_json",
            err)
    c.check(("%s:4: rejected: missing_identity" % bad) in err,
            "line 4 reported with the collector's reason code", err)
    c.check(("%s:5: rejected: invalid_event" % bad) in err and "colour" in err,
            "line 5: unknown column named", err)
    c.check(err.find("%s:3:" % bad) < err.find("%s:4:" % bad) < err.find("%s:5:" % bad),
            "rejections printed in line order (converter's and collector's merged)", err)
    s = summary(out)
    c.eq(s and (s["read"], s["imported"], s["rejected"]), (6, 3, 3), "summary counts the rejects")
    rows = q(c, data2, "SELECT event_id FROM events ORDER BY event_id")
    c.eq([r["event_id"] for r in rows], ["b-1", "b-2", "b-6"], "the other lines are imported")


def part_segment(c, work):
    data = os.path.join(work, "seg")
    path = os.path.join(work, "msgs.jsonl")
    write_lines(path, [
        {"type": "track", "event": "Order Completed", "userId": "s1", "messageId": "s-1",
         "timestamp": "2019-02-03T04:05:06Z", "sentAt": "2026-01-01T00:00:00Z",
         "properties": {"order_id": "o9", "revenue": "10.5", "currency": "USD"}},
        {"batch": [
            {"type": "page", "anonymousId": "s2", "timestamp": "2018-01-01T00:00:00Z",
             "properties": {"url": "/a"}},
            {"type": "track", "event": "Product Viewed", "userId": "s3",
             "timestamp": "2018-01-01T00:00:01Z", "properties": {"product_id": "p"}},
        ]},
    ])
    rc, out, err = imp(data, path, "--format", "segment")
    c.eq(rc, 0, "segment import exits 0 (%s)" % err[-300:])
    rows = q(c, data, "SELECT event, toString(ts) AS t, revenue FROM events ORDER BY ts")
    c.eq([(r["event"], r["t"]) for r in rows],
         [("page_viewed", "2018-01-01 00:00:00.000"), ("product_viewed", "2018-01-01 00:00:01.000"),
          ("order_completed", "2019-02-03 04:05:06.000")],
         "segment messages stored; sentAt far from now does not shift a backfill")
    rc, out, err = imp(data, path, "--format", "segment")
    s = summary(out)
    c.eq(s and (s["imported"], s["duplicates"]), (0, 3), "segment re-import: all duplicates")


def part_usage_and_lock(c, work):
    data = os.path.join(work, "u")
    f = os.path.join(work, "one.ndjson")
    write_lines(f, [NDJSON_ROWS[0]])
    for args, what in [(["--format", "csv"], "csv without --map"),
                       (["--map", "nosuch"], "unknown map"),
                       (["--map", "taobao", "--format", "ndjson"], "map and format disagree")]:
        rc, out, err = imp(data, f, *args)
        c.eq(rc, 2, "usage error exits 2: %s" % what)
        c.check(err.startswith("footfall import:"), "usage error explained: %s" % what, err)
    rc, out, err = imp(data, os.path.join(work, "missing.ndjson"))
    c.eq(rc, 2, "missing file exits 2")
    rc, out, err = imp(data, f)
    c.eq(rc, 0, "import into a fresh folder")
    srv = fflib.Server(data, workdir=work).start()
    rc, out, err = imp(data, f)
    c.eq(rc, 3, "import next to a running server exits 3")
    c.check("in use by a running footfall server" in err and "HTTP" in err,
            "message says to stop the server or send over HTTP", err)
    c.eq(srv.stop(), 0, "server stops cleanly")


def part_taobao(c, work):
    path = os.path.join(fflib.SHARED_DIR, "data", "taobao-userbehavior-slice",
                        "UserBehavior_slice.csv")
    if not os.path.exists(path):
        print("SKIPPED: %s absent (Taobao import)" % path)
        c.skip("taobao import", "shared data absent")
        return
    counts = collections.Counter()
    users = set()
    lo = hi = None
    n = 0
    with open(path) as fh:
        for line in fh:
            u, item, cat, b, ts = line.rstrip("\n").split(",")
            counts[b] += 1
            users.add(u)
            t = int(ts)
            lo = t if lo is None else min(lo, t)
            hi = t if hi is None else max(hi, t)
            n += 1
    data = os.path.join(work, "tb")
    rc, out, err = imp(data, path, "--map", "taobao")
    c.eq(rc, 0, "taobao import exits 0 (%s)" % err[-300:])
    s = summary(out)
    c.eq(s and (s["read"], s["imported"]), (n, n), "taobao: every line read and imported")
    rows = q(c, data, "SELECT count() AS n, uniqExact(user_id) AS u, toUnixTimestamp(min(ts)) AS lo, "
                      "toUnixTimestamp(max(ts)) AS hi FROM events")
    r = rows[0] if rows else {}
    c.eq((str(r.get("n")), str(r.get("u")), str(r.get("lo")), str(r.get("hi"))),
         (str(n), str(len(users)), str(lo), str(hi)),
         "count() = line count, users and time span as in the CSV")
    rows = q(c, data, "SELECT event_original AS b, event, count() AS n FROM events "
                      "GROUP BY event_original, event")
    got = {r["b"]: (r["event"], int(r["n"])) for r in rows}
    want = {"pv": ("product_viewed", counts["pv"]), "cart": ("product_added", counts["cart"]),
            "fav": ("product_added_to_wishlist", counts["fav"]),
            "buy": ("order_completed", counts["buy"])}
    c.eq(got, want, "per-behaviour counts match a Python count of the CSV")
    if s:
        print("taobao import: %d events at %d events/s" % (s["events"], s["rate"]))
    rc, out, err = imp(data, path, "--map", "taobao")
    s = summary(out)
    c.eq((rc, s and s["imported"], s and s["duplicates"]), (0, 0, n),
         "taobao re-import: nothing new, all duplicates")
    rows = q(c, data, "SELECT count() AS n FROM events")
    c.eq(rows and rows[0]["n"], str(n), "count unchanged after the second import")


MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"], 1)}


def part_apache(c, work):
    path = os.path.join(fflib.SHARED_DIR, "data", "apache-access-log", "access.log")
    if not os.path.exists(path):
        print("SKIPPED: %s absent (Apache import)" % path)
        c.skip("apache import", "shared data absent")
        return
    times = []
    n = 0
    with open(path, encoding="latin-1") as fh:
        for line in fh:
            n += 1
            m = re.search(r"\[(\d\d)/(\w\w\w)/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\]", line)
            d, mon, y, hh, mi, ss, sg, oh, om = m.groups()
            t = calendar.timegm((int(y), MONTHS[mon], int(d), int(hh), int(mi), int(ss)))
            off = (int(oh) * 60 + int(om)) * 60
            times.append(t - off if sg == "+" else t + off)
    data = os.path.join(work, "ap")
    rc, out, err = imp(data, path, "--map", "apache")
    c.eq(rc, 0, "apache import exits 0 (%s)" % err[-300:])
    s = summary(out)
    rows = q(c, data, "SELECT count() AS n FROM events")
    kept = int(rows[0]["n"]) if rows else -1
    c.check(s and s["read"] == n and s["imported"] == kept and s["dropped"] == n - kept and
            0 < kept < n, "apache: every line read; bots dropped and counted", (s, kept))
    rows = q(c, data, "SELECT count() AS n FROM events WHERE ip = '83.149.9.216'")
    c.eq(rows and rows[0]["n"], "0", "no raw client IP stored")
    rows = q(c, data, "SELECT count() AS n FROM events WHERE ip = '83.149.9.0' AND type = 'page' "
                      "AND event = 'page_viewed' AND url != ''")
    c.check(rows and int(rows[0]["n"]) > 0, "IPs truncated to /24; page events with url", rows)
    data2 = os.path.join(work, "ap2")
    rc, out, err = imp(data2, path, "--map", "apache", "--keep-bots")
    c.eq(rc, 0, "apache --keep-bots exits 0")
    rows = q(c, data2, "SELECT count() AS n, toUnixTimestamp(min(ts)) AS lo, "
                       "toUnixTimestamp(max(ts)) AS hi FROM events")
    r = rows[0] if rows else {}
    c.eq((str(r.get("n")), str(r.get("lo")), str(r.get("hi"))),
         (str(n), str(min(times)), str(max(times))),
         "--keep-bots: every line stored, times from the log (offset applied)")
    csv = os.path.join(fflib.SHARED_DIR, "data", "apache-access-log", "access_log.csv")
    if os.path.exists(csv):
        rc, out, err = imp(os.path.join(work, "ap3"), csv, "--map", "apache")
        c.check(rc == 2 and "access.log" in err, "the derived CSV is refused with a hint", err)


def run(c):
    work = fflib.tmpdir("ff-import-")
    part_ndjson(c, work)
    part_segment(c, work)
    part_usage_and_lock(c, work)
    part_taobao(c, work)
    part_apache(c, work)


if __name__ == "__main__":
    fflib.main("test_import", run)
