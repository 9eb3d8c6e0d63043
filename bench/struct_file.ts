/**
 * Struct file benchmarks: snapshot, update overhead and open, on the current runtime.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { do_not_optimize, measure } from "mitata";
import { f64, type FieldType, MappedFile, struct, StructFile, type StructType, u32, u64 } from "../mod.ts";
import type { Row } from "./_measure.ts";

/** 32 fields: 16 u32, 8 u64, 8 f64. */
function wide(suffix = ""): StructType {
  const fields: Record<string, FieldType> = {};
  for (let i = 0; i < 16; i++) fields[`count${i}${suffix}`] = u32;
  for (let i = 0; i < 8; i++) fields[`total${i}`] = u64;
  for (let i = 0; i < 8; i++) fields[`gauge${i}`] = f64;
  return struct(fields);
}

async function ns(body: () => void, ops = 1, rounds = 3): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
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

    // update(fn)'s overhead over the same two u32 writes, against the least a hand-made
    // sequence lock costs: the same writes between two raw Atomics.compareExchange on a word
    // of the same mapping (the file's own data, mapped read-write a second time).
    const view = writer.view as unknown as { count0: number; count1: number };
    using raw = MappedFile.open(path, { write: true });
    // The file's last 4 bytes: half of gauge7, which the update below never writes.
    const word = new Int32Array(raw.buffer, raw.buffer.byteLength - 4, 1);
    const OPS = 1000;
    const plainBody = () => {
      for (let i = 0; i < OPS; i++) {
        view.count0 = i;
        view.count1 = i;
      }
    };
    const casBody = () => {
      for (let i = 0; i < OPS; i++) {
        const s = word[0] & ~1;
        Atomics.compareExchange(word, 0, s, s | 1);
        view.count0 = i;
        view.count1 = i;
        Atomics.compareExchange(word, 0, s | 1, (s + 2) | 0);
      }
    };
    const updateBody = () => {
      for (let i = 0; i < OPS; i++) {
        writer.update(() => {
          view.count0 = i;
          view.count1 = i;
        });
      }
    };
    // The same, with one closure made before the loop: what update() itself costs, apart from
    // the closure (and the context holding its `i`) that the line above allocates per call,
    // which only V8 15 (Deno) inlines away; `casClosureBody` is that allocation's own cost.
    let j = 0;
    const once = () => {
      view.count0 = j;
      view.count1 = j;
    };
    const updateOnceBody = () => {
      for (j = 0; j < OPS; j++) writer.update(once);
    };
    const casClosureBody = () => {
      for (let i = 0; i < OPS; i++) {
        const fn = () => {
          view.count0 = i;
          view.count1 = i;
        };
        const s = word[0] & ~1;
        Atomics.compareExchange(word, 0, s, s | 1);
        fn();
        Atomics.compareExchange(word, 0, s | 1, (s + 2) | 0);
      }
    };
    // Alternately, keeping each one's fastest round, so that a noisy moment hurts all alike.
    let plain = Infinity;
    let cas = Infinity;
    let updated = Infinity;
    for (let round = 0; round < 3; round++) {
      plain = Math.min(plain, await ns(plainBody, OPS, 1));
      cas = Math.min(cas, await ns(casBody, OPS, 1));
      updated = Math.min(updated, await ns(updateBody, OPS, 1));
    }
    // After the line above, so that a second caller of update() cannot change how the JIT
    // compiled it for the first; the baselines again, in the same rounds.
    let plainAgain = Infinity;
    let casAgain = Infinity;
    let updatedOnce = Infinity;
    let casClosure = Infinity;
    for (let round = 0; round < 3; round++) {
      plainAgain = Math.min(plainAgain, await ns(plainBody, OPS, 1));
      casAgain = Math.min(casAgain, await ns(casBody, OPS, 1));
      updatedOnce = Math.min(updatedOnce, await ns(updateOnceBody, OPS, 1));
      casClosure = Math.min(casClosure, await ns(casClosureBody, OPS, 1));
    }
    rows.push({
      name: "update(fn) overhead / 2 raw Atomics.compareExchange, same 2 field writes",
      value: (updated - plain) / (cas - plain),
      unit: "x",
      detail: `update ${updated.toFixed(1)}, CAS pair ${cas.toFixed(1)}, writes alone ${plain.toFixed(1)} ns`,
      target: { value: 1.3, better: "lower" },
    });
    rows.push({
      name: "update(fn) overhead / 2 raw Atomics.compareExchange, fn made once outside the loop",
      value: (updatedOnce - plainAgain) / (casAgain - plainAgain),
      unit: "x",
      detail: `update ${updatedOnce.toFixed(1)}, CAS pair ${casAgain.toFixed(1)} ns; the CAS pair calling a closure ` +
        `made per call: ${((casClosure - plainAgain) / (casAgain - plainAgain)).toFixed(2)}x`,
      target: { value: 1.3, better: "lower" },
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
