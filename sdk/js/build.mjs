#!/usr/bin/env node
// Builds the browser SDK with esbuild:
//   dist/footfall.js      IIFE for <script src>, defines window.footfall (minified)
//   dist/footfall.esm.js  ES module exporting the same object (minified)
//   dist/footfall.d.ts    TypeScript types (copied from src/footfall.d.ts)
// Usage: node build.mjs [--outdir DIR]   (CMake passes --outdir to embed the bundle)
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const i = args.indexOf('--outdir');
const outdir = resolve(i >= 0 && args[i + 1] ? args[i + 1] : join(here, 'dist'));
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

const common = {
  bundle: true,
  minify: true,
  target: ['es2018', 'chrome64', 'firefox67', 'safari12'],
  legalComments: 'none',
  define: { __FF_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
  absWorkingDir: here,
};

mkdirSync(outdir, { recursive: true });
await build({ ...common, entryPoints: ['src/browser.js'], format: 'iife', outfile: join(outdir, 'footfall.js') });
await build({ ...common, entryPoints: ['src/index.js'], format: 'esm', outfile: join(outdir, 'footfall.esm.js') });
copyFileSync(join(here, 'src/footfall.d.ts'), join(outdir, 'footfall.d.ts'));
for (const f of ['footfall.js', 'footfall.esm.js', 'footfall.d.ts'])
  console.log(`built ${join(outdir, f)} (${statSync(join(outdir, f)).size} bytes)`);
