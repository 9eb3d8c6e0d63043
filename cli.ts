#!/usr/bin/env node
/**
 * `mmstruct`: print or follow any struct file, no layout needed; print, compact or serve a
 * metrics directory; be a munin plugin or a Nagios/Icinga check over one.
 *
 *     mmstruct show FILE [--json] [--all]
 *     mmstruct watch FILE [--json] [--all] [--interval MS] [--count N]
 *     mmstruct top [DIR] [--interval MS]
 *     mmstruct metrics [DIR] [--format table|prometheus|openmetrics|json]
 *     mmstruct compact [DIR]
 *     mmstruct serve [DIR] [--listen HOST:PORT] [--compact-interval S] [--no-openmetrics]
 *     mmstruct munin [DIR] [config|autoconf] [--plugin NAME]
 *     mmstruct check [DIR] --metric NAME [--label K=V]... [-w RANGE] [-c RANGE] [--rate --state FILE]
 *
 * Deno: `deno run --allow-ffi --allow-read jsr:@mmstruct/mmstruct/cli show FILE`.
 * npm: the package's `mmstruct` command.
 *
 * Long arrays, strings and byte fields are summarized (`--all` lists everything); output is
 * streamed, so that no file the library accepts makes the command run out of memory.
 *
 * Exit status: 0 done, 2 bad usage, 3 the file (or directory, or for `serve` the address to
 * listen on) cannot be opened, 4 it is not a valid struct file (or was truncated while
 * watched), 5 no consistent snapshot (the writer died or is stuck in an update, or a data
 * area too large to copy changed while it was listed), 1 anything else. Errors go to standard error as one line starting with
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
import { MAX_COMPACT_INTERVAL, parseListen, serve } from "./exporters/_serve.ts";
import { toMetricsJson } from "./exporters/metrics_json.ts";
import { collect, type Collected } from "./metrics/collect.ts";
import { compact } from "./metrics/compact.ts";
import type { Labels } from "./metrics/families.ts";
import { toOpenMetrics } from "./metrics/openmetrics_text.ts";
import { toPrometheus } from "./metrics/prometheus_text.ts";
import { MmapError } from "./ffi/mmap_error.ts";
import { FormatError } from "./struct_file/format_error.ts";
import { StaleWriterError } from "./struct_file/stale_writer_error.ts";
import { StructFile } from "./struct_file/struct_file.ts";
import {
  columnWidths,
  type FullData,
  fullData,
  json,
  rows,
  SHOWN_ELEMENTS,
  SHOWN_ROWS,
  summary,
} from "./struct_file/_text.ts";
import { follow } from "./struct_file/watch.ts";
import { runTop } from "./cli/_top.ts";
import { runWatchScreen } from "./cli/_watch_screen.ts";

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
  prometheus: ({ families }) => toPrometheus(families),
  openmetrics: ({ families }) => toOpenMetrics(families),
  json: toMetricsJson, // the same JSON as `mmstruct serve`'s /metrics.json
};

const USAGE = `Usage: mmstruct show FILE [--json] [--all]
       mmstruct watch FILE [--json] [--all] [--interval MS] [--count N]
       mmstruct top [DIR] [--interval MS]
       mmstruct metrics [DIR] [--format ${Object.keys(METRICS_FORMATS).join("|")}]
       mmstruct compact [DIR]
       mmstruct serve [DIR] [--listen HOST:PORT] [--compact-interval S] [--no-openmetrics]
       mmstruct munin [DIR] [config|autoconf] [--plugin NAME]
       mmstruct check [DIR] --metric NAME [--label K=V]... [-w RANGE] [-c RANGE] [--rate --state FILE]

Prints the fields of a struct file (any layout: the file describes itself).
  show    one consistent snapshot, as a table or --json
  watch   a snapshot at start and at every change: on a terminal, a full screen
          refreshed in place (with the age of the last change, and a mark when the
          writer has gone or the file was replaced or truncated; q quits), one line
          per change (key=value, or JSON with --json) otherwise; a file replaced at
          its path (a restarted writer) is reopened and followed
Prints, compacts or serves a metrics directory (default: $MMSTRUCT_METRICS_DIR, else
$XDG_RUNTIME_DIR/mmstruct-metrics, else /dev/shm/mmstruct-metrics-<uid>).
  metrics every process's metrics merged, once (default format: table)
  top     the merged metrics, and every other struct file of the directory, live on a
          full screen: values, rates, histogram p50/p90/p99, writers live and dead;
          keys: s sort (name, value, rate), / filter by name, Up/Down (k/j),
          PgUp/PgDn (b/space), Home/End (g/G) scroll, q quit; one snapshot
          when standard output is not a terminal
  compact fold the files of processes that have exited into one archive
  serve   HTTP for Prometheus: GET /metrics (Prometheus text, or OpenMetrics when
          asked), /metrics.json, /healthz, a live dashboard at /; compacts periodically;
          stops on SIGINT/SIGTERM
  munin   a munin plugin: config, autoconf, or the values (one graph per metric
          when MUNIN_CAP_MULTIGRAPH is set); symlinked as mmstruct_<name>, it is one
  check   a Nagios/Icinga plugin: a metric against Nagios ranges, with perfdata
          ('mmstruct check --help' for its options; exit status 0 to 3)
Options:
  --json          JSON output, always complete (64-bit integers as exact JSON numbers,
                  bytes as arrays)
  --all           every element of every array, and whole strings and byte fields
                  (by default: the first ${SHOWN_ELEMENTS} elements and the count, at most ${SHOWN_ROWS} rows)
  --interval MS   watch: how often to look for changes (default 100);
                  top: how often to refresh (default 1000)
  --count N       watch: exit after N snapshots
  --format F      metrics: ${Object.keys(METRICS_FORMATS).join(", ")}
  --listen A      serve: HOST:PORT, [IPv6]:PORT or :PORT (all IPv4 interfaces);
                  default 127.0.0.1:9464, port 0 for any free port
  --compact-interval S
                  serve: seconds between compactions (default 60, 0 for none)
  --no-openmetrics
                  serve: Prometheus text to every client, even those asking for OpenMetrics
  -h, --help      this text
Exit status: 0 ok, 2 usage, 3 cannot open (serve: cannot listen), 4 not a struct file (or truncated),
5 no consistent snapshot (writer dead or stuck), 1 other.`;

/** Exit statuses, for scripts. */
const EXIT = { ok: 0, other: 1, usage: 2, open: 3, format: 4, stale: 5 } as const;

class UsageError extends Error {}

/** The file changed while it was listed in place: the output may mix two updates. */
class ChangedError extends Error {}

/** Standard output was closed by its reader (`mmstruct show --all FILE | head`). */
class ClosedOutputError extends Error {}

/**
 * Standard output, a chunk at a time: `write` adds to the chunk, `flush` writes it and
 * waits while the reader is behind (`full` says when a flush is due).
 */
class Output {
  #chunk = "";
  #error: Error | undefined;

  constructor() {
    process.stdout.on("error", (error: NodeJS.ErrnoException) => {
      this.#error = error.code === "EPIPE" ? new ClosedOutputError("standard output was closed") : error;
    });
  }

  write(text: string): void {
    this.#chunk += text;
  }

  get full(): boolean {
    return this.#chunk.length >= 1 << 16;
  }

  async writeAll(pieces: Iterable<string>): Promise<void> {
    for (const piece of pieces) {
      this.#chunk += piece;
      if (this.full) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    const chunk = this.#chunk;
    this.#chunk = "";
    if (chunk !== "" && !process.stdout.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          process.stdout.off("drain", done);
          process.stdout.off("error", done);
          resolve();
        };
        process.stdout.on("drain", done);
        process.stdout.on("error", done);
      });
    }
    if (this.#error !== undefined) throw this.#error;
  }
}

function table(out: [string, string, string][]): string {
  out.unshift(["FIELD", "TYPE", "VALUE"]);
  // A loop, not Math.max(...rows): a large array of structs has more rows than a call has arguments.
  const width = [0, 0];
  for (const row of out) for (const c of [0, 1]) width[c] = Math.max(width[c], row[c].length);
  return out.map(([f, t, v]) => `${f.padEnd(width[0])}  ${t.padEnd(width[1])}  ${v}`).join("\n") + "\n";
}

/** Every row of `file`, streamed as a table or as `key=value` pieces of one line. */
async function writeFull(
  output: Output,
  file: StructFile,
  layout: "table" | "line",
  head: (version: number) => string = () => "",
  data: FullData = fullData(file),
): Promise<void> {
  output.write(head(data.version));
  const [fieldWidth, typeWidth] = columnWidths(file.type).map((w, i) => Math.max(w, ["FIELD", "TYPE"][i].length));
  if (layout === "table") output.write(`${"FIELD".padEnd(fieldWidth)}  ${"TYPE".padEnd(typeWidth)}  VALUE\n`);
  for (const batch of rows(file.type, data.arrays, data.at, "", true)) {
    for (const row of batch) {
      output.write(
        layout === "table" ? `${row.field.padEnd(fieldWidth)}  ${row.type.padEnd(typeWidth)}  ` : ` ${row.field}=`,
      );
      if (typeof row.value === "string") output.write(row.value);
      else await output.writeAll(row.value);
      if (layout === "table") output.write("\n");
    }
    if (output.full) await output.flush();
  }
  if (layout === "line") output.write("\n");
  if (!data.unchanged()) {
    throw new ChangedError(
      `${JSON.stringify(file.path)} changed while it was listed (from version ${data.version}): ` +
        `the output may mix two updates; try again`,
    );
  }
}

/** The whole data of `file` as JSON, streamed, inside `{"version":…,"reopened":…,"value":…}` for watch. */
async function writeJson(
  output: Output,
  file: StructFile,
  envelope?: { reopened: boolean },
  data: FullData = fullData(file),
): Promise<void> {
  if (envelope !== undefined) output.write(`{"version":${data.version},"reopened":${envelope.reopened},"value":`);
  await output.writeAll(json(file.type, data.arrays, data.at));
  output.write(envelope === undefined ? "\n" : "}\n");
  if (!data.unchanged()) {
    throw new ChangedError(
      `${JSON.stringify(file.path)} changed while it was written out (from version ${data.version}): ` +
        `the output may mix two updates; try again`,
    );
  }
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
        all: { type: "boolean", default: false },
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
    command !== "show" && command !== "watch" && command !== "metrics" && command !== "compact" &&
    command !== "serve" && command !== "top"
  ) {
    throw new UsageError(command === undefined ? "missing command" : `unknown command "${command}"`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (command !== "serve") {
    for (const name of ["listen", "compact-interval", "no-openmetrics"] as const) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} is for serve`);
    }
  } else {
    for (const name of ["json", "all", "interval", "count", "format"] as const) {
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
  if (command === "top") {
    for (const name of ["json", "all", "count", "format"] as const) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} is not for top`);
    }
    const output = new Output();
    await runTop(path, integerOption(values.interval, "interval", 1000), async (text) => {
      output.write(text);
      await output.flush();
    });
    return EXIT.ok;
  }
  if (command === "metrics" || command === "compact") {
    for (const name of ["json", "all", "interval", "count"] as const) {
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
    const text = formatter(collected);
    // The text formats end with a newline of their own (OpenMetrics must end with "# EOF\n").
    const output = new Output();
    output.write(text.endsWith("\n") ? text : `${text}\n`);
    await output.flush();
    return EXIT.ok;
  }
  if (path === undefined) throw new UsageError(`${command} needs a FILE`);
  if (values.format !== undefined) throw new UsageError("--format is for metrics");
  const output = new Output();

  if (command === "show") {
    if (values.interval !== undefined || values.count !== undefined) {
      throw new UsageError("--interval and --count are for watch");
    }
    using file = StructFile.open(path);
    if (values.json) await writeJson(output, file);
    else if (values.all) await writeFull(output, file, "table");
    else output.write(table(summary(file)[0]));
    await output.flush();
    return EXIT.ok;
  }

  const interval = integerOption(values.interval, "interval", 100);
  const count = integerOption(values.count, "count", Number.MAX_SAFE_INTEGER);
  // On a terminal, the screen shows what fits: --all is for output to a file or a pipe.
  if (process.stdout.isTTY === true && !values.json) {
    await runWatchScreen(path, interval, count);
    return EXIT.ok;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Read with each change: the summary, or the data to list in full.
  const read = (file: StructFile): [[string, string, string][] | FullData, number] => {
    if (!values.json && !values.all) return summary(file);
    const data = fullData(file);
    return [data, data.version];
  };
  let seen = 0;
  try {
    for await (
      const { value, version, file, reopened } of follow(path, { interval, signal: controller.signal }, read)
    ) {
      if (values.json) {
        await writeJson(output, file, { reopened }, value as FullData);
      } else {
        const head = (version: number) => `version=${version}${reopened ? " reopened=true" : ""}`;
        if (Array.isArray(value)) {
          output.write(`${[head(version), ...value.map(([f, , v]) => `${f}=${v}`)].join(" ")}\n`);
        } else await writeFull(output, file, "line", head, value);
      }
      await output.flush();
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
    // The reader of the output has gone (`| head`): nothing is wrong, and no one would read a message.
    if (error instanceof ClosedOutputError) return EXIT.ok;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`mmstruct: ${message}`);
    if (error instanceof UsageError) {
      console.error("Try 'mmstruct --help'.");
      return EXIT.usage;
    }
    if (error instanceof MmapError) return EXIT.open;
    if (error instanceof FormatError) return EXIT.format;
    if (error instanceof StaleWriterError || error instanceof ChangedError) return EXIT.stale;
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
