#!/usr/bin/env node
// Builds the dashboard with esbuild into one directory that CMake embeds under /dash/:
//   app.js     the ES module bundle (src/main.js + uPlot), minified
//   app.css    the styles (src/style.css + uPlot's)
//   index.html the page, naming app.js?v=HASH and app.css?v=HASH (content hashes), so the server
//              can let browsers cache those for a year and index.html revalidates by ETag.
// Usage: node build.mjs [--outdir DIR] [--size]   (--size prints raw and gzip sizes)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const i = args.indexOf('--outdir');
const outdir = resolve(i >= 0 && args[i + 1] ? args[i + 1] : join(here, 'dist'));
mkdirSync(outdir, { recursive: true });

await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'none',
  outdir,
  logLevel: 'warning',
});
const hash = (f) => createHash('sha256').update(readFileSync(join(outdir, f))).digest('hex').slice(0, 12);
const html = readFileSync(join(here, 'index.html'), 'utf8').replace('__JS_HASH__', hash('app.js')).replace('__CSS_HASH__', hash('app.css'));
writeFileSync(join(outdir, 'index.html'), html);
for (const f of ['index.html', 'app.js', 'app.css']) {
  const b = readFileSync(join(outdir, f));
  console.log(`built ${join(outdir, f)} (${b.length} bytes${args.includes('--size') ? `, ${gzipSync(b, { level: 9 }).length} gzip` : ''})`);
}
