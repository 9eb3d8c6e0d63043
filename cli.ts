#!/usr/bin/env node
/**
 * `mmstruct`: print or follow any struct file, no layout needed; print, compact or serve a
 * metrics directory; be a munin plugin or a Nagios/Icinga check over one.
 *
 *     mmstruct show FILE [--json]
 *     mmstruct watch FILE [--json] [--interval MS] [--count N]
 *     mmstruct metrics [DIR] [--format table|json]
 *     mmstruct compact [DIR]
 *     mmstruct serve [DIR] [--listen HOST:PORT] [--compact-interval S] [--no-openmetrics]
 *     mmstruct munin [DIR] [config|autoconf] [--plugin NAME]
 *     mmstruct check [DIR] --metric NAME [--label K=V]... [-w RANGE] [-c RANGE] [--rate --state FILE]
 *
 * Deno: `deno run --allow-ffi --allow-read jsr:@mmstruct/mmstruct/cli show FILE`.
 * npm: the package's `mmstruct` command.
 *
 * Exit status: 0 done, 2 bad usage, 3 the file (or directory, or for `serve` the address to
 * listen on) cannot be opened, 4 it is
 * not a valid struct file, 5 no consistent snapshot (the writer died or is stuck in an
 * update), 1 anything else. Errors go to standard error as one line starting with
 * `mmstruct: `; for `metrics`, files of the directory that cannot be read are reported
 * there too (one line each), and the status stays 0. `serve` runs until SIGINT or SIGTERM
 * and then exits with 0; it prints a line when it starts (with the address it listens on)
 * and when it stops, and one line on standard error per problem, never one per request.
 * `check` follows the Nagios plugin
 * rules instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and its one line on standard output.
 *
 * Symlinked (through npm's `mmstruct` command or `dist/cli.js`) into munin's plugin
 * directory under a name starting with `mmstruct_`, the command is that munin plugin:
 * `mmstruct munin --plugin <name>`, with the directory from `env.MMSTRUCT_METRICS_DIR`.
 * For munin-node-configure:
 * #%# family=manual
 * #%# capabilities=autoconf
 *
 * @example Show a file as JSON
 * ```sh
 * mmstruct show /tmp/stats.mms --json
 * ```
 *
 * @module
 */

import { realpathSync } from "node:fs";
import { basename } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runCheck } from "./exporters/_check_command.ts";
import { runMunin } from "./exporters/_munin_command.ts";
import type { StructType } from "./layout/struct.ts";
import type { FieldType } from "./layout/types.ts";
import { MAX_COMPACT_INTERVAL, parseListen, serve } from "./exporters/_serve.ts";
import { toMetricsJson } from "./exporters/metrics_json.ts";
import { collect, type Collected } from "./metrics/collect.ts";
import { compact } from "./metrics/compact.ts";
import type { Labels } from "./metrics/families.ts";
import { MmapError } from "./mmap_error.ts";
import { FormatError } from "./struct_file/format_error.ts";
import { StaleWriterError } from "./struct_file/stale_writer_error.ts";
import { StructFile } from "./struct_file/struct_file.ts";
import { watch } from "./struct_file/watch.ts";

/** A metric label set as Prometheus writes it: `{name="value",…}`, or nothing. */
function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function number(value: number): string {
  return value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value);
}

/** `mmstruct metrics`' table: a row per series. */
function metricsTable({ families }: Collected): string {
  const out: [string, string, string][] = [["METRIC", "TYPE", "VALUE"]];
  for (const family of families) {
    // Counters as their samples are named in both text formats.
    const sample = family.type === "counter" ? `${family.name}_total` : family.name;
    if (family.series.length === 0) out.push([sample, family.type, "(no series)"]);
    for (const series of family.series) {
      const name = `${sample}${labelText(series.labels)}`;
      if ("buckets" in series) {
        const buckets = series.buckets.map((b) => `${number(b.le)}: ${b.count}`).join(", ");
        out.push([name, family.type, `count=${series.count} sum=${number(series.sum)} [${buckets}]`]);
      } else {
        out.push([name, family.type, number(series.value)]);
      }
    }
  }
  const width = [0, 0];
  for (const row of out) for (const c of [0, 1]) width[c] = Math.max(width[c], row[c].length);
  return out.map(([m, t, v]) => `${m.padEnd(width[0])}  ${t.padEnd(width[1])}  ${v}`).join("\n");
}

/** The output formats of `mmstruct metrics`: adding one is one line here. */
const METRICS_FORMATS: Readonly<Record<string, (collected: Collected) => string>> = {
  table: metricsTable,
  json: toMetricsJson, // the same JSON as `mmstruct serve`'s /metrics.json
};

const USAGE = `Usage: mmstruct show FILE [--json]
       mmstruct watch FILE [--json] [--interval MS] [--count N]
       mmstruct metrics [DIR] [--format ${Object.keys(METRICS_FORMATS).join("|")}]
       mmstruct compact [DIR]
       mmstruct serve [DIR] [--listen HOST:PORT] [--compact-interval S] [--no-openmetrics]
       mmstruct munin [DIR] [config|autoconf] [--plugin NAME]
       mmstruct check [DIR] --metric NAME [--label K=V]... [-w RANGE] [-c RANGE] [--rate --state FILE]

Prints the fields of a struct file (any layout: the file describes itself).
  show    one consistent snapshot, as a table or --json
  watch   a snapshot at start and at every change: refreshed in place on a terminal,
          one line per change (key=value, or JSON with --json) otherwise
Prints, compacts or serves a metrics directory (default: $MMSTRUCT_METRICS_DIR, else
$XDG_RUNTIME_DIR/mmstruct-metrics, else /dev/shm/mmstruct-metrics-<uid>).
  metrics every process's metrics merged, once (default format: table)
  compact fold the files of processes that have exited into one archive
  serve   HTTP for Prometheus: GET /metrics (Prometheus text, or OpenMetrics when
          asked), /metrics.json, /healthz; compacts periodically; stops on SIGINT/SIGTERM
  munin   a munin plugin: config, autoconf, or the values (one graph per metric
          when MUNIN_CAP_MULTIGRAPH is set); symlinked as mmstruct_<name>, it is one
  check   a Nagios/Icinga plugin: a metric against Nagios ranges, with perfdata
          ('mmstruct check --help' for its options; exit status 0 to 3)
Options:
  --json          JSON output (64-bit integers as exact JSON numbers, bytes as arrays)
  --interval MS   watch: how often to look for changes (default 100)
  --count N       watch: exit after N snapshots
  --format F      metrics: ${Object.keys(METRICS_FORMATS).join(", ")}
  --listen A      serve: HOST:PORT, [IPv6]:PORT or :PORT (all IPv4 interfaces);
                  default 127.0.0.1:9464, port 0 for any free port
  --compact-interval S
                  serve: seconds between compactions (default 60, 0 for none)
  --no-openmetrics
                  serve: Prometheus text to every client, even those asking for OpenMetrics
  -h, --help      this text
Exit status: 0 ok, 2 usage, 3 cannot open (serve: cannot listen), 4 not a struct file, 5 writer dead
or stuck, 1 other.`;

/** Exit statuses, for scripts. */
const EXIT = { ok: 0, other: 1, usage: 2, open: 3, format: 4, stale: 5 } as const;

class UsageError extends Error {}

/** JSON with exact 64-bit integers (written as plain numbers) and byte arrays as arrays. */
function toJson(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `[${value.join(",")}]`;
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function typeName(type: FieldType): string {
  switch (type.kind) {
    case "scalar":
      return type.byteOrder === "native" ? type.name : `${type.name}${type.byteOrder === "big" ? "be" : "le"}`;
    case "utf8":
    case "bytes":
      return `${type.kind}(${type.size})`;
    case "array":
      return `${typeName(type.element)}[${type.length}]`;
    default:
      return type.kind;
  }
}

function formatLeaf(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, "0")).join(" ");
  return String(value);
}

/** One row per scalar, string or byte array; arrays of scalars on one row. */
function rows(type: FieldType, value: unknown, path: string, out: [string, string, string][]): void {
  if (type.kind === "struct" || type.kind === "union") {
    const record = value as Record<string, unknown>;
    for (const field of type.fields) {
      rows(field.type, record[field.name], path ? `${path}.${field.name}` : field.name, out);
    }
  } else if (
    type.kind === "array" &&
    (type.element.kind === "struct" || type.element.kind === "union" || type.element.kind === "array")
  ) {
    (value as unknown[]).forEach((item, i) => rows(type.element, item, `${path}[${i}]`, out));
  } else if (type.kind === "array") {
    const items = value as unknown[];
    const shown = items.slice(0, 16).map(formatLeaf).join(", ");
    out.push([path, typeName(type), `[${shown}${items.length > 16 ? `, … (${items.length} elements)` : ""}]`]);
  } else {
    out.push([path, typeName(type), formatLeaf(value)]);
  }
}

function table(type: StructType, value: unknown): string {
  const out: [string, string, string][] = [["FIELD", "TYPE", "VALUE"]];
  rows(type, value, "", out);
  // A loop, not Math.max(...rows): a large array of structs has more rows than a call has arguments.
  const width = [0, 0];
  for (const row of out) for (const c of [0, 1]) width[c] = Math.max(width[c], row[c].length);
  return out.map(([f, t, v]) => `${f.padEnd(width[0])}  ${t.padEnd(width[1])}  ${v}`).join("\n");
}

function line(type: StructType, value: unknown, version: number): string {
  const out: [string, string, string][] = [];
  rows(type, value, "", out);
  return [`version=${version}`, ...out.map(([f, , v]) => `${f}=${v}`)].join(" ");
}

function integerOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  // The plugins take their own arguments, and check has its own exit statuses.
  if (argv[0] === "munin") return runMunin(argv.slice(1));
  if (argv[0] === "check") return runCheck(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        interval: { type: "string" },
        count: { type: "string" },
        format: { type: "string" },
        listen: { type: "string" },
        "compact-interval": { type: "string" },
        "no-openmetrics": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const [command, path, ...extra] = positionals;
  if (
    command !== "show" && command !== "watch" && command !== "metrics" && command !== "compact" && command !== "serve"
  ) {
    throw new UsageError(command === undefined ? "missing command" : `unknown command "${command}"`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (command !== "serve") {
    for (const name of ["listen", "compact-interval", "no-openmetrics"] as const) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} is for serve`);
    }
  } else {
    for (const name of ["json", "interval", "count", "format"] as const) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} is not for serve`);
    }
    let address;
    try {
      address = parseListen(values.listen ?? "127.0.0.1:9464");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const interval = values["compact-interval"] ?? "60";
    const seconds = Number(interval);
    if (!/^\d+$/.test(interval) || seconds > MAX_COMPACT_INTERVAL) {
      throw new UsageError(
        `--compact-interval must be a whole number of seconds from 0 to ${MAX_COMPACT_INTERVAL}, got "${interval}"`,
      );
    }
    return await serve({ dir: path, ...address, compactInterval: seconds, openMetrics: !values["no-openmetrics"] }, {
      info: (line) => console.log(line),
      error: (line) => console.error(line),
    });
  }
  if (command === "metrics" || command === "compact") {
    for (const name of ["json", "interval", "count"] as const) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} is not for ${command}`);
    }
    if (command === "compact") {
      if (values.format !== undefined) throw new UsageError("--format is for metrics");
      const { compacted, removed, skipped } = compact(path);
      console.log(
        skipped
          ? "skipped: another process is compacting the directory"
          : `compacted ${compacted} files of exited writers, removed ${removed} files`,
      );
      return EXIT.ok;
    }
    const format = values.format ?? "table";
    const formatter = Object.hasOwn(METRICS_FORMATS, format) ? METRICS_FORMATS[format] : undefined;
    if (formatter === undefined) {
      throw new UsageError(`--format must be one of ${Object.keys(METRICS_FORMATS).join(", ")}, got "${format}"`);
    }
    const collected = collect(path);
    for (const error of collected.errors) console.error(`mmstruct: skipped: ${error.message}`);
    console.log(formatter(collected));
    return EXIT.ok;
  }
  if (path === undefined) throw new UsageError(`${command} needs a FILE`);
  if (values.format !== undefined) throw new UsageError("--format is for metrics");

  if (command === "show") {
    if (values.interval !== undefined || values.count !== undefined) {
      throw new UsageError("--interval and --count are for watch");
    }
    using file = StructFile.open(path);
    const value = file.snapshot();
    console.log(values.json ? toJson(value) : table(file.type, value));
    return EXIT.ok;
  }

  const interval = integerOption(values.interval, "interval", 100);
  const count = integerOption(values.count, "count", Number.MAX_SAFE_INTEGER);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const terminal = process.stdout.isTTY === true && !values.json;
  let seen = 0;
  try {
    for await (const { value, version, type } of watch(path, { interval, signal: controller.signal })) {
      if (values.json) console.log(toJson({ version, value }));
      else if (terminal) process.stdout.write(`\x1b[H\x1b[2J${path}  version ${version}\n\n${table(type, value)}\n`);
      else console.log(line(type, value, version));
      if (++seen >= count) break;
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return EXIT.ok;
}

/** Runs the command line and returns the exit status. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`mmstruct: ${message}`);
    if (error instanceof UsageError) {
      console.error("Try 'mmstruct --help'.");
      return EXIT.usage;
    }
    if (error instanceof MmapError) return EXIT.open;
    if (error instanceof FormatError) return EXIT.format;
    if (error instanceof StaleWriterError) return EXIT.stale;
    return EXIT.other;
  }
}

/** Whether this module is the program (Node 20 has no `import.meta.main`: compare paths). */
function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main;
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  // Symlinked into munin's plugin directory as mmstruct_<name>, the command is that plugin.
  const invokedAs = basename(process.argv[1] ?? "");
  const args = process.argv.slice(2);
  // `then`, not a top-level `await`: a module graph with one cannot be `require`d.
  run(/^mmstruct_./.test(invokedAs) ? ["munin", "--plugin", invokedAs, ...args] : args).then((code) =>
    process.exitCode = code
  );
}
