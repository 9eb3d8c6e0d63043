/**
 * `mmstruct check`: the Nagios/Icinga plugin around {@linkcode nagiosCheck}: arguments,
 * the state file, and the rule that anything but a check result is UNKNOWN (exit 3).
 * Internal (the command line's).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { collect } from "../metrics/collect.ts";
import { oneLine } from "./_format.ts";
import { nagiosCheck, type NagiosCheckOptions } from "./nagios_check.ts";

/** The check's usage, printed by `--help` (exit status 3, as the monitoring plugins do). */
export const CHECK_USAGE = `Usage: mmstruct check [DIR] --metric NAME [--label NAME=VALUE]... [-w RANGE] [-c RANGE]
                      [--quantile Q] [--sum] [--rate --state FILE]
A Nagios/Icinga plugin: checks a metric of a metrics directory against thresholds.
  --metric NAME        a family (http_requests) or sample name (http_requests_total,
                       latency_seconds_count, latency_seconds_sum)
  --label NAME=VALUE   only series with this label value (repeat for more labels)
  -w, --warning RANGE  WARNING range: 10 (outside 0..10), 10: (below 10), ~:10 (above 10),
                       10:20 (outside), @10:20 (inside); endpoints included
  -c, --critical RANGE CRITICAL range, tested first
  --quantile Q         a histogram's quantile (0 to 1) estimated from its buckets
  --sum                check the sum of the matching series (default: each, worst wins)
  --rate               the increase per second since the previous check (counters and
                       histograms; with --quantile, the observations since then)
  --state FILE         where --rate keeps the previous reading (replaced atomically)
Output: MMSTRUCT OK|WARNING|CRITICAL|UNKNOWN - text|perfdata
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments, unreadable directory,
missing metric, bad range).`;

class CheckUsageError extends Error {}

interface Parsed {
  dir: string | undefined;
  help: boolean;
  metric: string | undefined;
  labels: Record<string, string>;
  warning: string | undefined;
  critical: string | undefined;
  quantile: string | undefined;
  sum: boolean;
  rate: boolean;
  state: string | undefined;
}

const VALUE_OPTIONS: Readonly<Record<string, "metric" | "label" | "warning" | "critical" | "quantile" | "state">> = {
  "--metric": "metric",
  "--label": "label",
  "-w": "warning",
  "--warning": "warning",
  "-c": "critical",
  "--critical": "critical",
  "--quantile": "quantile",
  "--state": "state",
};

/**
 * The check's arguments, read as the monitoring plugins read theirs: the value of `-w` is
 * the next argument even when it starts with `-` (`-w -5:5`), and `-w10`, `--warning=10`
 * work too.
 */
function parse(args: readonly string[]): Parsed {
  const parsed: Parsed = {
    dir: undefined,
    help: false,
    metric: undefined,
    labels: {},
    warning: undefined,
    critical: undefined,
    quantile: undefined,
    sum: false,
    rate: false,
    state: undefined,
  };
  const set = (option: string, name: string, value: string) => {
    if (name === "label") {
      const equals = value.indexOf("=");
      if (equals <= 0) throw new CheckUsageError(`${option} must be NAME=VALUE, got ${JSON.stringify(value)}`);
      const label = value.slice(0, equals);
      if (Object.hasOwn(parsed.labels, label)) throw new CheckUsageError(`${option} ${label} is given twice`);
      parsed.labels[label] = value.slice(equals + 1);
      return;
    }
    const key = name as "metric" | "warning" | "critical" | "quantile" | "state";
    if (parsed[key] !== undefined) throw new CheckUsageError(`${option} is given twice`);
    parsed[key] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") parsed.help = true;
    else if (arg === "--sum") parsed.sum = true;
    else if (arg === "--rate") parsed.rate = true;
    else if (Object.hasOwn(VALUE_OPTIONS, arg)) {
      if (i + 1 >= args.length) throw new CheckUsageError(`${arg} needs a value`);
      set(arg, VALUE_OPTIONS[arg], args[++i]);
    } else if (
      arg.startsWith("--") && arg.includes("=") && Object.hasOwn(VALUE_OPTIONS, arg.slice(0, arg.indexOf("=")))
    ) {
      const option = arg.slice(0, arg.indexOf("="));
      set(option, VALUE_OPTIONS[option], arg.slice(option.length + 1));
    } else if (/^-[wc]./.test(arg)) {
      set(arg.slice(0, 2), VALUE_OPTIONS[arg.slice(0, 2)], arg.slice(2));
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new CheckUsageError(`unknown option ${JSON.stringify(arg)}`);
    } else if (parsed.dir === undefined) {
      parsed.dir = arg;
    } else {
      throw new CheckUsageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
  }
  return parsed;
}

function unknown(message: string): number {
  console.log(`MMSTRUCT UNKNOWN - ${oneLine(message).replaceAll("|", "\\x7c")}`);
  return 3;
}

/** The state file's text, or `undefined` when there is none yet. */
function readState(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new Error(`Cannot read the state file ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

/** Replaces the state file by rename, so a reader sees the old state or the new one, whole. */
function writeState(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: "wx" });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`Cannot write the state file ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
}

/**
 * Runs `mmstruct check …`, prints the plugin's one line on standard output, and returns
 * the exit status: the check's (0 to 2), or 3 UNKNOWN for anything that kept it from
 * checking.
 */
export function runCheck(args: readonly string[]): number {
  try {
    const parsed = parse(args);
    if (parsed.help) {
      console.log(CHECK_USAGE);
      return 3;
    }
    if (parsed.metric === undefined) throw new CheckUsageError("--metric is required");
    if (parsed.rate && parsed.state === undefined) throw new CheckUsageError("--rate needs --state FILE");
    if (!parsed.rate && parsed.state !== undefined) throw new CheckUsageError("--state is for --rate");
    let quantile: number | undefined;
    if (parsed.quantile !== undefined) {
      quantile = parsed.quantile.trim() === "" ? NaN : Number(parsed.quantile);
      if (!(quantile >= 0 && quantile <= 1)) {
        throw new CheckUsageError(`--quantile must be a number from 0 to 1, got ${JSON.stringify(parsed.quantile)}`);
      }
    }
    // An empty range is no threshold: a CheckCommand may pass an unset variable as "".
    const options: NagiosCheckOptions = {
      metric: parsed.metric,
      labels: parsed.labels,
      warning: parsed.warning?.trim() === "" ? undefined : parsed.warning,
      critical: parsed.critical?.trim() === "" ? undefined : parsed.critical,
      quantile,
      sum: parsed.sum,
      rate: parsed.rate,
    };
    if (parsed.rate) options.previous = readState(parsed.state!);
    const result = nagiosCheck(collect(parsed.dir).families, options);
    if (result.state !== undefined) writeState(parsed.state!, JSON.stringify(result.state));
    console.log(result.output);
    return result.status;
  } catch (error) {
    return unknown(error instanceof Error ? error.message : String(error));
  }
}
