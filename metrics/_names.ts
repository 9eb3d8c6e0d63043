/**
 * The rules metric declarations follow, shared by the writer (which refuses a bad
 * declaration with a `TypeError`) and the reader (which refuses a file whose records break
 * them): Prometheus' name rules, label names, buckets, aggregates, and the family name and
 * signature that decide which declarations merge. Internal.
 *
 * @module
 */

/** The metric types. */
export type MetricType = "counter" | "gauge" | "histogram";

/** How the gauges of several processes merge into one value; see `GaugeConfig.aggregate`. */
export type GaugeAggregate = "sum" | "max" | "min" | "last" | "each";

/** The aggregates a gauge may declare. */
export const AGGREGATES: ReadonlySet<string> = new Set(["sum", "max", "min", "last", "each"]);

/** Prometheus' default histogram buckets (client_golang's `DefBuckets`). */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/** The most finite buckets a histogram may have. */
export const MAX_BUCKETS = 1000;
/** The most label names a metric may have. */
export const MAX_LABEL_NAMES = 64;
/** The longest metric name, label name or unit, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 200;
/** The longest help text, in UTF-16 code units. */
export const MAX_HELP_LENGTH = 4096;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNIT = /^[a-zA-Z0-9_]+$/;

/** A metric declaration as it is written to and read from a file's entry log. */
export interface MetricDecl {
  /** The declared name (a counter's may end with `_total`). */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** `""` when none. */
  readonly unit: string;
  readonly labelNames: readonly string[];
  /** Histograms: the finite upper bounds, ascending. Otherwise empty. */
  readonly buckets: readonly number[];
  /** Gauges: how processes merge. Otherwise `"sum"`. */
  readonly aggregate: GaugeAggregate;
  /** When the writer declared it, in milliseconds since the epoch. */
  readonly createdMs: number;
  /** The family name: a counter's name without `_total`. */
  readonly family: string;
  /**
   * What must be equal for two declarations to merge: family name, type, help, unit,
   * label names, buckets and aggregate, as one string.
   */
  readonly signature: string;
}

/** Slots a series of `decl` takes: counter 1; gauge 2 (value, time of the last change); histogram buckets + 2. */
export function slotWidth(type: MetricType, buckets: readonly number[]): number {
  return type === "counter" ? 1 : type === "gauge" ? 2 : buckets.length + 2;
}

/** The family name of a metric: a counter declared `foo_total` is the family `foo`. */
export function familyName(type: MetricType, name: string): string {
  return type === "counter" && name.endsWith("_total") && name.length > 6 ? name.slice(0, -6) : name;
}

/**
 * Checks a declaration and returns the problem, or `undefined` when it is valid. The same
 * rules apply when the library declares a metric and when it reads one from a file.
 */
export function declProblem(d: {
  name: unknown;
  type: unknown;
  help: unknown;
  unit: unknown;
  labelNames: unknown;
  buckets: unknown;
  aggregate: unknown;
}): string | undefined {
  const { name, type, help, unit, labelNames, buckets, aggregate } = d;
  if (type !== "counter" && type !== "gauge" && type !== "histogram") {
    return `type must be "counter", "gauge" or "histogram", got ${quote(type)}`;
  }
  if (typeof name !== "string" || name.length > MAX_NAME_LENGTH || !METRIC_NAME.test(name)) {
    return `name must match [a-zA-Z_:][a-zA-Z0-9_:]* (at most ${MAX_NAME_LENGTH} characters), got ${quote(name)}`;
  }
  if (name.startsWith("mmstruct_")) return `the prefix "mmstruct_" is reserved for the library's own metrics`;
  if (type === "counter" && name === "_total") return `name must not be "_total" alone`;
  if (typeof help !== "string" || help.length > MAX_HELP_LENGTH) {
    return `help must be a string of at most ${MAX_HELP_LENGTH} characters, got ${quote(help)}`;
  }
  if (typeof unit !== "string" || (unit !== "" && (unit.length > MAX_NAME_LENGTH || !UNIT.test(unit)))) {
    return `unit must be a string of letters, digits and underscores, got ${quote(unit)}`;
  }
  if (unit !== "" && !familyName(type, name).endsWith(`_${unit}`)) {
    return `name must end with "_${unit}"${type === "counter" ? ` (before "_total")` : ""} since its unit is ${
      quote(unit)
    }`;
  }
  if (!Array.isArray(labelNames) || labelNames.length > MAX_LABEL_NAMES) {
    return `labelNames must be an array of at most ${MAX_LABEL_NAMES} names`;
  }
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (typeof label !== "string" || label.length > MAX_NAME_LENGTH || !LABEL_NAME.test(label)) {
      return `label name ${quote(label)} does not match [a-zA-Z_][a-zA-Z0-9_]*`;
    }
    if (label.startsWith("__")) return `label name ${quote(label)} starts with "__", which Prometheus reserves`;
    if (label === "mmstruct_overflow") return `label name "mmstruct_overflow" is reserved for the overflow series`;
    if (type === "histogram" && label === "le") return `label name "le" is reserved for histogram buckets`;
    if (type === "gauge" && aggregate === "each" && (label === "pid" || label === "mmstruct_writer")) {
      return `label name ${quote(label)} is reserved for gauges with aggregate "each"`;
    }
    if (seen.has(label)) return `label name ${quote(label)} is listed twice`;
    seen.add(label);
  }
  if (type === "histogram") {
    if (!Array.isArray(buckets) || buckets.length > MAX_BUCKETS) {
      return `buckets must be an array of at most ${MAX_BUCKETS} numbers`;
    }
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      if (typeof b !== "number" || !Number.isFinite(b)) {
        return `bucket ${quote(b)} is not a finite number (+Inf is always added)`;
      }
      if (i > 0 && !(b > buckets[i - 1])) return `buckets must be strictly ascending, got ${b} after ${buckets[i - 1]}`;
    }
  } else if (!Array.isArray(buckets) || buckets.length !== 0) {
    return `only histograms have buckets`;
  }
  if (type === "gauge" ? typeof aggregate !== "string" || !AGGREGATES.has(aggregate) : aggregate !== "sum") {
    return `aggregate must be one of "sum", "max", "min", "last", "each", got ${quote(aggregate)}`;
  }
  return undefined;
}

/** The family name and signature of a valid declaration. */
export function makeDecl(d: Omit<MetricDecl, "family" | "signature">): MetricDecl {
  const family = familyName(d.type, d.name);
  const signature = JSON.stringify([family, d.type, d.help, d.unit, d.labelNames, d.buckets, d.aggregate]);
  return Object.freeze({ ...d, family, signature });
}

/**
 * Why two declarations of one family do not merge (the first difference), for an error
 * message, or `undefined` when they do.
 */
export function declDifference(a: MetricDecl, b: MetricDecl): string | undefined {
  if (a.type !== b.type) return `it is a ${a.type}, not a ${b.type}`;
  if (a.help !== b.help) return `its help is ${quote(a.help)}, not ${quote(b.help)}`;
  if (a.unit !== b.unit) return `its unit is ${quote(a.unit)}, not ${quote(b.unit)}`;
  if (a.labelNames.join(",") !== b.labelNames.join(",")) {
    return `its label names are [${a.labelNames.join(", ")}], not [${b.labelNames.join(", ")}]`;
  }
  if (a.buckets.join(",") !== b.buckets.join(",")) {
    return `its buckets are [${a.buckets.join(", ")}], not [${b.buckets.join(", ")}]`;
  }
  if (a.aggregate !== b.aggregate) return `its aggregate is ${quote(a.aggregate)}, not ${quote(b.aggregate)}`;
  return undefined;
}

/** A value for an error message: strings quoted, the rest as `String` gives them. */
export function quote(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}
