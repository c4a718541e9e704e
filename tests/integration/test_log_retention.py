#!/usr/bin/env python3
"""End-to-end: log retention never deletes an accepted event the store has not sealed.

A server with 1 MB segments, `--retain-mb 1` and a store that seals only once a minute takes
~3 MB of events: every segment roll runs retention, which is over its limit but must keep
every segment, since the store's SEALED is still 0 (`footfall_log_first_offset` stays 0 and
`footfall_log_retention_held_bytes` says why, as does a warn line). Then kill -9: the events
the store had read exist only in the log. A restart (normal seals) must store every one of
them once. More events roll the log again: now that the store has caught up, retention
deletes the old segments (first offset moves past 0) and still nothing is lost.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402
import fflive  # noqa: E402

PAD = "x" * 900  # ~1.2 KB per canonical record: 1 MB segments fill with ~850 events
N1, N2, PER_BATCH = 3000, 1500, 100
RETAIN = ["--segment-mb", "1", "--retain-mb", "1"]


def events(lo, hi):
    return [fflib.track("ret-%06d" % i, "Retention Probe", "u-%d" % (i % 50),
                        {"i": i, "pad": PAD}) for i in range(lo, hi)]


def post(c, srv, wkey, lo, hi):
    evs = events(lo, hi)
    ok = 0
    for k in range(0, len(evs), PER_BATCH):
        b = evs[k:k + PER_BATCH]
        r = fflib.post_batch(srv.port, b, wkey)
        if r.status == 200 and r.json.get("accepted") == len(b):
            ok += len(b)
        else:
            c.check(False, "batch %d accepted" % (lo + k), r.short())
    c.eq(ok, hi - lo, "events %d..%d accepted" % (lo, hi - 1))


def stored(srv, rkey):
    rows = fflive.query(srv.port, rkey, "SELECT count() AS n, uniqExact(event_id) AS u "
                        "FROM events WHERE position(event_id, 'ret-') = 1")
    return int(rows[0]["n"]), int(rows[0]["u"])


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write")
    rkey = fflib.create_key(data, "read")

    # 1. The store lags (no seal for a minute) while the log rolls past its limit.
    srv = fflib.Server(data, workdir=work, args=RETAIN + ["--store-seal-ms", "60000"]).start()
    post(c, srv, wkey, 0, N1)
    series, _ = fflib.metrics(srv.port)
    g = lambda name: series.get((name, ""))  # noqa: E731
    c.check(g("footfall_log_segments") >= 3, "the log rolled into several segments",
            "segments=%r" % g("footfall_log_segments"))
    c.check(g("footfall_log_bytes") > 2 * 1024 * 1024, "the log is over --retain-mb",
            "bytes=%r" % g("footfall_log_bytes"))
    c.eq(g("footfall_log_first_offset"), 0.0, "retention deleted nothing the store had not sealed")
    c.check((g("footfall_log_retention_held_bytes") or 0) > 0,
            "/metrics: footfall_log_retention_held_bytes shows what the store holds back",
            "held=%r" % g("footfall_log_retention_held_bytes"))
    srv.kill()  # the store read the events but sealed none of them
    c.check("retention held back" in open(srv.stderr_path, errors="replace").read(),
            "a warn line says retention is held back by the store")

    # 2. Restart with normal seals: every accepted event is stored, once.
    srv = fflib.Server(data, workdir=work, args=RETAIN).start()
    fflib.wait_until(lambda: stored(srv, rkey)[0] >= N1, 30, interval=0.1)
    c.eq(stored(srv, rkey), (N1, N1), "after kill -9 and restart every event is stored once")

    # 3. The store has caught up: the next rolls delete the old segments.
    post(c, srv, wkey, N1, N1 + N2)
    fflib.wait_until(lambda: stored(srv, rkey)[0] >= N1 + N2, 30, interval=0.1)
    c.eq(stored(srv, rkey), (N1 + N2, N1 + N2), "the second round is stored once too")
    series, _ = fflib.metrics(srv.port)
    first = series.get(("footfall_log_first_offset", ""))
    c.check(first is not None and first > 0,
            "retention deleted old segments once the store had sealed them", "first=%r" % first)
    c.eq(srv.stop(), 0, "clean stop")


if __name__ == "__main__":
    fflib.main("test_log_retention", run)
