#!/usr/bin/env python3
"""run_diff.py -- differential SQL tests: footfall's executor against ClickHouse as the oracle.

WHAT: loads the SAME events into a footfall data folder (`footfall import`) and into a private
clickhouse-server (HTTP INSERT ... FORMAT TabSeparated), runs every query of tests/sql/*.sql on
both (`footfall query --format json`, ClickHouse's HTTP interface with FORMAT JSON), and
compares the rows. Two data sets:
  gen     a generated set written here as canonical NDJSON, with deliberate edge cases (funnels
          with repeated and simultaneous steps, steps exactly at window boundaries, NULL
          prices/revenue, empty user ids, eight days for retention, several currencies);
  taobao  ../shared/data/taobao-userbehavior-slice and -users (CSV, `--map taobao` on our
          side; ClickHouse gets the rows ff_row_from_taobao makes: user_id, product_id,
          category, event, event_original, type = track, ts = received_at).
Exit 0 when every compared query agrees, 1 otherwise; "SKIPPED: <why>" and 0 when
clickhouse-server is absent (the taobao queries alone are skipped when the data is absent).

DESIGN:
  - Query files: blocks that start with `-- name: <id>`, followed by directives and the SQL:
      -- data: gen | taobao            which data set (default gen)
      -- approx: <col>=<rel>           column (0-based) compared with a relative tolerance
      -- clickhouse: <sql>             the oracle's spelling when 18.16 lacks ours (repeatable
                                       lines, joined); the block says why in `-- why:`
      -- footfall-only: <why>          no oracle in 18.16: compare with `-- expect:` instead
      -- expect: <json rows>           e.g. [[1, "a"], [2, "b"]] (only with footfall-only)
    The SQL is every other line up to the next `-- name:`.
  - Normalisation: numbers compare as numbers (exactly for integers and decimals, 1e-9
    relative for floats: the order of float additions differs), DateTime64 text loses a
    `.000` suffix (ClickHouse 18.16 has no DateTime64: its ts is DateTime, and the generated
    times are whole seconds), arrays compare element-wise. Rows are sorted before comparing
    when the query has no ORDER BY.
  - ClickHouse 18.16 (Debian's package) is the pinned oracle. Its table uses DateTime for ts and
    received_at and String for LowCardinality(String) (experimental in 18.16); everything else
    is ff_schema.h's ch_type.
  - uniq: ClickHouse's is exact below 65536 distinct values, ours is HyperLogLog with 1.6%
    standard error: uniq columns carry `-- approx: N=0.05` (three standard errors).

Every server is started here on 127.0.0.1 with an ephemeral port and a temp folder, and stopped
by PID; every wait is bounded. Environment: FOOTFALL_BIN, FF_SHARED_DIR, FF_SOURCE_DIR (CTest
sets them); FF_CLICKHOUSE_SERVER (default /usr/sbin/clickhouse-server); FF_KEEP_TMP=1 keeps the
temp folder; FF_VERBOSE=1 prints every query.
Options: --only SUBSTR (queries whose name contains it), --footfall BIN, --keep.
"""

import argparse
import decimal
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("FF_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED_DIR = os.environ.get("FF_SHARED_DIR") or os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared"))
CH_SERVER = os.environ.get("FF_CLICKHOUSE_SERVER", "/usr/sbin/clickhouse-server")
VERBOSE = os.environ.get("FF_VERBOSE") == "1"
# A bound on the whole run, not a speed check: ~10 s in a plain build on a quiet 2-core box,
# a few minutes under ASan on a loaded one. Past it the test fails naming the query it reached.
DEADLINE_S = int(os.environ.get("FF_SQL_DIFF_BUDGET_S", "900"))

# ClickHouse column types (ff_schema.h ch_type, with 18.16's substitutions).
CH_COLUMNS = [
    ("event_id", "String"), ("ts", "DateTime"), ("received_at", "DateTime"), ("type", "String"),
    ("event", "String"), ("event_original", "String"), ("user_id", "String"),
    ("anonymous_id", "String"), ("session_id", "String"), ("url", "String"),
    ("referrer", "String"), ("product_id", "String"), ("category", "String"),
    ("price", "Nullable(Decimal(18, 4))"), ("quantity", "Nullable(Int64)"), ("order_id", "String"),
    ("revenue", "Nullable(Decimal(18, 4))"), ("currency", "String"), ("search_term", "String"),
    ("element", "String"), ("country", "String"), ("device", "String"), ("browser", "String"),
    ("os", "String"), ("ip", "String"), ("properties", "String"), ("log_offset", "UInt64"),
]
CH_NAMES = [c for c, _ in CH_COLUMNS]

# Canonical record key order (brief, "Canonical record").
CANONICAL_KEYS = [
    "v", "event_id", "type", "event", "event_original", "ts", "received_at", "user_id",
    "anonymous_id", "session_id", "url", "referrer", "product_id", "category", "price",
    "quantity", "order_id", "revenue", "currency", "search_term", "element", "country", "device",
    "browser", "os", "ip", "properties",
]


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- generated data

D0 = 1709251200  # 2024-03-01 00:00:00 UTC, a Friday


def gen_records():
    """Deterministic canonical records (ts in whole seconds, as ms)."""
    rnd = random.Random(20240301)
    recs = []

    def add(ts_s, event, user="", anon="", **kw):
        r = {"v": 1, "event_id": "g-%06d" % len(recs), "type": kw.pop("type", "track"),
             "event": event, "ts": ts_s * 1000}
        if user:
            r["user_id"] = user
        if anon:
            r["anonymous_id"] = anon
        r.update({k: v for k, v in kw.items() if v is not None and v != ""})
        recs.append({k: r[k] for k in CANONICAL_KEYS if k in r})

    events = ["page_viewed", "product_viewed", "product_added", "checkout_started",
              "order_completed", "payment_failed", "product_searched"]
    weights = [30, 30, 12, 8, 6, 3, 11]
    currencies = ["USD", "EUR", "GBP", "JPY"]  # a price needs a currency (the collector's rule)
    countries = ["US", "DE", "FR", "JP", "BR", ""]
    devices = ["desktop", "mobile", "tablet"]
    # valid amounts for the currency (the importer rounds to its minor unit, as the collector)
    prices = ["19.99", "0.5", "100", "7.25", "1234.56", "3", "49.9", "0.01", "250.10"]
    jpy_prices = ["500", "1200", "3", "0"]
    plans = ["free", "pro", "team"]
    # background traffic: 60 users over 8 days
    for u in range(60):
        user = "u%03d" % u if u % 10 != 9 else ""  # every tenth person is anonymous
        anon = "a%03d" % u
        first_day = u % 5
        n = 20 + (u * 7) % 40
        for i in range(n):
            day = first_day + rnd.choice([0, 0, 0, 1, 1, 2, 3, 5, 7])
            if day > 7:
                day = 7
            ts = D0 + day * 86400 + rnd.randrange(0, 86400)
            ev = rnd.choices(events, weights)[0]
            price = rnd.choice(prices) if ev in ("product_viewed", "product_added") else None
            if price is not None and rnd.random() < 0.2:
                price = None  # NULL price on a product event
            qty = rnd.choice([1, 1, 2, 3, None]) if ev == "product_added" else None
            revenue = None
            order = ""
            if ev == "order_completed":
                revenue = rnd.choice(["59.97", "10", "0.99", "1000.01", None])
                order = "o-%d-%d" % (u, i)
            props = {}
            if rnd.random() < 0.6:
                props["plan"] = rnd.choice(plans)
            if rnd.random() < 0.4:
                props["n"] = rnd.randrange(-5, 50)
            if rnd.random() < 0.3:
                props["score"] = rnd.choice([0.5, 2.25, -1.5, 10.0])
            if rnd.random() < 0.2:
                props["flag"] = rnd.random() < 0.5
            pid = "p%02d" % rnd.randrange(0, 25) if ev.startswith("product") else ""
            cur = rnd.choice(currencies) if (price or revenue) else rnd.choice(["", "", "EUR"])
            if cur == "JPY":
                price = rnd.choice(jpy_prices) if price is not None else None
                revenue = rnd.choice(jpy_prices) if revenue is not None else None
            add(ts, ev, user, anon,
                session_id="s%03d-%d" % (u, day),
                url="https://shop.example/%s/%s?ref=%d" % (ev.split("_")[0], pid or "home", i % 3),
                product_id=pid, category=("c%d" % (int(pid[1:]) % 4)) if pid else "",
                price=price, quantity=qty, order_id=order, revenue=revenue,
                currency=cur,
                search_term=rnd.choice(["shoes", "Red Shoes", "hat", "%off", "a_b"]) if ev == "product_searched" else "",
                country=rnd.choice(countries), device=rnd.choice(devices),
                properties=props or None)
    # scripted funnels (product_viewed -> product_added -> order_completed), T per user
    T = D0 + 2 * 86400 + 36000  # day 2, 10:00:00

    def fun(user, steps):
        for dt, ev in steps:
            add(T + dt, ev, user, "anon-" + user, country="US", device="desktop",
                price="10" if ev != "order_completed" else None,
                revenue="10" if ev == "order_completed" else None, currency="USD")

    V, A, O, X = "product_viewed", "product_added", "order_completed", "page_viewed"
    fun("f01", [(0, V), (3600, A), (3601, O)])          # add exactly at the window edge
    fun("f02", [(0, V), (100, V), (3650, A), (3660, O)])  # repeated step 1: the later start wins
    fun("f03", [(0, V), (0, A), (0, O)])                # simultaneous steps
    fun("f04", [(0, A), (10, V), (20, O)])              # out of order
    fun("f05", [(0, V), (5, A), (6, A), (7, O)])        # repeated step 2
    fun("f06", [(0, V), (3601, A), (3602, O)])          # just outside the window
    fun("f07", [(0, V), (5, X), (6, A), (7, O)])        # other event in between
    fun("f08", [(0, V), (1, A), (1, A), (2, V), (3, O)])  # duplicates, restart of step 1
    fun("f09", [(0, O), (1, A), (2, V)])                # reversed
    fun("f10", [(0, V), (7200, V), (7300, A), (10800, O)])  # window restarts at the second view
    fun("f11", [(0, V), (1, A), (2, A), (3, O)])
    fun("f12", [(0, V), (1, V), (2, V)])
    fun("f13", [(0, V), (3600, A), (3600, O)])          # two steps at the window edge
    fun("f14", [(0, X), (1, V), (2, X), (3, A), (4, X), (5, O)])
    # day boundaries and exact midnights
    for d in range(8):
        add(D0 + d * 86400, "page_viewed", "mid%d" % (d % 3), "", country="DE", device="mobile")
        add(D0 + d * 86400 - 1, "page_viewed", "mid%d" % (d % 3), "", country="DE", device="mobile")
    # rows without a user id (an anonymous id is required), one of them with no country/device
    add(D0 + 5000, "page_viewed", "", "anon-x", country="US", device="desktop")
    add(D0 + 5001, "page_viewed", "", "anon-y", country="", device="")
    recs.sort(key=lambda r: (r["ts"], r["event_id"]))
    return recs


def tsv_escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\0", "\\0"))


def dt_text(sec):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))


def record_to_tsv(r, offset):
    """The row ff_row_from_record makes, as one ClickHouse TSV line."""
    vals = []
    for name in CH_NAMES:
        if name in ("ts", "received_at"):  # received_at: the importer's clock, not compared
            vals.append(dt_text(r["ts"] // 1000))
        elif name == "log_offset":
            vals.append(str(offset))
        elif name in ("price", "revenue", "quantity"):
            v = r.get(name)
            vals.append("\\N" if v is None else str(v))
        elif name == "properties":
            p = r.get("properties")
            vals.append(tsv_escape(json.dumps(p, separators=(",", ":"))) if p else "")
        else:
            vals.append(tsv_escape(str(r.get(name, ""))))
    return "\t".join(vals)


TAOBAO_EVENTS = {"pv": "product_viewed", "cart": "product_added",
                 "fav": "product_added_to_wishlist", "buy": "order_completed"}


def taobao_to_tsv(line, offset):
    user, item, cat, beh, ts = line.rstrip("\r\n").split(",")
    row = {"type": "track", "event": TAOBAO_EVENTS[beh], "event_original": beh,
           "user_id": user, "product_id": item, "category": cat}
    vals = []
    for name in CH_NAMES:
        if name in ("ts", "received_at"):
            vals.append(dt_text(int(ts)))
        elif name == "log_offset":
            vals.append(str(offset))
        elif name in ("price", "revenue", "quantity"):
            vals.append("\\N")
        else:
            vals.append(row.get(name, ""))
    return "\t".join(vals)


# ---------------------------------------------------------------- ClickHouse

class ClickHouse:
    def __init__(self, root):
        self.root = root
        self.pid = None
        self.proc = None
        self.url = None

    def start(self):
        d = self.root
        for sub in ("data/tmp", "data/user_files", "data/format_schemas", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        port = free_port()
        with open(os.path.join(d, "users.xml"), "w") as f:
            f.write("""<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage>
    <max_threads>2</max_threads></default></profiles>
  <users><default><password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
""")
        with open(os.path.join(d, "config.xml"), "w") as f:
            f.write("""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log>
    <errorlog>{d}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{port}</http_port>
  <max_concurrent_queries>20</max_concurrent_queries>
  <mark_cache_size>67108864</mark_cache_size>
  <path>{d}/data/</path>
  <tmp_path>{d}/data/tmp/</tmp_path>
  <user_files_path>{d}/data/user_files/</user_files_path>
  <format_schema_path>{d}/data/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
""".format(d=d, port=port))
        out = open(os.path.join(d, "log", "stdout"), "wb")
        self.proc = subprocess.Popen([CH_SERVER, "--config-file=" + os.path.join(d, "config.xml")],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.url = "http://127.0.0.1:%d/" % port
        t_end = time.time() + 30
        while time.time() < t_end:
            if self.proc.poll() is not None:
                break
            try:
                if self.query("SELECT 1").strip() == "1":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        tail = ""
        for fn in ("log/stdout", "log/error.log"):
            try:
                with open(os.path.join(d, fn), errors="replace") as f:
                    tail += f.read()[-2000:]
            except OSError:
                pass
        raise RuntimeError("clickhouse-server did not answer within 30 s:\n" + tail)

    def query(self, sql, data=None, database=None, timeout=60):
        params = {"output_format_json_quote_64bit_integers": "1"}
        if database:
            params["database"] = database
        if data is None:
            body = sql.encode()
        else:
            params["query"] = sql
            body = data
        req = urllib.request.Request(self.url + "?" + urllib.parse.urlencode(params), data=body)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            raise RuntimeError(e.read().decode("utf-8", "replace").strip()) from None

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


# ---------------------------------------------------------------- queries

class Query:
    def __init__(self, name, path, line):
        self.name, self.path, self.line = name, path, line
        self.data = "gen"
        self.approx = {}
        self.ch = []
        self.why = ""
        self.footfall_only = None
        self.expect = None
        self.sql_lines = []

    @property
    def sql(self):
        return "\n".join(self.sql_lines).strip().rstrip(";").strip()

    @property
    def ch_sql(self):
        return " ".join(self.ch).strip().rstrip(";") if self.ch else self.sql


def load_queries(paths):
    out = []
    for path in paths:
        cur = None
        with open(path) as f:
            for no, line in enumerate(f, 1):
                line = line.rstrip("\n")
                m = re.match(r"\s*--\s*([a-z-]+):\s?(.*)$", line)
                if m and m.group(1) == "name":
                    cur = Query(m.group(2).strip(), path, no)
                    out.append(cur)
                    continue
                if cur is None:
                    continue
                if m and m.group(1) in ("data", "approx", "clickhouse", "why", "footfall-only", "expect"):
                    k, v = m.group(1), m.group(2).strip()
                    if k == "data":
                        cur.data = v
                    elif k == "approx":
                        for part in v.split(","):
                            c, tol = part.split("=")
                            cur.approx[int(c)] = float(tol)
                    elif k == "clickhouse":
                        cur.ch.append(v)
                    elif k == "why":
                        cur.why = (cur.why + " " + v).strip()
                    elif k == "footfall-only":
                        cur.footfall_only = v
                    else:
                        cur.expect = json.loads(v)
                    continue
                if re.match(r"\s*--", line) or not line.strip():
                    continue
                cur.sql_lines.append(line)
    names = [q.name for q in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate query names: %s" % ", ".join(sorted(dup)))
    for q in out:
        if not q.sql:
            raise SystemExit("%s:%d: query %s has no SQL" % (q.path, q.line, q.name))
        if q.footfall_only and q.expect is None:
            raise SystemExit("%s:%d: footfall-only query %s needs -- expect:" % (q.path, q.line, q.name))
        if q.ch and not q.why:
            raise SystemExit("%s:%d: query %s has a clickhouse: spelling but no -- why:" % (q.path, q.line, q.name))
    return out


DT64_RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.000$")
NUM_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def norm(v):
    """A comparable form of one JSON value: ('n', Decimal) / ('f', float) / ('s', text) / list."""
    if isinstance(v, list):
        return [norm(x) for x in v]
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("n", decimal.Decimal(int(v)))
    if isinstance(v, int):
        return ("n", decimal.Decimal(v))
    if isinstance(v, float):
        return ("f", v)
    if isinstance(v, str):
        m = DT64_RE.match(v)
        if m:
            return ("s", m.group(1))
        if v.startswith("0000-00-00"):  # 18.16 prints the zero Date/DateTime so; modern: 1970-01-01
            return ("s", "1970-01-01" + v[10:])
        if NUM_RE.match(v):
            d = decimal.Decimal(v)
            return ("n", d) if "e" not in v.lower() else ("f", float(v))
        if v in ("nan", "inf", "-inf", "+inf"):
            return ("f", float(v))
        return ("s", v)
    return ("s", json.dumps(v))


def as_float(x):
    return float(x[1]) if x[0] in ("n", "f") else None


def same(a, b, tol):
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(same(x, y, tol) for x, y in zip(a, b)))
    if a[0] in ("n", "f") and b[0] in ("n", "f"):
        x, y = as_float(a), as_float(b)
        if x != x or y != y:  # nan
            return x != x and y != y
        if a[0] == "n" and b[0] == "n" and not tol:
            return a[1] == b[1]
        t = max(tol, 1e-9)
        return abs(x - y) <= t * max(abs(x), abs(y), 1e-300) or x == y
    return a == b


def sort_key(row):
    return json.dumps(row, default=str, sort_keys=True)


def has_order_by(sql):
    """ORDER BY of the outermost query (a crude but sufficient test: the last ORDER BY outside
    parentheses)."""
    depth = 0
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "''", sql)
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text[i:i + 8].upper() == "ORDER BY":
            return True
    return False


def rows_of(doc):
    meta = doc["meta"]
    return [[r[m["name"]] for m in meta] for r in doc["data"]]


def compare(q, ff_rows, ch_rows):
    """None when equal, else a message."""
    if len(ff_rows) != len(ch_rows):
        return "row count: footfall %d, clickhouse %d" % (len(ff_rows), len(ch_rows))
    a = [[norm(v) for v in r] for r in ff_rows]
    b = [[norm(v) for v in r] for r in ch_rows]
    if not has_order_by(q.sql):
        a.sort(key=sort_key)
        b.sort(key=sort_key)
    for i, (ra, rb) in enumerate(zip(a, b)):
        if len(ra) != len(rb):
            return "row %d: %d columns vs %d" % (i, len(ra), len(rb))
        for c, (x, y) in enumerate(zip(ra, rb)):
            if not same(x, y, q.approx.get(c, 0.0)):
                return "row %d col %d: footfall %s, clickhouse %s" % (
                    i, c, json.dumps(ff_rows[i][c] if has_order_by(q.sql) else x, default=str),
                    json.dumps(ch_rows[i][c] if has_order_by(q.sql) else y, default=str))
    return None


# ---------------------------------------------------------------- footfall

def ff_query(ff_bin, data_dir, sql):
    p = subprocess.run([ff_bin, "query", "--data", data_dir, "--format", "json", sql],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.decode("utf-8", "replace").strip())
    return json.loads(p.stdout.decode("utf-8"))


def ff_import(ff_bin, data_dir, path, extra):
    cmd = [ff_bin, "import", "--data", data_dir, path] + extra
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("footfall import %s failed (%d): %s" % (
            " ".join(extra), p.returncode, p.stderr.decode("utf-8", "replace").strip()[-2000:]))


# ---------------------------------------------------------------- main

def load_data(ch, ff_bin, have_taobao, slice_csv, users_csv, tmp):
    """Create and fill both sides; returns {data set: footfall data folder}."""
    ddl = ", ".join("`%s` %s" % c for c in CH_COLUMNS)
    sets = ["gen"] + (["taobao"] if have_taobao else [])
    for s in sets:
        ch.query("CREATE DATABASE %s" % s)
        ch.query("CREATE TABLE %s.events (%s) ENGINE = MergeTree ORDER BY (user_id, ts)" % (s, ddl))
    recs = gen_records()
    nd = os.path.join(tmp, "gen.ndjson")
    with open(nd, "w") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    tsv = "\n".join(record_to_tsv(r, i) for i, r in enumerate(recs)) + "\n"
    ch.query("INSERT INTO gen.events FORMAT TabSeparated", data=tsv.encode())
    dirs = {"gen": os.path.join(tmp, "ff-gen")}
    ff_import(ff_bin, dirs["gen"], nd, ["--format", "ndjson"])
    log("gen: %d events loaded into both" % len(recs))
    if have_taobao:
        dirs["taobao"] = os.path.join(tmp, "ff-taobao")
        off = 0
        for path in (slice_csv, users_csv):
            with open(path) as f:
                lines = [ln for ln in f if ln.strip()]
            tsv = "\n".join(taobao_to_tsv(ln, off + i) for i, ln in enumerate(lines)) + "\n"
            off += len(lines)
            ch.query("INSERT INTO taobao.events FORMAT TabSeparated", data=tsv.encode())
            ff_import(ff_bin, dirs["taobao"], path, ["--map", "taobao"])
        log("taobao: %d events loaded into both" % off)
    return dirs


def run_queries(ch, ff_bin, dirs, queries, t0, failures, counts):
    # every record must have made it into both (the importer rejects nothing of ours)
    for s in dirs:
        n_ch = ch.query("SELECT count() FROM %s.events" % s).strip()
        n_ff = rows_of(ff_query(ff_bin, dirs[s], "SELECT count() FROM events"))[0][0]
        if str(n_ff) != n_ch:
            failures.append(("load_" + s, "row count after load: footfall %s, clickhouse %s" % (n_ff, n_ch)))
    for q in queries:
        if time.time() - t0 > DEADLINE_S:
            failures.append((q.name, "time budget of %d s exhausted" % DEADLINE_S))
            break
        if q.data not in dirs:
            log("skip %s (data set %s absent)" % (q.name, q.data))
            continue
        try:
            ff = rows_of(ff_query(ff_bin, dirs[q.data], q.sql))
        except Exception as e:  # noqa: BLE001 -- reported as a failure
            failures.append((q.name, "footfall: %s" % e))
            continue
        if q.footfall_only:
            counts["footfall_only"] += 1
            msg = compare(q, ff, q.expect)
        else:
            try:
                chd = json.loads(ch.query(q.ch_sql + " FORMAT JSON", database=q.data))
            except Exception as e:  # noqa: BLE001
                failures.append((q.name, "clickhouse: %s" % e))
                continue
            counts["compared"] += 1
            msg = compare(q, ff, rows_of(chd))
        if msg:
            failures.append((q.name, msg + ("\n    footfall: %s" % json.dumps(ff)[:600])))
        if VERBOSE or msg:
            log("%s %s [%s]" % ("FAIL" if msg else "ok  ", q.name, q.data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--footfall", default=os.environ.get("FOOTFALL_BIN", ""))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    if not os.access(CH_SERVER, os.X_OK):
        log("SKIPPED: %s is not installed (scripts/install-deps.sh installs it)" % CH_SERVER)
        return 0
    ff_bin = args.footfall or os.path.join(SOURCE_DIR, "build", "footfall")
    if not os.access(ff_bin, os.X_OK):
        log("FAIL: footfall binary not found (%s); set FOOTFALL_BIN" % ff_bin)
        return 1
    queries = load_queries(sorted(glob.glob(os.path.join(HERE, "*.sql"))))
    if args.only:
        queries = [q for q in queries if args.only in q.name]
    slice_csv = os.path.join(SHARED_DIR, "data", "taobao-userbehavior-slice", "UserBehavior_slice.csv")
    users_csv = os.path.join(SHARED_DIR, "data", "taobao-userbehavior-users", "UserBehavior_users.csv")
    have_taobao = os.path.exists(slice_csv) and os.path.exists(users_csv)
    if not have_taobao:
        log("SKIPPED (taobao queries only): %s is absent" % os.path.dirname(os.path.dirname(slice_csv)))
    keep = args.keep or os.environ.get("FF_KEEP_TMP") == "1"
    tmp = tempfile.mkdtemp(prefix="ff-sqldiff-")
    ch = ClickHouse(os.path.join(tmp, "clickhouse"))
    failures = []
    counts = {"compared": 0, "footfall_only": 0}
    try:
        ch.start()
        log("clickhouse-server %s on %s (pid %d)" % (ch.query("SELECT version()").strip(), ch.url, ch.pid))
        dirs = load_data(ch, ff_bin, have_taobao, slice_csv, users_csv, tmp)
        run_queries(ch, ff_bin, dirs, queries, t0, failures, counts)
    except Exception as e:  # noqa: BLE001 -- a set-up failure fails the test, with its reason
        failures.append(("setup", str(e)))
    finally:
        ch.stop()
        if keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for name, msg in failures:
        log("FAIL %s: %s" % (name, msg))
    log("%d queries compared with ClickHouse, %d footfall-only checks, %d failed (%.1f s)" % (
        counts["compared"], counts["footfall_only"], len(failures), time.time() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
