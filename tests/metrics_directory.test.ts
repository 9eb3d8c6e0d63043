import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { test } from "node:test";
import { collect, compact, Metrics, struct, StructFile, u32 } from "../mod.ts";
import { encodeRecord } from "../metrics/_segment.ts";
import { counterValues, family, gaugeValues, writeMetricsFile } from "./_metrics.ts";
import { tempDir } from "./_helpers.ts";

/** A counter record and one series of it, for hand-made files. */
const COUNTER = { metric: 0, name: "hand_total", type: "counter", help: "", unit: "", labelNames: ["k"] };

test("collect() reports every good file of a directory that also holds hostile, empty and foreign files", () => {
  using tmp = tempDir();
  using good = Metrics.create(tmp.dir, { name: "good" });
  good.counter({ name: "good_total", help: "", labelNames: ["k"] }).inc({ k: "a" }, 7);
  const [goodPath] = good.paths;
  writeFileSync(tmp.path("empty"), "");
  writeFileSync(tmp.path("notes.txt"), "Not a metrics file. ".repeat(20));
  StructFile.create(tmp.path("other.mms"), struct({ a: u32 })).close();
  // A real segment cut short, and one whose schema was damaged.
  const bytes = readFileSync(goodPath);
  writeFileSync(tmp.path("cut.metrics.mms"), bytes.subarray(0, 1000));
  const damaged = Uint8Array.from(bytes);
  damaged[200] ^= 0xff;
  writeFileSync(tmp.path("damaged.metrics.mms"), damaged);
  mkdirSync(tmp.path("subdir"));
  assert.equal(spawnSync("mkfifo", [tmp.path("fifo")]).status, 0);
  // Hand-made metrics files: good records, then a bad one (kept: the good ones count).
  writeMetricsFile(tmp.path("tail.metrics.mms"), {
    records: [
      COUNTER,
      { series: 0, labels: ["a"], slot: 0, created_ms: 1 },
      new Uint8Array([5, 0, 0, 0, 123, 0, 0, 0]),
    ],
    slots: [2],
  });
  writeMetricsFile(tmp.path("slot.metrics.mms"), {
    records: [COUNTER, { series: 0, labels: ["a"], slot: 0 }, { series: 0, labels: ["b"], slot: 99_999 }],
    slots: [3],
  });
  writeMetricsFile(tmp.path("long.metrics.mms"), {
    records: [COUNTER, { series: 0, labels: ["a"], slot: 0 }],
    slots: [4],
    entriesLength: 1 << 30,
  });
  writeMetricsFile(tmp.path("name.metrics.mms"), { records: [{ ...COUNTER, name: "bad name" }] });
  writeMetricsFile(tmp.path("labels.metrics.mms"), {
    records: [COUNTER, { series: 0, labels: ["a", "extra"], slot: 0 }],
    slots: [5],
  });

  const { families, errors, writers } = collect(tmp.dir);
  const reasons = Object.fromEntries(errors.map((e) => [basename(e.path), e.reason]));
  assert.deepEqual(reasons, {
    "cut.metrics.mms": "header", // its header points past the end
    "damaged.metrics.mms": "hash",
    empty: "truncated",
    fifo: "ENODEV",
    "labels.metrics.mms": "entries",
    "long.metrics.mms": "entries",
    "name.metrics.mms": "entries",
    "notes.txt": "magic",
    "other.mms": "not-metrics",
    "slot.metrics.mms": "entries",
    subdir: "EISDIR",
    "tail.metrics.mms": "entries",
  });
  for (const error of errors) assert.ok(error.message.includes(error.path), error.message);
  assert.deepEqual(counterValues({ families, errors, writers }, "good"), new Map([["a", 7]]));
  // The good records before each bad one count: 2 (tail) + 3 (slot) + 4 (long).
  assert.deepEqual(counterValues({ families, errors, writers }, "hand"), new Map([["a", 9]]));
  assert.deepEqual(gaugeValues({ families, errors, writers }, "mmstruct_scrape_errors"), new Map([["", 12]]));
});

test("collect() survives mutated copies of a metrics file and still reports the good file exactly", () => {
  using tmp = tempDir();
  let victim: Uint8Array;
  {
    using metrics = Metrics.create(tmp.path("source"), { name: "victim" });
    const c = metrics.counter({ name: "victim_total", help: "", labelNames: ["k"] });
    for (let i = 0; i < 50; i++) c.inc({ k: `v${i}` }, i);
    metrics.histogram({ name: "victim_h", help: "", buckets: [1, 2] }).observe(1);
    victim = readFileSync(metrics.paths[0]);
  }
  using good = Metrics.create(tmp.path("dir"), { name: "good" });
  good.counter({ name: "good_total", help: "" }).inc(3);
  // Deterministic pseudo-random flips, concentrated where the header, schema and records are.
  let seed = 12345;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let round = 0; round < 300; round++) {
    const copy = Uint8Array.from(victim);
    const flips = 1 + random(4);
    for (let i = 0; i < flips; i++) copy[random(round % 2 === 0 ? 2048 : 8192)] = random(256);
    writeFileSync(tmp.path(`dir/victim.${round}.0.${"0".repeat(16)}.0.metrics.mms`), copy);
  }
  const collected = collect(tmp.path("dir"));
  assert.deepEqual(counterValues(collected, "good"), new Map([["", 3]]));
  assert.ok(collected.errors.length > 0);
  // And compaction folds what is readable without ever failing on the rest.
  const result = compact(tmp.path("dir"));
  assert.equal(result.skipped, false);
  assert.deepEqual(counterValues(collect(tmp.path("dir")), "good"), new Map([["", 3]]));
});

test("collect() takes a metric declared differently in two files from the first file and reports the other", () => {
  using tmp = tempDir();
  using a = Metrics.create(tmp.dir);
  using b = Metrics.create(tmp.dir);
  a.counter({ name: "x_total", help: "one" }).inc(1);
  b.counter({ name: "x_total", help: "two" }).inc(10);
  a.counter({ name: "y_total", help: "same" }).inc(1);
  b.counter({ name: "y_total", help: "same" }).inc(10);
  const [first, second] = [a, b].sort((m, n) => (m.paths[0] < n.paths[0] ? -1 : 1));
  const collected = collect(tmp.dir, { meta: false });
  const x = family(collected, "x");
  assert.equal(x.help, first === a ? "one" : "two");
  assert.deepEqual(counterValues(collected, "x"), new Map([["", first === a ? 1 : 10]]));
  assert.deepEqual(counterValues(collected, "y"), new Map([["", 11]]));
  assert.equal(collected.errors.length, 1);
  assert.equal(collected.errors[0].reason, "conflict");
  assert.equal(collected.errors[0].path, second.paths[0]);
  assert.match(collected.errors[0].message, /"x_total".*help is/);
});

test("collect() ignores names starting with a dot and reads any valid metrics file whatever its name", () => {
  using tmp = tempDir();
  writeMetricsFile(tmp.path(".hidden.metrics.mms"), {
    records: [COUNTER, { series: 0, labels: ["a"], slot: 0 }],
    slots: [100],
  });
  writeMetricsFile(tmp.path("renamed"), { records: [COUNTER, { series: 0, labels: ["a"], slot: 0 }], slots: [1] });
  writeFileSync(tmp.path(".junk"), "x");
  const collected = collect(tmp.dir);
  assert.deepEqual(collected.errors, []);
  assert.deepEqual(counterValues(collected, "hand"), new Map([["a", 1]]));
  assert.deepEqual(collected.writers, { live: 0, dead: 1, archives: 0 });
});

test("collect() refuses a file named like an archive that is not one, and an archive not named like one", () => {
  using tmp = tempDir();
  const records = [COUNTER, { series: 0, labels: ["a"], slot: 0 }];
  writeMetricsFile(tmp.path("archive.5.metrics.mms"), { records, slots: [1] });
  writeMetricsFile(tmp.path("archive.6.metrics.mms"), { records, slots: [1], archive: 7 });
  writeMetricsFile(tmp.path("plain"), {
    records: [...records, encodeRecord({ subsumes: [] })],
    slots: [1],
    archive: 1,
  });
  writeMetricsFile(tmp.path("ok"), { records, slots: [1] });
  const collected = collect(tmp.dir);
  assert.deepEqual(
    collected.errors.map((e) => [basename(e.path), e.reason]),
    [["archive.5.metrics.mms", "not-metrics"], ["archive.6.metrics.mms", "not-metrics"], ["plain", "not-metrics"]],
  );
  assert.deepEqual(counterValues(collected, "hand"), new Map([["a", 1]]));
});
