#!/usr/bin/env python3
"""End-to-end: events sent over HTTP become queryable through the store and SQL.

A server takes batches of known events; the store consumes the log and seals parts; then
`POST /v1/query` (read key) and `footfall query` (read-only, next to the live server) must
answer exactly what was sent: counts, groups, sums of exact decimals, a funnel. Also: keys
(write key refused, no key refused), positioned SQL errors, CSV output, no duplicates after
a restart and after a client's retry, and `footfall store verify`.
"""

import json
import re
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402

N_USERS = 40


def events_for(user, t0):
    """A small purchase journey per user; every third user does not check out."""
    evs = []
    t = t0
    def ev(name, **props):
        nonlocal t
        t += 1000
        return fflib.track(fflib.uid("q"), name, user, props, timestamp=fflib.iso_ms(t))
    evs.append(ev("Product Viewed", product_id="p1", price="10.25", currency="USD"))
    evs.append(ev("Product Added", product_id="p1", price="10.25", quantity=2, currency="USD"))
    if int(user.split("-")[1]) % 3 != 0:
        evs.append(ev("Checkout Started", currency="USD"))
        evs.append(ev("Order Completed", order_id="o-" + user, revenue="20.50", currency="USD"))
    return evs


def query(srv, key, sql, fmt="json"):
    h = {"Authorization": "Bearer " + key} if key else {}
    return fflib.request(srv.port, "POST", "/v1/query?format=" + fmt, sql.encode(), h, timeout=30)


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write")
    rkey = fflib.create_key(data, "read")
    srv = fflib.Server(data, ["--stream-derived=false"], workdir=work).start()  # counts only sent events

    t0 = fflib.now_ms() - 3600 * 1000
    sent = []
    for i in range(N_USERS):
        sent += events_for("u-%d" % i, t0 + i * 60000)
    for k in range(0, len(sent), 50):
        r = fflib.post_batch(srv.port, sent[k:k + 50], wkey)
        c.check(r.status == 200 and r.json.get("accepted") == len(sent[k:k + 50]),
                "batch %d acknowledged" % (k // 50), r.short())
    acked_at = time.monotonic()

    # Visible to queries shortly after the 200 (the store seals about once a second).
    seen = fflib.wait_until(lambda: (query(srv, rkey, "SELECT count() AS n FROM events").json or {})
                            .get("data", [{}])[0].get("n") == str(len(sent)), 15,
                            interval=0.05, what="all events queryable")
    c.check(seen, "all %d acknowledged events queryable (after %.2fs)"
            % (len(sent), time.monotonic() - acked_at))

    r = query(srv, rkey, "SELECT event, count() AS n FROM events GROUP BY event ORDER BY event")
    c.eq(r.status, 200, "group by: 200")
    got = {row["event"]: int(row["n"]) for row in (r.json or {}).get("data", [])}
    buyers = sum(1 for i in range(N_USERS) if i % 3 != 0)
    c.eq(got, {"product_viewed": N_USERS, "product_added": N_USERS, "checkout_started": buyers,
               "order_completed": buyers}, "counts by canonical event name")
    meta = [m["name"] for m in (r.json or {}).get("meta", [])]
    c.eq(meta, ["event", "n"], "JSON meta names the columns")
    c.check("statistics" in (r.json or {}) and "rows_read" in r.json["statistics"],
            "JSON carries statistics with rows_read")

    r = query(srv, rkey, "SELECT sum(revenue) AS rev, sum(quantity) AS q, uniqExact(user_id) AS u "
                         "FROM events WHERE event = 'order_completed' OR event = 'product_added'")
    row = (r.json or {}).get("data", [{}])[0]
    import decimal
    c.eq(decimal.Decimal(str(row.get("rev"))), decimal.Decimal("20.50") * buyers,
         "revenue summed exactly (Decimal)")
    c.eq(str(row.get("q")), str(2 * N_USERS), "quantities summed")
    c.eq(str(row.get("u")), str(N_USERS), "uniqExact users")

    funnel = ("SELECT level, count() AS users FROM (SELECT user_id, windowFunnel(3600000)(ts, "
              "event = 'product_viewed', event = 'product_added', event = 'order_completed') AS level "
              "FROM events GROUP BY user_id) GROUP BY level ORDER BY level")
    r = query(srv, rkey, funnel)
    levels = {int(x["level"]): int(x["users"]) for x in (r.json or {}).get("data", [])}
    c.eq(levels, {2: N_USERS - buyers, 3: buyers}, "windowFunnel levels per user")

    r = query(srv, rkey, "SELECT event, count() FROM events GROUP BY event ORDER BY event", fmt="csv")
    c.eq(r.status, 200, "csv: 200")
    c.check((r.header("content-type") or "").startswith("text/csv"), "csv content type")
    c.check(r.body.decode().splitlines()[0] == '"event","count()"', "csv header line",
            r.body[:80])

    # Keys: a write key may not query; no key is refused; errors name the position.
    r = query(srv, wkey, "SELECT 1")
    c.eq(r.status, 403, "write key on /v1/query: 403")
    r = query(srv, None, "SELECT 1")
    c.eq(r.status, 401, "no key on /v1/query: 401")
    r = query(srv, rkey, "SELECT cuont() FROM events")
    c.eq(r.status, 400, "unknown function: 400")
    j = r.json or {}
    c.check(j.get("line") == 1 and j.get("column") == 8 and "count" in j.get("message", ""),
            "error names line 1, column 8 and suggests count", j)
    r = query(srv, rkey, "SELECT nosuchcolumn FROM events")
    c.eq(r.status, 400, "unknown column: 400")

    # footfall query next to the live server (read-only open of the store).
    p = fflib.run_cli(["query", "--data", data, "--format", "json",
                       "SELECT count() AS n FROM events"], timeout=60)
    c.eq(p.returncode, 0, "footfall query exits 0 (%s)" % p.stderr.decode()[-300:])
    try:
        n_cli = json.loads(p.stdout)["data"][0]["n"]
    except Exception:
        n_cli = None
    c.eq(n_cli, str(len(sent)), "footfall query count equals what was sent")
    p = fflib.run_cli(["query", "--data", data, "SELECT count() FROM events"], timeout=60)
    c.check(p.returncode == 0 and str(len(sent)).encode() in p.stdout, "table format prints the count",
            p.stdout[:200])

    # A client retry of an acknowledged batch is not stored twice; a restart adds nothing.
    r = fflib.post_batch(srv.port, sent[:50], wkey)
    c.check(r.status == 200, "retry acknowledged", r.short())
    c.eq(srv.stop(), 0, "clean stop")
    srv = fflib.Server(data, ["--stream-derived=false"], workdir=work).start()  # counts only sent events
    time.sleep(1.5)
    r = query(srv, rkey, "SELECT count() AS n, uniqExact(event_id) AS ids FROM events")
    row = (r.json or {}).get("data", [{}])[0]
    c.eq((row.get("n"), row.get("ids")), (str(len(sent)), str(len(sent))),
         "after a retry and a restart: each event exactly once")
    # `store rewrite` is refused while a server holds the folder; stopped, it finds every part
    # already in this release's format (the upgrade itself: tests/unit/store, test_store_store)
    p = fflib.run_cli(["store", "rewrite", "--data", data], timeout=120)
    c.check(p.returncode == 1 and b"stop the server" in p.stderr,
            "store rewrite refused next to a live server", (p.stdout + p.stderr)[-300:])
    c.eq(srv.stop(), 0, "clean stop again")
    p = fflib.run_cli(["store", "rewrite", "--data", data], timeout=120)
    c.check(p.returncode == 0 and re.match(rb"ok: 0 of [1-9][0-9]* parts rewritten", p.stdout),
            "store rewrite: nothing to do on a store of this release", (p.stdout + p.stderr)[-300:])

    p = fflib.run_cli(["store", "verify", "--data", data], timeout=120)
    c.eq(p.returncode, 0, "store verify passes (%s)" % (p.stdout + p.stderr).decode()[-300:])


if __name__ == "__main__":
    fflib.main("test_query", run)
