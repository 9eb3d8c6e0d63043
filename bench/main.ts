/**
 * `npm run bench`: runs every benchmark on Deno, Node and Bun (and the seed's Python
 * ctypes recipe), then prints one table of ratios with the targets they are held to.
 *
 *     node dist/bench/main.js            all runtimes, the table
 *     <runtime> bench/main.ts --json     this runtime only, JSON (used by the table)
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime, type Runtime } from "../ffi/runtime.ts";
import type { Comparison } from "./_measure.ts";
import { incrementNs, layoutBenchmarks } from "./layout.ts";

interface RuntimeResult {
  runtime: Runtime;
  comparisons: Comparison[];
  incrementNs: number;
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

async function runHere(): Promise<RuntimeResult> {
  return { runtime: detectRuntime(), comparisons: await layoutBenchmarks(), incrementNs: await incrementNs() };
}

function runOn(runtime: Runtime, root: string): RuntimeResult {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const [file, args] = runtime === "deno"
    ? [bin("deno"), ["run", "--allow-all", join(root, "bench", "main.ts"), "--json"]]
    : runtime === "bun"
    ? [bin("bun"), [join(root, "bench", "main.ts"), "--json"]]
    : [process.execPath, [join(root, "dist", "bench", "main.js"), "--json"]];
  const child = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (child.status !== 0) throw new Error(`The ${runtime} benchmark failed with status ${child.status}`);
  return JSON.parse(child.stdout) as RuntimeResult;
}

function pythonNs(): number | undefined {
  const child = spawnSync("python3", ["-c", PYTHON_CTYPES], { encoding: "utf8" });
  return child.status === 0 ? Number(child.stdout.trim()) : undefined;
}

function verdict(ratio: number, target: Comparison["target"]): string {
  if (target === undefined) return "";
  const ok = target.better === "lower" ? ratio <= target.ratio : ratio >= target.ratio;
  return ok ? "ok" : "MISSED";
}

function table(results: RuntimeResult[], python: number | undefined): string {
  const rows: string[][] = [["comparison", "target", ...results.flatMap((r) => [r.runtime, ""])]];
  for (const [index, first] of results[0].comparisons.entries()) {
    const target = first.target === undefined
      ? ""
      : `${first.target.better === "lower" ? "≤" : "≥"} ${first.target.ratio}x`;
    const cells = results.flatMap((r) => {
      const c = r.comparisons[index];
      return [
        `${c.ratio.toFixed(2)}x (${c.candidateNs.toFixed(2)} vs ${c.baselineNs.toFixed(2)} ns)`,
        verdict(c.ratio, c.target),
      ];
    });
    rows.push([`${first.name}: ${first.candidate} / ${first.baseline}`, target, ...cells]);
  }
  if (python !== undefined) {
    const cells = results.flatMap((r) => {
      const speedup = python / r.incrementNs;
      return [
        `${speedup.toFixed(0)}x faster (${r.incrementNs.toFixed(2)} vs ${python.toFixed(0)} ns)`,
        verdict(speedup, { ratio: 50, better: "higher" }),
      ];
    });
    rows.push(["increment: Python ctypes i.value += 1 / view.hits += 1", "≥ 50x", ...cells]);
  } else {
    rows.push(["increment vs Python ctypes", "≥ 50x", "python3 not found", ""]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length)));
  return rows.map((row) => row.map((cell, c) => (cell ?? "").padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

if (process.argv.includes("--json")) {
  console.log(JSON.stringify(await runHere()));
} else {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = import.meta.url.endsWith(".js") ? resolve(here, "..", "..") : resolve(here, "..");
  const results = (["deno", "node", "bun"] as const).map((runtime) => {
    console.error(`benchmarking on ${runtime}…`);
    return runOn(runtime, root);
  });
  console.error("benchmarking Python ctypes…");
  console.log(table(results, pythonNs()));
}
