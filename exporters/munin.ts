/**
 * {@linkcode toMunin}: merged metrics as a munin plugin's output.
 *
 * @module
 */

import type { Labels, MetricFamily } from "../metrics/families.ts";
import { oneLine, plainNumber, selector, shortHash } from "./_format.ts";
import { describeValue } from "../ffi/describe_value.ts";

/** Options for {@linkcode toMunin}. */
export interface MuninOptions {
  /**
   * What munin asked for: `"config"` prints the graph and field definitions, `"fetch"`
   * (the plugin run without an argument) prints `field.value` lines.
   *
   * @default {"fetch"}
   */
  command?: "config" | "fetch";
  /**
   * One graph per metric family, each introduced by a `multigraph` line. Pass `true` only
   * when munin says it understands them: `MUNIN_CAP_MULTIGRAPH` is set (munin-node sets it
   * for masters of munin 1.4 and later, munin-run always). Without, everything goes in one
   * graph.
   *
   * @default {false}
   */
  multigraph?: boolean;
  /**
   * With `command: "config"`, print the values too (munin's `dirtyconfig`:
   * `MUNIN_CAP_DIRTYCONFIG=1` tells a plugin that munin-node takes them from `config`).
   *
   * @default {false}
   */
  dirtyConfig?: boolean;
  /**
   * The plugin's name: multigraph graphs are named `<plugin>_<family>`, so that two
   * plugins over two directories with the same metrics do not share graphs. Characters
   * munin does not allow in names become `_`.
   *
   * @default {"mmstruct"}
   */
  plugin?: string;
  /**
   * The title of the single graph (without multigraph).
   *
   * @default {"mmstruct metrics"}
   */
  title?: string;
  /**
   * The `graph_category` of every graph.
   *
   * @default {"mmstruct"}
   */
  category?: string;
}

/** One munin field: a value of a series and how munin should store it. */
interface Field {
  /** Identifies the field exactly, whatever its munin name: family, labels and part. */
  readonly key: string;
  readonly candidate: string;
  readonly label: string;
  readonly info: string;
  readonly type: "DERIVE" | "GAUGE";
  readonly value: number;
  /** DERIVE takes integers only: a value is stored multiplied by this, and divided back by a `cdef`. */
  readonly scale: number;
}

/** The longest field or graph name made: RRD file names hold them, and 255 bytes is the usual limit. */
const MAX_NAME = 64;
/** rrdtool parses DERIVE values as signed 64-bit integers. */
const MAX_DERIVE = 2 ** 63;

/**
 * A munin-safe name, as Munin::Plugin's `clean_fieldname` makes them: `[A-Za-z_][A-Za-z0-9_]*`,
 * never `root` (a munin 2.0 bug), and no longer than `max` (a cut name ends with a hash of
 * the whole).
 */
function cleanName(text: string, max = MAX_NAME): string {
  let name = text.replace(/^[^A-Za-z_]+/, "_").replace(/[^A-Za-z0-9_]/g, "_");
  if (name === "root") name = "__root";
  if (name.length > max) name = `${name.slice(0, max - 9)}_${shortHash(text)}`;
  return name;
}

/**
 * The multiplier that makes a DERIVE value an integer without losing what matters:
 * seconds to microseconds; a histogram's sum of other units to thousandths (its
 * observations may be fractional); counters of events and bytes as they are.
 */
function scaleFor(unit: string, sum: boolean): number {
  if (unit === "seconds") return 1e6;
  if (unit === "bytes") return 1;
  return sum ? 1000 : 1;
}

function fieldsOf(family: MetricFamily): Field[] {
  const fields: Field[] = [];
  const base = (labels: Labels) => [family.name, ...Object.values(labels)].join("_");
  const key = (labels: Labels, part: string) => JSON.stringify([family.name, part, Object.entries(labels)]);
  const info = oneLine(family.help);
  switch (family.type) {
    case "counter":
      for (const s of family.series) {
        fields.push({
          key: key(s.labels, ""),
          candidate: cleanName(base(s.labels)),
          label: selector(`${family.name}_total`, s.labels),
          info,
          type: "DERIVE",
          value: s.value,
          scale: scaleFor(family.unit, false),
        });
      }
      break;
    case "gauge":
      for (const s of family.series) {
        fields.push({
          key: key(s.labels, ""),
          candidate: cleanName(base(s.labels)),
          label: selector(family.name, s.labels),
          info,
          type: "GAUGE",
          value: s.value,
          scale: 1,
        });
      }
      break;
    case "histogram":
      for (const s of family.series) {
        const name = cleanName(base(s.labels), MAX_NAME - "_count".length);
        fields.push({
          key: key(s.labels, "count"),
          candidate: `${name}_count`,
          label: selector(`${family.name}_count`, s.labels),
          info: oneLine(`Observations per second: ${family.help}`),
          type: "DERIVE",
          value: s.count,
          scale: 1,
        }, {
          key: key(s.labels, "sum"),
          candidate: `${name}_sum`,
          label: selector(`${family.name}_sum`, s.labels),
          info: oneLine(`Sum of the observed values per second: ${family.help}`),
          type: "DERIVE",
          value: s.sum,
          scale: scaleFor(family.unit, true),
        });
      }
      break;
  }
  return fields;
}

/**
 * Munin names for fields (or graphs), unique within `fields`. Names that clash after
 * cleaning all get a hash of what they stand for, so a field's name depends on itself
 * alone unless it clashes: config and fetch, run apart, agree.
 */
function uniqueNames(items: readonly { key: string; candidate: string }[]): string[] {
  const count = new Map<string, number>();
  for (const { candidate } of items) count.set(candidate, (count.get(candidate) ?? 0) + 1);
  const names = items.map(({ key, candidate }) =>
    count.get(candidate)! > 1 ? `${candidate.slice(0, MAX_NAME - 9)}_${shortHash(key)}` : candidate
  );
  // A hashed name equal to another name: not seen in practice, but names must be unique.
  const taken = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name}_${n}`;
    taken.add(unique);
    return unique;
  });
}

function valueText(field: Field): string {
  if (field.type === "GAUGE") return plainNumber(field.value) ?? "U";
  const scaled = Math.round(field.value * field.scale);
  // Below 2^63 (and so below 1e21), String() never uses an exponent.
  return Number.isFinite(scaled) && Math.abs(scaled) < MAX_DERIVE ? String(scaled) : "U";
}

function graphConfig(
  out: string[],
  graph: { title: string; info: string; vlabel: string; category: string; base: number },
  fields: readonly Field[],
  names: readonly string[],
): void {
  out.push(
    `graph_title ${graph.title}`,
    `graph_info ${graph.info}`,
    `graph_category ${graph.category}`,
    `graph_vlabel ${graph.vlabel}`,
    `graph_args --base ${graph.base}`,
  );
  fields.forEach((field, i) => {
    const name = names[i];
    out.push(`${name}.label ${field.label}`);
    if (field.info !== "") out.push(`${name}.info ${field.info}`);
    out.push(`${name}.type ${field.type}`);
    if (field.type === "DERIVE") out.push(`${name}.min 0`);
    if (field.scale !== 1) out.push(`${name}.cdef ${name},${field.scale},/`);
  });
}

function values(out: string[], fields: readonly Field[], names: readonly string[]): void {
  fields.forEach((field, i) => out.push(`${names[i]}.value ${valueText(field)}`));
}

function vlabelOf(family: MetricFamily): string {
  const unit = family.unit === "" ? "" : `${family.unit} `;
  switch (family.type) {
    case "counter":
      return `${unit}per \${graph_period}`;
    case "gauge":
      return family.unit === "" ? "value" : family.unit;
    case "histogram":
      return `observations, ${unit}sum per \${graph_period}`;
  }
}

function checkString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Cannot print munin output: ${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Merged metrics (what {@linkcode collect} returns in `families`) as the output of a munin
 * plugin, for `config` or for a fetch.
 *
 * Fields are named after the family and the label values, cleaned to munin's rules
 * (`[A-Za-z_][A-Za-z0-9_]*`, not `root`, at most 64 characters); names that clash after
 * cleaning get a hash of the exact label set. A field's `.label` is the series as a
 * Prometheus selector (`http_requests_total{route="/"}`), its `.info` the help text.
 *
 * - Counters are `DERIVE` fields with `min 0` (munin graphs the rate per second; a total
 *   that went down, such as a directory emptied by hand, is not graphed as a negative
 *   rate).
 * - Gauges are `GAUGE` fields; NaN and the infinities are sent as `U` (unknown).
 * - A histogram is two `DERIVE` fields per series: `_count` (observations per second) and
 *   `_sum` (the sum of the observed values per second: for a histogram of durations, the
 *   time spent per second).
 * - munin's rrdtool takes integers only for `DERIVE`: a counter or sum in `seconds` is
 *   sent in microseconds, another histogram sum in thousandths, each with a `cdef` that
 *   divides it back; other counters and sums are rounded to an integer (an error of at
 *   most 0.5 in a total, which munin spreads over its 5-minute interval).
 *
 * With `multigraph`, each family is its own graph, `multigraph <plugin>_<family>`. Without,
 * one graph holds every field of every family (rates and values side by side): fine for a
 * few metrics, and what old munin masters get.
 *
 * @param families The metric families, as `collect(dir).families`.
 * @param options What to print and how.
 * @returns The plugin output, one line per definition or value, ending with a newline.
 * @throws {TypeError} If an option has the wrong type or value.
 *
 * @example Config and fetch of one counter
 * ```ts
 * import { collect, Metrics, toMunin } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * metrics.counter({ name: "jobs_total", help: "Jobs done", labelNames: ["queue"] }).inc({ queue: "mail" }, 3);
 * const { families } = collect(dir, { meta: false });
 * assert.equal(
 *   toMunin(families, { command: "config", multigraph: true }),
 *   [
 *     "multigraph mmstruct_jobs",
 *     "graph_title jobs",
 *     "graph_info Jobs done",
 *     "graph_category mmstruct",
 *     "graph_vlabel per ${graph_period}",
 *     "graph_args --base 1000",
 *     'jobs_mail.label jobs_total{queue="mail"}',
 *     "jobs_mail.info Jobs done",
 *     "jobs_mail.type DERIVE",
 *     "jobs_mail.min 0",
 *     "",
 *   ].join("\n"),
 * );
 * assert.equal(toMunin(families, { multigraph: true }), "multigraph mmstruct_jobs\njobs_mail.value 3\n");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function toMunin(families: readonly MetricFamily[], options: MuninOptions = {}): string {
  if (!Array.isArray(families)) {
    throw new TypeError(`Cannot print munin output: families must be an array, got ${describeValue(families)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot print munin output: options must be an object, got ${describeValue(options)}`);
  }
  const command = options.command ?? "fetch";
  if (command !== "config" && command !== "fetch") {
    throw new TypeError(
      `Cannot print munin output: command must be "config" or "fetch", got ${JSON.stringify(command)}`,
    );
  }
  for (const name of ["multigraph", "dirtyConfig"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "boolean") {
      throw new TypeError(`Cannot print munin output: ${name} must be a boolean, got ${describeValue(options[name])}`);
    }
  }
  const plugin = cleanName(checkString(options.plugin, "plugin") ?? "mmstruct");
  const title = oneLine(checkString(options.title, "title") ?? "mmstruct metrics");
  const category = cleanName(checkString(options.category, "category") ?? "mmstruct").toLowerCase();
  const config = command === "config";
  const withValues = !config || options.dirtyConfig === true;
  const out: string[] = [];

  if (options.multigraph === true) {
    const graphs = families.filter((family) => family.series.length > 0);
    const graphNames = uniqueNames(
      graphs.map((family) => ({ key: family.name, candidate: cleanName(`${plugin}_${family.name}`) })),
    );
    graphs.forEach((family, i) => {
      const fields = fieldsOf(family);
      const names = uniqueNames(fields);
      out.push(`multigraph ${graphNames[i]}`);
      if (config) {
        const graph = {
          title: family.name,
          info: oneLine(family.help),
          vlabel: vlabelOf(family),
          category,
          base: family.unit === "bytes" ? 1024 : 1000,
        };
        graphConfig(out, graph, fields, names);
      }
      if (withValues) values(out, fields, names);
    });
  } else {
    const fields = families.flatMap(fieldsOf);
    const names = uniqueNames(fields);
    if (config) {
      const info = "Every series of the metrics directory: counters and histograms per second, gauges as they are";
      const graph = { title, info, vlabel: "per ${graph_period}, or value", category, base: 1000 };
      graphConfig(out, graph, fields, names);
    }
    if (withValues) values(out, fields, names);
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
