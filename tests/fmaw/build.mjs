// Bundles tests/fmaw/entry.js (the real @filerobot/core + @filerobot/xhr-upload
// from node_modules) into build/fmaw/fmaw.js with an index.html beside it.
// `node tests/fmaw/build.mjs` or `import { buildFmaw } from './build.mjs'`.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../..');
export const OUT_DIR = join(ROOT, 'build/fmaw');

// The packages read process.env.NODE_ENV at run time (React, redux toolkit):
// the page defines it before the bundle.
const HTML = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>FMAW harness</title>
<script>window.process = { env: { NODE_ENV: 'production' } };</script>
</head>
<body>
<script src="fmaw.js"></script>
</body>
</html>
`;

/** Builds the page; returns { dir, ms, bytes }. */
export async function buildFmaw({ outDir = OUT_DIR, minify = false } = {}) {
  const started = Date.now();
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(HERE, 'entry.js')],
    outfile: join(outDir, 'fmaw.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    minify,
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
    // Lets esbuild drop React's development builds; the page's window.process
    // still serves the packages' other process.env reads.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  writeFileSync(join(outDir, 'index.html'), HTML);
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { dir: outDir, ms: Date.now() - started, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { dir, ms, bytes } = await buildFmaw({ minify: process.argv.includes('--minify') });
  console.log(`built ${dir}/fmaw.js: ${(bytes / 1024).toFixed(0)} KiB in ${ms} ms`);
}
