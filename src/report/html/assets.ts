/**
 * The chart library, read from node_modules when a report is written or the dashboard starts, so the
 * report opens with no network access and the dashboard serves it from memory. uPlot (MIT, ~50 kB
 * minified) draws tens of thousands of points on a canvas in milliseconds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ProcsleuthError } from '../../util/errors.js';

export interface ChartAssets {
  js: string;
  css: string;
  version: string;
  license: string;
}

let cached: ChartAssets | undefined;

export function chartAssets(): ChartAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  try {
    const pkgPath = require.resolve('uplot/package.json');
    const dir = pkgPath.slice(0, -'package.json'.length);
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
    cached = {
      js: readFileSync(`${dir}dist/uPlot.iife.min.js`, 'utf8'),
      css: readFileSync(`${dir}dist/uPlot.min.css`, 'utf8'),
      version: pkg.version,
      license: readFileSync(`${dir}LICENSE`, 'utf8'),
    };
  } catch (err) {
    throw new ProcsleuthError('NOT_FOUND', 'the chart library (npm package uplot) is not installed', {
      cause: err,
    });
  }
  return cached;
}

/** JSON safe inside a <script> element: no "</script>", no "<!--". */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Text inside a <script> element that must not end it early. */
export function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

export function esc(s: string | number | undefined | null): string {
  if (s === undefined || s === null) return '';
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
