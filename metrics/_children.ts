/**
 * The labelled children of a metric: label values to the bound child that writes the
 * series' slots, allocated on first use, and the series cap. Internal.
 *
 * @module
 */

import { quote } from "./_names.ts";
import type { SlotRef, Writer, WriterMetric } from "./_writer.ts";

/** Label values by label name: strings, or numbers (written as `String(n)` gives them). */
export type LabelValues = Readonly<Record<string, string | number>>;

/** The key of a label set: its values in label name order, joined by NUL (which values may not contain). */
const SEPARATOR = "\u0000";

/** Maps label sets to a metric's children. */
export class Children<C> {
  readonly #names: readonly string[];
  readonly #map = new Map<string, C>();
  /**
   * The hot path's index: the label values as given (strings or numbers, so `200` and
   * `"200"` are two keys of one child), one `Map` level per label name, the child at the
   * last. A hit costs one lookup per label and builds no string. Filled by the slow path
   * with label sets it has checked; `#map` stays the one truth.
   */
  readonly #index = new Map<unknown, unknown>();
  #indexed = 0;
  readonly #writer: Writer;
  readonly #metric: WriterMetric;
  readonly #maxSeries: number;
  readonly #make: (ref: SlotRef) => C;
  #overflow: C | undefined;
  #unlabelled: C | undefined;

  /**
   * @param writer Allocates the slots.
   * @param metric The metric.
   * @param maxSeries Label sets past this many go to the overflow series.
   * @param make Makes a child over a series' slots.
   */
  constructor(writer: Writer, metric: WriterMetric, maxSeries: number, make: (ref: SlotRef) => C) {
    this.#writer = writer;
    this.#metric = metric;
    this.#names = metric.decl.labelNames;
    this.#maxSeries = maxSeries;
    this.#make = make;
    if (this.#names.length === 0) this.#unlabelled = make(writer.allocate(metric, []));
  }

  /** The number of label sets with their own series. */
  get size(): number {
    return this.#map.size + (this.#unlabelled === undefined ? 0 : 1);
  }

  /**
   * The child of a metric without labels.
   *
   * @throws {TypeError} If the metric has labels.
   */
  unlabelled(): C {
    const child = this.#unlabelled;
    if (child !== undefined) return child;
    throw new TypeError(
      `Cannot use ${this.#what()} without labels: it has the label names [${this.#names.join(", ")}]`,
    );
  }

  /**
   * The child for a label set given by name: the hot path of `inc(labels, value)`.
   *
   * @throws {TypeError} If a label is missing, unknown, or its value is not a string or number.
   */
  get(labels: LabelValues): C {
    const names = this.#names;
    const last = names.length - 1;
    if (last < 0 || typeof labels !== "object" || labels === null) return this.#miss(labels);
    let level = this.#index;
    for (let i = 0; i < last; i++) {
      const next = level.get(labels[names[i]]);
      if (next === undefined) return this.#miss(labels);
      level = next as Map<unknown, unknown>;
    }
    const child = level.get(labels[names[last]]);
    if (child === undefined) return this.#miss(labels);
    // Extra labels would otherwise go unnoticed on a hit.
    let count = 0;
    for (const _name in labels) count++;
    return count === names.length ? child as C : this.#miss(labels);
  }

  /**
   * The child for label values given in label name order (`labels("GET", 200)`).
   *
   * @throws {TypeError} If there are not as many values as label names, or one is not a string or number.
   */
  positional(values: readonly unknown[]): C {
    const names = this.#names;
    if (values.length !== names.length) {
      throw new TypeError(
        `Cannot label ${this.#what()}: expected ${names.length} values (${names.join(", ")}), got ${values.length}`,
      );
    }
    if (names.length === 0) return this.unlabelled();
    const labels: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) labels[names[i]] = values[i];
    return this.get(labels as LabelValues);
  }

  #what(): string {
    return `${this.#metric.decl.type} ${JSON.stringify(this.#metric.decl.name)}`;
  }

  /** The slow path: checks the label set, then finds or allocates its child. */
  #miss(labels: unknown): C {
    const names = this.#names;
    if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
      throw new TypeError(`Cannot label ${this.#what()}: labels must be an object, got ${quote(labels)}`);
    }
    const given = labels as Record<string, unknown>;
    if (names.length === 0) {
      if (Object.keys(given).length === 0) return this.unlabelled();
      throw new TypeError(`Cannot label ${this.#what()}: it has no label names, got ${quote(Object.keys(given)[0])}`);
    }
    const missing = names.filter((name) => !(name in given));
    const extra = Object.keys(given).filter((name) => !names.includes(name));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [
        missing.length > 0 ? `missing ${missing.map((m) => JSON.stringify(m)).join(", ")}` : "",
        extra.length > 0 ? `unknown ${extra.map((m) => JSON.stringify(m)).join(", ")}` : "",
      ].filter((p) => p !== "");
      throw new TypeError(
        `Cannot label ${this.#what()}: ${parts.join("; ")} (its label names are ${names.join(", ")})`,
      );
    }
    const values: string[] = [];
    for (const name of names) {
      const value = given[name];
      if (typeof value !== "string" && typeof value !== "number") {
        throw new TypeError(
          `Cannot label ${this.#what()}: the value of ${JSON.stringify(name)} must be a string or number, got ${
            quote(value)
          }`,
        );
      }
      const text = String(value);
      if (text.includes(SEPARATOR)) {
        throw new TypeError(
          `Cannot label ${this.#what()}: the value of ${JSON.stringify(name)} contains a NUL character`,
        );
      }
      values.push(text);
    }
    const key = values.join(SEPARATOR);
    let child = this.#map.get(key);
    if (child === undefined) {
      if (this.#map.size >= this.#maxSeries) {
        // Past the cap: counted, visibly, in the metric's one overflow series. Not cached, so
        // that unbounded label values cannot grow the maps either.
        return this.#overflow ??= this.#make(this.#writer.allocate(this.#metric, null));
      }
      child = this.#make(this.#writer.allocate(this.#metric, values));
      this.#map.set(key, child);
    }
    this.#remember(given, child);
    return child;
  }

  /**
   * Adds a checked label set, as given, to the hot path's index. Each label set has at
   * most 2^n spellings (each value a string or a number): the index is capped at twice the
   * series cap, past which the other spellings take the slow path.
   */
  #remember(given: Record<string, unknown>, child: C): void {
    if (this.#indexed >= 2 * this.#maxSeries) return;
    const names = this.#names;
    const last = names.length - 1;
    let level = this.#index;
    for (let i = 0; i < last; i++) {
      let next = level.get(given[names[i]]) as Map<unknown, unknown> | undefined;
      if (next === undefined) level.set(given[names[i]], next = new Map());
      level = next;
    }
    if (!level.has(given[names[last]])) {
      level.set(given[names[last]], child);
      this.#indexed++;
    }
  }
}
