/**
 * Window statistics over a series, with windows counted in SAMPLES, never in hours: the leak detector
 * must run the same code on a 100 ms test recording and on five days at one minute.
 *
 * Two kinds:
 * - blocks: consecutive non-overlapping windows (what the trend test consumes; a garbage-collected heap
 *   is judged by the minimum of each block, its floor). Blocks are aligned to the END of the series so the
 *   newest samples always sit in a full block; the oldest `n mod window` samples are left out.
 * - sliding: the trailing window ending at each sample, min/max in O(n) with a monotonic deque.
 */
import { median, type Series } from './robust.js';

export type Align = 'start' | 'end';

export interface Blocks {
  window: number;
  /** First sample index of each block. */
  start: Uint32Array;
  /** One past the last sample index of each block. */
  end: Uint32Array;
  min: Float64Array;
  max: Float64Array;
  /** Index of the (first) minimum in each block. */
  argMin: Uint32Array;
}

function checkWindow(window: number): void {
  if (!Number.isInteger(window) || window < 1)
    throw new RangeError(`window must be a positive integer of samples, got ${window}`);
}

function blockBounds(n: number, window: number, align: Align): { count: number; first: number } {
  const count = Math.floor(n / window);
  return { count, first: align === 'end' ? n - count * window : 0 };
}

/** Min, max and arg-min of each non-overlapping block of `window` samples. */
export function blocks(values: Series, window: number, align: Align = 'end'): Blocks {
  checkWindow(window);
  const { count, first } = blockBounds(values.length, window, align);
  const out: Blocks = {
    window,
    start: new Uint32Array(count),
    end: new Uint32Array(count),
    min: new Float64Array(count),
    max: new Float64Array(count),
    argMin: new Uint32Array(count),
  };
  for (let b = 0; b < count; b++) {
    const s = first + b * window;
    let lo = Infinity;
    let hi = -Infinity;
    let arg = s;
    for (let i = s; i < s + window; i++) {
      const v = values[i]!;
      if (v < lo) {
        lo = v;
        arg = i;
      }
      if (v > hi) hi = v;
    }
    out.start[b] = s;
    out.end[b] = s + window;
    out.min[b] = lo;
    out.max[b] = hi;
    out.argMin[b] = arg;
  }
  return out;
}

export function windowedMin(values: Series, window: number, align: Align = 'end'): Float64Array {
  return blocks(values, window, align).min;
}

export function windowedMax(values: Series, window: number, align: Align = 'end'): Float64Array {
  return blocks(values, window, align).max;
}

export function windowedMedian(values: Series, window: number, align: Align = 'end'): Float64Array {
  checkWindow(window);
  const { count, first } = blockBounds(values.length, window, align);
  const out = new Float64Array(count);
  const buf = new Float64Array(window);
  for (let b = 0; b < count; b++) {
    const s = first + b * window;
    for (let i = 0; i < window; i++) buf[i] = values[s + i]!;
    out[b] = median(buf);
  }
  return out;
}

/** Mean of a companion series (e.g. timestamps) over the same blocks: the time each block stands for. */
export function windowedMean(values: Series, window: number, align: Align = 'end'): Float64Array {
  checkWindow(window);
  const { count, first } = blockBounds(values.length, window, align);
  const out = new Float64Array(count);
  for (let b = 0; b < count; b++) {
    const s = first + b * window;
    let sum = 0;
    for (let i = s; i < s + window; i++) sum += values[i]!;
    out[b] = sum / window;
  }
  return out;
}

function sliding(values: Series, window: number, keepLess: boolean): Float64Array {
  checkWindow(window);
  const n = values.length;
  if (n < window) return new Float64Array(0);
  const out = new Float64Array(n - window + 1);
  const dq = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    while (tail > head && (keepLess ? values[dq[tail - 1]!]! >= v : values[dq[tail - 1]!]! <= v)) tail--;
    dq[tail++] = i;
    if (dq[head]! <= i - window) head++;
    if (i >= window - 1) out[i - window + 1] = values[dq[head]!]!;
  }
  return out;
}

/** out[k] = min(values[k .. k+window−1]); length n − window + 1 (empty when n < window). */
export function slidingMin(values: Series, window: number): Float64Array {
  return sliding(values, window, true);
}

/** out[k] = max(values[k .. k+window−1]). */
export function slidingMax(values: Series, window: number): Float64Array {
  return sliding(values, window, false);
}
