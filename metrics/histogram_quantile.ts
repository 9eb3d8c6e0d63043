/**
 * {@linkcode histogramQuantile}: estimate a quantile from a histogram's buckets, as
 * Prometheus' `histogram_quantile()` does.
 *
 * @module
 */

import type { HistogramBucket } from "./families.ts";

/**
 * Estimates the `q` quantile (0 ≤ q ≤ 1) of the observations counted in cumulative
 * `buckets`, as Prometheus' `histogram_quantile()` does: the bucket that holds the rank
 * `q × count` is found, and the value interpolated linearly between its lower bound (the
 * previous bucket's `le`, or 0 for the first bucket) and its upper bound. A quantile that
 * falls in the `+Inf` bucket is the largest finite bound; one that falls in a first bucket
 * whose bound is 0 or below is that bound. The estimate is only as good as the buckets:
 * every value of a bucket is assumed spread evenly over it.
 *
 * Like Prometheus, it returns `NaN` when there is nothing to estimate from: no
 * observations, fewer than two buckets, or a last bucket that is not `+Inf`. Counts that
 * go down from one bucket to the next (a torn read of a histogram being updated) are
 * taken as the largest count below them, as Prometheus does.
 *
 * @param q The quantile, from 0 to 1 (0.99 for the 99th percentile).
 * @param buckets Cumulative buckets, ascending by `le`, as a {@linkcode HistogramSeries} has them.
 * @returns The estimate, or `NaN`.
 * @throws {RangeError} If `q` is not a number from 0 to 1, or the buckets are not ascending by `le`.
 * @throws {TypeError} If `buckets` is not an array of `{ le, count }` with numbers.
 *
 * @example The median and 90th percentile of a histogram
 * ```ts
 * import { histogramQuantile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * // 10 observations up to 100 ms, 10 more up to 500 ms, none slower.
 * const buckets = [{ le: 100, count: 10 }, { le: 500, count: 20 }, { le: Infinity, count: 20 }];
 * assert.equal(histogramQuantile(0.5, buckets), 100);
 * assert.equal(histogramQuantile(0.75, buckets), 300); // halfway through the second bucket
 * assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])));
 * ```
 */
export function histogramQuantile(q: number, buckets: readonly HistogramBucket[]): number {
  if (typeof q !== "number" || !(q >= 0 && q <= 1)) {
    throw new RangeError(`Cannot estimate a quantile: q must be a number from 0 to 1, got ${String(q)}`);
  }
  if (!Array.isArray(buckets)) throw new TypeError("Cannot estimate a quantile: buckets must be an array");
  const bounds: number[] = [];
  const counts: number[] = [];
  for (const bucket of buckets) {
    const { le, count } = (bucket ?? {}) as Partial<HistogramBucket>;
    if (typeof le !== "number" || typeof count !== "number" || Number.isNaN(le) || Number.isNaN(count)) {
      throw new TypeError(`Cannot estimate a quantile: each bucket must have numbers le and count`);
    }
    if (bounds.length > 0 && le < bounds[bounds.length - 1]) {
      throw new RangeError(
        `Cannot estimate a quantile: buckets must be ascending by le, got ${le} after ${bounds[bounds.length - 1]}`,
      );
    }
    // Equal bounds are one bucket (Prometheus' coalesceBuckets): the later count holds.
    if (bounds.length > 0 && bounds[bounds.length - 1] === le) counts[counts.length - 1] = count;
    else {
      bounds.push(le);
      counts.push(count);
    }
  }
  const n = bounds.length;
  if (n < 2 || bounds[n - 1] !== Infinity) return NaN;
  // Cumulative counts never go down; a torn read can make them seem to (ensureMonotonic).
  for (let i = 1; i < n; i++) if (counts[i] < counts[i - 1]) counts[i] = counts[i - 1];
  const observations = counts[n - 1];
  if (!(observations > 0)) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < n - 1 && counts[b] < rank) b++;
  if (b === n - 1) return bounds[n - 2];
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  let start = 0;
  let count = counts[b];
  if (b > 0) {
    start = bounds[b - 1];
    count -= counts[b - 1];
    rank -= counts[b - 1];
  }
  return start + (bounds[b] - start) * (rank / count);
}
