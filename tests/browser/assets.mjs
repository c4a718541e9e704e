// Contract test for what `footfall serve` must serve for the browser SDK, the demo shop and the
// dashboard's files (no browser needed): /sdk/footfall.js (+ .esm.js, .d.ts) with caching
// headers, every file of web/demo/ under /demo/ with the right content type, /demo/config.js,
// the CORS headers the SDK relies on for cross-origin ingest, and every file /dash/ loads
// (index.html's links and app.js's imports: app.*, uPlot's own uplot.*) under a content-hashed
// URL with the year-long immutable cache, the strict CSP and a gzip copy; uPlot out of app.*.
//
//   node tests/browser/assets.mjs          (FOOTFALL_BIN)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { run, startFootfall, buildSdk, ROOT, FOOTFALL_BIN } from './lib.mjs';

const TYPES = { html: /^text\/html/, js: /^(text|application)\/javascript/, css: /^text\/css/ };

run('assets', 60000, async (t, cleanup) => {
  const ff = await startFootfall();
  cleanup(() => ff.stop());
  const get = (p, headers = {}) => fetch(ff.url + p, { headers });

  // the SDK bundle
  const r = await get('/sdk/footfall.js');
  const body = Buffer.from(await r.arrayBuffer());
  t.eq(r.status, 200, 'GET /sdk/footfall.js is 200');
  t.check(TYPES.js.test(r.headers.get('content-type') || ''), 'JavaScript content type', r.headers.get('content-type'));
  t.check(/max-age=\d+/.test(r.headers.get('cache-control') || ''), 'Cache-Control with max-age', r.headers.get('cache-control'));
  const etag = r.headers.get('etag');
  t.check(!!etag, 'ETag', etag);
  t.eq(r.headers.get('access-control-allow-origin'), '*', 'Access-Control-Allow-Origin: * (pages on other origins load it)');
  const r304 = await get('/sdk/footfall.js', { 'If-None-Match': etag || 'x' });
  t.eq(r304.status, 304, 'If-None-Match -> 304');
  t.check(/window\.footfall\s*=/.test(body) && body.includes('"footfall.js"'), 'it is the script-tag build (sets window.footfall, library footfall.js)');
  const gz = gzipSync(body, { level: 9 }).length;
  t.check(gz < 6144, `served bundle is ${gz} bytes gzipped (< 6 KB)`);
  const fresh = readFileSync(join(buildSdk(), 'footfall.js'));
  if (!fresh.equals(body)) console.log('note assets: the embedded SDK differs from a fresh build of sdk/js (rebuild footfall to embed the current SDK)');
  const esm = await get('/sdk/footfall.esm.js');
  const esmText = await esm.text();
  t.check(esm.status === 200 && TYPES.js.test(esm.headers.get('content-type') || '') && /export\s*\{/.test(esmText), 'GET /sdk/footfall.esm.js serves the ES module');
  const dts = await get('/sdk/footfall.d.ts');
  t.check(dts.status === 200 && (await dts.text()).includes('interface Footfall'), 'GET /sdk/footfall.d.ts serves the types');

  // the demo shop: every file, byte for byte, with its content type
  for (const f of readdirSync(join(ROOT, 'web/demo'))) {
    const ext = f.slice(f.lastIndexOf('.') + 1);
    const d = await get('/demo/' + f);
    const got = Buffer.from(await d.arrayBuffer());
    t.check(d.status === 200 && (!TYPES[ext] || TYPES[ext].test(d.headers.get('content-type') || '')) && got.equals(readFileSync(join(ROOT, 'web/demo', f))),
      `GET /demo/${f}: 200, ${d.headers.get('content-type')}, same bytes`);
  }
  for (const p of ['/demo/', '/demo']) {
    const d = await get(p);
    const html = await d.text();
    t.check(d.status === 200 && /<base href="\/demo\/">/.test(html) && html.includes('/sdk/footfall.js'), `GET ${p} serves the shop's index page`);
  }
  const cfg = await get('/demo/config.js');
  const cfgText = await cfg.text();
  t.check(cfg.status === 200 && TYPES.js.test(cfg.headers.get('content-type') || '') && /window\.FOOTFALL_DEMO\s*=/.test(cfgText), 'GET /demo/config.js defines window.FOOTFALL_DEMO', cfgText);

  // the dashboard: index.html revalidates; every file it loads is named by content hash
  const idx = await get('/dash/');
  const html = await idx.text();
  const csp = idx.headers.get('content-security-policy') || '';
  t.check(idx.status === 200 && idx.headers.get('cache-control') === 'no-cache' && /default-src 'none'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe/.test(csp), 'GET /dash/: no-cache, strict Content-Security-Policy', csp);
  const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  t.check(refs.length >= 4 && refs.every((u) => /^[\w-]+\.(?:js|css)\?v=[0-9a-f]{12}$/.test(u)), 'index.html names only NAME?v=HASH files', refs);
  const raw = (path, headers) => new Promise((res, rej) => {
    http.get(ff.url + path, { headers }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
    }).on('error', rej);
  });
  const load = async (u) => {
    const r = await get('/dash/' + u);
    return { r, body: Buffer.from(await r.arrayBuffer()) };
  };
  const app = refs.find((u) => /^app\.js\?/.test(u));
  const appText = app ? (await load(app)).body.toString('utf8') : '';
  // app.js's own imports (static or dynamic) are files the browser fetches too
  const imports = [...appText.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"(\.\/[^"]+)"/g)].map((m) => m[1].slice(2));
  const uplot = imports.find((u) => /^uplot\.js\?/.test(u));
  t.check(!!uplot && /\?v=[0-9a-f]{12}$/.test(uplot) && imports.every((u) => /\?v=[0-9a-f]{12}$/.test(u)), 'app.js imports uPlot from its own file by hash (uplot.js?v=HASH)', imports);
  t.check(refs.includes(uplot) && html.includes(`rel="modulepreload" href="${uplot}"`), 'index.html preloads that very URL (no wait for app.js to be parsed)');
  const css = refs.filter((u) => /\.css\?/.test(u)).map((u) => u.replace(/\?.*/, ''));
  t.eq(css, ['uplot.css', 'app.css'], "uPlot's styles load first, so the dashboard's own rules win");
  const served = {};
  for (const u of [...new Set([...refs, ...imports])]) {
    const name = u.replace(/\?.*/, '');
    const { r: d, body } = await load(u);
    served[name] = body;
    const h = (k) => d.headers.get(k) || '';
    const ext = name.slice(name.lastIndexOf('.') + 1);
    t.check(d.status === 200 && TYPES[ext].test(h('content-type')) && u.endsWith('?v=' + createHash('sha256').update(body).digest('hex').slice(0, 12)), `GET /dash/${u}: 200, ${h('content-type')}, the hash is of its content`);
    t.check(h('cache-control') === 'public, max-age=31536000, immutable' && h('content-security-policy') === csp && h('x-content-type-options') === 'nosniff' && h('x-frame-options') === 'DENY', `/dash/${name}: cached a year (immutable), the same strict CSP, nosniff`, Object.fromEntries(d.headers));
    const r304 = await get('/dash/' + u, { 'If-None-Match': h('etag') || 'x' });
    const gz = await raw('/dash/' + u, { 'Accept-Encoding': 'gzip' }); // fetch() would inflate it
    t.check(r304.status === 304 && gz.headers['content-encoding'] === 'gzip' && gz.headers.vary === 'Accept-Encoding' && gunzipSync(gz.body).equals(body) && gz.headers['cache-control'] === h('cache-control') && gz.headers['content-security-policy'] === csp,
      `/dash/${name}: ETag -> 304; a gzip copy (${gz.body.length} of ${body.length} bytes) with the same headers`, gz.headers);
  }
  const bare = await get('/dash/uplot.js');
  t.check(bare.status === 200 && bare.headers.get('cache-control') === 'no-cache', 'without ?v= the same file is not cached immutable', bare.headers.get('cache-control'));
  // every file the build made is served, byte for byte, and loaded by the page
  const built = join(dirname(FOOTFALL_BIN), 'dash');
  if (existsSync(built)) {
    const made = readdirSync(built).filter((f) => f !== 'index.html').sort();
    t.eq(Object.keys(served).sort(), made, `the page loads every file of ${built}`);
    t.check(made.every((f) => served[f] && served[f].equals(readFileSync(join(built, f)))), 'the served files are the built ones');
  } else console.log(`note assets: no ${built} next to the binary: not compared with the build`);
  // uPlot lives in uplot.* only (its class names), and the sizes (gzip -9) stay in budget
  const has = (f, s) => !!served[f] && served[f].includes(s);
  t.check(has('uplot.js', 'u-cursor-pt') && has('uplot.css', '.u-over') && !has('app.js', 'u-cursor-pt') && !has('app.css', '.u-over'), "uPlot's code and styles are in uplot.js / uplot.css, not in app.js / app.css");
  const gzs = Object.fromEntries(Object.entries(served).map(([f, b]) => [f, gzipSync(b, { level: 9 }).length]));
  const total = Object.values(gzs).reduce((a, b) => a + b, 0);
  t.check(gzs['uplot.js'] < 25 * 1024 && gzs['app.js'] < 24 * 1024 && total < 48 * 1024, `dashboard files, gzip -9: ${Object.entries(gzs).map(([f, n]) => `${f} ${n}`).join(', ')}; ${total} B in all (budgets: uplot.js 25 KB, app.js 24 KB, all 48 KB)`);

  // ingest as a browser on another origin sends it
  const post = await fetch(ff.url + '/v1/batch', {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', Origin: 'http://shop.example' },
    body: JSON.stringify({ batch: [{ type: 'track', event: 'Contract', anonymousId: 'a', messageId: '5b0b6b8e-8a8a-4d7c-9a61-0c6f4a3b2a11' }], writeKey: ff.key, sentAt: new Date().toISOString() }),
  });
  const pj = await post.json();
  t.check(post.status === 200 && pj.success === true && pj.accepted === 1, 'POST /v1/batch text/plain from another origin: 200 {"success":true,"accepted":1}', pj);
  t.check(!!post.headers.get('access-control-allow-origin'), 'ingest answers carry Access-Control-Allow-Origin');
  const expose = (post.headers.get('access-control-expose-headers') || '').toLowerCase();
  t.check(expose.includes('retry-after'), 'ingest answers carry Access-Control-Expose-Headers: Retry-After (else a cross-origin page cannot honour it)', expose || '(absent)');
});
