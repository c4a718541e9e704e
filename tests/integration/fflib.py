"""fflib -- shared helpers for Footfall's end-to-end tests (Python 3 stdlib only).

WHAT: start and stop the real `footfall` binary by PID on 127.0.0.1:0 in a
temporary data dir, create keys, talk HTTP to it (http.client for ordinary
requests, raw sockets where the wire bytes matter), read the log back with
`footfall log dump` / `log verify`, scrape /metrics, and a tiny check
harness that always ends with the line "N passed, N failed".

DESIGN: every wait is a bounded poll (wait_until), never a fixed sleep; every
server a test starts is registered and killed by PID at exit, whatever
happened. Nothing here knows test expectations: tests own those.

Environment: FOOTFALL_BIN (built binary), FF_SHARED_DIR, FF_SOURCE_DIR (set
by CTest); FF_KEEP_TMP=1 keeps temp dirs; FF_VERBOSE=1 prints every check.
"""

import atexit
import base64
import decimal
import gzip as _gzip
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("FF_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED_DIR = os.environ.get("FF_SHARED_DIR") or os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared"))
VERBOSE = os.environ.get("FF_VERBOSE") == "1"

# Order of the canonical record's keys (brief: "Canonical record").
CANONICAL_KEYS = [
    "v", "event_id", "type", "event", "event_original", "ts", "received_at", "sent_at",
    "original_ts", "user_id", "anonymous_id", "session_id", "url", "referrer", "product_id",
    "category", "price", "quantity", "order_id", "revenue", "currency", "search_term", "element",
    "country", "device", "browser", "os", "ip", "properties", "traits", "context", "flags",
]


# ---------------------------------------------------------------- basics

def now_ms():
    return int(time.time() * 1000)


def iso_ms(ms):
    """RFC 3339 UTC with milliseconds, as Segment SDKs send it."""
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)


def uid(prefix="m"):
    return "%s-%s" % (prefix, uuid.uuid4().hex)


def wait_until(pred, timeout, interval=0.02, what="condition"):
    """Poll pred() until truthy or timeout; returns the last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def footfall_bin():
    b = os.environ.get("FOOTFALL_BIN")
    if not b:
        for cand in ("build/footfall", "build-integ/footfall"):
            p = os.path.join(SOURCE_DIR, cand)
            if os.access(p, os.X_OK):
                b = p
                break
    if not b or not os.access(b, os.X_OK):
        print("FAIL: footfall binary not found (set FOOTFALL_BIN); got %r" % (b,))
        print("0 passed, 1 failed")
        sys.exit(1)
    return b


def luhn_ok(digits):
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def random_pan(prefix="4"):
    """A random Luhn-valid 16-digit card number (unique bytes to grep for)."""
    body = prefix + "".join(random.choice("0123456789") for _ in range(15 - len(prefix)))
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError("unreachable")


def _dec_tokens(o):
    if isinstance(o, decimal.Decimal):
        return "\x00DEC" + str(o) + "\x00"
    if isinstance(o, dict):
        return {k: _dec_tokens(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_dec_tokens(v) for v in o]
    return o


def dumps(obj, ensure_ascii=True):
    """JSON bytes; decimal.Decimal values are written as their exact number text."""
    s = json.dumps(_dec_tokens(obj), ensure_ascii=ensure_ascii, separators=(",", ":"))
    s = re.sub(r'"\\u0000DEC([-+0-9.eE]+)\\u0000"', r"\1", s)
    return s.encode("utf-8")


def basic_auth(key):
    return "Basic " + base64.b64encode((key + ":").encode()).decode()


def gzip_bytes(b):
    return _gzip.compress(b, mtime=0)


def dec(v):
    """Decimal from a JSON number (parsed with Decimal) or numeric string; None if absent."""
    if v is None:
        return None
    return decimal.Decimal(str(v))


# ---------------------------------------------------------------- temp dirs / cleanup

_TMPDIRS = []
_SERVERS = []


def tmpdir(prefix="ff-integ-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _TMPDIRS.append(d)
    return d


def _cleanup():
    for s in list(_SERVERS):
        s.kill_quiet()
    if os.environ.get("FF_KEEP_TMP") != "1":
        for d in _TMPDIRS:
            shutil.rmtree(d, ignore_errors=True)
    else:
        for d in _TMPDIRS:
            print("kept temp dir:", d)


atexit.register(_cleanup)


# ---------------------------------------------------------------- CLI

def run_cli(args, timeout=60, check=False, input=None):
    p = subprocess.run([footfall_bin()] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError("footfall %s -> rc %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


def create_key(data_dir, kind, name=None):
    args = ["keys", "create", "--data", data_dir, "--kind", kind]
    if name:
        args += ["--name", name]
    p = run_cli(args, timeout=30, check=True)
    out = p.stdout.decode().strip()
    if not out or "\n" in out or " " in out:
        raise AssertionError("keys create printed %r, expected the key alone" % out)
    return out


class Records(list):
    """Parsed dump records; .bad lists (line number, error, text) of lines that are not JSON."""
    bad = ()


def parse_ndjson(text, parse_float=decimal.Decimal):
    recs = Records()
    bad = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            recs.append(json.loads(line, parse_float=parse_float))
        except ValueError as e:
            bad.append((i + 1, str(e), line[:400]))
    recs.bad = bad
    return recs


def log_dump(data_dir, from_offset=None, raw=False):
    """Records of `footfall log dump` (numbers with a fraction parsed as Decimal)."""
    args = ["log", "dump", "--data", data_dir]
    if from_offset is not None:
        args += ["--from", str(from_offset)]
    p = run_cli(args, timeout=120, check=True)
    text = p.stdout.decode("utf-8")
    if raw:
        return text
    return parse_ndjson(text)


def log_verify(data_dir):
    p = run_cli(["log", "verify", "--data", data_dir], timeout=120)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def by_event_id(records):
    out = {}
    for r in records:
        out.setdefault(r.get("event_id"), []).append(r)
    return out


def key_order_ok(rec):
    """True if rec's keys are a subsequence of CANONICAL_KEYS, in order."""
    pos = -1
    for k in rec.keys():
        if k not in CANONICAL_KEYS:
            return False
        p = CANONICAL_KEYS.index(k)
        if p <= pos:
            return False
        pos = p
    return True


def segments(data_dir):
    d = os.path.join(data_dir, "log")
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".ffl"))


def files_containing(root, needles):
    """{needle: [paths]} for byte strings found in any regular file under root."""
    found = {n: [] for n in needles}
    for dp, _, fns in os.walk(root):
        for fn in fns:
            p = os.path.join(dp, fn)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for n in needles:
                if n in data:
                    found[n].append(p)
    return {n: ps for n, ps in found.items() if ps}


# ---------------------------------------------------------------- server

class Server:
    """`footfall serve` on 127.0.0.1:0, owned by PID."""

    _n = 0

    def __init__(self, data_dir, args=(), workdir=None):
        self.data_dir = data_dir
        self.args = list(args)
        self.workdir = workdir or os.path.dirname(os.path.abspath(data_dir))
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.stderr_path = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=15.0):
        Server._n += 1
        self.stderr_path = os.path.join(self.workdir, "serve-%d.stderr" % Server._n)
        errf = open(self.stderr_path, "wb")
        cmd = [footfall_bin(), "serve", "--data", self.data_dir, "--listen", "127.0.0.1:0"] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL)
        errf.close()
        _SERVERS.append(self)
        line = self._read_first_line(timeout)
        m = re.match(r"^listening http://127\.0\.0\.1:(\d+)\s*$", line or "")
        if not m:
            rc = self.proc.poll()
            self.kill_quiet()
            raise AssertionError("serve did not print 'listening http://127.0.0.1:PORT' within %.0fs "
                                 "(first line %r, rc %r); stderr tail:\n%s"
                                 % (timeout, line, rc, self.stderr_tail()))
        self.port = int(m.group(1))
        self.stdout_lines.append(line)
        t = threading.Thread(target=self._drain, daemon=True)
        t.start()
        return self

    def _read_first_line(self, timeout):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            rem = deadline - time.monotonic()
            if rem <= 0:
                return buf.decode(errors="replace") or None
            r, _, _ = select.select([fd], [], [], min(rem, 0.2))
            if r:
                chunk = os.read(fd, 1)  # byte-wise: leave the rest for the drain thread
                if not chunk:
                    return buf.decode(errors="replace") or None
                buf += chunk
            elif self.proc.poll() is not None:
                return buf.decode(errors="replace") or None
        return buf.decode(errors="replace").rstrip("\r\n")

    def _drain(self):
        try:
            for line in self.proc.stdout:
                self.stdout_lines.append(line.decode(errors="replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            rc = None
        self._forget()
        return rc

    def kill(self):
        """SIGKILL and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self._forget()

    def kill_quiet(self):
        try:
            self.kill()
        except Exception:
            pass

    def _forget(self):
        if self in _SERVERS:
            _SERVERS.remove(self)

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except (OSError, TypeError):
            return ""

    def rss_kb(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, TypeError):
            return None
        return None

    # -- HTTP conveniences
    def request(self, method, path, body=None, headers=None, timeout=15.0):
        return request(self.port, method, path, body, headers, timeout)

    def healthz(self, timeout=5.0):
        try:
            return request(self.port, "GET", "/healthz", timeout=timeout).status
        except (OSError, http.client.HTTPException):
            return None

    def metrics(self):
        return metrics(self.port)


# ---------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status, reason="", headers=None, body=b"", closed=None, interim=None,
                 error=None, raw=b""):
        self.status = status
        self.reason = reason
        self.headers = headers or []   # list of (name, value)
        self.body = body
        self.closed = closed           # raw only: server closed the connection after replying
        self.interim = interim or []   # raw only: 1xx statuses seen before the final one
        self.error = error             # raw only: why no (complete) response
        self.raw = raw
        self._json = None
        self._json_done = False

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    @property
    def json(self):
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body.decode("utf-8"), parse_float=decimal.Decimal)
            except (ValueError, UnicodeDecodeError):
                self._json = None
        return self._json

    @property
    def code(self):
        j = self.json
        return j.get("code") if isinstance(j, dict) else None

    def short(self):
        if self.status is None:
            return "no response (%s)" % self.error
        b = self.body[:200].decode("utf-8", "replace")
        return "%d %s" % (self.status, b)

    def __repr__(self):
        return "<Resp %s>" % self.short()


def request(port, method, path, body=None, headers=None, timeout=15.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


def post_json(port, path, obj, key=None, auth="basic", ctype="application/json", gzip=False,
              headers=None, timeout=15.0):
    """POST obj as JSON. auth: 'basic' (header), 'body' (writeKey in body), 'bearer'
    (Authorization: Bearer + writeKey in body), None (no key)."""
    obj = dict(obj)
    h = {}
    if ctype:
        h["Content-Type"] = ctype
    if key is not None:
        if auth == "basic":
            h["Authorization"] = basic_auth(key)
        elif auth == "body":
            obj["writeKey"] = key
        elif auth == "bearer":
            h["Authorization"] = "Bearer " + uuid.uuid4().hex
            obj["writeKey"] = key
    body = dumps(obj)
    if gzip:
        body = gzip_bytes(body)
        h["Content-Encoding"] = "gzip"
    if headers:
        h.update(headers)
    return request(port, "POST", path, body, h, timeout)


def post_batch(port, events, key, **kw):
    return post_json(port, kw.pop("path", "/v1/batch"), {"batch": events}, key, **kw)


def parse_metrics(text):
    """{(name, labels): value} and {name: sum over label sets}."""
    series, totals = {}, {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        try:
            v = float(m.group(3))
        except ValueError:
            continue
        series[(m.group(1), m.group(2) or "")] = v
        totals[m.group(1)] = totals.get(m.group(1), 0.0) + v
    return series, totals


def metrics(port):
    r = request(port, "GET", "/metrics")
    if r.status != 200:
        raise AssertionError("GET /metrics -> %s" % r.short())
    return parse_metrics(r.body.decode("utf-8", "replace"))


# ---------------------------------------------------------------- raw sockets

def parse_response(buf, head_only=False):
    """Parse one HTTP response from buf. Returns (Resp, rest) or None if incomplete.
    1xx responses are skipped and listed in Resp.interim."""
    interim = []
    while True:
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = buf[:end].decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"^HTTP/(\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        status = int(m.group(2))
        hdrs = []
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs.append((k.strip(), v.strip()))
        rest = buf[end + 4:]
        if 100 <= status < 200:
            interim.append(status)
            buf = rest
            continue
        break
    r = Resp(status, m.group(3) or "", hdrs, b"", interim=interim)
    if head_only or status in (204, 304):
        return r, rest
    te = (r.header("transfer-encoding") or "").lower()
    cl = r.header("content-length")
    if "chunked" in te:
        body, pos = b"", 0
        while True:
            e = rest.find(b"\r\n", pos)
            if e < 0:
                return None
            size = int(rest[pos:e].split(b";")[0], 16)
            if size == 0:
                t = rest.find(b"\r\n\r\n", e)
                if t < 0:
                    return None
                r.body = body
                return r, rest[t + 4:]
            if len(rest) < e + 2 + size + 2:
                return None
            body += rest[e + 2:e + 2 + size]
            pos = e + 2 + size + 2
    if cl is not None:
        n = int(cl)
        if len(rest) < n:
            return None
        r.body = rest[:n]
        return r, rest[n:]
    return None  # body until close: caller finishes it


class RawConn:
    """A raw client connection; send bytes, read responses with deadlines."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.eof = False
        self.reset = False
        self.send_error = None

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError) as e:
            self.send_error = e
            return False

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _recv(self, timeout):
        if self.eof:
            return False
        self.sock.settimeout(max(0.001, timeout))
        try:
            chunk = self.sock.recv(262144)
        except socket.timeout:
            return None
        except (ConnectionResetError, OSError):
            self.eof = True
            self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def readable(self, timeout=0.0):
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def read_response(self, timeout=10.0):
        """Next response, or Resp(None, error=...) on timeout / close without one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                p = parse_response(self.buf)
            except ValueError as e:
                return Resp(None, error="unparsable: %s" % e, raw=self.buf)
            if p:
                r, self.buf = p
                return r
            rem = deadline - time.monotonic()
            if rem <= 0:
                return Resp(None, error="timeout %.1fs" % timeout, raw=self.buf)
            got = self._recv(rem)
            if got is False:
                # closed: a response without length ends here
                if self.buf.find(b"\r\n\r\n") >= 0:
                    try:
                        p = parse_response(self.buf, head_only=True)
                    except ValueError as e:
                        return Resp(None, error="unparsable: %s" % e, raw=self.buf)
                    if p:
                        r, rest = p
                        r.body = rest
                        self.buf = b""
                        return r
                return Resp(None, error="reset" if self.reset else "closed", raw=self.buf)

    def wait_closed(self, timeout=2.0):
        """True if the server closes the connection (EOF/RST) within timeout."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            rem = deadline - time.monotonic()
            if rem <= 0:
                return False
            self._recv(rem)
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def raw_exchange(port, data, timeout=10.0, check_close=False, close_wait=2.0):
    """Send raw bytes, read one response; with check_close also record whether the
    server closed the connection afterwards (Resp.closed)."""
    c = RawConn(port, timeout=timeout)
    try:
        c.send(data)
        r = c.read_response(timeout)
        if check_close:
            if r.status is None:
                r.closed = c.eof
            else:
                conn_hdr = (r.header("connection") or "").lower()
                r.closed = c.wait_closed(close_wait) or ("close" in conn_hdr and c.wait_closed(close_wait))
        return r
    finally:
        c.close()


def http_request_bytes(method, path, headers, body=b"", version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, path, version)]
    for k, v in headers:
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ---------------------------------------------------------------- events

def track(mid, event="Test Event", user="u-1", props=None, **extra):
    e = {"type": "track", "messageId": mid, "event": event, "userId": user}
    if props is not None:
        e["properties"] = props
    e.update(extra)
    return e


# ---------------------------------------------------------------- harness

class Checks:
    """Counts checks; finish() prints the summary line and exits 0/1."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def check(self, cond, what, detail=""):
        with self._lock:
            if cond:
                self.passed += 1
                if VERBOSE:
                    print("ok   - %s" % what)
            else:
                self.failed += 1
                self.failures.append((what, detail))
                print("FAIL - %s%s" % (what, (": " + str(detail)) if detail != "" else ""))
                sys.stdout.flush()
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, what, "expected %r, got %r" % (want, got))

    def skip(self, what, why):
        with self._lock:
            self.skipped += 1
        print("SKIP - %s: %s" % (what, why))

    def finish(self):
        dt = time.monotonic() - self.t0
        print("%s: %.1fs" % (self.name, dt))
        if self.failures:
            print("failures:")
            for w, d in self.failures:
                print("  - %s: %s" % (w, str(d)[:500]))
        line = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            line += ", %d skipped" % self.skipped
        sys.stdout.flush()
        print(line)
        sys.stdout.flush()
        return 1 if self.failed else 0


def main(name, body):
    """Run body(checks); any exception is a failure; always print the summary."""
    c = Checks(name)
    try:
        body(c)
    except SystemExit:
        raise
    except BaseException:
        c.check(False, "uncaught exception", traceback.format_exc())
    finally:
        for s in list(_SERVERS):
            s.kill_quiet()
    sys.exit(c.finish())


def skip_all(why):
    print("SKIPPED: %s" % why)
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(0)


# ---------------------------------------------------------------- event log files

SEG_HDR_BYTES = 16
FRAME_HDR_BYTES = 40
FRAME_MAGIC = 0x31424646  # "FFB1" little-endian


class Frame:
    def __init__(self, pos, n, length, base, time_ms, crc, crc_ok, records):
        self.pos = pos            # byte position of the frame header in the segment
        self.n = n
        self.length = length      # payload bytes
        self.base = base
        self.time_ms = time_ms
        self.crc = crc
        self.crc_ok = crc_ok
        self.records = records    # list of bytes

    @property
    def end(self):
        return self.pos + FRAME_HDR_BYTES + self.length


def read_frames(path):
    """Parse one segment file independently of the binary (docs/formats/evlog.md):
    16-byte header "FFLOGSEG"+u32 version, then frames of a 40-byte header
    [u32 magic][u16 version][u16 flags][u32 n][u32 len][u64 base][u64 time_ms]
    [u32 reserved][u32 crc32(header[0:36] + payload)] and n records of
    [u32 len][bytes]. Returns (frames, stop_pos, stop_reason or None)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < SEG_HDR_BYTES or data[:8] != b"FFLOGSEG":
        return [], 0, "bad segment header"
    frames = []
    pos = SEG_HDR_BYTES
    while pos < len(data):
        if len(data) - pos < FRAME_HDR_BYTES:
            return frames, pos, "short frame header"
        h = data[pos:pos + FRAME_HDR_BYTES]
        magic, ver, _flags, n, length, base, tms, _res, crc = struct.unpack("<IHHIIQQII", h)
        if magic != FRAME_MAGIC:
            return frames, pos, "bad frame magic"
        if pos + FRAME_HDR_BYTES + length > len(data):
            return frames, pos, "short frame payload"
        payload = data[pos + FRAME_HDR_BYTES:pos + FRAME_HDR_BYTES + length]
        import zlib as _z
        ok = (_z.crc32(payload, _z.crc32(h[:36])) & 0xFFFFFFFF) == crc
        recs, p = [], 0
        for _ in range(n):
            if p + 4 > length:
                break
            (rl,) = struct.unpack("<I", payload[p:p + 4])
            recs.append(payload[p + 4:p + 4 + rl])
            p += 4 + rl
        frames.append(Frame(pos, n, length, base, tms, crc, ok, recs))
        if not ok:
            return frames, pos, "crc mismatch"
        pos += FRAME_HDR_BYTES + length
    return frames, pos, None
