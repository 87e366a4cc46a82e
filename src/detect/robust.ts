/**
 * Small order statistics shared by the detectors: median and quantiles by selection (O(n), no full
 * sort), the MAD, average ranks with ties, and the sample autocorrelation as R's `acf` defines it.
 * Inputs are never modified.
 */

export type Series = ArrayLike<number>;

/** Ranges longer than this are narrowed by Floyd–Rivest sampling before plain Hoare selection. */
const FLOYD_RIVEST_MIN = 600;

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** k-th smallest (0-based) of `a`, rearranging `a` in place (Hoare selection, median-of-three). */
export function selectInPlace(a: Float64Array, k: number): number {
  return selectRange(a, 0, a.length - 1, k);
}

/**
 * k-th smallest of a[from..to] (k an absolute index inside that range), rearranging only that range.
 * Works on the range directly rather than on a subarray view: the leak detector selects several ranks of
 * ~7,000 slopes for each of thousands of series, and the views were a measurable share of that.
 */
export function selectRange(a: Float64Array, from: number, to: number, k: number): number {
  let lo = from;
  let hi = to;
  // Floyd–Rivest: on large ranges, first select k within a small sample-sized window around where it
  // should land, so the partition below starts from a pivot close to the answer (≈ 1.5 n comparisons
  // instead of ≈ 3.4 n). The ~7,000 pairwise slopes of every leak verdict go through here.
  while (hi - lo > FLOYD_RIVEST_MIN) {
    const n = hi - lo + 1;
    const i = k - lo + 1;
    const z = Math.log(n);
    const s = 0.5 * Math.exp((2 * z) / 3);
    const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (i - n / 2 < 0 ? -1 : 1);
    const newLo = Math.max(lo, Math.floor(k - (i * s) / n + sd));
    const newHi = Math.min(hi, Math.floor(k + ((n - i) * s) / n + sd));
    selectRange(a, newLo, newHi, k);
    // partition [lo, hi] around t = a[k] (Hoare with sentinels, as Floyd and Rivest give it)
    const t = a[k]!;
    let l = lo;
    let r = hi;
    swap(a, lo, k);
    if (a[hi]! > t) swap(a, lo, hi);
    while (l < r) {
      swap(a, l, r);
      l++;
      r--;
      while (a[l]! < t) l++;
      while (a[r]! > t) r--;
    }
    if (a[lo] === t) swap(a, lo, r);
    else {
      r++;
      swap(a, r, hi);
    }
    // a[r] = t now sits in its sorted place, smaller to its left, larger to its right
    if (r === k) return t;
    if (r < k) lo = r + 1;
    else hi = r - 1;
  }
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot keeps sorted and reverse-sorted inputs linear
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Quantile with linear interpolation between order statistics (R's type 7, numpy's default). */
export function quantile(values: Series, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const a = copy(values);
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const k = Math.floor(h);
  const lo = selectInPlace(a, k);
  if (h === k) return lo;
  // after selection, everything right of k is ≥ a[k]: the next order statistic is their minimum
  let next = Infinity;
  for (let i = k + 1; i < n; i++) if (a[i]! < next) next = a[i]!;
  return lo + (h - k) * (next - lo);
}

/**
 * Several order statistics at once (0-based ranks), rearranging `a`. Multi-select: select the middle
 * requested rank, then the ranks below it within the left part and those above within the right part.
 * For the four ranks of a Sen estimate (two interval ends, the median pair) that is ≈ 2n work instead of
 * a sort, and on an array already partitioned by an earlier call it is cheaper still.
 */
export function orderStatisticsInPlace(a: Float64Array, ranks: readonly number[]): number[] {
  const sorted = Array.from(new Set(ranks)).sort((x, y) => x - y);
  const found = new Float64Array(sorted.length);
  visitRanks(a, sorted, found, 0, a.length - 1, 0, sorted.length - 1);
  return ranks.map((k) => found[sorted.indexOf(k)]!);
}

/** Selects sorted[from..to] within a[lo..hi]: the middle rank first, then each side in its own part. */
function visitRanks(
  a: Float64Array,
  sorted: readonly number[],
  found: Float64Array,
  lo: number,
  hi: number,
  from: number,
  to: number,
): void {
  while (from <= to) {
    const mid = (from + to) >> 1;
    const k = sorted[mid]!;
    found[mid] = selectRange(a, lo, hi, k);
    visitRanks(a, sorted, found, lo, k - 1, from, mid - 1);
    lo = k + 1;
    from = mid + 1;
  }
}

function copy(values: Series): Float64Array {
  return values instanceof Float64Array ? values.slice() : Float64Array.from(values as ArrayLike<number>);
}

export function median(values: Series): number {
  return quantile(values, 0.5);
}

/** Median absolute deviation, scaled by 1.4826 so it estimates σ for normal data. */
export function mad(values: Series): number {
  const n = values.length;
  if (n === 0) return NaN;
  const m = median(values);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.abs(values[i]! - m);
  return 1.4826 * median(d);
}

/**
 * Ascending in-place sort of doubles. Hand-written because V8's TypedArray#sort is slow for doubles here
 * (≈ 1.4 ms for 7,000 values, ten times a selection): quicksort with median-of-three, insertion sort
 * below 16 elements. NaN is not expected.
 */
export function sortInPlace(a: Float64Array): Float64Array {
  const stack: number[] = [0, a.length - 1];
  while (stack.length > 0) {
    const hi0 = stack.pop()!;
    const lo0 = stack.pop()!;
    let lo = lo0;
    let hi = hi0;
    if (hi - lo < 16) {
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      continue;
    }
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    while (lo <= hi) {
      while (a[lo]! < pivot) lo++;
      while (a[hi]! > pivot) hi--;
      if (lo <= hi) {
        const t = a[lo]!;
        a[lo] = a[hi]!;
        a[hi] = t;
        lo++;
        hi--;
      }
    }
    if (lo0 < hi) stack.push(lo0, hi);
    if (lo < hi0) stack.push(lo, hi0);
  }
  return a;
}

/** Ranks 1..n, ties sharing their average rank (R's `rank` default). */
export function averageRanks(values: Series): Float64Array {
  const n = values.length;
  const sorted = sortInPlace(copy(values));
  // Average rank of the tie group at each sorted position: a group occupying [lo, up) gets (lo + 1 + up)/2.
  const groupRank = new Float64Array(n);
  for (let lo = 0; lo < n;) {
    let up = lo + 1;
    while (up < n && sorted[up] === sorted[lo]) up++;
    const r = (lo + 1 + up) / 2;
    for (let i = lo; i < up; i++) groupRank[i] = r;
    lo = up;
  }
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // first index ≥ v: the start of v's tie group
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    ranks[i] = groupRank[lo]!;
  }
  return ranks;
}

/** Sizes of the groups of equal values (only groups of 2 or more). */
export function tieGroups(values: Series): number[] {
  const a = sortInPlace(copy(values));
  const groups: number[] = [];
  let i = 0;
  while (i < a.length) {
    let j = i;
    while (j + 1 < a.length && a[j + 1] === a[i]) j++;
    if (j > i) groups.push(j - i + 1);
    i = j + 1;
  }
  return groups;
}

/**
 * Sample autocorrelation r_1..r_maxLag as R's `acf` computes it: covariances divided by n (not n−k)
 * and by the lag-0 covariance. A constant series has no defined correlation: all zeros.
 */
export function acf(values: Series, maxLag: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(Math.max(0, maxLag));
  if (n < 2) return out;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  const c = new Float64Array(n);
  let c0 = 0;
  for (let i = 0; i < n; i++) {
    c[i] = values[i]! - mean;
    c0 += c[i]! * c[i]!;
  }
  if (c0 === 0) return out;
  for (let k = 1; k <= maxLag && k < n; k++) {
    let s = 0;
    for (let i = 0; i + k < n; i++) s += c[i]! * c[i + k]!;
    out[k - 1] = s / c0;
  }
  return out;
}

/**
 * The pairwise slopes (y_j − y_i)/(t_j − t_i), i < j, skipping pairs with equal t. With `t` undefined
 * the abscissa is the index. O(n²) time and memory: callers keep n in the low thousands. `out`, when
 * given and long enough (n(n−1)/2), receives the slopes and a view of it is returned: the leak detector
 * reuses one buffer for thousands of series instead of allocating ~60 kB each time.
 */
export function pairwiseSlopes(y: Series, t?: Series, out?: Float64Array): Float64Array {
  const n = y.length;
  const total = (n * (n - 1)) / 2;
  const buf = out !== undefined && out.length >= total ? out : new Float64Array(total);
  let k = 0;
  if (t === undefined) {
    for (let i = 0; i < n - 1; i++) {
      const yi = y[i]!;
      for (let j = i + 1; j < n; j++) buf[k++] = (y[j]! - yi) / (j - i);
    }
  } else {
    for (let i = 0; i < n - 1; i++) {
      const yi = y[i]!;
      const ti = t[i]!;
      for (let j = i + 1; j < n; j++) {
        const dt = t[j]! - ti;
        if (dt !== 0) buf[k++] = (y[j]! - yi) / dt;
      }
    }
  }
  return k === buf.length ? buf : buf.subarray(0, k);
}
