/**
 * {@linkcode Gauge}: a value that goes up and down, merged over the live processes.
 *
 * @module
 */

import type { Children, LabelValues } from "./_children.ts";
import type { GaugeAggregate } from "./_names.ts";
import type { SlotRef } from "./_writer.ts";
import type { MetricFields } from "./counter.ts";

export type { GaugeAggregate };

/** The declaration of a gauge, for {@linkcode Metrics.prototype.gauge}. */
export interface GaugeConfig {
  /** The name, by Prometheus' rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** What it measures, for humans. */
  help: string;
  /**
   * The label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
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
   * How readers merge the values of the live processes: `"sum"`, `"max"`, `"min"`,
   * `"last"` (the value set most recently by any of them) or `"each"` (one series per
   * process, with an extra label `pid`: `"<pid>"`, or `"<pid>:<thread>"` for a worker
   * thread; two writers with the same pid and thread, as in two containers, also get
   * `mmstruct_writer`, their writer id). The gauges of processes that are gone are never
   * reported.
   *
   * @default {"sum"}
   */
  aggregate?: GaugeAggregate;
  /**
   * Label sets this process records separately; later ones share one overflow series
   * labelled `mmstruct_overflow="true"`.
   *
   * @default {the `maxSeries` of {@linkcode Metrics.create}, 2000 by default}
   */
  maxSeries?: number;
}

function badValue(what: string, value: unknown, finite: boolean): never {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${what} a gauge: the value must be a number, got ${typeof value}`);
  }
  throw new RangeError(`Cannot ${what} a gauge: the ${finite ? "amount" : "value"} must be finite, got ${value}`);
}

let makeChild: (ref: SlotRef) => GaugeChild;

/**
 * One labelled series of a {@linkcode Gauge}, bound to its slots. Each change also records
 * when it was made, for the `"last"` aggregate.
 *
 * @example Track work in progress
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const busy = metrics.gauge({ name: "busy_workers", help: "Workers busy", labelNames: ["pool"] }).labels("io");
 * busy.inc();
 * busy.inc();
 * busy.dec();
 * const [family] = collect(dir, { meta: false }).families;
 * assert.ok(family.type === "gauge");
 * assert.equal(family.series[0].value, 1);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class GaugeChild {
  readonly #slots: Float64Array;
  readonly #index: number;

  static {
    makeChild = (ref) => new GaugeChild(ref);
  }

  private constructor(ref: SlotRef) {
    this.#slots = ref.slots;
    this.#index = ref.index;
  }

  /**
   * Sets the value.
   *
   * @param value Any number (`NaN` and infinities included).
   * @throws {TypeError} If `value` is not a number.
   */
  set(value: number): void {
    if (typeof value !== "number") badValue("set", value, false);
    const i = this.#index;
    this.#slots[i] = value;
    this.#slots[i + 1] = Date.now();
  }

  /**
   * Adds `value`.
   *
   * @param value What to add.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  inc(value: number = 1): void {
    if (typeof value !== "number" || !(value - value === 0)) badValue("increment", value, true);
    const i = this.#index;
    this.#slots[i] += value;
    this.#slots[i + 1] = Date.now();
  }

  /**
   * Subtracts `value`.
   *
   * @param value What to subtract.
   * @throws {TypeError} If `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  dec(value: number = 1): void {
    if (typeof value !== "number" || !(value - value === 0)) badValue("decrement", value, true);
    const i = this.#index;
    this.#slots[i] -= value;
    this.#slots[i + 1] = Date.now();
  }

  /** Sets the value to the current time, in seconds since 1970-01-01 UTC. */
  setToCurrentTime(): void {
    const now = Date.now();
    const i = this.#index;
    this.#slots[i] = now / 1000;
    this.#slots[i + 1] = now;
  }
}

let makeGauge: (fields: MetricFields, aggregate: GaugeAggregate, children: Children<GaugeChild>) => Gauge;

/**
 * Makes a gauge whose children `children` makes; for {@linkcode Metrics.prototype.gauge}.
 * Not part of the public API.
 */
export function newGauge(
  fields: MetricFields,
  aggregate: GaugeAggregate,
  children: (make: (ref: SlotRef) => GaugeChild) => Children<GaugeChild>,
): Gauge {
  return makeGauge(fields, aggregate, children(makeChild));
}

/**
 * A gauge: a value that goes up and down. Each process (or thread) keeps its own value;
 * readers merge those of the live processes by the gauge's `aggregate`, and drop those of
 * processes that are gone. Made by {@linkcode Metrics.prototype.gauge}.
 *
 * @example One series per process
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import process from "node:process";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const heap = metrics.gauge({ name: "heap_bytes", help: "Heap in use", unit: "bytes", aggregate: "each" });
 * heap.set(1024);
 * const [family] = collect(dir, { meta: false }).families;
 * assert.deepEqual(family.series, [{ labels: { pid: String(process.pid) }, value: 1024 }]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class Gauge {
  /** The declared name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly string[];
  /** The unit, `""` when none. */
  readonly unit: string;
  /** How readers merge the values of several processes. */
  readonly aggregate: GaugeAggregate;
  readonly #children: Children<GaugeChild>;

  static {
    makeGauge = (fields, aggregate, children) => new Gauge(fields, aggregate, children);
  }

  private constructor(fields: MetricFields, aggregate: GaugeAggregate, children: Children<GaugeChild>) {
    this.name = fields.name;
    this.help = fields.help;
    this.labelNames = fields.labelNames;
    this.unit = fields.unit;
    this.aggregate = aggregate;
    this.#children = children;
  }

  #child(labels: LabelValues | number | undefined): GaugeChild {
    return typeof labels === "object" && labels !== null ? this.#children.get(labels) : this.#children.unlabelled();
  }

  /**
   * Sets the value of a gauge without labels.
   *
   * @param value Any number.
   * @throws {TypeError} If the gauge has labels, or `value` is not a number.
   */
  set(value: number): void;
  /**
   * Sets the value of a label set's series.
   *
   * @param labels The label values by name.
   * @param value Any number.
   * @throws {TypeError} If the labels do not match the label names, or `value` is not a number.
   */
  set(labels: LabelValues, value: number): void;
  set(labels: LabelValues | number, value?: number): void {
    if (typeof labels === "object" && labels !== null) this.#children.get(labels).set(value as number);
    else this.#children.unlabelled().set(labels);
  }

  /**
   * Adds to a gauge without labels.
   *
   * @param value What to add.
   * @throws {TypeError} If the gauge has labels, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  inc(value?: number): void;
  /**
   * Adds to a label set's series.
   *
   * @param labels The label values by name.
   * @param value What to add.
   * @throws {TypeError} If the labels do not match the label names, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  inc(labels: LabelValues, value?: number): void;
  inc(labels?: LabelValues | number, value?: number): void {
    if (typeof labels === "object" && labels !== null) this.#children.get(labels).inc(value);
    else this.#children.unlabelled().inc(labels);
  }

  /**
   * Subtracts from a gauge without labels.
   *
   * @param value What to subtract.
   * @throws {TypeError} If the gauge has labels, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  dec(value?: number): void;
  /**
   * Subtracts from a label set's series.
   *
   * @param labels The label values by name.
   * @param value What to subtract.
   * @throws {TypeError} If the labels do not match the label names, or `value` is not a number.
   * @throws {RangeError} If `value` is not finite.
   */
  dec(labels: LabelValues, value?: number): void;
  dec(labels?: LabelValues | number, value?: number): void {
    if (typeof labels === "object" && labels !== null) this.#children.get(labels).dec(value);
    else this.#children.unlabelled().dec(labels);
  }

  /**
   * Sets the value to the current time, in seconds since 1970-01-01 UTC.
   *
   * @param labels The label values, for a gauge with labels.
   * @throws {TypeError} If the labels do not match the label names.
   */
  setToCurrentTime(labels?: LabelValues): void {
    this.#child(labels).setToCurrentTime();
  }

  /**
   * The bound child of a label set, given by name or as values in label name order.
   *
   * @param labels The label values.
   * @returns The child.
   * @throws {TypeError} If the labels do not match the label names.
   */
  labels(...labels: [LabelValues] | (string | number)[]): GaugeChild {
    const first = labels[0];
    return typeof first === "object" && first !== null && labels.length === 1
      ? this.#children.get(first)
      : this.#children.positional(labels);
  }
}
