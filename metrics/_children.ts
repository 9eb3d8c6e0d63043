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
    const n = names.length;
    if (n === 0 || typeof labels !== "object" || labels === null) return this.#miss(labels, undefined);
    let key = "";
    for (let i = 0; i < n; i++) {
      let value = labels[names[i]];
      if (typeof value !== "string") {
        if (typeof value !== "number") return this.#miss(labels, undefined);
        value = String(value);
      }
      key = i === 0 ? value : key + SEPARATOR + value;
    }
    // Extra labels would otherwise go unnoticed on a hit.
    let count = 0;
    for (const _name in labels) count++;
    if (count !== n) return this.#miss(labels, undefined);
    return this.#map.get(key) ?? this.#miss(labels, key);
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
  #miss(labels: unknown, key: string | undefined): C {
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
    key ??= values.join(SEPARATOR);
    const known = this.#map.get(key);
    if (known !== undefined) return known;
    if (this.#map.size >= this.#maxSeries) {
      // Past the cap: counted, visibly, in the metric's one overflow series. Not cached, so
      // that unbounded label values cannot grow this map either.
      return this.#overflow ??= this.#make(this.#writer.allocate(this.#metric, null));
    }
    const child = this.#make(this.#writer.allocate(this.#metric, values));
    this.#map.set(key, child);
    return child;
  }
}
