#!/usr/bin/env python3
"""stream_latency.py -- end-to-end latency from a batch's 200 to its effect in /v1/live.

Usage: bench/stream_latency.py [--bin build-stream/footfall] [--rates 2000,20000]
                               [--seconds 20] [--batch 100]

For each rate: a fresh `footfall serve` (data under /var/tmp, stopped by PID at the end), one
sender posting pre-built batches of --batch events at that many events/s (one connection,
batches in sequence, so after batch k's 200 the log holds everything up to k), and two
observers:
  snapshot  a loop of GET /v1/live/snapshot on a keep-alive connection; batch k is visible
            at the first answer (time it arrived) whose totals.events >= events up to k;
  sse       GET /v1/live; batch k is visible at the first delta with that many events;
  sql_count the peer: POST /v1/query "SELECT count() FROM events" every 10 ms (the store
            seals every second), same rule.
Latency = visible - 200 received, per batch; p50/p99/max over all batches after a 2 s warm-up.
Prints one JSON line per rate and observer. Never asserts on time.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def run_rate(binpath, rate, seconds, batch):
    data = "/var/tmp/ff-stream-lat-%d-%d" % (os.getpid(), rate)
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    keys = {}
    for kind in ("write", "read"):
        out = subprocess.run([binpath, "keys", "create", "--data", data, "--kind", kind],
                             capture_output=True, check=True, timeout=60).stdout.decode()
        keys[kind] = [w for w in out.split() if w.startswith("ffw_" if kind == "write" else "ffr_")][0]
    proc = subprocess.Popen([binpath, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        port = int(line.strip().rsplit(":", 1)[1].split("/")[0])
        n_batches = int(rate * seconds / batch)
        now = int(time.time() * 1000)
        bodies = []
        for k in range(n_batches):
            evs = [{"type": "track", "messageId": str(uuid.uuid4()), "event": "Product Viewed",
                    "userId": "lat-%d" % (i % 500), "properties": {"product_id": "p%d" % i},
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now / 1000 + k * batch / rate))
                    + ".000Z"} for i in range(batch)]
            bodies.append(json.dumps({"batch": evs}).encode())
        import base64
        auth = "Basic " + base64.b64encode((keys["write"] + ":").encode()).decode()
        acked = []  # (t_200, cumulative events)
        stop = threading.Event()
        snap_obs, sse_obs, sql_obs = [], [], []

        def sql_poller():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            h = {"Authorization": "Bearer " + keys["read"]}
            while not stop.is_set():
                c.request("POST", "/v1/query?format=json", body=b"SELECT count() AS n FROM events", headers=h)
                body = c.getresponse().read()
                t = time.monotonic()
                sql_obs.append((t, int(json.loads(body)["data"][0]["n"])))
                time.sleep(0.01)

        def poller():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            h = {"Authorization": "Bearer " + keys["read"]}
            while not stop.is_set():
                c.request("GET", "/v1/live/snapshot", headers=h)
                body = c.getresponse().read()
                t = time.monotonic()
                i = body.find(b'"totals":{"events":')
                n = int(body[i + 19:body.find(b",", i + 19)])
                snap_obs.append((t, n))

        def sse():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/v1/live", headers={"Authorization": "Bearer " + keys["read"]})
            r = c.getresponse()
            while not stop.is_set():
                line = r.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    t = time.monotonic()
                    i = line.find(b'"totals":{"events":')
                    sse_obs.append((t, int(line[i + 19:line.find(b",", i + 19)])))

        th = [threading.Thread(target=f, daemon=True) for f in (poller, sse, sql_poller)]
        for t in th:
            t.start()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t0 = time.monotonic()
        for k, body in enumerate(bodies):
            due = t0 + k * batch / rate
            d = due - time.monotonic()
            if d > 0:
                time.sleep(d)
            c.request("POST", "/v1/batch", body=body,
                      headers={"Content-Type": "application/json", "Authorization": auth})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit("batch %d: HTTP %d" % (k, r.status))
            acked.append((time.monotonic(), (k + 1) * batch))
        achieved = len(bodies) * batch / (time.monotonic() - t0)
        time.sleep(2.5)
        stop.set()
        out = []
        for name, obs in (("snapshot", snap_obs), ("sse", sse_obs), ("sql_count", sql_obs)):
            lat, missing = [], 0
            j = 0
            obs = sorted(obs)
            for (t200, cum) in acked:
                if t200 - t0 < 2.0:
                    continue
                while j < len(obs) and obs[j][0] < t200:
                    j += 1
                m = j
                while m < len(obs) and obs[m][1] < cum:
                    m += 1
                if m == len(obs):
                    missing += 1
                    continue
                lat.append(obs[m][0] - t200)
            res = {"bench": "stream_latency", "observer": name, "target_events_per_s": rate,
                   "achieved_events_per_s": round(achieved), "batch": batch, "batches": len(lat),
                   "missing": missing, "observations": len(obs),
                   "p50_ms": round(pct(lat, 50) * 1000, 1) if lat else None,
                   "p99_ms": round(pct(lat, 99) * 1000, 1) if lat else None,
                   "max_ms": round(max(lat) * 1000, 1) if lat else None}
            print(json.dumps(res))
            sys.stdout.flush()
            out.append(res)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "build-stream", "footfall"))
    ap.add_argument("--rates", default="2000,20000")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    for r in a.rates.split(","):
        run_rate(a.bin, int(r), a.seconds, a.batch)


if __name__ == "__main__":
    main()
