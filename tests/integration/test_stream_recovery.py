#!/usr/bin/env python3
"""End-to-end: the live state survives restarts and kill -9 without losing or double counting.

The same fixed batches (fixed message ids and event times) go to two servers. Server A runs
uninterrupted. Server B is killed with SIGKILL twice and stopped cleanly once while the
batches arrive (checkpoints every 300 ms, so kills land between checkpoints with processed
but uncheckpointed records and derived events already appended), and a batch is retried
after each kill. Once both have settled, /v1/live/snapshot of B must equal that of A in
everything but sequence numbers, wall-clock time and log offsets; in SQL each derived event
must be stored exactly once.
"""

import os
import random
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402
import fflive  # noqa: E402

ARGS = ["--session-gap-min", "2", "--abandon-min", "1", "--stream-checkpoint-ms", "300"]


def start(data, work):
    return fflib.Server(data, workdir=work, args=ARGS).start()


def post_all(c, srv, bs, wkey, what):
    for b in bs:
        r = fflib.post_batch(srv.port, b, wkey)
        c.check(r.status == 200, "%s: batch accepted" % what, r.short())


def diff(a, b, path=""):
    """First differing path between two JSON values (for a readable failure)."""
    if type(a) is not type(b):
        return "%s: %r vs %r" % (path, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s missing on one side" % (path, k)
            d = diff(a[k], b[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: length %d vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r vs %r" % (path, a, b)


def run(c):
    work = fflib.tmpdir()
    t0 = fflib.now_ms() - 40 * 60000
    evs = fflive.journeys(t0, n_users=150, seed=11, prefix="rec")
    # a second wave 20 minutes later: the first wave's sessions end (derived events) mid-run
    evs += fflive.journeys(t0 + 20 * 60000, n_users=150, seed=12, prefix="rec2")
    bs = fflive.batches(evs, size=20)
    n = len(evs)

    # A: uninterrupted
    data_a = os.path.join(work, "a")
    wa, ra = fflib.create_key(data_a, "write"), fflib.create_key(data_a, "read")
    srv = start(data_a, work)
    post_all(c, srv, bs, wa, "A")
    snap_a = fflive.settle(srv.port, ra, min_events=n)
    c.eq(snap_a["totals"]["events"], n, "A saw every event")
    c.check(snap_a["totals"]["sessions_ended"] > 0 and snap_a["totals"]["derived"] > 0,
            "A ended sessions and read its derived events back", snap_a["totals"])
    c.eq(srv.stop(), 0, "A stops cleanly")

    # B: kill -9, clean restart, kill -9, while the same batches arrive
    data_b = os.path.join(work, "b")
    wb, rb = fflib.create_key(data_b, "write"), fflib.create_key(data_b, "read")
    rnd = random.Random(5)
    cuts = sorted(rnd.sample(range(5, len(bs) - 5), 3))
    srv = start(data_b, work)
    pos = 0
    for i, cut in enumerate(cuts):
        post_all(c, srv, bs[pos:cut], wb, "B part %d" % i)
        pos = cut
        time.sleep(rnd.uniform(0.05, 0.6))  # let the processor get some way, maybe checkpoint
        if i == 1:
            c.eq(srv.stop(), 0, "B clean stop %d" % i)
        else:
            srv.kill()
        srv = start(data_b, work)
        # a client retry of the last batch before the interruption: deduplicated
        r = fflib.post_batch(srv.port, bs[cut - 1], wb)
        c.check(r.status == 200, "retry after restart accepted", r.short())
    post_all(c, srv, bs[pos:], wb, "B last part")
    srv.kill()  # right after the last 200: everything is in the log, little is checkpointed
    srv = start(data_b, work)
    snap_b = fflive.settle(srv.port, rb, min_events=n)

    a, b = fflive.comparable(snap_a), fflive.comparable(snap_b)
    d = diff(a, b)
    c.check(d is None, "B's live snapshot after 2 kills and a restart equals A's", d)
    c.eq(snap_b["totals"]["events"], n, "B counted every event once")
    c.eq(snap_b["totals"]["duplicates"], snap_a["totals"]["duplicates"], "same duplicates")
    c.check(os.path.exists(os.path.join(data_b, "stream", "CHECKPOINT")), "the checkpoint file exists")
    # every derived event is stored once even if the replay appended it twice
    fflib.wait_until(lambda: int(fflive.query(srv.port, rb, "SELECT count() AS n FROM events "
                                               "WHERE position(properties, '\"derived\"') > 0")[0]["n"])
                     == snap_b["totals"]["derived"], 20, what="B's store has the derived events")
    rows = fflive.query(srv.port, rb, "SELECT count() AS n, uniqExact(event_id) AS u FROM events "
                                      "WHERE position(properties, '\"derived\"') > 0")
    c.eq(rows[0]["n"], rows[0]["u"], "each derived event stored exactly once")
    c.eq(int(rows[0]["n"]), snap_a["totals"]["derived"], "as many derived events as in A")
    _, m = fflib.metrics(srv.port)
    c.eq(m.get("footfall_stream_events_total"), float(n), "stream metrics exported (after restart: restored)")
    c.eq(srv.stop(), 0, "B stops cleanly")


if __name__ == "__main__":
    fflib.main("test_stream_recovery", run)
