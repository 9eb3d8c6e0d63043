/**
 * {@linkcode Histogram}: observations counted in buckets, summed over every process.
 *
 * @module
 */

import type { Children, LabelValues } from "./_children.ts";
import type { SlotRef } from "./_writer.ts";
import type { MetricFields } from "./counter.ts";

/** The declaration of a histogram, for {@linkcode Metrics.prototype.histogram}. */
export interface HistogramConfig {
  /** The name, by Prometheus' rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** What it observes, for humans. */
  help: string;
  /**
   * The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, not `le`).
   *
   * @default {[]}
   */
  labelNames?: readonly string[];
  /**
   * The unit (`"seconds"`, `"bytes"`, …); the name must end with `_<unit>`.
   *
   * @default {""}
   */
  unit?: string;
  /**
   * The finite upper bounds of the buckets, strictly ascending (at most 1000); the `+Inf`
   * bucket is always added (a trailing `Infinity` here is ignored).
   *
   * @default {Prometheus' default buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]}
   */
  buckets?: readonly number[];
  /**
   * Label sets this process records separately; later ones share one overflow series
   * labelled `mmstruct_overflow="true"`, so totals stay exact.
   *
   * @default {the `maxSeries` of {@linkcode Metrics.create}, 2000 by default}
   */
  maxSeries?: number;
}

function badObservation(value: unknown): never {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot observe ${typeof value} in a histogram: the value must be a number`);
  }
  throw new RangeError(`Cannot observe ${value} in a histogram: the value must be finite`);
}

let makeChild: (ref: SlotRef, bounds: Float64Array) => HistogramChild;

/**
 * One labelled series of a {@linkcode Histogram}, bound to its slots: a count per bucket
 * (not cumulative), then the `+Inf` bucket's count, then the sum. Readers derive the count
 * from the buckets, so the `+Inf` bucket always equals it; only the sum can lag one
 * observation behind.
 *
 * @example Time requests
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const latency = metrics.histogram({
 *   name: "latency_seconds",
 *   help: "Request latency",
 *   labelNames: ["route"],
 *   buckets: [0.1, 1],
 * });
 * const home = latency.labels({ route: "/" });
 * home.observe(0.05);
 * home.observe(0.5);
 * home.observe(5);
 * const [family] = collect(dir, { meta: false }).families;
 * assert.equal(family.type, "histogram");
 * if (family.type === "histogram") {
 *   assert.deepEqual(family.series[0].buckets, [{ le: 0.1, count: 1 }, { le: 1, count: 2 }, { le: Infinity, count: 3 }]);
 *   assert.equal(family.series[0].sum, 5.55);
 * }
 * rmSync(dir, { recursive: true });
 * ```
 */
export class HistogramChild {
  readonly #slots: Float64Array;
  readonly #index: number;
  readonly #bounds: Float64Array;

  static {
    makeChild = (ref, bounds) => new HistogramChild(ref, bounds);
  }

  private constructor(ref: SlotRef, bounds: Float64Array) {
    this.#slots = ref.slots;
    this.#index = ref.index;
    this.#bounds = bounds;
  }

  /**
   * Counts `value` in its bucket (the first whose bound is at least `value`) and adds it to
   * the sum.
   *
   * @param value The observation.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  observe(value: number): void {
    if (typeof value !== "number" || !(value - value === 0)) badObservation(value);
    const bounds = this.#bounds;
    const n = bounds.length;
    let k = 0;
    if (n <= 16) {
      while (k < n && value > bounds[k]) k++;
    } else {
      let high = n;
      while (k < high) {
        const middle = (k + high) >>> 1;
        if (value > bounds[middle]) k = middle + 1;
        else high = middle;
      }
    }
    const i = this.#index;
    // In bounds: k <= n, and the series has n + 2 slots (n buckets, +Inf, the sum).
    this.#slots[i + k] += 1;
    this.#slots[i + n + 1] += value;
  }

  /**
   * Starts a timer.
   *
   * @returns A function that observes the seconds elapsed since, and returns them.
   */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.observe(seconds);
      return seconds;
    };
  }
}

let makeHistogram: (fields: MetricFields, buckets: readonly number[], children: Children<HistogramChild>) => Histogram;

/**
 * Makes a histogram whose children `children` makes; for
 * {@linkcode Metrics.prototype.histogram}. Not part of the public API.
 */
export function newHistogram(
  fields: MetricFields,
  buckets: readonly number[],
  children: (make: (ref: SlotRef) => HistogramChild) => Children<HistogramChild>,
): Histogram {
  const bounds = Float64Array.from(buckets);
  return makeHistogram(fields, buckets, children((ref) => makeChild(ref, bounds)));
}

/**
 * A histogram: observations (latencies, sizes) counted in buckets. Each process (or
 * thread) counts in its own slots; readers sum them over every process that ever
 * observed. Made by {@linkcode Metrics.prototype.histogram}.
 *
 * @example Observe and time
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const duration = metrics.histogram({ name: "job_duration_seconds", help: "Job duration", labelNames: ["job"] });
 * duration.observe({ job: "backup" }, 2);
 * const end = duration.startTimer({ job: "backup" });
 * end();
 * const [family] = collect(dir, { meta: false }).families;
 * if (family.type === "histogram") assert.equal(family.series[0].count, 2);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class Histogram {
  /** The declared name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly string[];
  /** The unit, `""` when none. */
  readonly unit: string;
  /** The finite bucket bounds, ascending (the `+Inf` bucket is implied). */
  readonly buckets: readonly number[];
  readonly #children: Children<HistogramChild>;

  static {
    makeHistogram = (fields, buckets, children) => new Histogram(fields, buckets, children);
  }

  private constructor(fields: MetricFields, buckets: readonly number[], children: Children<HistogramChild>) {
    this.name = fields.name;
    this.help = fields.help;
    this.labelNames = fields.labelNames;
    this.unit = fields.unit;
    this.buckets = buckets;
    this.#children = children;
  }

  /**
   * Observes a value in a histogram without labels.
   *
   * @param value The observation.
   * @throws {TypeError} If the histogram has labels, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  observe(value: number): void;
  /**
   * Observes a value in a label set's series.
   *
   * @param labels The label values by name.
   * @param value The observation.
   * @throws {TypeError} If the labels do not match the label names, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  observe(labels: LabelValues, value: number): void;
  observe(labels: LabelValues | number, value?: number): void {
    if (typeof labels === "object" && labels !== null) this.#children.get(labels).observe(value as number);
    else this.#children.unlabelled().observe(labels);
  }

  /**
   * Starts a timer.
   *
   * @param labels The label values, for a histogram with labels; the returned function
   * may add more (merged over these).
   * @returns A function that observes the seconds elapsed since, and returns them.
   * @throws {TypeError} If the labels (with those given at the end) do not match the label names.
   */
  startTimer(labels?: LabelValues): (endLabels?: LabelValues) => number {
    const start = performance.now();
    return (endLabels?: LabelValues) => {
      const seconds = (performance.now() - start) / 1000;
      const all = endLabels === undefined ? labels : { ...labels, ...endLabels };
      if (all === undefined) this.#children.unlabelled().observe(seconds);
      else this.#children.get(all).observe(seconds);
      return seconds;
    };
  }

  /**
   * The bound child of a label set, given by name or as values in label name order.
   *
   * @param labels The label values.
   * @returns The child.
   * @throws {TypeError} If the labels do not match the label names.
   */
  labels(...labels: [LabelValues] | (string | number)[]): HistogramChild {
    const first = labels[0];
    return typeof first === "object" && first !== null && labels.length === 1
      ? this.#children.get(first)
      : this.#children.positional(labels);
  }
}
