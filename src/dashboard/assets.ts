/**
 * The page's files, read once when the server starts and served from memory:
 * the page itself (compiled next to this module into `page/`) and uPlot's
 * script and style from its package in node_modules. Nothing is fetched from
 * anywhere else, so the page works on a machine with no internet; and only
 * these names are served, so no request can reach another file.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** The page's files by URL path: `/` and `/assets/NAME`. */
export function loadAssets(): Map<string, Asset> {
  const pageDir = fileURLToPath(new URL('./page/', import.meta.url));
  const require = createRequire(import.meta.url);
  const files = new Map<string, string>([
    ['/', path.join(pageDir, 'index.html')],
    ['/assets/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
    ['/assets/uplot.css', require.resolve('uplot/dist/uPlot.min.css')],
  ]);
  for (const name of readdirSync(pageDir)) {
    if (name.endsWith('.js') || name.endsWith('.css')) files.set(`/assets/${name}`, path.join(pageDir, name));
  }
  const assets = new Map<string, Asset>();
  for (const [route, file] of files) assets.set(route, { body: readFileSync(file), type: types[path.extname(file)] ?? 'application/octet-stream' });
  return assets;
}
