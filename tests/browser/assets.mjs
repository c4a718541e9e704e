// Contract test for what `footfall serve` must serve for the browser SDK and the demo shop
// (no browser needed): /sdk/footfall.js (+ .esm.js, .d.ts) with caching headers, every file of
// web/demo/ under /demo/ with the right content type, /demo/config.js, and the CORS headers the
// SDK relies on for cross-origin ingest.
//
//   node tests/browser/assets.mjs          (FOOTFALL_BIN)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { run, startFootfall, buildSdk, ROOT } from './lib.mjs';

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
