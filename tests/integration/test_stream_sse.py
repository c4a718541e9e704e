#!/usr/bin/env python3
"""End-to-end: GET /v1/live (Server-Sent Events) and GET /v1/live/snapshot.

Keys (none: 401, write key: 403, read key as Bearer or ?key=), a `snapshot` event first, then
one `delta` per second with strictly increasing sequence numbers, deltas that carry the
events posted meanwhile, and a reconnect with Last-Event-ID that resynchronises with a fresh
snapshot.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402
import fflive  # noqa: E402


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write")
    rkey = fflib.create_key(data, "read")
    srv = fflib.Server(data, workdir=work).start()

    r = fflib.request(srv.port, "GET", "/v1/live/snapshot")
    c.eq(r.status, 401, "snapshot without a key: 401")
    r = fflib.request(srv.port, "GET", "/v1/live/snapshot", None, {"Authorization": "Bearer " + wkey})
    c.eq(r.status, 403, "snapshot with a write key: 403")
    r = fflib.request(srv.port, "POST", "/v1/live/snapshot", b"", {"Authorization": "Bearer " + rkey})
    c.eq(r.status, 405, "POST to the snapshot: 405")
    r = fflib.request(srv.port, "GET", "/v1/live/snapshot?key=" + rkey)
    c.eq(r.status, 200, "snapshot with ?key=: 200")
    s0 = r.json or {}
    c.eq(s0.get("watermark", "x"), None, "no watermark before the first event")
    c.eq(len(s0.get("seconds", [None])), 0, "no windows before the first event")
    sse = fflive.Sse(srv.port, path="/v1/live")
    c.eq(sse.status, 401, "SSE without a key: 401")
    sse.close()

    sse = fflive.Sse(srv.port, rkey)
    c.eq(sse.status, 200, "SSE with a read key: 200")
    c.check(sse.headers.get("content-type", "").startswith("text/event-stream"), "event-stream type",
            sse.headers)
    eid, kind, snap = sse.next_event()
    c.eq(kind, "snapshot", "the first event is a snapshot")
    c.eq(int(eid), snap["seq"], "its id is its seq")
    for k in ("totals", "active_users", "summary", "top", "config", "seconds", "minutes"):
        c.check(k in snap, "snapshot has %s" % k)

    t0 = fflib.now_ms() - 15 * 60000
    evs = fflive.journeys(t0, n_users=12, prefix="sse")
    for b in fflive.batches(evs):
        r = fflib.post_batch(srv.port, b, wkey)
        c.check(r.status == 200, "batch accepted", r.short())
    last, seqs, got_events, t_start = int(eid), [], 0, time.monotonic()
    deltas = 0
    while time.monotonic() - t_start < 20 and (got_events < len(evs) or deltas < 4):
        eid, kind, d = sse.next_event()
        c.eq(kind, "delta", "later events are deltas")
        seqs.append(d["seq"])
        c.eq(d["seq"], last + 1, "delta seq follows the previous one")
        c.eq(int(eid), d["seq"], "SSE id is the seq")
        last = d["seq"]
        got_events = d["totals"]["events"]
        deltas += 1
        for w in d["minutes"] + d["seconds"]:
            c.check("t" in w and "events" in w, "delta windows are window objects")
    c.eq(got_events, len(evs), "deltas reach every posted event")
    c.check(deltas >= 4, "at least four deltas seen (%d)" % deltas)
    # about one delta per second
    t1 = time.monotonic()
    sse.next_event()
    sse.next_event()
    dt = time.monotonic() - t1
    c.check(1.0 <= dt <= 3.5, "two deltas take about two seconds (%.2fs)" % dt)
    sse.close()

    # Reconnect: always a fresh snapshot first, whatever Last-Event-ID says.
    sse = fflive.Sse(srv.port, rkey, headers={"Last-Event-ID": str(last)})
    eid, kind, snap = sse.next_event()
    c.eq(kind, "snapshot", "a reconnect starts with a snapshot")
    c.check(snap["seq"] >= last, "its seq is not older than the last delta seen")
    c.eq(snap["totals"]["events"], len(evs), "the snapshot holds every event")
    eid, kind, d = sse.next_event()
    c.eq((kind, d["seq"]), ("delta", snap["seq"] + 1), "then the delta after it")
    sse.close()
    # An EventSource-style ?key= connection
    sse = fflive.Sse(srv.port, path="/v1/live?key=" + rkey)
    c.eq(sse.status, 200, "SSE with ?key=: 200")
    sse.close()
    c.eq(srv.stop(), 0, "clean stop while SSE clients existed")


if __name__ == "__main__":
    fflib.main("test_stream_sse", run)
