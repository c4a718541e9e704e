#!/usr/bin/env node
// Size gate: fails (exit 1) when gzip(minified footfall.js) >= 6 KB (6144 bytes).
// Prints the minified and gzipped sizes of both builds. Run after build.mjs.
// Usage: node size.mjs [--dir DIR] [--limit BYTES]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (k, d) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : d);
const dir = resolve(opt('--dir', join(here, 'dist')));
const limit = Number(opt('--limit', 6144));

let fail = false;
for (const f of ['footfall.js', 'footfall.esm.js']) {
  const buf = readFileSync(join(dir, f));
  const gz = gzipSync(buf, { level: 9 }).length;
  const ok = gz < limit;
  if (!ok) fail = true;
  console.log(`${f}: ${buf.length} bytes minified, ${gz} bytes gzip -9 (limit < ${limit}) ${ok ? 'OK' : 'TOO BIG'}`);
}
process.exit(fail ? 1 : 0);
