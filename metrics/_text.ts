/**
 * What the Prometheus text format 0.0.4 and OpenMetrics 1.0 printers share: checking the families, rendering numbers
 * and escaping strings. Both printers run on every scrape (up to a million series), so the checks are done once per
 * family or once per distinct label name, and strings are escaped only when they hold a character that needs it.
 *
 * @module
 */

import type { HistogramSeries, Labels, MetricFamily } from "./families.ts";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/**
 * The sample names each type can expose, besides the family name itself: OpenMetrics' list ("Suffixes" in its data
 * model), which a family's name must not clash with in either format, so that one set of families prints in both.
 */
const SUFFIXES = {
  counter: ["_total", "_created"],
  gauge: [],
  histogram: ["_bucket", "_count", "_sum", "_created"],
} as const;

/** JSON.stringify, for quoting a bad value in an error message whatever it is. */
function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * The name a family is printed under: a counter declared `foo_total` is the family `foo`, whose samples are
 * `foo_total` (never `foo_total_total`).
 */
export function familyName(family: MetricFamily): string {
  const name = family.name;
  return family.type === "counter" && name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
}

/** A family after the checks, with what both printers need computed once. */
export interface CheckedFamily {
  readonly family: MetricFamily;
  /** The family name, `_total` removed from a counter's. */
  readonly name: string;
  /** The help text, `""` when none. */
  readonly help: string;
  /** The unit when it is a suffix of the name (`foo_seconds` and `seconds`), else `""`. */
  readonly unit: string;
}

/**
 * Checks the shape of every family and that no two families would expose the same sample name.
 *
 * @throws {TypeError} If `families` is not an array, a family has an unknown type, a name that is not a Prometheus
 * metric name, a help text or unit that is not a string, or a name that clashes with another family's samples.
 */
export function checkFamilies(families: readonly MetricFamily[], printer: string): CheckedFamily[] {
  if (!Array.isArray(families)) {
    throw new TypeError(`Cannot print ${printer}: the families ${quote(families)} are not an array`);
  }
  const owners = new Map<string, string>();
  const checked: CheckedFamily[] = [];
  for (const family of families) {
    if (typeof family !== "object" || family === null) {
      throw new TypeError(`Cannot print ${printer}: the family ${quote(family)} is not an object`);
    }
    const type: string = family.type;
    if (type !== "counter" && type !== "gauge" && type !== "histogram") {
      throw new TypeError(
        `Cannot print metric family ${quote(family.name)}: unknown type ${quote(type)}, ` +
          `expected "counter", "gauge" or "histogram"`,
      );
    }
    if (typeof family.name !== "string") {
      throw new TypeError(`Cannot print ${printer}: the family name ${quote(family.name)} is not a string`);
    }
    const name = familyName(family);
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(
        `Cannot print metric family ${quote(family.name)}: not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    const help = family.help ?? "";
    const unit = family.unit ?? "";
    if (typeof help !== "string") {
      throw new TypeError(`Cannot print metric family ${quote(family.name)}: the help ${quote(help)} is not a string`);
    }
    if (typeof unit !== "string") {
      throw new TypeError(`Cannot print metric family ${quote(family.name)}: the unit ${quote(unit)} is not a string`);
    }
    if (!Array.isArray(family.series)) {
      throw new TypeError(`Cannot print metric family ${quote(family.name)}: its series are not an array`);
    }
    for (const suffix of ["", ...SUFFIXES[type]]) {
      const sample = name + suffix;
      const owner = owners.get(sample);
      if (owner !== undefined) {
        throw new TypeError(
          `Cannot print metric family ${quote(family.name)}: the name ${quote(sample)} is also taken by the family ` +
            `${quote(owner)}`,
        );
      }
      owners.set(sample, family.name);
    }
    checked.push({ family, name, help, unit: unit !== "" && name.endsWith("_" + unit) ? unit : "" });
  }
  return checked;
}

/**
 * Collects the output line by line and joins every 1,024 lines into one flat string. Appending to one string with
 * `+=` builds a rope of millions of small pieces that all stay alive until the end, and V8's garbage collector then
 * spends 3 to 4 times the printing time marking them (measured with a million series); joined chunks are flat.
 */
export class TextBuilder {
  readonly #chunks: string[] = [];
  readonly #lines: string[] = [];

  /** Appends `line`, which ends with its line feed. */
  add(line: string): void {
    const lines = this.#lines;
    lines.push(line);
    if (lines.length === 1024) {
      this.#chunks.push(lines.join(""));
      lines.length = 0;
    }
  }

  /** Everything added, as one string. */
  text(): string {
    this.#chunks.push(this.#lines.join(""));
    this.#lines.length = 0;
    return this.#chunks.join("");
  }
}

/** A label value with `\`, `"` and line feed escaped (both formats). */
export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIAL.test(value)) return value;
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** A help text with `\` and line feed escaped (the Prometheus text format). */
export function escapeHelp(help: string): string {
  if (!HELP_SPECIAL.test(help)) return help;
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/**
 * Renders the label pairs of a series, `a="x",b="y"` without braces (`""` when there are none), checking each label
 * name the first time this scrape meets it.
 *
 * @throws {TypeError} If a label name is not a Prometheus label name, `le` on a histogram, or a value is not a string.
 */
export class LabelPrinter {
  readonly #seen = new Set<string>();

  pairs(labels: Labels, family: MetricFamily): string {
    if (typeof labels !== "object" || labels === null) {
      throw new TypeError(
        `Cannot print metric family ${quote(family.name)}: the labels ${quote(labels)} are not an object`,
      );
    }
    let out = "";
    let comma = "";
    for (const name in labels) {
      const value = labels[name];
      if (!this.#seen.has(name)) {
        if (!LABEL_NAME.test(name)) {
          throw new TypeError(
            `Cannot print metric family ${quote(family.name)}: the label name ${quote(name)} is not a Prometheus ` +
              `label name ([a-zA-Z_][a-zA-Z0-9_]*)`,
          );
        }
        this.#seen.add(name);
      }
      if (name === "le" && family.type === "histogram") {
        throw new TypeError(`Cannot print metric family ${quote(family.name)}: a histogram cannot have the label "le"`);
      }
      if (typeof value !== "string") {
        throw new TypeError(
          `Cannot print metric family ${quote(family.name)}: the value ${quote(value)} of the label ${quote(name)} ` +
            `is not a string`,
        );
      }
      out += comma + name + '="' + escapeLabelValue(value) + '"';
      comma = ",";
    }
    return out;
  }
}

/**
 * A sample value: the shortest decimal that reads back as the same number (what Go's `ParseFloat` and Python's `float`
 * read), `NaN`, `+Inf`, `-Inf`, and `-0.0` for negative zero (`"-0"` would read as the integer 0 in OpenMetrics).
 */
export function formatValue(value: number): string {
  if (value !== 0 && value - value === 0) return "" + value;
  if (value === 0) return 1 / value < 0 ? "-0.0" : "0";
  return value !== value ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

/**
 * A number in OpenMetrics' canonical form for `le` labels: Go's `%g` (shortest digits, exponent below -4 or from 6 up,
 * at least two exponent digits), with `.0` appended when that has neither a point nor an exponent: `0.0`, `0.005`,
 * `1.0`, `100000.0`, `1e+06`, `1e-05`, `+Inf`.
 */
export function canonicalNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (value !== value) return "NaN";
  const negative = value < 0 || (value === 0 && 1 / value < 0);
  const magnitude = Math.abs(value);
  let text = "0";
  if (magnitude !== 0) {
    // toExponential() without an argument gives the shortest digits that read back as the same number.
    const exponential = magnitude.toExponential();
    const e = exponential.indexOf("e");
    const exponent = Number(exponential.slice(e + 1));
    if (exponent < -4 || exponent >= 6) {
      const digits = Math.abs(exponent);
      text = exponential.slice(0, e) + (exponent < 0 ? "e-" : "e+") + (digits < 10 ? "0" : "") + digits;
    } else {
      text = "" + magnitude; // fixed notation for these exponents, with the same shortest digits
    }
  }
  if (!text.includes(".") && !text.includes("e")) text += ".0";
  return negative ? "-" + text : text;
}

/** Formats the `le` bounds of a family's histogram series, reusing the strings of the bounds the previous one had. */
export class BoundPrinter {
  #bounds: number[] = [];
  #texts: string[] = [];

  text(i: number, le: number): string {
    if (this.#bounds[i] === le) return this.#texts[i];
    const text = canonicalNumber(le);
    this.#bounds[i] = le;
    this.#texts[i] = text;
    return text;
  }
}

/**
 * Checks that a histogram series' buckets are cumulative and end with `+Inf`, whose count is the series' `count`.
 *
 * @throws {RangeError} If they are not, naming the family and the first bad bucket.
 */
export function checkHistogram(series: HistogramSeries, family: MetricFamily): void {
  const buckets = series.buckets;
  const name = quote(family.name);
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets[buckets.length - 1].le !== Infinity) {
    throw new RangeError(`Cannot print histogram ${name}: a series' buckets do not end with le = +Inf`);
  }
  let previous = -Infinity;
  let count = 0;
  for (let i = 0; i < buckets.length; i++) {
    const { le, count: c } = buckets[i];
    if (typeof le !== "number" || !(le > previous || (i === 0 && le === -Infinity))) {
      throw new RangeError(`Cannot print histogram ${name}: bucket le = ${quote(le)} is not above the one before`);
    }
    if (typeof c !== "number" || !Number.isInteger(c) || c < count) {
      throw new RangeError(
        `Cannot print histogram ${name}: the count ${quote(c)} of bucket le = ${canonicalNumber(le)} is not an ` +
          `integer at least the count before it (${count}): buckets are cumulative`,
      );
    }
    previous = le;
    count = c;
  }
  if (series.count !== count) {
    throw new RangeError(
      `Cannot print histogram ${name}: the count ${quote(series.count)} differs from the +Inf bucket's ${count}`,
    );
  }
  if (typeof series.sum !== "number") {
    throw new RangeError(`Cannot print histogram ${name}: the sum ${quote(series.sum)} is not a number`);
  }
}

/**
 * Checks that a series is an object.
 *
 * @throws {TypeError} If it is not.
 */
export function checkSeries(series: unknown, family: MetricFamily): void {
  if (typeof series !== "object" || series === null) {
    throw new TypeError(
      `Cannot print metric family ${quote(family.name)}: the series ${quote(series)} is not an object`,
    );
  }
}

/**
 * Checks a counter total: counters count, so the value is at least 0 (or +Inf); never NaN.
 *
 * @throws {RangeError} If it is negative, NaN or not a number.
 */
export function checkCounterValue(value: number, family: MetricFamily): void {
  if (!(typeof value === "number" && value >= 0)) {
    throw new RangeError(
      `Cannot print counter ${quote(family.name)}: the value ${quote(value)} is not a number at least 0`,
    );
  }
}

/**
 * Checks a gauge value's type.
 *
 * @throws {TypeError} If it is not a number.
 */
export function checkGaugeValue(value: number, family: MetricFamily): void {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot print gauge ${quote(family.name)}: the value ${quote(value)} is not a number`);
  }
}

/**
 * Checks a created time: seconds since the epoch, or undefined.
 *
 * @throws {RangeError} If it is neither undefined nor a finite number.
 */
export function checkCreated(created: number | undefined, family: MetricFamily): void {
  if (created !== undefined && !(typeof created === "number" && Number.isFinite(created))) {
    throw new RangeError(
      `Cannot print metric family ${quote(family.name)}: the created time ${quote(created)} is not a finite number`,
    );
  }
}
