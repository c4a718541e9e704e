#!/usr/bin/env node
// Builds the dashboard with esbuild into one directory that CMake embeds under /dash/:
//   uplot.js   uPlot alone (src/vendor/uplot.js: the pinned npm package), minified ES module
//   uplot.css  uPlot's styles
//   app.js     the dashboard (src/main.js), minified ES module; its `import 'uplot'` becomes
//              `import "./uplot.js?v=HASH"` (external: the browser loads the file above)
//   app.css    the dashboard's styles (src/style.css)
//   index.html the page, naming every file above as NAME?v=HASH (the first 12 hex digits of
//              the file's SHA-256), so the server lets browsers cache them for a year and
//              index.html revalidates by ETag; uplot.js is preloaded (modulepreload), so it
//              does not wait for app.js to be parsed.
// uPlot is a build of its own so that its bytes, and so its URL, depend only on uPlot and
// esbuild: a dashboard release changes app.js/app.css, and browsers keep uplot.* cached.
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

const common = { absWorkingDir: here, bundle: true, minify: true, format: 'esm', target: 'es2020', legalComments: 'none', outdir, logLevel: 'warning' };
const hash = (f) => createHash('sha256').update(readFileSync(join(outdir, f))).digest('hex').slice(0, 12);

// 1. uPlot on its own
const failed = () => process.exit(1); // esbuild has printed why
await build({ ...common, entryPoints: { uplot: 'src/vendor/uplot.js' } }).catch(failed);
const uplotUrl = `./uplot.js?v=${hash('uplot.js')}`;

// 2. the app, with 'uplot' resolved to that file
const uplotExternal = {
  name: 'uplot-external',
  setup(b) {
    b.onResolve({ filter: /^uplot$/ }, () => ({ path: uplotUrl, external: true }));
    b.onResolve({ filter: /^uplot\// }, (a) => ({ errors: [{ text: `${a.path}: uPlot's files belong in src/vendor/uplot.js (the uplot.* bundle), not in app.*` }] }));
  },
};
await build({ ...common, entryPoints: { app: 'src/main.js' }, plugins: [uplotExternal] }).catch(failed);

// 3. the page: __HASH(file)__ -> that file's content hash
const files = ['uplot.js', 'uplot.css', 'app.js', 'app.css'];
const html = readFileSync(join(here, 'index.html'), 'utf8').replace(/__HASH\(([\w.-]+)\)__/g, (_, f) => {
  if (!files.includes(f)) throw new Error(`index.html names ${f}, which the build does not make`);
  return hash(f);
});
for (const f of files) if (!html.includes(`"${f}?v=${hash(f)}"`)) throw new Error(`index.html does not name ${f}?v=HASH`);
writeFileSync(join(outdir, 'index.html'), html);
for (const f of ['index.html', ...files]) {
  const b = readFileSync(join(outdir, f));
  console.log(`built ${join(outdir, f)} (${b.length} bytes${args.includes('--size') ? `, ${gzipSync(b, { level: 9 }).length} gzip` : ''})`);
}
