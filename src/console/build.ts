/**
 * @module console/build
 * Builds the web console (src/console/app, Preact + TSX) with esbuild into `<out>/index.html` and
 * `<out>/assets/<name>-<hash>.{js,css}`; `manifest.json` names the files and their gzipped sizes.
 * Run by `npm run build` (and so by `npm ci`), and by the console tests into a temporary directory.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const APP = resolve(import.meta.dirname, 'app');

export interface ConsoleManifest {
  js: string;
  css: string;
  jsBytes: number;
  jsGzipBytes: number;
  cssGzipBytes: number;
}

export async function buildConsole(outDir: string): Promise<ConsoleManifest> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: join(APP, 'main.tsx'), style: join(APP, 'style.css') },
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(APP, 'tsconfig.json'),
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = Object.keys(result.metafile.outputs);
  const js = outputs.find((o) => o.endsWith('.js'));
  const css = outputs.find((o) => o.endsWith('.css'));
  if (js === undefined || css === undefined) throw new Error('esbuild produced no console bundle');
  const jsBody = await readFile(js);
  const cssBody = await readFile(css);
  const manifest: ConsoleManifest = {
    js: basename(js),
    css: basename(css),
    jsBytes: jsBody.length,
    jsGzipBytes: gzipSync(jsBody, { level: 9 }).length,
    cssGzipBytes: gzipSync(cssBody, { level: 9 }).length,
  };
  const html = (await readFile(join(APP, 'index.html'), 'utf8'))
    .replace('%JS%', `/console/assets/${manifest.js}`)
    .replace('%CSS%', `/console/assets/${manifest.css}`);
  await writeFile(join(outDir, 'index.html'), html);
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
