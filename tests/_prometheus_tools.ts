/**
 * The real tools that judge the text formats: `promtool` (Debian package `prometheus`) and prometheus_client's parsers
 * on Debian's `/usr/bin/python3` (package `python3-prometheus-client`; the `python3` first on PATH may be another
 * interpreter without it). `.ci/run` installs both; when one is missing here and this process may run apt-get, it is
 * installed once, and the tests that need it skip, saying why, only when that fails.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { lines, root } from "./_helpers.ts";

/** Debian's interpreter, the one python3-prometheus-client installs into. */
export const PYTHON = "/usr/bin/python3";
const SCRIPT = join(root, "tests", "fixtures", "parse_prometheus.py");
const PACKAGES = ["prometheus", "python3-prometheus-client"];

function available(): { promtool: boolean; python: boolean } {
  return {
    promtool: spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0,
    python: spawnSync(PYTHON, ["-c", "import prometheus_client.openmetrics.parser"], { stdio: "ignore" }).status === 0,
  };
}

function install(): string {
  if (process.getuid?.() !== 0) return "not root, so apt-get cannot run";
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) =>
    spawnSync("apt-get", [...args, "-qq"], { env, encoding: "utf8", timeout: 600_000, stdio: "pipe" });
  const update = apt(["update"]);
  if (update.error || update.status !== 0) return `apt-get update failed: ${update.error?.message ?? update.stderr}`;
  const result = apt(["install", "-y", "--no-install-recommends", ...PACKAGES]);
  if (result.error || result.status !== 0) return `apt-get install failed: ${result.error?.message ?? result.stderr}`;
  return "";
}

function find(): { promtool: string | false; python: string | false } {
  let found = available();
  let failure = "";
  if (!found.promtool || !found.python) {
    failure = install() || "apt-get installed them, but they are still not found";
    found = available();
  }
  const why = (what: string) => `${what} is not installed, and installing it failed: ${failure.trim()}`;
  return {
    promtool: found.promtool ? false : why("promtool (Debian package prometheus)"),
    python: found.python ? false : why(`${PYTHON} with prometheus_client (Debian package python3-prometheus-client)`),
  };
}

/** Skip reasons for node:test (`false` when the tool is there). */
export const skip: { readonly promtool: string | false; readonly python: string | false } = find();

/** `promtool check metrics` on `text`: exit status 0 (clean), 3 (lint problems only) or 1 (refused), and its output. */
export function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A sample as prometheus_client parsed it; `value` is Python's repr of the float. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: string;
  timestamp: string | null;
  /** prometheus_client's Go-style rendering of the `le` label (`floatToGoString`), if the sample has one. */
  go: string | null;
}

/** A family as prometheus_client parsed it. */
export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  unit: string;
  samples: ParsedSample[];
}

/** What the parser said: the families, or the error it raised. */
export type Parsed = { ok: true; families: ParsedFamily[] } | { ok: false; error: string };

/** The text format a parser reads. */
export type Format = "prometheus" | "openmetrics";

/** Parses `text` once with prometheus_client (one Python process per call: about 0.2 s). */
export function parse(format: Format, text: string): Parsed {
  const result = spawnSync(PYTHON, [SCRIPT, format], { input: text, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  if (result.stdout === "") throw new Error(`parse_prometheus.py failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** One Python process that parses many texts, for property tests; close it when done. */
export class Parser {
  readonly #child = spawn(PYTHON, [SCRIPT, "--serve"], { stdio: ["pipe", "pipe", "pipe"] });
  readonly #lines = lines(this.#child);

  /** Parses `text` in the running process. */
  async parse(format: Format, text: string): Promise<Parsed> {
    this.#child.stdin!.write(JSON.stringify({ format, text }) + "\n");
    return JSON.parse(await this.#lines.next());
  }

  /** Ends the process and waits for it to exit. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.stdin!.end();
    await exited;
  }
}

/** Python's repr of a float, read back as the same number (`nan`, `inf`, `-inf`, `-0.0`, `1e+20`). */
export function pythonFloat(repr: string): number {
  if (repr === "nan") return NaN;
  if (repr === "inf") return Infinity;
  if (repr === "-inf") return -Infinity;
  return Number(repr);
}
