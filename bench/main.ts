/**
 * `npm run bench`: runs every benchmark on Deno, Node and Bun (and the seed's Python
 * ctypes recipe), then prints one table with the targets each line is held to.
 *
 *     node dist/bench/main.js [GROUP…]            all runtimes, the table
 *     <runtime> bench/main.ts --json [GROUP…]     this runtime only, JSON (used by the table)
 *
 * GROUP is `layout`, `struct_file`, `metrics` (the writer's hot paths) or `scrape` (reading
 * directories of many writers; the longest); all of them by default. For example
 * `npm run bench -- metrics scrape`.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime, type Runtime } from "../ffi/runtime.ts";
import { comparisonRow, type Row } from "./_measure.ts";
import { incrementNs, layoutBenchmarks } from "./layout.ts";
import { metricsBenchmarks, scrapeBenchmarks, type ScrapeDirectories, startScrapeWriters } from "./metrics.ts";
import { structFileBenchmarks } from "./struct_file.ts";

interface RuntimeResult {
  runtime: Runtime;
  rows: Row[];
  /** ns per `view.hits += 1`, for the Python ctypes line (with the layout group only). */
  incrementNs?: number;
}

const GROUPS = {
  layout: async () => (await layoutBenchmarks()).map(comparisonRow),
  struct_file: structFileBenchmarks,
  metrics: metricsBenchmarks,
  scrape: scrapeBenchmarks,
} as const;
type Group = keyof typeof GROUPS;

function groupsOf(args: readonly string[]): Group[] {
  const named = args.filter((arg) => !arg.startsWith("--"));
  for (const name of named) {
    if (!(name in GROUPS)) {
      throw new TypeError(`Unknown benchmark group "${name}": expected ${Object.keys(GROUPS).join(", ")}`);
    }
  }
  return named.length === 0 ? Object.keys(GROUPS) as Group[] : named as Group[];
}

const PYTHON_CTYPES = `
import ctypes, mmap, os, tempfile, timeit
fd, path = tempfile.mkstemp()
os.write(fd, b"\\0" * mmap.PAGESIZE)
buf = mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_WRITE | mmap.PROT_READ)
i = ctypes.c_int.from_buffer(buf)
n = 200000
best = min(timeit.repeat("i.value += 1", globals={"i": i}, number=n, repeat=5))
print(best / n * 1e9)
del i
buf.close()
os.close(fd)
os.unlink(path)
`;

async function runHere(groups: readonly Group[]): Promise<RuntimeResult> {
  const rows: Row[] = [];
  for (const group of groups) rows.push(...await GROUPS[group]());
  const increment = groups.includes("layout") ? await incrementNs() : undefined;
  return { runtime: detectRuntime(), rows, incrementNs: increment };
}

function runOn(runtime: Runtime, root: string, groups: readonly Group[], dirs?: ScrapeDirectories): RuntimeResult {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const [file, args] = runtime === "deno"
    ? [bin("deno"), ["run", "--allow-all", join(root, "bench", "main.ts"), "--json", ...groups]]
    : runtime === "bun"
    ? [bin("bun"), [join(root, "bench", "main.ts"), "--json", ...groups]]
    : [process.execPath, [join(root, "dist", "bench", "main.js"), "--json", ...groups]];
  const env = dirs === undefined ? process.env : { ...process.env, MMSTRUCT_BENCH_WRITERS: JSON.stringify(dirs) };
  const child = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env });
  if (child.status !== 0) throw new Error(`The ${runtime} benchmark failed with status ${child.status}`);
  return JSON.parse(child.stdout) as RuntimeResult;
}

function pythonNs(): number | undefined {
  const child = spawnSync("python3", ["-c", PYTHON_CTYPES], { encoding: "utf8" });
  return child.status === 0 ? Number(child.stdout.trim()) : undefined;
}

function formatValue(unit: Row["unit"], value: number): string {
  switch (unit) {
    case "x":
      return `${value.toFixed(value >= 100 ? 0 : 2)}x`;
    case "ns":
      return formatNs(value);
    case "ms":
      return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
    case "files":
      return `${value} ${value === 1 ? "file" : "files"}`;
  }
}

function format(row: Row): string {
  const value = formatValue(row.unit, row.value);
  return row.detail === "" ? value : `${value} (${row.detail})`;
}

function formatNs(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(0)} µs` : `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;
}

function verdict(row: Row): string {
  if (row.target === undefined) return "";
  const ok = row.target.better === "lower" ? row.value <= row.target.value : row.value >= row.target.value;
  return ok ? "ok" : "MISSED";
}

function targetText(row: Row): string {
  if (row.target === undefined) return "";
  const sign = row.target.better === "lower" ? "≤" : "≥";
  return `${sign} ${row.unit === "x" ? `${row.target.value}x` : formatValue(row.unit, row.target.value)}`;
}

function table(results: RuntimeResult[], python: number | undefined): string {
  const perRuntime = results.map((r) => {
    const rows = [...r.rows];
    if (python !== undefined && r.incrementNs !== undefined) {
      rows.push({
        name: "increment: Python ctypes i.value += 1 / view.hits += 1 (times faster)",
        value: python / r.incrementNs,
        unit: "x",
        detail: `${r.incrementNs.toFixed(2)} vs ${python.toFixed(0)} ns`,
        target: { value: 50, better: "higher" },
      });
    }
    return rows;
  });
  const lines: string[][] = [["benchmark", "target", ...results.flatMap((r) => [r.runtime, ""])]];
  for (const [index, first] of perRuntime[0].entries()) {
    lines.push([
      first.name,
      targetText(first),
      ...perRuntime.flatMap((rows) => [format(rows[index]), verdict(rows[index])]),
    ]);
  }
  if (python === undefined && results[0].incrementNs !== undefined) {
    lines.push(["increment vs Python ctypes", "≥ 50x", "python3 not found"]);
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((line) => (line[c] ?? "").length)));
  return lines.map((line) => line.map((cell, c) => (cell ?? "").padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

const groups = groupsOf(process.argv.slice(2));
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(await runHere(groups)));
} else {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = import.meta.url.endsWith(".js") ? resolve(here, "..", "..") : resolve(here, "..");
  // The scrape benchmarks' writers are started once, for the three runtimes' readers.
  if (groups.includes("scrape")) console.error("starting the writers of the scrape benchmarks…");
  const writers = groups.includes("scrape") ? await startScrapeWriters() : undefined;
  let results: RuntimeResult[];
  try {
    results = (["deno", "node", "bun"] as const).map((runtime) => {
      console.error(`benchmarking on ${runtime}…`);
      return runOn(runtime, root, groups, writers?.dirs);
    });
  } finally {
    await writers?.stop();
  }
  let python: number | undefined;
  if (groups.includes("layout")) {
    console.error("benchmarking Python ctypes…");
    python = pythonNs();
  }
  console.log(table(results, python));
}
