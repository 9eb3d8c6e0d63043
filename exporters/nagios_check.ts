/**
 * {@linkcode nagiosCheck}: a metric checked against thresholds, as a Nagios or Icinga
 * plugin reports it.
 *
 * @module
 */

import type { HistogramFamily, Labels, MetricFamily } from "../metrics/families.ts";
import { labelsKey, oneLine, plainNumber, selector, shortNumber } from "./_format.ts";
import { NagiosRange } from "./nagios_range.ts";
import { describeValue } from "../ffi/describe_value.ts";

/** A plugin's exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export type NagiosStatus = 0 | 1 | 2 | 3;

/** The names of the {@linkcode NagiosStatus} values, by status. */
export const NAGIOS_STATUS_NAMES: readonly ["OK", "WARNING", "CRITICAL", "UNKNOWN"] = Object.freeze(
  ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const,
);

/** Options for {@linkcode nagiosCheck}. */
export interface NagiosCheckOptions {
  /**
   * The metric: a family name (`http_requests`), or a sample name as Prometheus shows it:
   * `<counter>_total`, `<histogram>_count`, `<histogram>_sum`. A histogram family by its
   * name means its count (or, with `quantile`, the quantile).
   */
  metric: string;
  /**
   * Only series with these label values; other labels may have any value. An empty value
   * matches series without the label as well, as in Prometheus.
   *
   * @default {{}}
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * The WARNING range, as a {@linkcode NagiosRange} or its text (`10`, `10:`, `~:10`,
   * `10:20`, `@10:20`).
   *
   * @default {no warning threshold}
   */
  warning?: NagiosRange | string;
  /**
   * The CRITICAL range, as for `warning`. CRITICAL is tested first.
   *
   * @default {no critical threshold}
   */
  critical?: NagiosRange | string;
  /**
   * For a histogram: check the quantile `q` (0 to 1) estimated from the buckets, as
   * Prometheus' `histogram_quantile` does (linear within the bucket; a quantile in the
   * `+Inf` bucket is the highest finite bound). Over every observation so far, or with
   * `rate`, over the observations since the previous check.
   *
   * @default {check the count}
   */
  quantile?: number;
  /**
   * Sum the matching series and check the sum (one value, one perfdata item). Without,
   * each matching series is checked and the worst status is reported, with perfdata for
   * each series.
   *
   * @default {false}
   */
  sum?: boolean;
  /**
   * For counters and histograms: check the increase per second since the previous check
   * (`previous`), rather than the total. A total that went down (the directory was
   * emptied, so counting started again) counts as an increase from 0; a series new
   * since the previous check counts from 0 too.
   *
   * @default {false}
   */
  rate?: boolean;
  /**
   * The `state` an earlier result returned, as an object or as its JSON text; with `rate`
   * only. `undefined` on the first check. Anything that is not a state of this same check
   * (another metric, labels or quantile, or a corrupt file) counts as no previous state.
   */
  previous?: unknown;
  /**
   * The time of this check, in milliseconds since 1970-01-01 UTC.
   *
   * @default {Date.now()}
   */
  now?: number;
}

/** What a check keeps for the next one, to compute rates: plain JSON data. */
export interface NagiosCheckState {
  /** The version of this shape: 1. */
  readonly mmstruct_check: 1;
  /** What was checked: the metric, the labels asked for, and what was taken of it. */
  readonly check: string;
  /** When, in milliseconds since 1970-01-01 UTC. */
  readonly time: number;
  /** The readings by series (label set as JSON): a total, or cumulative bucket counts. */
  readonly series: Readonly<Record<string, readonly number[]>>;
}

/** What {@linkcode nagiosCheck} returns. */
export interface NagiosCheckResult {
  /** The exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  readonly status: NagiosStatus;
  /** The plugin's line: `MMSTRUCT OK - <text>|<perfdata>`, without a newline. */
  readonly output: string;
  /** With `rate`: what to keep for the next check; otherwise `undefined`. */
  readonly state: NagiosCheckState | undefined;
}

type Part = "value" | "count" | "sum" | "quantile";

/** One thing checked: a series (or the sum of several) and its value. */
interface Item {
  readonly name: string;
  /** `undefined` when not known yet (a rate's first check). */
  readonly value: number | undefined;
  /** A quantile of no observations. */
  readonly empty: boolean;
}

/** What is being measured, and how it shows in perfdata. */
interface Target {
  readonly family: MetricFamily;
  readonly part: Part;
  readonly sample: string;
}

const SEVERITY: readonly number[] = [0, 2, 3, 1]; // by status: OK < UNKNOWN < WARNING < CRITICAL

function worse(a: NagiosStatus, b: NagiosStatus): NagiosStatus {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

/** Text for the plugin output: on one line, and without `|`, which starts the perfdata. */
function text(value: string): string {
  return oneLine(value).replaceAll("|", "\\x7c");
}

/** A perfdata label, quoted when it holds a space, `=` or `'` (a quote inside doubled). */
function perfLabel(label: string): string {
  return /[ =']/.test(label) ? `'${label.replaceAll("'", "''")}'` : label;
}

function uomOf(target: Target, rate: boolean): string {
  if (rate) return "";
  if (target.family.type === "counter" || target.part === "count" || target.part === "sum") return "c";
  switch (target.family.unit) {
    case "seconds":
      return "s";
    case "bytes":
      return "B";
    case "percent":
      return "%";
    default:
      return "";
  }
}

function unknown(message: string): NagiosCheckResult {
  return { status: 3, output: `MMSTRUCT UNKNOWN - ${text(message)}`, state: undefined };
}

function findTarget(families: readonly MetricFamily[], metric: string, quantile: boolean): Target | undefined {
  const exact = families.find((family) => family.name === metric);
  if (exact !== undefined) {
    if (exact.type === "histogram") {
      return { family: exact, part: quantile ? "quantile" : "count", sample: quantile ? metric : `${metric}_count` };
    }
    return { family: exact, part: "value", sample: exact.type === "counter" ? `${metric}_total` : metric };
  }
  for (const family of families) {
    if (family.type === "counter" && metric === `${family.name}_total`) {
      return { family, part: "value", sample: metric };
    }
    if (family.type === "histogram" && metric === `${family.name}_count`) {
      return { family, part: "count", sample: metric };
    }
    if (family.type === "histogram" && metric === `${family.name}_sum`) return { family, part: "sum", sample: metric };
  }
  return undefined;
}

function matches(labels: Labels, wanted: Readonly<Record<string, string>>): boolean {
  for (const [name, value] of Object.entries(wanted)) {
    if ((Object.hasOwn(labels, name) ? labels[name] : "") !== value) return false;
  }
  return true;
}

/** A histogram's quantile from cumulative bucket counts, as Prometheus' `histogram_quantile`. */
function bucketQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const last = counts.length - 1;
  const total = counts[last];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let b = 0;
  while (b < last && counts[b] < rank) b++;
  if (b === last) return last > 0 ? bounds[last - 1] : NaN; // in the +Inf bucket: the highest finite bound
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  const start = b === 0 ? 0 : bounds[b - 1];
  const below = b === 0 ? 0 : counts[b - 1];
  const within = counts[b] - below;
  return within > 0 ? start + (bounds[b] - start) * ((rank - below) / within) : start;
}

/** A series' reading: its total, or its cumulative bucket counts for a quantile. */
function reading(target: Target, series: MetricFamily["series"][number]): number[] {
  if ("buckets" in series) {
    if (target.part === "quantile") return series.buckets.map((bucket) => bucket.count);
    return [target.part === "sum" ? series.sum : series.count];
  }
  return [series.value];
}

function validState(value: unknown, check: string): NagiosCheckState | undefined {
  let state = value;
  if (typeof state === "string") {
    try {
      state = JSON.parse(state);
    } catch {
      return undefined;
    }
  }
  if (typeof state !== "object" || state === null) return undefined;
  const { mmstruct_check: version, check: what, time, series } = state as Record<string, unknown>;
  if (version !== 1 || what !== check || typeof time !== "number" || !Number.isFinite(time)) return undefined;
  if (typeof series !== "object" || series === null || Array.isArray(series)) return undefined;
  for (const values of Object.values(series)) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number" && Number.isFinite(v))) return undefined;
  }
  return state as NagiosCheckState;
}

function checkOptions(options: NagiosCheckOptions): {
  warning: NagiosRange | undefined;
  critical: NagiosRange | undefined;
  labels: Readonly<Record<string, string>>;
  now: number;
} {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot check: options must be an object, got ${describeValue(options)}`);
  }
  const { metric, quantile, now = Date.now() } = options;
  if (typeof metric !== "string" || metric === "") {
    throw new TypeError(`Cannot check: metric must be a non-empty string, got ${JSON.stringify(metric)}`);
  }
  const labels = options.labels ?? {};
  if (typeof labels !== "object" || labels === null || Object.values(labels).some((v) => typeof v !== "string")) {
    throw new TypeError(`Cannot check: labels must be an object of strings, got ${describeValue(labels)}`);
  }
  if (quantile !== undefined && (typeof quantile !== "number" || !(quantile >= 0 && quantile <= 1))) {
    throw new RangeError(`Cannot check: quantile must be a number from 0 to 1, got ${JSON.stringify(quantile)}`);
  }
  for (const name of ["sum", "rate"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "boolean") {
      throw new TypeError(`Cannot check: ${name} must be a boolean, got ${describeValue(options[name])}`);
    }
  }
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError(`Cannot check: now must be a finite number, got ${describeValue(now)}`);
  }
  const range = (value: NagiosRange | string | undefined) =>
    value === undefined || value instanceof NagiosRange ? value : NagiosRange.parse(value);
  return { warning: range(options.warning), critical: range(options.critical), labels, now };
}

/**
 * Checks a metric of merged metrics (what {@linkcode collect} returns in `families`)
 * against a warning and a critical {@linkcode NagiosRange}, and returns the exit status
 * and output line of a Nagios/Icinga plugin: `MMSTRUCT OK - <what> = <value>|<perfdata>`.
 *
 * Each series of the metric that has the given labels is checked (CRITICAL first, then
 * WARNING), and the worst status is the result (CRITICAL, then WARNING, then UNKNOWN);
 * the text names the worst series, and the perfdata has one item per series, labelled
 * with the series' Prometheus selector. With `sum`, the series are summed into one value
 * first. A gauge whose value is NaN is UNKNOWN; a metric that is not there, or has no
 * series with the labels, is UNKNOWN.
 *
 * Perfdata items are `'label'=value[UOM];[warn];[crit];[min];[max]` with the label quoted
 * when it holds a space, `=` or `'` (a quote inside doubled), numbers in plain decimal
 * notation (`U` for a value that is not a number), and the UOM `c` for a counter's total
 * (and a histogram's count or sum), `s`, `B` or `%` for a gauge or quantile in `seconds`,
 * `bytes` or `percent`, none for rates. `|` and line breaks in label values are written
 * as escapes (`\x7c`, `\n`), so they cannot break the output, and so are spaces in
 * perfdata labels (`\x20`), which Icinga 2 would split the item at, quotes or not.
 *
 * With `rate`, the first check (no valid `previous`) is OK without a value, saying that
 * the rate is not known yet, and returns the state to keep; later checks compute the
 * increase per second since the previous one.
 *
 * @param families The metric families, as `collect(dir).families`.
 * @param options The metric, labels, thresholds, and what to check of it.
 * @returns The status, the output line, and with `rate` the state to keep.
 * @throws {TypeError} If an option has the wrong type, or a range is not in the range syntax.
 * @throws {RangeError} If `quantile` is not from 0 to 1, or a range's start is above its end.
 *
 * @example Check a counter, then its rate
 * ```ts
 * import { collect, Metrics, nagiosCheck } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * const errors = metrics.counter({ name: "errors_total", help: "Errors" });
 * errors.inc(25);
 * const total = nagiosCheck(collect(dir).families, { metric: "errors_total", warning: "10", critical: "20" });
 * assert.equal(total.status, 2);
 * assert.equal(total.output, "MMSTRUCT CRITICAL - errors_total = 25 (critical range 20)|errors_total=25c;10;20;0");
 *
 * const first = nagiosCheck(collect(dir).families, { metric: "errors_total", rate: true, now: 1_000 });
 * assert.equal(first.status, 0);
 * errors.inc(5);
 * const later = nagiosCheck(collect(dir).families, {
 *   metric: "errors_total",
 *   rate: true,
 *   previous: first.state,
 *   now: 11_000,
 *   warning: "0.1",
 * });
 * assert.equal(later.output, "MMSTRUCT WARNING - rate(errors_total) = 0.5 per second (warning range 0.1)|rate(errors_total)=0.5;0.1;;0");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function nagiosCheck(families: readonly MetricFamily[], options: NagiosCheckOptions): NagiosCheckResult {
  if (!Array.isArray(families)) {
    throw new TypeError(`Cannot check: families must be an array, got ${describeValue(families)}`);
  }
  const { warning, critical, labels, now } = checkOptions(options);
  const { metric, quantile, sum = false, rate = false } = options;

  const target = findTarget(families, metric, quantile !== undefined);
  if (target === undefined) return unknown(`No metric named ${JSON.stringify(metric)} in the metrics directory`);
  const { family, part } = target;
  if (quantile !== undefined && part !== "quantile") {
    return unknown(
      `A quantile needs a histogram, and ${JSON.stringify(metric)} is ${
        part === "value" ? `a ${family.type}` : `a histogram's ${part}`
      }`,
    );
  }
  if (rate && family.type === "gauge") {
    return unknown(`A rate needs a counter or a histogram, and ${JSON.stringify(metric)} is a gauge`);
  }
  const series = (family.series as readonly MetricFamily["series"][number][]).filter((s) => matches(s.labels, labels));
  if (series.length === 0) {
    const names = family.series.length === 0
      ? "it has no series yet"
      : `its labels are ${JSON.stringify(Object.keys(family.series[0].labels))}`;
    return unknown(`No series of ${JSON.stringify(metric)} has the labels ${selector("", labels) || "{}"}: ${names}`);
  }
  const bounds = family.type === "histogram" ? (family as HistogramFamily).series[0].buckets.map((b) => b.le) : [];
  const perSecond = rate && part !== "quantile";
  /** A selector with the quantile as a label, as Prometheus writes a summary's; wrapped in `rate()` for rates. */
  const nameOf = (sample: string, labelSet: Labels) => {
    let name = selector(sample, labelSet);
    if (quantile !== undefined) {
      const q = `quantile="${quantile}"`;
      name = name.endsWith("}") ? `${name.slice(0, -1)},${q}}` : `${name}{${q}}`;
    }
    return perSecond ? `rate(${name})` : name;
  };

  // Readings, and with a rate the increase since the previous check.
  const check = JSON.stringify([metric, Object.entries(labels).sort(), quantile ?? null]);
  const readings = series.map((s) => reading(target, s));
  let vectors: (number[] | undefined)[] = readings;
  let seconds = 1;
  let notYet: string | undefined;
  let state: NagiosCheckState | undefined;
  if (rate) {
    state = {
      mmstruct_check: 1,
      check,
      time: now,
      series: Object.fromEntries(series.map((s, i) => [labelsKey(s.labels), readings[i]])),
    };
    const previous = options.previous === undefined ? undefined : validState(options.previous, check);
    seconds = previous === undefined ? 0 : (now - previous.time) / 1000;
    if (previous === undefined) {
      notYet = options.previous === undefined
        ? "first run"
        : "the saved state is not from this check or is corrupt, starting again";
    } else if (!(seconds > 0)) {
      notYet = "no time has passed since the previous check";
    } else {
      vectors = series.map((s, i) => {
        const before = previous.series[labelsKey(s.labels)];
        const now = readings[i];
        // A series new since then started from 0; one that went down started again from 0.
        if (before === undefined || before.length !== now.length || now.some((v, k) => v < before[k])) return now;
        return now.map((v, k) => v - before[k]);
      });
    }
    if (notYet !== undefined) vectors = series.map(() => undefined);
  }

  const value = (vector: number[] | undefined): Item["value"] => {
    if (vector === undefined) return undefined;
    if (part === "quantile") return bucketQuantile(quantile!, bounds, vector);
    return rate ? vector[0] / seconds : vector[0];
  };
  let items: Item[];
  if (sum) {
    const total = vectors.every((v) => v !== undefined)
      ? vectors[0]!.map((_, k) => vectors.reduce((n, v) => n + v![k], 0))
      : undefined;
    items = [{ name: `sum(${nameOf(target.sample, labels)})`, value: value(total), empty: total?.at(-1) === 0 }];
  } else {
    items = series.map((s, i) => ({
      name: nameOf(target.sample, s.labels),
      value: value(vectors[i]),
      empty: vectors[i]?.at(-1) === 0,
    }));
  }

  if (notYet !== undefined) {
    return { status: 0, output: `MMSTRUCT OK - ${text(`${notYet}: the rate of ${metric} is not known yet`)}`, state };
  }
  const statusOf = (item: Item): NagiosStatus => {
    if (part === "quantile" && item.empty) return 0;
    const v = item.value!;
    if (Number.isNaN(v)) return 3;
    if (critical?.alerts(v)) return 2;
    if (warning?.alerts(v)) return 1;
    return 0;
  };
  const statuses = items.map(statusOf);
  const status = statuses.reduce<NagiosStatus>(worse, 0);
  const describe = (item: Item, itemStatus: NagiosStatus) => {
    if (part === "quantile" && item.empty) return `${item.name}: no observations`;
    const range = itemStatus === 2
      ? ` (critical range ${critical})`
      : itemStatus === 1
      ? ` (warning range ${warning})`
      : "";
    return `${item.name} = ${shortNumber(item.value!)}${perSecond ? " per second" : ""}${range}`;
  };
  let summary: string;
  if (items.length === 1) {
    summary = describe(items[0], statuses[0]);
  } else if (status === 0) {
    summary = `${items.length} series of ${metric}, all ok`;
  } else {
    const counts = ([2, 1, 3] as const).map((s) => [s, statuses.filter((x) => x === s).length] as const)
      .filter(([, n]) => n > 0).map(([s, n]) => `${n} ${NAGIOS_STATUS_NAMES[s].toLowerCase()}`);
    const worst = statuses.indexOf(status);
    summary = `${items.length} series of ${metric}, ${counts.join(", ")}; worst: ${describe(items[worst], status)}`;
  }
  const uom = uomOf(target, perSecond);
  const min = family.type === "gauge" || part === "quantile" ? "" : "0";
  const perfdata = items.map((item) => {
    const v = part === "quantile" && item.empty ? undefined : plainNumber(item.value!);
    const fields = [v === undefined ? "U" : `${v}${uom}`, warning?.toString() ?? "", critical?.toString() ?? "", min];
    // Icinga 2 splits perfdata at spaces even inside quotes: a space in a label value is written as an escape.
    return `${perfLabel(text(item.name).replaceAll(" ", "\\x20"))}=${fields.join(";").replace(/;+$/, "")}`;
  }).join(" ");
  return { status, output: `MMSTRUCT ${NAGIOS_STATUS_NAMES[status]} - ${text(summary)}|${perfdata}`, state };
}
