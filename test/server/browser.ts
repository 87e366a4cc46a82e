/// <reference lib="dom" />
/**
 * Debian's headless Chromium through playwright-core, for the dashboard and report tests, and a probe
 * that a chart is really drawn: pixels of its series colour on its canvas, not just an empty frame.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO } from '../record/helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(REPO, 'artifacts');
export const hasChromium = existsSync(CHROMIUM);

export async function launch(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Per chart container matching `selector`: how many canvas pixels have the colour rgb (±tolerance). */
export async function seriesPixels(
  page: Page,
  selector: string,
  rgb: [number, number, number] = [37, 99, 235],
): Promise<number[]> {
  return page.evaluate(
    ([sel, [r, g, b]]) => {
      return Array.from(document.querySelectorAll(sel)).map((box) => {
        let n = 0;
        for (const c of Array.from(box.querySelectorAll('canvas'))) {
          const ctx = c.getContext('2d');
          if (!ctx || c.width === 0 || c.height === 0) continue;
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 4)
            if (
              Math.abs(d[i]! - r) < 40 &&
              Math.abs(d[i + 1]! - g) < 40 &&
              Math.abs(d[i + 2]! - b) < 40 &&
              d[i + 3]! > 100
            )
              n++;
        }
        return n;
      });
    },
    [selector, rgb] as const,
  );
}

/** Errors the page logged or threw (a page that renders with errors is not done). */
export function collectErrors(page: Page): string[] {
  const errs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errs.push(m.text());
  });
  page.on('pageerror', (e) => errs.push(String(e)));
  return errs;
}
