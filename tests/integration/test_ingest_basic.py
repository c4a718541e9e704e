#!/usr/bin/env python3
"""End-to-end: the Segment-compatible collector on every path and auth style,
and what lands in the log (canonical mapping, privacy scrubbing).

Starts `footfall serve` on an ephemeral port with a temp data dir, drives it
over HTTP and checks `footfall log dump`. See README.md in this folder.
"""

import decimal
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fflib  # noqa: E402
from fflib import uid, iso_ms, now_ms, dec  # noqa: E402

LONG = ["track", "page", "screen", "identify", "group", "alias"]
SHORT = {"t": "track", "p": "page", "s": "screen", "i": "identify", "g": "group", "a": "alias"}


def event_of(kind, mid, user="u-basic"):
    e = {"type": kind, "messageId": mid, "userId": user}
    if kind == "track":
        e["event"] = "Button Clicked"
        e["properties"] = {"element": "buy"}
    elif kind in ("page", "screen"):
        e["name"] = "Home"
        e["properties"] = {"title": "Home"}
    elif kind == "identify":
        e["traits"] = {"plan": "pro"}
    elif kind == "group":
        e["groupId"] = "g-1"
        e["traits"] = {"name": "ACME"}
    elif kind == "alias":
        e["previousId"] = "anon-prev-1"
    return e


def body_for(path, events):
    """Single-event paths take the event itself; batch paths wrap it."""
    if path in ("/v1/batch", "/v1/b"):
        return {"batch": events}
    assert len(events) == 1
    ev = dict(events[0])
    return ev


def accepted_ok(c, r, n, what):
    j = r.json if r.status == 200 else None
    ok = (r.status == 200 and isinstance(j, dict) and j.get("success") is True
          and j.get("accepted") == n and not j.get("rejected"))
    return c.check(ok, what, "expected 200 success accepted=%d, got %s" % (n, r.short()))


def run(c):
    work = fflib.tmpdir()
    data = os.path.join(work, "data")
    wkey = fflib.create_key(data, "write", "site")
    rkey = fflib.create_key(data, "read", "dash")
    akey = fflib.create_key(data, "admin", "ops")
    c.check(len({wkey, rkey, akey}) == 3, "keys create returns distinct keys")
    c.check(fflib.files_containing(data, [wkey.encode(), rkey.encode(), akey.encode()]) == {},
            "keys are stored hashed (raw key bytes nowhere in the data dir)")

    srv = fflib.Server(data, workdir=work).start()
    port = srv.port
    c.eq(srv.healthz(), 200, "GET /healthz -> 200")

    _, m0 = srv.metrics()
    c.check("footfall_events_accepted_total" in m0, "/metrics has footfall_events_accepted_total",
            sorted(m0)[:40])
    t_start = now_ms()
    expect = {}      # messageId -> type
    n_accepted = 0

    # ---- every path x auth style (long paths as JSON, one-letter ones as text/plain like analytics.js)
    paths = ["/v1/" + p for p in LONG] + ["/v1/" + p for p in SHORT] + ["/v1/batch", "/v1/b"]
    for path in paths:
        tail = path.rsplit("/", 1)[1]
        kind = SHORT.get(tail, tail)
        for auth in ("basic", "body"):
            ctype = "text/plain" if len(tail) == 1 else "application/json"
            if path in ("/v1/batch", "/v1/b"):
                evs = [event_of(k, uid("path")) for k in LONG]
            else:
                evs = [event_of(kind, uid("path"))]
            r = fflib.post_json(port, path, body_for(path, evs), wkey, auth=auth, ctype=ctype)
            if accepted_ok(c, r, len(evs), "POST %s auth=%s %s" % (path, auth, ctype)):
                n_accepted += len(evs)
                for e in evs:
                    expect[e["messageId"]] = e["type"]

    # ---- OAuth style: Bearer token + writeKey in body (api-compat 2.1 auth #3)
    ev = event_of("track", uid("bearer"))
    r = fflib.post_json(port, "/v1/track", ev, wkey, auth="bearer")
    if accepted_ok(c, r, 1, "POST /v1/track with Bearer + body writeKey (api-compat 2.1 #3)"):
        n_accepted += 1
        expect[ev["messageId"]] = "track"

    # ---- gzip body
    evs = [event_of("track", uid("gz")) for _ in range(3)]
    r = fflib.post_json(port, "/v1/batch", {"batch": evs}, wkey, gzip=True)
    if accepted_ok(c, r, 3, "POST /v1/batch Content-Encoding: gzip"):
        n_accepted += 3
        for e in evs:
            expect[e["messageId"]] = "track"

    # ---- batch envelope context merged into items (api-compat 2.1 /v1/batch)
    env_ev = event_of("track", uid("envctx"))
    r = fflib.post_json(port, "/v1/batch", {"batch": [env_ev], "context": {"locale": "de-DE"}}, wkey)
    if accepted_ok(c, r, 1, "POST /v1/batch with envelope context"):
        n_accepted += 1
        expect[env_ev["messageId"]] = "track"

    # ---- CORS preflight (analytics-next batching sends Authorization, X-Retry-Count)
    r = srv.request("OPTIONS", "/v1/b", headers={
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-retry-count"})
    c.eq(r.status, 204, "OPTIONS /v1/b preflight -> 204")
    acao = r.header("access-control-allow-origin")
    c.check(acao in ("*", "https://shop.example"), "preflight Access-Control-Allow-Origin", acao)
    acam = (r.header("access-control-allow-methods") or "").upper()
    c.check("POST" in acam, "preflight Access-Control-Allow-Methods includes POST", acam)
    acah = (r.header("access-control-allow-headers") or "").lower()
    for h in ("authorization", "content-type", "x-retry-count"):
        c.check(h in acah, "preflight Access-Control-Allow-Headers includes %s" % h, acah)
    ev = event_of("track", uid("cors"))
    r = fflib.post_json(port, "/v1/t", ev, wkey, auth="body", ctype="text/plain",
                        headers={"Origin": "https://shop.example"})
    if accepted_ok(c, r, 1, "POST /v1/t with Origin"):
        n_accepted += 1
        expect[ev["messageId"]] = "track"
    c.check(r.header("access-control-allow-origin") in ("*", "https://shop.example"),
            "POST with Origin gets Access-Control-Allow-Origin (browser can read the reply)",
            r.header("access-control-allow-origin"))

    # ---- partial batch: valid stored, invalid reported by index + reason
    good1, good2 = uid("pgood"), uid("pgood")
    bad = [uid("pbad") for _ in range(3)]
    batch = [
        fflib.track(good1, "Checkout Started"),
        {"type": "track", "messageId": bad[0], "userId": "u-1"},                 # no event name
        {"type": "track", "messageId": bad[1], "event": "Anonymous Thing"},      # no identity
        fflib.track(good2, "Checkout Started"),
        {"type": "track", "messageId": bad[2], "event": 123, "userId": "u-1"},   # wrong type
    ]
    r = fflib.post_batch(port, batch, wkey)
    j = r.json if isinstance(r.json, dict) else {}
    c.eq(r.status, 200, "partial batch -> 200")
    c.eq(j.get("accepted"), 2, "partial batch accepted count")
    rej = sorted((x.get("i"), x.get("reason")) for x in (j.get("rejected") or []))
    c.eq(rej, [(1, "missing_field:event"), (2, "missing_identity"), (4, "invalid_type:event")],
         "partial batch rejected indexes and reasons")
    n_accepted += j.get("accepted") or 0
    n_rejected = len(rej)
    expect[good1] = expect[good2] = "track"

    # ---- auth failures
    ev = event_of("track", uid("authfail"))
    r_read = fflib.post_json(port, "/v1/track", ev, rkey)
    c.eq(r_read.status, 403, "read key on ingest -> 403")
    r_adm = fflib.post_json(port, "/v1/track", ev, akey)
    c.eq(r_adm.status, 403, "admin key on ingest -> 403")
    r_bad = fflib.post_json(port, "/v1/track", ev, "ffw_" + "0" * 40)
    c.eq(r_bad.status, 401, "unknown key -> 401")
    r_none = fflib.post_json(port, "/v1/track", ev, None)
    c.eq(r_none.status, 401, "no key -> 401")
    c.eq(r_bad.body, r_none.body, "unknown key and missing key get the same body")
    for rr, what in ((r_read, "403"), (r_bad, "401")):
        j = rr.json if isinstance(rr.json, dict) else {}
        c.check(j.get("success") is False and isinstance(j.get("code"), str) and j.get("message"),
                "%s body is {success:false, code, message}" % what, rr.short())
    r_b64 = srv.request("POST", "/v1/track", b"{}", {"Content-Type": "application/json",
                                                      "Authorization": "Basic !!!notbase64"})
    c.eq(r_b64.status, 401, "garbage Basic credentials -> 401")

    # ---- key created while the server runs is picked up within ~1 s
    k2 = fflib.create_key(data, "write", "late")
    t0 = time.monotonic()
    ev = event_of("track", uid("latekey"))

    def try_late():
        rr = fflib.post_json(port, "/v1/track", ev, k2)
        return rr if rr.status != 401 else None
    rr = fflib.wait_until(try_late, 5.0, interval=0.1)
    dt = time.monotonic() - t0
    if c.check(rr is not None and rr.status == 200, "key created while serving works within 5 s",
               "still 401 after %.1fs" % dt):
        n_accepted += 1
        expect[ev["messageId"]] = "track"
        c.check(dt < 2.5, "new key picked up within ~1 s", "took %.2fs" % dt)

    # ---- wrong method on ingest
    for m in ("GET", "PUT", "DELETE"):
        r = srv.request(m, "/v1/track", body=b"" if m != "GET" else None)
        c.eq(r.status, 405, "%s /v1/track -> 405" % m)
        allow = [x.strip().upper() for x in (r.header("allow") or "").split(",")]
        c.check("POST" in allow and "OPTIONS" in allow, "%s 405 has Allow: POST, OPTIONS" % m,
                r.header("allow"))

    # ---- canonical mapping and privacy
    ts = now_ms() - 3600 * 1000
    pan, pan_nested = fflib.random_pan("4"), fflib.random_pan("5")
    secret = "hunter2-" + uid("pw")
    cvv = "7%02d" % (int(time.time()) % 100)
    ip_full = "203.0.113.%d" % (100 + int(time.time()) % 100)
    pv = uid("pv")
    oc = uid("oc")
    ga = uid("ga")
    anon = uid("anon")
    props = {"product_id": "P-42", "category": "Shoes", "price": decimal.Decimal("19.99"),
             "currency": "USD", "name": "Runner", "password": secret, "card": pan,
             "payment": {"details": {"number": pan_nested}}, "cvv": cvv, "colour": "red"}
    evs = [
        {"type": "track", "messageId": pv, "event": "Product Viewed", "userId": "user-42",
         "anonymousId": anon, "timestamp": iso_ms(ts), "properties": props,
         "context": {"ip": ip_full, "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
                     "page": {"url": "https://shop.example/p/42", "referrer": "https://search.example/"}}},
        {"type": "track", "messageId": oc, "event": "Order Completed", "userId": "user-42",
         "timestamp": iso_ms(ts + 1000),
         "properties": {"order_id": "O-9", "revenue": decimal.Decimal("1234.50"), "currency": "EUR",
                        "products": [{"product_id": "P-42", "price": decimal.Decimal("19.99"),
                                      "quantity": 2}]}},
        {"type": "track", "messageId": ga, "event": "view_item", "userId": "user-42",
         "timestamp": iso_ms(ts + 2000), "properties": {"product_id": "P-43"}},
    ]
    body = fflib.dumps({"batch": evs})
    c.check(b'"revenue":1234.50' in body and b'"price":19.99' in body, "money sent as exact decimal text")
    t_send = now_ms()
    r = fflib.request(port, "POST", "/v1/batch", body,
                      {"Content-Type": "application/json", "Authorization": fflib.basic_auth(wkey)})
    t_done = now_ms()
    if accepted_ok(c, r, 3, "e-commerce batch accepted"):
        n_accepted += 3
        for e in evs:
            expect[e["messageId"]] = "track"

    # ---- everything is in the log exactly once, with the right type
    recs = fflib.log_dump(data)
    c.check(not recs.bad, "every log dump line is valid JSON", recs.bad[:2])
    idx = fflib.by_event_id(recs)
    missing = [m for m in expect if m not in idx]
    dup = [m for m in expect if len(idx.get(m, [])) > 1]
    c.check(not missing, "every accepted event is in log dump", "%d missing, e.g. %s" % (len(missing), missing[:3]))
    c.check(not dup, "no accepted event is stored twice", dup[:3])
    wrong_type = [(m, t, idx[m][0].get("type")) for m, t in expect.items() if m in idx and idx[m][0].get("type") != t]
    c.check(not wrong_type, "stored type matches the call", wrong_type[:3])
    leaked = [m for m in bad + [uid("never")] if m in idx]
    c.check(not leaked, "rejected events are not stored", leaked)
    c.check(all(r_.get("v") == 1 for r_ in recs), "every record has v=1")
    badorder = [list(r_.keys()) for r_ in recs if not fflib.key_order_ok(r_)]
    c.check(not badorder, "record keys are canonical names in canonical order", badorder[:1])
    c.check(all(isinstance(r_.get("received_at"), int) and t_start - 5000 <= r_["received_at"] <= now_ms() + 5000
                for r_ in recs), "received_at is an int ms near now")
    envr = idx.get(env_ev["messageId"], [{}])[0]
    c.eq(((envr.get("context") or {}).get("locale")), "de-DE", "batch envelope context merged into the event")

    p = idx.get(pv, [{}])[0]
    c.eq(p.get("event"), "product_viewed", "Product Viewed -> event product_viewed")
    c.eq(p.get("event_original"), "Product Viewed", "event_original keeps the name as sent")
    c.eq(p.get("ts"), ts, "ts is the sent timestamp in ms")
    c.check(isinstance(p.get("received_at"), int) and t_send - 1000 <= p["received_at"] <= t_done + 1000,
            "received_at within the request window", (t_send, p.get("received_at"), t_done))
    c.eq(p.get("user_id"), "user-42", "user_id mapped")
    c.eq(p.get("anonymous_id"), anon, "anonymous_id mapped")
    c.eq(p.get("product_id"), "P-42", "product_id lifted to its column")
    c.eq(p.get("category"), "Shoes", "category lifted to its column")
    c.eq(dec(p.get("price")), decimal.Decimal("19.99"), "price exact decimal 19.99")
    c.eq(p.get("currency"), "USD", "currency lifted")
    c.eq(p.get("url"), "https://shop.example/p/42", "url from context.page.url")
    c.eq(p.get("referrer"), "https://search.example/", "referrer from context.page.referrer")
    c.eq(p.get("ip"), ".".join(ip_full.split(".")[:3]) + ".0", "ip truncated to /24 (default ip-mode)")
    c.check("ip" not in (p.get("context") or {}), "context is stored without ip", p.get("context"))
    pp = p.get("properties") or {}
    c.eq(pp.get("password"), "[REDACTED]", "password property redacted")
    c.eq(pp.get("cvv"), "[REDACTED]", "cvv property redacted")
    c.eq(pp.get("card"), "[REDACTED_PAN]", "Luhn-valid card number masked")
    c.eq(((pp.get("payment") or {}).get("details") or {}).get("number"), "[REDACTED_PAN]",
         "nested Luhn-valid card number masked")
    c.eq(pp.get("colour"), "red", "other properties kept")
    c.check(p.get("browser") is None or "firefox" in str(p.get("browser")).lower(),
            "browser (if derived) is Firefox", p.get("browser"))

    o = idx.get(oc, [{}])[0]
    c.eq(o.get("event"), "order_completed", "Order Completed -> order_completed")
    c.eq(o.get("order_id"), "O-9", "order_id lifted")
    c.eq(dec(o.get("revenue")), decimal.Decimal("1234.50"), "revenue exact")
    c.eq(o.get("currency"), "EUR", "currency EUR")
    prods = (o.get("properties") or {}).get("products")
    c.check(isinstance(prods, list) and len(prods) == 1 and prods[0].get("product_id") == "P-42"
            and dec(prods[0].get("price")) == decimal.Decimal("19.99"),
            "products[] kept in properties with exact price", prods)

    g = idx.get(ga, [{}])[0]
    c.eq(g.get("event"), "product_viewed", "GA4 view_item -> product_viewed")
    c.eq(g.get("event_original"), "view_item", "GA4 original name kept")

    # nothing secret anywhere on disk (log, keys, anything else) nor in the server's own log
    needles = [secret.encode(), pan.encode(), pan_nested.encode(), ip_full.encode(),
               ('"cvv":"%s"' % cvv).encode()]
    hits = fflib.files_containing(data, needles)
    c.check(not hits, "raw password / card numbers / full IP appear nowhere in the data dir",
            {k.decode(): v for k, v in hits.items()})
    with open(srv.stderr_path, "rb") as f:
        errlog = f.read()
    c.check(not [n for n in needles[:3] if n in errlog], "server log has no raw secrets")

    # ---- metrics moved by exactly what was accepted
    _, m1 = srv.metrics()
    d_acc = m1.get("footfall_events_accepted_total", 0) - m0.get("footfall_events_accepted_total", 0)
    c.eq(int(d_acc), n_accepted, "footfall_events_accepted_total moved by the accepted count")
    rej_names = [k for k in m1 if "rejected" in k and k.endswith("_total")]
    if c.check(rej_names, "/metrics has a rejected-events counter", sorted(m1)[:40]):
        d_rej = sum(m1[k] - m0.get(k, 0) for k in rej_names)
        c.check(d_rej >= n_rejected, "rejected counter moved by >= %d" % n_rejected, d_rej)
    http_names = [k for k in m1 if "request" in k]
    c.check(http_names, "/metrics counts HTTP requests", sorted(m1)[:40])

    # ---- clean shutdown, verify
    rc = srv.stop()
    c.eq(rc, 0, "SIGTERM -> clean exit 0")
    vrc, vout = fflib.log_verify(data)
    c.eq(vrc, 0, "log verify passes after the run (%s)" % vout.strip()[:200])
    recs2 = fflib.log_dump(data)
    c.eq(len(recs2), len(recs), "log dump after shutdown has the same records")


if __name__ == "__main__":
    fflib.main("test_ingest_basic", run)
