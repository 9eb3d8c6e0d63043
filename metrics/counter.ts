/**
 * {@linkcode Counter}: a total that only goes up, summed over every process that ever
 * counted it.
 *
 * @module
 */

import type { Children, LabelValues } from "./_children.ts";
import type { SlotRef } from "./_writer.ts";

export type { LabelValues };

/** The declaration of a counter, for {@linkcode Metrics.prototype.counter}. */
export interface CounterConfig {
  /**
   * The name, by Prometheus' rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`). The family is the name
   * without a trailing `_total`; both text formats print the samples as `<family>_total`.
   */
  name: string;
  /** What it counts, for humans. */
  help: string;
  /**
   * The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
   *
   * @default {[]}
   */
  labelNames?: readonly string[];
  /**
   * The unit (`"seconds"`, `"bytes"`, …); the family name must end with `_<unit>`.
   *
   * @default {""}
   */
  unit?: string;
  /**
   * Label sets this process records separately; later ones are counted in one overflow
   * series labelled `mmstruct_overflow="true"`, so totals stay exact.
   *
   * @default {the `maxSeries` of {@linkcode Metrics.create}, 2000 by default}
   */
  maxSeries?: number;
}

function badIncrement(what: string, value: unknown): never {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot increment ${what}: the increment must be a number, got ${typeof value}`);
  }
  throw new RangeError(`Cannot increment ${what}: the increment must be finite and not negative, got ${value}`);
}

let makeChild: (ref: SlotRef) => CounterChild;

/**
 * One labelled series of a {@linkcode Counter}, bound to its slot: the hot path.
 *
 * @example Count requests by route
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const requests = metrics.counter({ name: "requests_total", help: "Requests", labelNames: ["route"] });
 * const home = requests.labels({ route: "/" });
 * home.inc();
 * home.inc(2);
 * const [family] = collect(dir, { meta: false }).families;
 * assert.ok(family.type === "counter");
 * assert.deepEqual(family.series.map((s) => s.value), [3]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class CounterChild {
  readonly #slots: Float64Array;
  readonly #index: number;

  static {
    makeChild = (ref) => new CounterChild(ref);
  }

  private constructor(ref: SlotRef) {
    this.#slots = ref.slots;
    this.#index = ref.index;
  }

  /**
   * Adds `value` to the series: one store to the mapped file.
   *
   * @param value What to add.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is negative or not finite.
   */
  inc(value?: number): void {
    // inc() alone has a path without checks: JavaScriptCore (Bun) keeps a slot that a loop
    // increments in a register only when nothing in the loop can branch away.
    if (value === undefined) {
      this.#slots[this.#index] += 1;
      return;
    }
    if (typeof value === "number" && value >= 0 && value < Infinity) {
      this.#slots[this.#index] += value;
      return;
    }
    badIncrement("a counter", value);
  }
}

/** What a metric class is made of: its declaration's public fields. */
export interface MetricFields {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly unit: string;
}

let makeCounter: (fields: MetricFields, children: Children<CounterChild>) => Counter;

/**
 * Makes a counter whose children `children` makes; for {@linkcode Metrics.prototype.counter}.
 * Not part of the public API.
 */
export function newCounter(
  fields: MetricFields,
  children: (make: (ref: SlotRef) => CounterChild) => Children<CounterChild>,
): Counter {
  return makeCounter(fields, children(makeChild));
}

/**
 * A counter: a total that only goes up. Each process (or thread) adds to its own slots;
 * readers sum them over every process that ever counted, so the total never goes back
 * when a process restarts. Made by {@linkcode Metrics.prototype.counter}.
 *
 * @example Count with and without labels
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const jobs = metrics.counter({ name: "jobs_total", help: "Jobs run" });
 * jobs.inc();
 * const requests = metrics.counter({ name: "requests_total", help: "Requests", labelNames: ["method", "code"] });
 * requests.inc({ method: "GET", code: 200 });
 * requests.inc({ method: "GET", code: 200 }, 4);
 * const families = collect(dir, { meta: false }).families;
 * assert.deepEqual(families.map((f) => [f.name, f.series.map((s) => s.labels)]), [
 *   ["jobs", [{}]],
 *   ["requests", [{ method: "GET", code: "200" }]],
 * ]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class Counter {
  /** The declared name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly string[];
  /** The unit, `""` when none. */
  readonly unit: string;
  readonly #children: Children<CounterChild>;

  static {
    makeCounter = (fields, children) => new Counter(fields, children);
  }

  private constructor(fields: MetricFields, children: Children<CounterChild>) {
    this.name = fields.name;
    this.help = fields.help;
    this.labelNames = fields.labelNames;
    this.unit = fields.unit;
    this.#children = children;
  }

  /**
   * Adds to the only series of a counter without labels.
   *
   * @param value What to add.
   * @throws {TypeError} If the counter has labels, or `value` is not a number.
   * @throws {RangeError} If `value` is negative or not finite.
   */
  inc(value?: number): void;
  /**
   * Adds to the series of a label set.
   *
   * @param labels The label values by name (every label name, no other).
   * @param value What to add.
   * @throws {TypeError} If the labels do not match the label names, or `value` is not a number.
   * @throws {RangeError} If `value` is negative or not finite.
   */
  inc(labels: LabelValues, value?: number): void;
  inc(labels?: LabelValues | number, value?: number): void {
    if (typeof labels === "object" && labels !== null) this.#children.get(labels).inc(value);
    else this.#children.unlabelled().inc(labels);
  }

  /**
   * The bound child of a label set, given by name (`labels({ method: "GET" })`) or as
   * values in label name order (`labels("GET")`). Bind once and keep it: its `inc()` is
   * the fastest way to count.
   *
   * @param labels The label values.
   * @returns The child.
   * @throws {TypeError} If the labels do not match the label names.
   */
  labels(...labels: [LabelValues] | (string | number)[]): CounterChild {
    const first = labels[0];
    return typeof first === "object" && first !== null && labels.length === 1
      ? this.#children.get(first)
      : this.#children.positional(labels);
  }
}
