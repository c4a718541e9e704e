#!/usr/bin/env python3
"""bench/query.py -- the query benchmark: footfall against ClickHouse on the same rows.

Builds (Release, build-bench/) footfall and bench_query_load, generates N simulated shop
events over D days (the simulator's model, through the collector, into a footfall data
folder) and loads the very same rows into Debian's clickhouse-server (started here on
127.0.0.1 with a private folder, stopped by PID; installed with apt if missing). Then runs the
query suite in turns -- each query on footfall (POST /v1/query of a running `footfall serve`)
and on ClickHouse (its HTTP interface), alternating, R rounds -- and prints medians, the ratio
per query and bytes on disk per event for both. Every query's answer is compared between the
two engines (a benchmark of wrong answers is worth nothing).

  bench/query.py --events 20000000 --rounds 5 --write-docs
  bench/query.py --quick            # 300k events, 3 rounds: checks the set-up, not a result

Nothing here asserts on timing; figures go to docs/benchmarks.md (--write-docs).
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, footfall SQL, ClickHouse SQL). {D0} is the first day of the data (YYYY-MM-DD).
# person = user_id when set, else anonymous_id (footfall's sort key; ClickHouse's table is
# ordered the PostHog way: day, event, user).
PERSON = "if(user_id != '', user_id, anonymous_id)"
FUNNEL = ("windowFunnel({W})(ts, event = 'product_viewed', event = 'product_added', "
          "event = 'checkout_started', event = 'order_completed')")
RET = ", ".join("toDate(ts) = toDate('{D0}') + %d" % i for i in range(8))
QUERIES = [
    ("events per hour",
     "SELECT toStartOfHour(ts) AS h, count() AS n FROM events GROUP BY h ORDER BY h",
     None),
    ("exact uniques per day",
     "SELECT toDate(ts) AS d, uniqExact(anonymous_id) AS u FROM events GROUP BY d ORDER BY d",
     None),
    ("top products by cart value",
     "SELECT product_id, sum(price * quantity) AS v, count() AS n FROM events "
     "WHERE event = 'product_added' GROUP BY product_id ORDER BY v DESC, product_id LIMIT 10",
     None),
    ("funnel, 4 steps in 1 hour",
     "SELECT level, count() AS n FROM (SELECT %s AS p, %s AS level FROM events "
     "WHERE event IN ('product_viewed', 'product_added', 'checkout_started', "
     "'order_completed') GROUP BY p) GROUP BY level ORDER BY level"
     % (PERSON, FUNNEL.replace("{W}", "3600000")),
     "SELECT level, count() AS n FROM (SELECT %s AS p, %s AS level FROM events "
     "WHERE event IN ('product_viewed', 'product_added', 'checkout_started', "
     "'order_completed') GROUP BY p) GROUP BY level ORDER BY level"
     % (PERSON, FUNNEL.replace("{W}", "3600"))),
    ("7-day retention",
     "SELECT " + ", ".join("sum(r[%d]) AS d%d" % (i + 1, i) for i in range(8)) +
     " FROM (SELECT %s AS p, retention(%s) AS r FROM events GROUP BY p)" % (PERSON, RET),
     None),
    ("sessions per user (30 min gap)",
     "SELECT s, count() AS users FROM (SELECT %s AS p, sessionCount(1800)(ts) AS s "
     "FROM events GROUP BY p) GROUP BY s ORDER BY s LIMIT 20" % PERSON,
     "SELECT s, count() AS users FROM (SELECT %s AS p, 1 + arraySum(arrayMap(x -> x > 1800, "
     "arrayDifference(arraySort(groupArray(toUInt32(ts)))))) AS s FROM events GROUP BY p) "
     "GROUP BY s ORDER BY s LIMIT 20" % PERSON),
    ("one user's events",
     "SELECT toDate(ts) AS d, event, count() AS n FROM events WHERE user_id = '{USER}' "
     "GROUP BY d, event ORDER BY d, event",
     None),
]

CH_DDL = """CREATE TABLE events (
  event_id String, ts DateTime, received_at DateTime, type String, event String,
  event_original String, user_id String, anonymous_id String, session_id String, url String,
  referrer String, product_id String, category String, price Nullable(Decimal(18, 4)),
  quantity Nullable(Int64), order_id String, revenue Nullable(Decimal(18, 4)), currency String,
  search_term String, element String, country String, device String, browser String,
  os String, ip String, properties String, log_offset UInt64, ts_ms UInt16
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (toDate(ts), event, user_id, ts)"""


def log(*a):
    print("[query-bench]", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http(url, body, headers=None, timeout=600):
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body,
                                 headers=headers or {}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def du(path):
    n = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            try:
                n += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return n


class ClickHouse:
    def __init__(self, work):
        self.dir = os.path.join(work, "clickhouse")
        for sub in ("data/tmp", "data/user_files", "data/format_schemas", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.port = free_port()
        d = self.dir
        with open(os.path.join(d, "users.xml"), "w") as f:
            f.write("""<?xml version="1.0"?><yandex>
<profiles><default><max_memory_usage>16000000000</max_memory_usage></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks>
<profile>default</profile><quota>default</quota></default></users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
</interval></default></quotas></yandex>""")
        with open(os.path.join(d, "config.xml"), "w") as f:
            f.write("""<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>%(d)s/log/server.log</log><errorlog>%(d)s/log/error.log</errorlog>
<size>100M</size><count>1</count></logger>
<listen_host>127.0.0.1</listen_host><http_port>%(p)d</http_port>
<max_concurrent_queries>16</max_concurrent_queries>
<mark_cache_size>1073741824</mark_cache_size>
<path>%(d)s/data/</path><tmp_path>%(d)s/data/tmp/</tmp_path>
<user_files_path>%(d)s/data/user_files/</user_files_path>
<format_schema_path>%(d)s/data/format_schemas/</format_schema_path>
<users_config>%(d)s/users.xml</users_config><default_profile>default</default_profile>
<default_database>default</default_database><timezone>UTC</timezone>
<mlock_executable>false</mlock_executable></yandex>""" % {"d": d, "p": self.port})
        self.out = open(os.path.join(d, "log", "stdout"), "w")
        self.proc = subprocess.Popen(["/usr/sbin/clickhouse-server",
                                      "--config-file=" + os.path.join(d, "config.xml")],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        self.url = "http://127.0.0.1:%d/" % self.port
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.q("SELECT 1").strip() == "1":
                    break
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("clickhouse-server exited; see %s/log" % d)
            time.sleep(0.2)
        else:
            raise SystemExit("clickhouse-server did not answer within 60 s")
        self.version = self.q("SELECT version()").strip()

    def q(self, sql, body=None):
        if body is None:
            return http(self.url, sql).decode()
        return http(self.url + "?query=" + urllib.request.quote(sql), body).decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Footfall:
    def __init__(self, binary, data):
        self.bin, self.data = binary, data
        out = subprocess.run([binary, "keys", "create", "--data", data, "--kind", "read",
                              "--name", "bench"], check=True, stdout=subprocess.PIPE).stdout
        m = re.search(rb"\b(ffr_[A-Za-z0-9_]+|[A-Za-z0-9_-]{20,})\b", out)
        self.key = m.group(1).decode()
        # --stream-derived false: the stream processor reads the whole loaded history at the
        # first start; it must not add session_ended/cart_abandoned rows to the store the
        # benchmark compares with ClickHouse.
        self.proc = subprocess.Popen([binary, "serve", "--data", data, "--listen",
                                      "127.0.0.1:0", "--log-level", "warn",
                                      "--stream-derived=false"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening (http://\S+)", line)
        if not m:
            raise SystemExit("footfall serve did not start: %r" % line)
        self.url = m.group(1) + "/v1/query"
        self.metrics = m.group(1) + "/metrics"

    def wait_idle(self, limit_s=3600):
        """Wait until the stream processor and the store have read the whole log, so their
        start-up work does not share the CPU with the timed queries."""
        t = time.monotonic()
        while time.monotonic() - t < limit_s:
            with urllib.request.urlopen(self.metrics, timeout=30) as r:
                text = r.read().decode()
            lags = re.findall(r"^footfall_(?:stream|store)_lag_records (\d+)", text, re.M)
            if lags and all(int(x) == 0 for x in lags):
                return time.monotonic() - t
            time.sleep(1)
        raise SystemExit("footfall did not catch up with its log within %d s" % limit_s)

    def q(self, sql):
        return http(self.url, sql, {"Authorization": "Bearer " + self.key,
                                    "Content-Type": "text/plain"}).decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


def norm_rows(text, fmt):
    """Rows as tuples of normalised strings (numbers rounded) for the answer comparison."""
    rows = []
    for line in text.strip().splitlines():
        cells = line.split("\t") if fmt == "tsv" else line.split(",")
        out = []
        for c in cells:
            c = c.strip().strip('"')
            try:
                f = float(c)
                c = "%.6g" % f
            except ValueError:
                pass
            out.append(c)
        rows.append(tuple(out))
    return rows


def ff_rows(ff, sql):
    body = json.loads(ff.q(sql))
    rows = []
    for r in body["data"]:
        vals = r.values() if isinstance(r, dict) else r
        out = []
        for v in vals:
            if isinstance(v, list):
                v = "[" + ",".join(str(x) for x in v) + "]"
            v = str(v)
            if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000$", v):
                v = v[:-4]  # DateTime64(3) on a whole second prints as ClickHouse's DateTime
            try:
                v = "%.6g" % float(v)
            except ValueError:
                pass
            out.append(v)
        rows.append(tuple(out))
    return rows, body


def ch_rows(ch, sql):
    return norm_rows(ch.q(sql + " FORMAT TSV"), "tsv")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20_000_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", default="/var/tmp/footfall-query-bench")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep and reuse loaded data")
    ap.add_argument("--write-docs", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.events, a.rounds = 300_000, 3
    if not a.no_build:
        subprocess.run(["cmake", "-S", ROOT, "-B", a.build_dir, "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", a.build_dir, "-j2", "--target", "footfall",
                        "bench_query_load"], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists("/usr/sbin/clickhouse-server"):
        log("installing clickhouse-server from Debian (benchmark peer)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "clickhouse-server"], check=True,
                       env=env)
    ffbin = os.path.join(a.build_dir, "footfall")
    loader = os.path.join(a.build_dir, "bench_query_load")
    tag = "%d-%d-%d" % (a.events, a.days, a.users)
    work = os.path.join(a.work, tag)
    data = os.path.join(work, "footfall")
    loaded = a.reuse and os.path.exists(os.path.join(work, "loaded.json"))
    if not loaded:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    ch = ClickHouse(work)
    ff = None
    try:
        if not loaded:
            ch.q("DROP TABLE IF EXISTS events")
            ch.q(CH_DDL)
            fifo = os.path.join(work, "rows.fifo")
            os.mkfifo(fifo)
            log("loading %d events over %d days into footfall and ClickHouse" % (a.events, a.days))
            t0 = time.monotonic()
            ld = subprocess.Popen([loader, "--data", data, "--events", str(a.events), "--days",
                                   str(a.days), "--users", str(a.users), "--tsv", fifo],
                                  stdout=subprocess.PIPE)
            with open(fifo, "rb") as f:
                req = urllib.request.Request(
                    ch.url + "?query=" + urllib.request.quote("INSERT INTO events FORMAT TSV"),
                    data=iter(lambda: f.read(1 << 20), b""), method="POST",
                    headers={"Transfer-Encoding": "chunked"})
                urllib.request.urlopen(req, timeout=7200).read()
            info = json.loads(ld.stdout.read())
            if ld.wait() != 0:
                raise SystemExit("bench_query_load failed")
            info["load_wall_s"] = round(time.monotonic() - t0, 1)
            ch.q("OPTIMIZE TABLE events FINAL")
            with open(os.path.join(work, "loaded.json"), "w") as f:
                json.dump(info, f)
        with open(os.path.join(work, "loaded.json")) as f:
            info = json.load(f)
        n_ch = int(ch.q("SELECT count() FROM events").strip())
        log("rows: footfall %d, ClickHouse %d" % (info["rows"], n_ch))
        ff = Footfall(ffbin, data)
        log("footfall caught up with its log in %.0f s" % ff.wait_idle())
        d0 = time.strftime("%Y-%m-%d", time.gmtime(info["start_ms"] / 1000))
        user = ch.q("SELECT user_id FROM events WHERE user_id != '' GROUP BY user_id "
                    "ORDER BY count() DESC, user_id LIMIT 1 OFFSET 100").strip()
        suite = []
        for name, fsql, csql in QUERIES:
            fsql = fsql.replace("{D0}", d0).replace("{USER}", user)
            csql = (csql or fsql).replace("{D0}", d0).replace("{USER}", user)
            suite.append((name, fsql, csql))
        # answers first (also warms both caches)
        agree = {}
        for name, fsql, csql in suite:
            try:
                fr, _ = ff_rows(ff, fsql)
            except Exception as e:  # noqa: BLE001 -- report, keep benchmarking the rest
                fr = "error: %s" % getattr(e, "read", lambda: str(e).encode())().decode()[:300]
            try:
                cr = ch_rows(ch, csql)
            except Exception as e:  # noqa: BLE001
                cr = "error: %s" % getattr(e, "read", lambda: str(e).encode())().decode()[:300]
            agree[name] = fr == cr
            if fr != cr:
                log("ANSWERS DIFFER for %s:\n  footfall:   %s\n  clickhouse: %s"
                    % (name, str(fr)[:400], str(cr)[:400]))
        times = {name: ([], []) for name, _, _ in suite}
        for r in range(a.rounds):
            for name, fsql, csql in suite:
                for eng, fn, sql in ((0, ff.q, fsql), (1, ch.q, csql)):
                    t = time.monotonic()
                    try:
                        fn(sql)
                        times[name][eng].append(time.monotonic() - t)
                    except Exception:  # noqa: BLE001
                        pass
            log("round %d/%d done" % (r + 1, a.rounds))
        ff_bytes = du(os.path.join(data, "store"))
        ch_bytes = int(ch.q("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND "
                            "table = 'events'").strip() or 0)
    finally:
        if ff:
            ff.stop()
        ch.stop()

    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    lines = []
    lines.append("| query | footfall (s) | ClickHouse %s (s) | ClickHouse / footfall | same answer |"
                 % ch.version)
    lines.append("|---|---:|---:|---:|---|")
    for name, _, _ in suite:
        f, c = med(times[name][0]), med(times[name][1])
        ratio = c / f if f == f and c == c and f > 0 else float("nan")
        lines.append("| %s | %.3f | %.3f | %.2fx | %s |" % (name, f, c, ratio,
                                                           "yes" if agree[name] else "NO"))
    rows = info["rows"]
    lines.append("")
    lines.append("Bytes on disk per event: footfall %.1f (store %d MB), ClickHouse %.1f (%d MB)."
                 % (ff_bytes / rows, ff_bytes >> 20, ch_bytes / max(n_ch, 1), ch_bytes >> 20))
    machine = "%s, %d cores, %s" % (platform.machine(), os.cpu_count(), platform.release())
    head = ("Command: `bench/query.py %s`; %d events (%d stored) over %d days, %d simulated "
            "users; %d rounds, medians; machine: %s; load avg at end %.1f."
            % (" ".join(sys.argv[1:]), a.events, rows, a.days, a.users, a.rounds, machine,
               os.getloadavg()[0]))
    report = head + "\n\n" + "\n".join(lines) + "\n"
    print(report)
    if a.write_docs:
        p = os.path.join(ROOT, "docs", "benchmarks.md")
        doc = open(p).read()
        b, e = "<!-- query-bench:begin -->", "<!-- query-bench:end -->"
        block = b + "\n" + report + e
        if b in doc:
            doc = re.sub(re.escape(b) + ".*?" + re.escape(e), lambda m: block, doc, flags=re.S)
        else:
            doc += "\n## Queries (bench/query.py)\n\n" + block + "\n"
        open(p, "w").write(doc)
        log("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
