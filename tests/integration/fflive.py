"""fflive -- helpers for the stream processor's end-to-end tests (live metrics, SSE).

WHAT: a deterministic shop traffic generator (fixed message ids, fixed event times relative
to a base), GET /v1/live/snapshot, waiting until the processor has caught up with the log,
a small SSE reader, and SQL through /v1/query.
"""

import copy
import http.client
import json
import random
import time

import fflib

CURRENCIES = ["USD", "EUR"]
METHODS = ["credit_card", "paypal"]


def journeys(t0, n_users=60, seed=7, prefix="lv"):
    """Events of n_users shoppers starting within 8 minutes of t0, sorted by time. About a
    third abandon a cart, some a checkout, some pay after a failed attempt."""
    rnd = random.Random(seed)
    out = []
    for u in range(n_users):
        user, anon = "%s-u%d" % (prefix, u), "%s-a%d" % (prefix, u)
        t = t0 + rnd.randrange(0, 8 * 60000)
        k = [0]

        def ev(kind, name=None, ident="anon", props=None):
            k[0] += 1
            nonlocal t
            t += rnd.randrange(2000, 20000)
            e = {"type": kind, "messageId": "%s-%d-%d" % (prefix, u, k[0]),
                 "timestamp": fflib.iso_ms(t)}
            if ident in ("anon", "both"):
                e["anonymousId"] = anon
            if ident in ("user", "both"):
                e["userId"] = user
            if name:
                e["event" if kind == "track" else "name"] = name
            if props is not None:
                e["properties"] = props
            return e

        for p in range(rnd.randrange(2, 5)):
            out.append(ev("page", "Product", props={"url": "https://shop.test/p/%d?ref=x" % (p % 3)}))
        out.append(ev("track", "Products Searched", props={"query": ["shoes", "hat", "bag"][u % 3]}))
        out.append(ev("track", "Product Viewed", props={"product_id": "sku-%d" % (u % 5), "price": "12.50"}))
        out.append(ev("identify", ident="both"))
        out.append(ev("track", "Product Added", ident="user",
                      props={"product_id": "sku-%d" % (u % 5), "price": "12.50", "quantity": 1 + u % 2}))
        cur, meth = CURRENCIES[u % 2], METHODS[u % 2]
        if u % 3 != 0:
            out.append(ev("track", "Checkout Started", ident="user", props={"currency": cur}))
            if u % 4 == 1:
                out.append(ev("track", "Payment Failed", ident="user",
                              props={"currency": cur, "payment_method": meth, "amount": "25.00"}))
            if u % 5 != 4:
                out.append(ev("track", "Order Completed", ident="user",
                              props={"order_id": "o-%s-%d" % (prefix, u), "revenue": "%d.25" % (10 + u),
                                     "currency": cur, "payment_method": meth}))
    out.sort(key=lambda e: (e["timestamp"], e["messageId"]))
    return out


def batches(events, size=25):
    return [events[i:i + size] for i in range(0, len(events), size)]


def snapshot(port, key):
    r = fflib.request(port, "GET", "/v1/live/snapshot", None, {"Authorization": "Bearer " + key})
    if r.status != 200:
        raise AssertionError("snapshot: %s" % r.short())
    return r.json


def settle(port, key, timeout=30.0, quiet_s=1.5, min_events=0):
    """Wait until the processor has read the whole log and no derived record is still coming
    (the log offset is unchanged for quiet_s with lag 0). Returns the last snapshot."""
    deadline = time.monotonic() + timeout
    last, since = None, None
    while time.monotonic() < deadline:
        s = snapshot(port, key)
        sig = (s["log_offset"], s["lag"], s["totals"]["events"])
        if s["lag"] == 0 and s["totals"]["events"] >= min_events:
            if last == sig:
                if time.monotonic() - since >= quiet_s:
                    return s
            else:
                last, since = sig, time.monotonic()
        else:
            last = None
        time.sleep(0.1)
    raise AssertionError("the stream processor did not settle in %.0fs" % timeout)


def comparable(s):
    """A snapshot without what legitimately differs between two runs over the same input."""
    s = copy.deepcopy(s)
    for k in ("seq", "generated_at", "log_offset", "lag"):
        s.pop(k, None)
    return s


def query(port, key, sql):
    r = fflib.request(port, "POST", "/v1/query?format=json", sql.encode(),
                      {"Authorization": "Bearer " + key}, timeout=30)
    if r.status != 200:
        raise AssertionError("query %r: %s" % (sql, r.short()))
    return r.json["data"]


class Sse:
    """GET /v1/live read as Server-Sent Events (http.client undoes the chunking)."""

    def __init__(self, port, key=None, headers=None, path="/v1/live", timeout=10.0):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        self.conn.request("GET", path, headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = dict((k.lower(), v) for k, v in self.resp.getheaders())

    def next_event(self):
        """(id, event, data as JSON) of the next event; comments are skipped."""
        ev = {"id": None, "event": None, "data": []}
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("stream ended")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if ev["data"]:
                    return ev["id"], ev["event"], json.loads("\n".join(ev["data"]))
                continue
            if line.startswith(":"):
                continue
            field, _, val = line.partition(":")
            val = val[1:] if val.startswith(" ") else val
            if field == "data":
                ev["data"].append(val)
            elif field in ("id", "event"):
                ev[field] = val

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass
