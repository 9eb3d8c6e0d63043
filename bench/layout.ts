/**
 * Layout benchmarks: struct views, cursors and atomics against raw typed-array access on
 * the same mapping, in the same run. Prints a JSON array of comparisons.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { do_not_optimize } from "mitata";
import { atomic, f64, MappedFile, struct, u32, u64, utf8 } from "../mod.ts";
import { compare, type Comparison, OPS } from "./_measure.ts";

/** A record of a typical stats file. */
const Record = struct({ hits: u32, errors: u32, load: f64, bytes: u64, name: utf8(16) });
const RECORDS = 1024;

/** Runs the layout comparisons on a fresh mapping. */
export async function layoutBenchmarks(): Promise<Comparison[]> {
  const dir = mkdtempSync(join(tmpdir(), "mmstruct-bench-"));
  try {
    using file = MappedFile.create(join(dir, "bench.mms"), { size: Record.size * RECORDS });
    const u32s = new Uint32Array(file.buffer);
    const i32s = new Int32Array(file.buffer);
    const words = Record.size / 4;
    const k = Record.offsetOf("errors") / 4;
    const view = Record.view(file);
    const views = Array.from({ length: RECORDS }, (_, i) => Record.view(file, i * Record.size));
    const cursor = Record.cursor(file);
    const errors = atomic(view, "errors");
    const results: Comparison[] = [];

    results.push(
      await compare(
        "view get",
        ["u32[k]", () => {
          let s = 0;
          for (let i = 0; i < OPS; i++) s += u32s[k];
          do_not_optimize(s);
        }],
        ["view.errors", () => {
          let s = 0;
          for (let i = 0; i < OPS; i++) s += view.errors;
          do_not_optimize(s);
        }],
        { ratio: 2, better: "lower" },
      ),
    );
    results.push(
      await compare(
        "view set",
        ["u32[k] = i", () => {
          for (let i = 0; i < OPS; i++) u32s[k] = i;
        }],
        ["view.errors = i", () => {
          for (let i = 0; i < OPS; i++) view.errors = i;
        }],
        { ratio: 2, better: "lower" },
      ),
    );
    results.push(
      await compare(
        "view increment",
        ["u32[k] += 1", () => {
          for (let i = 0; i < OPS; i++) u32s[k] += 1;
        }],
        ["view.errors += 1", () => {
          for (let i = 0; i < OPS; i++) view.errors += 1;
        }],
      ),
    );
    results.push(
      await compare(
        "view get, 1024 records",
        ["u32[r * W + k]", () => {
          let s = 0;
          for (let i = 0; i < OPS; i++) s += u32s[(i & (RECORDS - 1)) * words + k];
          do_not_optimize(s);
        }],
        ["views[r].errors", () => {
          let s = 0;
          for (let i = 0; i < OPS; i++) s += views[i & (RECORDS - 1)].errors;
          do_not_optimize(s);
        }],
      ),
    );
    results.push(
      await compare(
        "cursor increment, 1024 records",
        ["u32[r * W + k]++", () => {
          for (let i = 0; i < OPS; i++) u32s[(i & (RECORDS - 1)) * words + k]++;
        }],
        ["cursor.at(r).errors++", () => {
          for (let i = 0; i < OPS; i++) cursor.at(i & (RECORDS - 1)).errors++;
        }],
        { ratio: 1.3, better: "lower" },
      ),
    );
    results.push(
      await compare(
        "atomic add",
        ["Atomics.add(i32, k, 1)", () => {
          for (let i = 0; i < OPS; i++) Atomics.add(i32s, k, 1);
        }],
        ["atomic(view, f).add(1)", () => {
          for (let i = 0; i < OPS; i++) errors.add(1);
        }],
        { ratio: 1.3, better: "lower" },
      ),
    );
    const u64s = new BigUint64Array(file.buffer);
    const k64 = Record.offsetOf("bytes") / 8;
    results.push(
      await compare(
        "view get, u64",
        ["u64[k]", () => {
          let s = 0n;
          for (let i = 0; i < OPS; i++) s += u64s[k64];
          do_not_optimize(s);
        }],
        ["view.bytes", () => {
          let s = 0n;
          for (let i = 0; i < OPS; i++) s += view.bytes;
          do_not_optimize(s);
        }],
      ),
    );
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ns per `view.hits += 1` on a mapping, for the comparison with Python ctypes. */
export async function incrementNs(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "mmstruct-bench-"));
  try {
    using file = MappedFile.create(join(dir, "bench.mms"), { size: 4096 });
    const view = Record.view(file);
    const result = await compare(
      "increment",
      ["view.hits += 1", () => {
        for (let i = 0; i < OPS; i++) view.hits += 1;
      }],
      ["view.hits += 1", () => {
        for (let i = 0; i < OPS; i++) view.hits += 1;
      }],
    );
    return Math.min(result.baselineNs, result.candidateNs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
