#!/usr/bin/env python3
"""Crash safety end to end: an acknowledged batch survives kill -9, and a torn
or damaged log tail is cut back to the last good record at the next start.

Part 1 (kill loop): 4 sender threads post batches with unique messageIds
while the main thread SIGKILLs the server at random moments (50-500 ms apart,
>= 20 times) and restarts it on the same data dir (a new port each time).
Every id whose batch got a 200 must be in `log dump` exactly once at the end,
`log verify` must pass, and each batch must be all-or-nothing in the log.
The last kills run with --fsync interval (a process crash must not lose an
acknowledged batch there either: it was written before the 200).

Part 2 (torn tails): with the server stopped, damage the newest segment's last
frame -- (a) truncate at random points inside it, (b) flip a random byte in
it, (c) append garbage after it -- and start `serve`: it must come up, cut
the tail back to the last good frame, keep every earlier acknowledged id,
accept new writes after it, and leave a log that `log verify` passes.

FF_SEED=<n> replays a run's random choices (the seed is printed).
"""

import http.client
import os
import random
import shutil
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402

N_SENDERS = 4
N_KILLS = 24            # of which the last N_KILLS_INTERVAL with --fsync interval
N_KILLS_INTERVAL = 6
PHASE_BUDGET_S = 90     # the kill loop stops early (and fails) past this


class Fleet:
    """Sender threads posting to whatever port the current server has."""

    def __init__(self, key):
        self.key = key
        self.cv = threading.Condition()
        self.port = None
        self.gen = 0
        self.stop = False
        self.lock = threading.Lock()
        self.acked = set()
        self.batches = []        # every attempted batch: list of ids
        self.unexpected = []     # statuses other than 200/429/503 or partial accepts
        self.n_ok = 0
        self.n_err = 0

    def set_port(self, port):
        with self.cv:
            self.port = port
            self.gen += 1
            self.cv.notify_all()

    def sender(self, tid):
        seq = 0
        rnd = random.Random(RNG.random())
        while True:
            with self.cv:
                if self.stop:
                    return
                port, gen = self.port, self.gen
            n = rnd.randint(1, 20)
            ids = ["crash-%d-%d-%d-%s" % (tid, seq, j, RUN) for j in range(n)]
            seq += 1
            evs = [fflib.track(m, "Crash Probe", "u-crash-%d" % tid, {"seq": seq, "j": j})
                   for j, m in enumerate(ids)]
            with self.lock:
                self.batches.append(ids)
            try:
                r = fflib.post_batch(port, evs, self.key, timeout=10)
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.n_err += 1
                # the server is down: wait (bounded) for the next one instead of spinning
                with self.cv:
                    self.cv.wait_for(lambda: self.stop or self.gen != gen, timeout=2.0)
                continue
            j = r.json if isinstance(r.json, dict) else {}
            with self.lock:
                if r.status == 200 and j.get("accepted") == n and not j.get("rejected"):
                    self.acked.update(ids)
                    self.n_ok += 1
                elif r.status in (429, 503):
                    self.n_err += 1
                else:
                    self.unexpected.append((r.status, r.body[:200]))


def start_server(data, work, fsync="batch"):
    # Seal every 100 ms and merge as soon as a day has 3 parts of one level, so the kills
    # also land in the middle of seals and merges of the columnar store.
    args = ["--fsync", fsync, "--store-seal-ms", "100", "--store-merge-fanin", "2"]
    return fflib.Server(data, args, workdir=work).start(timeout=20)


def check_store(c, data, present):
    """The store holds exactly the log's events: each id once, none lost, none invented."""
    p = fflib.run_cli(["store", "verify", "--data", data], timeout=120)
    c.eq(p.returncode, 0, "store verify passes after the kill loop (%s)" % (p.stdout + p.stderr).strip()[:200])
    p = fflib.run_cli(["query", "--data", data, "--format", "csv",
                       "SELECT event_id FROM events"], timeout=120)
    c.eq(p.returncode, 0, "footfall query reads the store after the kill loop")
    out = p.stdout.decode()
    ids = [line.strip().strip('"') for line in out.splitlines()[1:] if line.strip()]
    seen, dups = set(), []
    for m in ids:
        if m in seen:
            dups.append(m)
        seen.add(m)
    c.check(not dups, "no event id is stored twice in the store", "%d, e.g. %s" % (len(dups), dups[:3]))
    lost = present - seen
    c.check(not lost, "every event of the log is in the store", "%d missing, e.g. %s" % (len(lost), sorted(lost)[:3]))
    extra = seen - present
    c.check(not extra, "the store holds no event the log lacks", sorted(extra)[:3])
    merged = [f for d, _, fs in os.walk(os.path.join(data, "store")) for f in fs
              if f.endswith(".part") and not f.startswith("L0-")]
    c.check(merged, "merges ran during the kill loop (parts above level 0 exist)")
    print("store after kill loop: %d rows, %d merged parts" % (len(ids), len(merged)))


def set_checkpoint(data, seg, pos):
    """Write DATA/log/CHECKPOINT saying bytes [0, pos) of segment `seg` were durable.

    A clean stop checkpoints the whole log, after which any damage is damage to
    acknowledged data, which serve refuses to cut. A crash leaves the checkpoint up to
    a second behind: this puts it just before the last frame, as such a crash would."""
    import struct, zlib
    base = int(os.path.basename(seg).split(".")[0])
    head = b"FFCKPT01" + struct.pack("<QQ", base, pos)
    with open(os.path.join(data, "log", "CHECKPOINT"), "r+b") as f:
        f.write(head + struct.pack("<II", zlib.crc32(head) & 0xFFFFFFFF, 0))
        f.flush()
        os.fsync(f.fileno())


def check_frames(c, data, what):
    """Independent parse of every segment: CRCs, dense offsets, record counts."""
    segs = fflib.segments(data)
    if not c.check(segs, "%s: log has segment files" % what):
        return 0
    expect_base = None
    total = 0
    for i, p in enumerate(segs):
        frames, stop, reason = fflib.read_frames(p)
        c.check(reason is None, "%s: %s parses to its end" % (what, os.path.basename(p)),
                "%s at byte %d of %d" % (reason, stop, os.path.getsize(p)))
        if frames:
            if expect_base is None:
                expect_base = frames[0].base
            try:
                first = int(os.path.basename(p).split(".")[0])
                c.eq(first, frames[0].base, "%s: segment name is its first offset" % what)
            except ValueError:
                pass
        for f in frames:
            if f.base != expect_base:
                c.check(False, "%s: offsets dense" % what, "frame at %d base %d, expected %d" % (f.pos, f.base, expect_base))
                return total
            expect_base = f.base + f.n
            total += f.n
            if len(f.records) != f.n:
                c.check(False, "%s: frame record count" % what, "frame at %d" % f.pos)
    return total


def run(c):
    global RNG, RUN
    seed = int(os.environ.get("FF_SEED") or random.randrange(1 << 30))
    print("seed %d (FF_SEED=%d replays it)" % (seed, seed))
    RNG = random.Random(seed)
    RUN = "%08x" % seed
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    key = fflib.create_key(data, "write", "crash")
    t_begin = time.monotonic()

    # ------------------------------------------------------------ part 1: kill -9 loop
    fleet = Fleet(key)
    srv = start_server(data, work)
    fleet.set_port(srv.port)
    threads = [threading.Thread(target=fleet.sender, args=(i,), daemon=True) for i in range(N_SENDERS)]
    for t in threads:
        t.start()
    kills = 0
    restart_fail = None
    acked_at_kill = []
    while kills < N_KILLS:
        if time.monotonic() - t_begin > PHASE_BUDGET_S:
            break
        # let the senders get at least one batch through on this incarnation (bounded)
        base = fleet.n_ok
        fflib.wait_until(lambda: fleet.n_ok > base, 5.0, 0.01)
        time.sleep(RNG.uniform(0.05, 0.5))
        srv.kill()
        kills += 1
        with fleet.lock:
            acked_at_kill.append(len(fleet.acked))
        mode = "interval" if kills > N_KILLS - N_KILLS_INTERVAL else "batch"
        try:
            srv = start_server(data, work, mode)
        except AssertionError as e:
            restart_fail = str(e)
            break
        fleet.set_port(srv.port)
    with fleet.cv:
        fleet.stop = True
        fleet.cv.notify_all()
    for t in threads:
        t.join(15)
    c.check(restart_fail is None, "server restarts after every kill -9", restart_fail)
    c.check(kills >= 20, "at least 20 kills within %ds" % PHASE_BUDGET_S, "%d kills" % kills)
    c.check(not any(t.is_alive() for t in threads), "sender threads finished")
    c.check(not fleet.unexpected, "senders saw only 200 / 429 / 503 / connection errors",
            fleet.unexpected[:5])
    c.check(len(fleet.acked) >= 200, "enough acknowledged events to mean something",
            "%d acked ids in %d ok batches" % (len(fleet.acked), fleet.n_ok))
    print("kill loop: %d kills, %d ok batches (%d ids acked), %d failed requests, %.1fs"
          % (kills, fleet.n_ok, len(fleet.acked), fleet.n_err, time.monotonic() - t_begin))

    if srv.alive():
        c.eq(srv.stop(), 0, "server exits 0 on SIGTERM after the kill loop")
    vrc, vout = fflib.log_verify(data)
    c.eq(vrc, 0, "log verify passes after %d kills (%s)" % (kills, vout.strip()[:200]))
    n_frames_records = check_frames(c, data, "after kill loop")
    recs = fflib.log_dump(data)
    c.eq(len(recs), n_frames_records, "log dump prints every record in the segments")
    c.check(not recs.bad, "every log dump line is valid JSON", recs.bad[:2])
    idx = fflib.by_event_id(recs)
    lost = [m for m in fleet.acked if m not in idx]
    c.check(not lost, "every acknowledged id survives kill -9", "%d lost, e.g. %s" % (len(lost), sorted(lost)[:3]))
    dups = [m for m, v in idx.items() if len(v) > 1]
    c.check(not dups, "no id stored twice", dups[:3])
    attempted = set(m for b in fleet.batches for m in b)
    strangers = [m for m in idx if m not in attempted]
    c.check(not strangers, "log holds only ids that were sent", strangers[:3])
    partial = [b for b in fleet.batches if 0 < sum(1 for m in b if m in idx) < len(b)]
    c.check(not partial, "every batch is all-or-nothing in the log",
            "%d partial, e.g. %s" % (len(partial), partial[:1]))
    acked = set(fleet.acked)
    present = set(idx)  # includes unacked-but-stored batches: they must stay too
    check_store(c, data, present)

    # ------------------------------------------------------------ part 2: torn tails
    t2 = time.monotonic()
    total = len(recs)  # records in the log now; tracked through every scenario
    srv = start_server(data, work)

    def sacrificial(label):
        ids = ["tail-%s-%d-%s" % (label, i, RUN) for i in range(5)]
        r = fflib.post_batch(srv.port, [fflib.track(m, "Tail Probe", "u-tail") for m in ids], key)
        ok = r.status == 200 and (r.json or {}).get("accepted") == 5
        c.check(ok, "%s: sacrificial batch acked" % label, r.short())
        return ids if ok else []

    scenarios = [("truncate-%d" % i, "truncate") for i in range(3)]
    scenarios += [("flip-%d" % i, "flip") for i in range(3)]
    scenarios += [("garbage-%d" % i, "garbage") for i in range(2)]
    RNG.shuffle(scenarios)

    for label, kind in scenarios:
        ids = sacrificial(label)
        total += len(ids)
        rc = srv.stop()
        c.eq(rc, 0, "%s: clean stop" % label)
        seg = fflib.segments(data)[-1]
        frames, stop, reason = fflib.read_frames(seg)
        if not c.check(frames and reason is None, "%s: newest segment parses before damage" % label, reason):
            break
        last = frames[-1]
        c.check(ids and all(any(m.encode() in rec for rec in last.records) for m in ids),
                "%s: the sacrificial batch is the last frame" % label)
        c.eq(os.path.getsize(seg), last.end, "%s: segment ends at the last frame" % label)
        set_checkpoint(data, seg, last.pos)
        with open(seg, "r+b") as f:
            if kind == "truncate":
                cut = RNG.choice([last.pos + 1, last.pos + RNG.randint(1, fflib.FRAME_HDR_BYTES - 1),
                                  last.pos + fflib.FRAME_HDR_BYTES + RNG.randint(0, last.length - 1),
                                  last.end - 1])
                f.truncate(cut)
                what = "truncated to %d (frame %d..%d)" % (cut, last.pos, last.end)
                want_size, survives = last.pos, False
            elif kind == "flip":
                at = RNG.randint(last.pos, last.end - 1)
                f.seek(at)
                b = f.read(1)
                f.seek(at)
                f.write(bytes([b[0] ^ (1 << RNG.randint(0, 7))]))
                what = "flipped a bit at %d (frame %d..%d, header to %d)" % (
                    at, last.pos, last.end, last.pos + fflib.FRAME_HDR_BYTES)
                want_size, survives = last.pos, False
            else:
                junk = RNG.choice([bytes(RNG.getrandbits(8) for _ in range(RNG.randint(1, 300))),
                                   b"\x00" * RNG.randint(1, 100),
                                   b"FFB1" + b"\xff" * 60])  # a fake frame start
                f.seek(0, 2)
                f.write(junk)
                what = "appended %d bytes of garbage at %d" % (len(junk), last.end)
                want_size, survives = last.end, True
        print("%s: %s" % (label, what))
        # A torn tail is what a crash leaves: verify may pass it (serve will cut it), but
        # it must say where it is.
        vrc, vout = fflib.log_verify(data)
        c.check(str(want_size) in vout, "%s: log verify reports the torn tail at byte %d (rc %d)" % (label, want_size, vrc),
                vout.strip()[:300])
        try:
            srv = start_server(data, work)
        except AssertionError as e:
            c.check(False, "%s: serve starts on a damaged tail (%s)" % (label, what), str(e)[:500])
            return
        c.eq(os.path.getsize(seg), want_size, "%s: tail cut back to the last good frame (%s)" % (label, what))
        if not survives:
            total -= len(ids)
        frames, stop, reason = fflib.read_frames(seg)
        c.check(reason is None and stop == want_size, "%s: segment parses cleanly to its end after recovery" % label,
                (reason, stop))
        _, mt = srv.metrics()
        c.eq(int(mt.get("footfall_log_next_offset", -1)), total, "%s: log next offset = records kept" % label)
        if kind == "truncate":
            cut_bytes = cut - last.pos
        elif kind == "flip":
            cut_bytes = last.end - last.pos
        else:
            cut_bytes = len(junk)
        c.eq(int(mt.get("footfall_log_truncated_at_open_bytes", -1)), cut_bytes,
             "%s: /metrics reports the bytes truncated at open" % label)
        tail = fflib.log_dump(data, from_offset=max(0, total - 20))
        tidx = fflib.by_event_id(tail)
        if survives:
            c.check(all(len(tidx.get(m, [])) == 1 for m in ids), "%s: the intact last batch kept" % label)
            present.update(ids)
        else:
            c.check(not any(m in tidx for m in ids), "%s: the damaged batch is gone, not half-read" % label)
        # writes continue after the recovered point, with dense offsets
        probe = "probe-%s-%s" % (label, RUN)
        r = fflib.post_batch(srv.port, [fflib.track(probe, "After Recovery", "u-tail")], key)
        c.check(r.status == 200 and (r.json or {}).get("accepted") == 1, "%s: accepts writes after recovery" % label,
                r.short())
        after = fflib.log_dump(data, from_offset=total)
        c.check([x.get("event_id") for x in after] == [probe], "%s: the new write lands at offset %d" % (label, total),
                [x.get("event_id") for x in after])
        total += 1
        present.add(probe)
    rc = srv.stop()
    c.eq(rc, 0, "final clean stop")
    vrc, vout = fflib.log_verify(data)
    c.eq(vrc, 0, "log verify passes after all torn-tail recoveries (%s)" % vout.strip()[:200])
    n = check_frames(c, data, "after torn tails")
    recs = fflib.log_dump(data)
    idx = fflib.by_event_id(recs)
    c.eq(len(recs), n, "dump count equals frame record count")
    c.eq(len(recs), total, "dump count equals the records kept through all scenarios")
    c.check(not [m for m in present if m not in idx], "all acknowledged and surviving ids present at the end")
    c.check(acked <= set(idx), "every id acknowledged in the kill loop still present at the end")
    c.check(not [m for m, v in idx.items() if len(v) > 1], "no duplicates at the end")
    print("torn tails: %d scenarios in %.1fs" % (len(scenarios), time.monotonic() - t2))

    # ------------------------------------------------------------ part 3: damage before the tail
    # Bit rot in an older frame is not a torn tail: verify must fail and say where, and
    # serve must not silently throw away the acknowledged frames after it.
    data2 = os.path.join(work, "data-rot")
    shutil.copytree(data, data2)
    seg = fflib.segments(data2)[-1]
    frames, _, _ = fflib.read_frames(seg)
    victim = frames[len(frames) // 2]
    at = victim.pos + fflib.FRAME_HDR_BYTES + RNG.randint(0, victim.length - 1)
    with open(seg, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x10]))
    size_before = os.path.getsize(seg)
    vrc, vout = fflib.log_verify(data2)
    c.check(vrc != 0, "mid-log bit flip (frame at %d of %d frames): log verify exits non-zero" % (victim.pos, len(frames)),
            vout.strip()[:300])
    c.check(str(victim.pos) in vout, "mid-log bit flip: verify names the frame's byte position %d" % victim.pos,
            vout.strip()[:300])
    s2 = fflib.Server(data2, workdir=work)
    try:
        s2.start(timeout=20)
        started = True
    except AssertionError:
        started = False
    if started:
        s2.stop()
    kept = os.path.getsize(seg)
    c.check(not started and kept == size_before,
            "mid-log bit flip: serve refuses to start and leaves the %d good frames after it alone"
            % (len(frames) - len(frames) // 2 - 1),
            "started=%s, segment %d -> %d bytes (%d acknowledged records after the damage)"
            % (started, size_before, kept, sum(f.n for f in frames if f.pos >= victim.pos)))
    # The operator chooses the loss explicitly: log repair cuts at the damaged frame.
    r = fflib.run_cli(["log", "repair", "--data", data2], timeout=60)
    c.eq(r.returncode, 0, "log repair exits 0 (%s)" % (r.stdout + r.stderr).decode("utf-8", "replace").strip()[:200])
    c.eq(os.path.getsize(seg), victim.pos, "log repair cuts the segment at the damaged frame")
    vrc, vout = fflib.log_verify(data2)
    c.eq(vrc, 0, "log verify passes after repair (%s)" % vout.strip()[:200])
    s2 = fflib.Server(data2, workdir=work)
    s2.start(timeout=20)
    c.eq(s2.stop(), 0, "serve starts and stops cleanly after repair")


RNG = random.Random(0)
RUN = "0"

if __name__ == "__main__":
    fflib.main("test_crash_safety", run)
