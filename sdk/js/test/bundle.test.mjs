// The built bundles: script-tag build defines window.footfall (data-write-key auto-load, stub
// replay, default host = script origin), the ES module exports the same API, size < 6 KB gzip,
// and the TypeScript types compile (when typescript is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import vm from 'node:vm';
import { makeBrowser } from './fakebrowser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasEsbuild = existsSync(join(root, 'node_modules/esbuild'));
let out;

test.before(() => {
  if (!hasEsbuild) return;
  out = mkdtempSync(join(tmpdir(), 'ff-sdk-'));
  execFileSync(process.execPath, [join(root, 'build.mjs'), '--outdir', out], { stdio: 'pipe' });
});
test.after(() => out && rmSync(out, { recursive: true, force: true }));

function runIife(b) {
  const ctx = vm.createContext(b.w);
  vm.runInContext(readFileSync(join(out, 'footfall.js'), 'utf8'), ctx);
  return b.w.footfall;
}

const API = ['load', 'track', 'page', 'identify', 'alias', 'group', 'reset', 'flush', 'optIn', 'optOut', 'status', 'search',
  'productViewed', 'productAdded', 'productRemoved', 'cartViewed', 'checkoutStarted', 'paymentInfoEntered', 'orderCompleted', 'paymentFailed'];

test('IIFE defines window.footfall with the full API; host defaults to the script origin', { skip: !hasEsbuild && 'esbuild not installed' }, async () => {
  const script = { src: 'https://collector.example:8080/sdk/footfall.js', dataset: {} };
  const b = makeBrowser({ currentScript: script });
  const ff = runIife(b);
  for (const k of API) assert.equal(typeof ff[k], 'function', k);
  ff.load({ writeKey: 'wk', autocapture: false, flushAt: 1 });
  ff.track('x');
  await b.clock.tick(0);
  assert.equal(b.net.requests[0].url, 'https://collector.example:8080/v1/batch');
  const m = JSON.parse(b.net.requests[0].body).batch[0];
  assert.equal(m.context.library.version, JSON.parse(readFileSync(join(root, 'package.json'))).version);
});

test('IIFE: data-write-key auto-loads; a stub array of calls is replayed', { skip: !hasEsbuild && 'esbuild not installed' }, async () => {
  const script = { src: 'https://a.example/sdk/footfall.js', dataset: { writeKey: 'wk_auto', host: 'https://b.example' } };
  const b = makeBrowser({ currentScript: script });
  b.w.footfall = [['identify', 'u7'], ['track', 'Stubbed', { a: 1 }]];
  const ff = runIife(b);
  assert.equal(ff.status().loaded, true);
  await ff.flush();
  const sent = b.net.sent();
  assert.equal(b.net.requests[0].url, 'https://b.example/v1/batch');
  assert.equal(JSON.parse(b.net.requests[0].body).writeKey, 'wk_auto');
  assert.deepEqual(sent.map((x) => x.event || x.type), ['page', 'identify', 'Stubbed']);
  assert.equal(sent[2].userId, 'u7');
});

test('ESM build exports the same API (default and named), inert outside a browser', { skip: !hasEsbuild && 'esbuild not installed' }, async () => {
  const mod = await import(pathToFileURL(join(out, 'footfall.esm.js')).href);
  assert.equal(mod.default, mod.footfall);
  for (const k of API) assert.equal(typeof mod.default[k], 'function', k);
  mod.default.load({ writeKey: 'k' });
  assert.equal(mod.default.status().loaded, false, 'no window: stays inert, no throw');
});

test('size: gzip(minified) < 6 KB for both builds', { skip: !hasEsbuild && 'esbuild not installed' }, () => {
  for (const f of ['footfall.js', 'footfall.esm.js']) {
    const gz = gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
    assert.ok(gz < 6144, `${f}: ${gz} bytes gzip`);
  }
});

test('TypeScript types compile and reject wrong usage', { skip: !existsSync(join(root, 'node_modules/typescript')) && 'typescript not installed' }, () => {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
});
