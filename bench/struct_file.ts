/**
 * Struct file benchmarks: snapshot, update overhead and open, on the current runtime.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { do_not_optimize, measure } from "mitata";
import { f64, type FieldType, struct, StructFile, type StructType, u32, u64 } from "../mod.ts";
import type { Row } from "./_measure.ts";

/** 32 fields: 16 u32, 8 u64, 8 f64. */
function wide(suffix = ""): StructType {
  const fields: Record<string, FieldType> = {};
  for (let i = 0; i < 16; i++) fields[`count${i}${suffix}`] = u32;
  for (let i = 0; i < 8; i++) fields[`total${i}`] = u64;
  for (let i = 0; i < 8; i++) fields[`gauge${i}`] = f64;
  return struct(fields);
}

async function ns(body: () => void, ops = 1): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    best = Math.min(best, (await measure(body, { min_cpu_time: 200 * 1e6 })).avg / ops);
  }
  return best;
}

/** Runs the struct file benchmarks in a temporary directory. */
export async function structFileBenchmarks(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "mmstruct-bench-"));
  try {
    const Wide = wide();
    const path = join(dir, "wide.mms");
    using writer = StructFile.create(path, Wide);
    using reader = StructFile.open(path);
    const rows: Row[] = [];

    const snapshot = await ns(() => do_not_optimize(reader.snapshot()));
    const plainBuffer = new ArrayBuffer(Wide.size);
    const read = await ns(() => do_not_optimize(Wide.read(plainBuffer)));
    rows.push({
      name: "snapshot(), 32 fields, quiet file",
      value: snapshot,
      unit: "ns",
      detail: `type.read() of a plain buffer: ${read.toFixed(0)} ns`,
      target: { value: 1000, better: "lower" },
    });

    // Two u32 fields, written directly and inside update().
    const view = writer.view as unknown as { count0: number; count1: number };
    const OPS = 1000;
    const plain = await ns(() => {
      for (let i = 0; i < OPS; i++) {
        view.count0 = i;
        view.count1 = i;
      }
    }, OPS);
    const updated = await ns(() => {
      for (let i = 0; i < OPS; i++) {
        writer.update(() => {
          view.count0 = i;
          view.count1 = i;
        });
      }
    }, OPS);
    rows.push({
      name: "update(fn) overhead over the same 2 field writes",
      value: updated - plain,
      unit: "ns",
      detail: `${updated.toFixed(1)} vs ${plain.toFixed(1)} ns`,
      target: { value: 30, better: "lower" },
    });

    const open = await ns(() => StructFile.open(path).close());
    rows.push({
      name: "StructFile.open(path) + close, layout seen before",
      value: open,
      unit: "ns",
      detail: "",
      target: { value: 200_000, better: "lower" },
    });

    // A new layout each time: schema parse, validation and accessor generation included.
    const fresh = Array.from({ length: 300 }, (_, i) => {
      const p = join(dir, `fresh${i}.mms`);
      StructFile.create(p, wide(`_${i}`)).close();
      return p;
    });
    const started = performance.now();
    for (const p of fresh) StructFile.open(p).close();
    const cold = (performance.now() - started) * 1e6 / fresh.length;
    rows.push({
      name: "StructFile.open(path) + close, new layout",
      value: cold,
      unit: "ns",
      detail: `mean of ${fresh.length} files`,
      target: { value: 200_000, better: "lower" },
    });
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
