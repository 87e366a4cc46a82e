import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random.js';
import {
  blocks,
  slidingMax,
  slidingMin,
  windowedMax,
  windowedMean,
  windowedMedian,
  windowedMin,
} from './windowed.js';

describe('block windows', () => {
  it('align to the end, leaving the oldest remainder out', () => {
    const v = [9, 1, 5, 3, 7, 2, 8];
    // window 3 over 7 samples: the first sample is dropped; blocks [1,5,3] [7,2,8]
    expect(Array.from(windowedMin(v, 3))).toEqual([1, 2]);
    expect(Array.from(windowedMax(v, 3))).toEqual([5, 8]);
    expect(Array.from(windowedMedian(v, 3))).toEqual([3, 7]);
    expect(Array.from(windowedMean([0, 1, 2, 3, 4, 5, 6], 3))).toEqual([2, 5]);
    const b = blocks(v, 3);
    expect(Array.from(b.start)).toEqual([1, 4]);
    expect(Array.from(b.end)).toEqual([4, 7]);
    expect(Array.from(b.argMin)).toEqual([1, 5]);
  });

  it('can align to the start', () => {
    expect(Array.from(windowedMin([9, 1, 5, 3, 7, 2, 8], 3, 'start'))).toEqual([1, 2]);
    expect(Array.from(windowedMax([9, 1, 5, 3, 7, 2, 8], 3, 'start'))).toEqual([9, 7]);
  });

  it('window 1 is the series; a window longer than the series gives nothing', () => {
    expect(Array.from(windowedMin([3, 1, 2], 1))).toEqual([3, 1, 2]);
    expect(windowedMin([3, 1, 2], 4).length).toBe(0);
  });

  it('rejects windows that are not a positive whole number of samples', () => {
    expect(() => windowedMin([1, 2], 0)).toThrow(RangeError);
    expect(() => windowedMin([1, 2], 1.5)).toThrow(RangeError);
    expect(() => slidingMin([1, 2], -1)).toThrow(RangeError);
  });
});

describe('sliding windows', () => {
  it('match brute force', () => {
    const rng = mulberry32(11);
    const v = Array.from({ length: 300 }, () => Math.floor(rng() * 20));
    for (const w of [1, 2, 7, 50, 300]) {
      const mins = slidingMin(v, w);
      const maxs = slidingMax(v, w);
      expect(mins.length).toBe(v.length - w + 1);
      for (let k = 0; k + w <= v.length; k++) {
        const win = v.slice(k, k + w);
        expect(mins[k]).toBe(Math.min(...win));
        expect(maxs[k]).toBe(Math.max(...win));
      }
    }
    expect(slidingMin(v, 301).length).toBe(0);
  });
});
