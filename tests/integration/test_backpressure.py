#!/usr/bin/env python3
"""End-to-end: ingest back-pressure when the columnar store falls behind the log.

`--ingest-max-lag N` makes the server answer ingest with 503 `store_behind` + `Retry-After: 1`
while the store has more than N durable log records left to read (so what it accepts stays
queryable within about a second). With N = 1, concurrent senders of 200-event batches are
bound to find the store behind (a batch is durable in the log before the store has read it).
Checked: such answers are 503 with the JSON code `store_behind` and Retry-After; nothing of a
refused batch is stored; every acknowledged event is queryable exactly once; the refused
batches, sent again once the store has caught up, are stored exactly once; /metrics counts
the refusals. Every loop is bounded in time and count.
"""

import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402

SENDERS = 4
BATCH = 200
MAX_REQUESTS = 150  # per sender
MAX_SECONDS = 20.0


def query(srv, key, sql):
    r = fflib.request(srv.port, "POST", "/v1/query?format=json", sql.encode(),
                      {"Authorization": "Bearer " + key}, timeout=30)
    return r, (r.json if r.status == 200 else None)


def count_ids(srv, key, ids):
    """(rows, distinct ids) stored among ids."""
    total = distinct = 0
    for k in range(0, len(ids), 500):
        inl = ", ".join("'%s'" % i for i in ids[k:k + 500])
        r, j = query(srv, key, "SELECT count() AS n, uniqExact(event_id) AS u FROM events "
                     "WHERE event_id IN (%s)" % inl)
        if j is None:
            raise AssertionError("query failed: %s" % r.short())
        total += int(j["data"][0]["n"])
        distinct += int(j["data"][0]["u"])
    return total, distinct


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write")
    rkey = fflib.create_key(data, "read")
    srv = fflib.Server(data, ["--stream-derived=false", "--ingest-max-lag", "1"],
                       workdir=work).start()

    lock = threading.Lock()
    acked, refused, bad = [], [], []
    deadline = time.monotonic() + MAX_SECONDS
    t0 = fflib.now_ms() - 600 * 1000

    def sender(si):
        for n in range(MAX_REQUESTS):
            if time.monotonic() > deadline:
                return
            with lock:
                if len(refused) >= 3 and len(acked) >= 4 * BATCH:
                    return
            evs = [fflib.track(fflib.uid("bp%d" % si), "Page Viewed", "u-%d" % (j % 7),
                               timestamp=fflib.iso_ms(t0 + n * 1000 + j)) for j in range(BATCH)]
            r = fflib.post_batch(srv.port, evs, wkey)
            ids = [e["messageId"] for e in evs]
            with lock:
                if r.status == 200:
                    acked.extend(ids)
                elif r.status == 503:
                    j = r.json or {}
                    if j.get("code") != "store_behind" or r.header("Retry-After") != "1":
                        bad.append(r.short())
                    refused.append(evs)
                else:
                    bad.append(r.short())

    th = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    c.eq(bad, [], "every refusal is 503 store_behind with Retry-After: 1, nothing else fails")
    c.check(len(refused) > 0, "the store fell behind at least once and ingest was refused",
            "acked %d events, no 503 in %d requests" % (len(acked), SENDERS * MAX_REQUESTS))
    c.check(len(acked) > 0, "ingest was accepted while the store kept up", "no 200 at all")

    m = fflib.metrics(srv.port)[1]
    c.check(m.get("footfall_store_behind_total", 0) >= len(refused),
            "/metrics counts the refusals",
            "footfall_store_behind_total %r < %d" % (m.get("footfall_store_behind_total"),
                                                    len(refused)))

    # every acknowledged event is queryable, once; the store catches up (bounded)
    def caught_up():
        return count_ids(srv, rkey, acked)[0] >= len(acked)
    fflib.wait_until(caught_up, 60, interval=0.2)
    c.eq(count_ids(srv, rkey, acked), (len(acked), len(acked)),
         "every acknowledged event is stored exactly once")
    refused_ids = [e["messageId"] for b in refused for e in b]
    c.eq(count_ids(srv, rkey, refused_ids), (0, 0), "nothing of a refused batch was stored")

    # the clients' retries, now that the store has caught up, are accepted and stored once
    fflib.wait_until(lambda: fflib.metrics(srv.port)[1].get("footfall_store_lag_records", 1) == 0,
                     30, interval=0.1)
    retried = 0
    for b in refused:
        for _ in range(50):  # bounded: the store may fall behind again for a moment
            r = fflib.post_batch(srv.port, b, wkey)
            if r.status == 200:
                retried += 1
                break
            time.sleep(0.05)
    c.eq(retried, len(refused), "every refused batch is accepted when sent again")
    fflib.wait_until(lambda: count_ids(srv, rkey, refused_ids)[0] >= len(refused_ids), 60,
                     interval=0.2)
    c.eq(count_ids(srv, rkey, refused_ids), (len(refused_ids), len(refused_ids)),
         "the retried batches are stored exactly once")
    _, j = query(srv, rkey, "SELECT count() AS n FROM events")
    c.eq(int(j["data"][0]["n"]), len(acked) + len(refused_ids),
         "the store holds exactly the acknowledged events")
    print(json.dumps({"acked": len(acked), "refused_batches": len(refused)}))


if __name__ == "__main__":
    fflib.main("test_backpressure", run)
