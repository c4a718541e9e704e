#!/usr/bin/env python3
"""bench/visibility.py -- how soon an acknowledged event can be queried, at full ingest.

Starts `footfall serve` (127.0.0.1, ephemeral port, its own data folder; stopped by PID),
drives it at full speed with bench_ingest (8 keep-alive connections, batches of 100), and
meanwhile posts a probe event every --probe-ms with a unique id. From the 200 of each probe
it polls POST /v1/query `SELECT count() FROM events WHERE event_id = '<id>'` every 10 ms until
the event is there, and records the delay. Prints ingest rate and the delay's p50/p99/max.
Issue 3's target: visible within 1 s at full ingest. Nothing asserts on timing. With the
server's back-pressure (--ingest-max-lag, on by default) "full ingest" is what the server
accepts: refused requests (503 store_behind) are retried by bench_ingest and by the probe loop
(50 ms apart), and the delay is measured from the probe's 200.
  Extra server flags: --serve-args "--ingest-max-lag 0" (e.g. to see the unbounded backlog).

  bench/visibility.py [--duration 30] [--build-dir build-bench] [--no-build]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def post(url, body, headers, timeout=10):
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:  # 503 store_behind: back-pressure (ingest-max-lag)
        return e.code, e.read()


def key(ffbin, data, kind):
    out = subprocess.run([ffbin, "keys", "create", "--data", data, "--kind", kind],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    return out.split()[0]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--probe-ms", type=int, default=250)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--serve-args", default="")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cmake", "-S", ROOT, "-B", a.build_dir, "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", a.build_dir, "-j2", "--target", "footfall",
                        "bench_ingest"], check=True, stdout=subprocess.DEVNULL)
    ffbin = os.path.join(a.build_dir, "footfall")
    work = tempfile.mkdtemp(prefix="ff-visibility-", dir="/var/tmp")
    data = os.path.join(work, "data")
    wkey, rkey = key(ffbin, data, "write"), key(ffbin, data, "read")
    srv = subprocess.Popen([ffbin, "serve", "--data", data, "--listen", "127.0.0.1:0",
                            "--log-level", "warn"] + a.serve_args.split(), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    try:
        m = re.match(r"listening (http://\S+)", srv.stdout.readline().decode())
        if not m:
            raise SystemExit("footfall serve did not start")
        base = m.group(1)
        load = subprocess.Popen([os.path.join(a.build_dir, "bench_ingest"), "--target",
                                 "footfall", "--url", base, "--key", wkey, "--conns",
                                 str(a.conns), "--batch", "100", "--duration",
                                 str(a.duration), "--warmup", "2", "--label", "visibility"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        time.sleep(3)  # past the warm-up: measure under full load
        import base64
        auth = {"Authorization": "Basic " + base64.b64encode((wkey + ":").encode()).decode(),
                "Content-Type": "application/json"}
        qh = {"Authorization": "Bearer " + rkey, "Content-Type": "text/plain"}
        delays, lost, refused = [], 0, 0
        t_end = time.monotonic() + a.duration - 5
        n = 0
        while time.monotonic() < t_end:
            n += 1
            mid = "probe-%d-%d" % (os.getpid(), n)
            ev = {"type": "track", "event": "Probe", "userId": "probe", "messageId": mid,
                  "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            for _ in range(100):  # a refused probe is sent again, as an SDK would
                st, _ = post(base + "/v1/track", json.dumps(ev), auth)
                if st != 503:
                    break
                refused += 1
                time.sleep(0.05)
            t0 = time.monotonic()
            if st != 200:
                continue
            seen = False
            while time.monotonic() - t0 < 10:
                _, body = post(base + "/v1/query", "SELECT count() AS c FROM events WHERE "
                               "event_id = '%s'" % mid, qh)
                if json.loads(body)["data"][0]["c"] in (1, "1"):
                    seen = True
                    break
                time.sleep(0.01)
            if seen:
                delays.append(time.monotonic() - t0)
            else:
                lost += 1
            time.sleep(max(0, a.probe_ms / 1000 - (time.monotonic() - t0)))
        out = load.communicate(timeout=a.duration + 60)[0].decode().strip().splitlines()
        res = json.loads(out[-1]) if out else {}
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            met = dict(re.findall(r"^(footfall_store_seal\w*|footfall_store_seals_total|"
                                  r"footfall_store_sealed_rows_total|footfall_store_merges_total) "
                                  r"(\S+)$", r.read().decode(), re.M))
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    rate = res.get("events_per_s") or res.get("results", {}).get("events_per_s")
    refused_load = (res.get("errors") or res.get("results", {}).get("errors") or {})
    print(json.dumps({"ingest_events_per_s": rate, "probes": len(delays), "not_seen_in_10s": lost,
                      "probe_503s": refused, "load_errors": refused_load,
                      "visible_p50_s": round(pct(delays, 0.5), 3),
                      "visible_p99_s": round(pct(delays, 0.99), 3),
                      "visible_max_s": round(max(delays), 3) if delays else None,
                      "seals": met.get("footfall_store_seals_total"),
                      "seal_s_mean": round(float(met.get("footfall_store_seal_seconds_sum", 0)) /
                                           max(1, float(met.get("footfall_store_seals_total", 0))), 3),
                      "seal_s_max": met.get("footfall_store_seal_seconds_max"),
                      "seal_wait_s": met.get("footfall_store_seal_wait_seconds_sum"),
                      "rows_per_seal": round(float(met.get("footfall_store_sealed_rows_total", 0)) /
                                             max(1, float(met.get("footfall_store_seals_total", 0)))),
                      "merges": met.get("footfall_store_merges_total")}))


if __name__ == "__main__":
    main()
