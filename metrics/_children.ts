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

/** What label values lead to: the next label's values, or (after the last label) the child. */
type Node<C> = Map<string, Node<C> | C>;

/** Finds the child of a label set, or `undefined` for anything but a known, exact label set. */
type Lookup<C> = (labels: LabelValues) => C | undefined;

/** Lookup makers by label names: a metric's lookup is its maker applied to its tree. */
type Maker = (root: Node<unknown>) => Lookup<unknown>;
const lookups = new Map<string, Maker>();

/**
 * A lookup for label names `names` in `root`. It is generated, so that each label is read
 * by a property load of a literal name (`labels["method"]`), which the engines' inline
 * caches make about twice as fast as reading `labels[names[i]]` in a loop. The names
 * enter the source only as JSON string literals (and are Prometheus label names anyway).
 */
function lookupFor<C>(names: readonly string[], root: Node<C>): Lookup<C> {
  const key = JSON.stringify(names);
  let make: Maker | undefined = lookups.get(key);
  if (make === undefined) {
    const body: string[] = [];
    names.forEach((name, i) => {
      body.push(
        `let v${i} = labels[${JSON.stringify(name)}];`,
        `if (typeof v${i} !== "string") { if (typeof v${i} !== "number") return undefined; v${i} = String(v${i}); }`,
      );
    });
    body.push("let node = root;");
    names.forEach((_, i) => body.push(`node = node.get(v${i}); if (node === undefined) return undefined;`));
    // Extra labels would otherwise go unnoticed on a hit.
    body.push(
      "let count = 0; for (const _ in labels) count++;",
      `return count === ${names.length} ? node : undefined;`,
    );
    make = new Function("root", `return function lookup(labels) {\n${body.join("\n")}\n};`) as Maker;
    if (lookups.size >= 256) lookups.delete(lookups.keys().next().value!);
    lookups.set(key, make);
  }
  return make(root as Node<unknown>) as Lookup<C>;
}

/**
 * Maps label sets to a metric's children: a tree of maps, one level per label, so that a
 * lookup is one `Map.get` per label value, with no key to build.
 */
export class Children<C> {
  readonly #names: readonly string[];
  readonly #root: Node<C> = new Map();
  readonly #lookup: Lookup<C>;
  #count = 0;
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
    this.#lookup = lookupFor(this.#names, this.#root);
    if (this.#names.length === 0) this.#unlabelled = make(writer.allocate(metric, []));
  }

  /** The number of label sets with their own series. */
  get size(): number {
    return this.#count + (this.#unlabelled === undefined ? 0 : 1);
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
    if (this.#names.length === 0 || typeof labels !== "object" || labels === null) return this.#miss(labels);
    return this.#lookup(labels) ?? this.#miss(labels);
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
      // Readers key label sets by values joined with NUL: a value with one could pass for two.
      if (text.includes("\u0000")) {
        throw new TypeError(
          `Cannot label ${this.#what()}: the value of ${JSON.stringify(name)} contains a NUL character`,
        );
      }
      values.push(text);
    }
    let node = this.#root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = node.get(values[i]) as Node<C> | undefined;
      if (next === undefined) {
        if (this.#count >= this.#maxSeries) return this.#overflowChild();
        next = new Map();
        node.set(values[i], next);
      }
      node = next;
    }
    const last = values[values.length - 1];
    const known = node.get(last) as C | undefined;
    if (known !== undefined) return known;
    if (this.#count >= this.#maxSeries) return this.#overflowChild();
    const child = this.#make(this.#writer.allocate(this.#metric, values));
    node.set(last, child);
    this.#count++;
    return child;
  }

  /**
   * The child of the metric's one overflow series, which counts, visibly, the label sets
   * past the cap. They are not remembered, so that unbounded label values cannot grow the
   * tree either.
   */
  #overflowChild(): C {
    return this.#overflow ??= this.#make(this.#writer.allocate(this.#metric, null));
  }
}
