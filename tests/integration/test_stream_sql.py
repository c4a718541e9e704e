#!/usr/bin/env python3
"""End-to-end: the live numbers agree with SQL over the stored events.

Known shop traffic (plus a few events far behind the watermark, which the live view counts as
too late but the store keeps) is posted; once the processor has settled, every minute
window of /v1/live/snapshot must equal the same minute in SQL over `events` (non-derived):
event counts, counts by event name, orders and revenue by currency, payment outcomes; the
totals must equal SQL over everything; and the derived events (session_ended,
cart_abandoned, checkout_abandoned) must be stored once each, flagged, and match the live
totals.
"""

import decimal
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402
import fflive  # noqa: E402

NOT_DERIVED = "position(properties, '\"$flags\":[\"derived\"') = 0"
DERIVED = "position(properties, '\"$flags\":[\"derived\"') > 0"


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write")
    rkey = fflib.create_key(data, "read")
    srv = fflib.Server(data, workdir=work,
                       args=["--session-gap-min", "2", "--abandon-min", "1"]).start()

    t0 = fflib.now_ms() - 30 * 60000
    evs = fflive.journeys(t0, n_users=80, prefix="sql")
    late = [fflib.track("sql-late-%d" % i, "Product Viewed", "late-user",
                        {"product_id": "sku-late"}, timestamp=fflib.iso_ms(t0 - 20 * 60000 + i))
            for i in range(3)]
    for b in fflive.batches(evs) + [late]:
        r = fflib.post_batch(srv.port, b, wkey)
        c.check(r.status == 200 and r.json.get("accepted") == len(b), "batch accepted", r.short())
    n = len(evs) + len(late)
    snap = fflive.settle(srv.port, rkey, min_events=n)
    tot = snap["totals"]
    c.eq(tot["events"], n, "live totals.events = events sent")
    c.eq(tot["too_late"], 3, "the three old events are too late for the live windows")
    c.eq(tot["duplicates"], 0, "no duplicates")
    series, _ = fflib.metrics(srv.port)
    c.eq(series.get(("footfall_stream_too_late_events_total", '{type="track"}')), 3.0,
         "/metrics counts the too-late events by type")
    c.eq(series.get(("footfall_stream_lag_records", "")), 0.0, "/metrics: no stream lag")
    # The store seals every second: wait until SQL sees everything.
    fflib.wait_until(lambda: int(fflive.query(srv.port, rkey,
                                              "SELECT count() AS n FROM events WHERE " + NOT_DERIVED)[0]["n"]) == n,
                     20, what="the store has every event")

    rows = fflive.query(srv.port, rkey,
                        "SELECT intDiv(toUnixTimestamp64Milli(ts), 60000) * 60000 AS m, count() AS n "
                        "FROM events WHERE " + NOT_DERIVED + " GROUP BY m ORDER BY m")
    sql_min = {int(r["m"]): int(r["n"]) for r in rows}
    live_min = {w["t"]: w["events"] for w in snap["minutes"] if w["events"]}
    late_min = (t0 - 20 * 60000) // 60000 * 60000
    c.eq(sql_min.pop(late_min, None), 3, "SQL has the too-late events in their minute")
    c.eq(live_min, sql_min, "events per minute: live = SQL")

    rows = fflive.query(srv.port, rkey,
                        "SELECT intDiv(toUnixTimestamp64Milli(ts), 60000) * 60000 AS m, event, count() AS n "
                        "FROM events WHERE " + NOT_DERIVED + " AND ts >= fromUnixTimestamp64Milli(%d) "
                        "GROUP BY m, event ORDER BY m, event" % t0)
    sql_by = {}
    for r in rows:
        sql_by.setdefault(int(r["m"]), {})[r["event"]] = int(r["n"])
    live_by = {w["t"]: w["by_event"] for w in snap["minutes"] if w["events"]}
    c.eq(live_by, sql_by, "events per minute and name: live = SQL")

    rows = fflive.query(srv.port, rkey,
                        "SELECT currency, count() AS n, sum(revenue) AS rev FROM events "
                        "WHERE event = 'order_completed' GROUP BY currency ORDER BY currency")
    sql_rev = {r["currency"]: decimal.Decimal(str(r["rev"])) for r in rows}
    live_rev = {k: decimal.Decimal(v) for k, v in tot["revenue"].items()}
    c.eq(live_rev, sql_rev, "revenue by currency: live totals = SQL")
    c.eq(tot["orders"], sum(int(r["n"]) for r in rows), "orders: live = SQL")
    summary_rev = {k: decimal.Decimal(v) for k, v in snap["summary"]["revenue"].items()}
    rows = fflive.query(srv.port, rkey,
                        "SELECT currency, sum(revenue) AS rev FROM events WHERE event = 'order_completed' "
                        "AND ts >= fromUnixTimestamp64Milli(%d) GROUP BY currency"
                        % (snap["summary"]["t"]))
    c.eq(summary_rev, {r["currency"]: decimal.Decimal(str(r["rev"])) for r in rows},
         "revenue in the 30-minute summary = SQL over the same minutes")

    pay = snap["summary"]["payments"]
    rows = fflive.query(srv.port, rkey,
                        "SELECT event, JSONExtractString(properties, 'payment_method') AS pm, count() AS n "
                        "FROM events WHERE event IN ('order_completed', 'payment_failed') "
                        "AND ts >= fromUnixTimestamp64Milli(%d) GROUP BY event, pm ORDER BY event, pm"
                        % snap["summary"]["t"])
    sql_pay = {}
    for r in rows:
        k = "succeeded" if r["event"] == "order_completed" else "failed"
        sql_pay.setdefault(r["pm"], {"succeeded": 0, "failed": 0})[k] = int(r["n"])
    c.eq(pay["by_method"], sql_pay, "payments by method: live summary = SQL")
    att = pay["succeeded"] + pay["failed"]
    c.check(att > 0 and abs(float(pay["failure_rate"]) - pay["failed"] / att) < 1e-6, "failure rate = failed / attempts",
            pay)

    # Derived events: stored once each, flagged, and counted live.
    fflib.wait_until(lambda: int(fflive.query(srv.port, rkey,
                                              "SELECT count() AS n FROM events WHERE " + DERIVED)[0]["n"])
                     == tot["derived"], 20, what="the store has every derived event")
    rows = fflive.query(srv.port, rkey,
                        "SELECT event, count() AS n, uniqExact(event_id) AS ids FROM events WHERE "
                        + DERIVED + " GROUP BY event ORDER BY event")
    d = {r["event"]: (int(r["n"]), int(r["ids"])) for r in rows}
    c.check(d.get("session_ended", (0, 0))[0] > 0, "session_ended events are stored", d)
    c.eq(d.get("session_ended", (0, 0)), (tot["sessions_ended"],) * 2, "session_ended: stored = live, once each")
    c.eq(d.get("cart_abandoned", (0, 0)), (tot["cart_abandoned"],) * 2, "cart_abandoned: stored = live")
    c.eq(d.get("checkout_abandoned", (0, 0)), (tot["checkout_abandoned"],) * 2,
         "checkout_abandoned: stored = live")
    c.check(tot["cart_abandoned"] > 0, "some carts were abandoned", tot)
    rows = fflive.query(srv.port, rkey,
                        "SELECT count() AS n, sum(JSONExtractInt(properties, 'pages')) AS pages FROM events "
                        "WHERE event = 'session_ended' AND " + DERIVED)
    c.check(int(rows[0]["pages"]) > 0, "session_ended carries page counts", rows)
    c.eq(srv.stop(), 0, "clean stop")


if __name__ == "__main__":
    fflib.main("test_stream_sql", run)
