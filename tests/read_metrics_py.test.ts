import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { collect, compact, Metrics } from "../mod.ts";
import type { MetricFamily } from "../mod.ts";
import { finish, lines, root, run, start, tempDir } from "./_helpers.ts";

const python = spawnSync("python3", ["--version"]).status === 0;
const skip = python ? false : "no python3 on this machine";
const script = join(root, "examples", "read_metrics.py");

/** Families as the Python reader prints them with --json: no creation times, `+Inf` as a string, series in one order. */
function normalize(families: readonly MetricFamily[]): unknown {
  return families.map((f) => ({
    name: f.name,
    type: f.type,
    help: f.help,
    unit: f.unit,
    series: f.series.map((s) =>
      "buckets" in s
        ? {
          labels: s.labels,
          buckets: s.buckets.map((b) => ({ le: b.le === Infinity ? "+Inf" : b.le, count: b.count })),
          count: s.count,
          sum: s.sum,
        }
        : { labels: s.labels, value: s.value }
    ).sort((a, b) => JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1),
  }));
}

test("examples/read_metrics.py merges a directory exactly as collect() does", { skip }, async () => {
  using tmp = tempDir();
  // Writers on each runtime, killed or gone (each start compacts those gone before it, so
  // all but the last are in the archive); a live writer with gauges; a conflicting
  // declaration; files that are not metrics.
  const other = start(process.versions.bun ? "node" : "bun", "fixtures/metrics_child", [
    "count",
    tmp.dir,
    "other",
    "40",
  ]);
  const output = lines(other);
  const ended = finish(other);
  try {
    assert.equal(await output.next(), "ready");
  } finally {
    other.kill("SIGKILL");
  }
  await ended;
  const first = run("deno", "fixtures/metrics_child", ["count-and-exit", tmp.dir, "first", "0", "25"]);
  assert.equal(first.status, 0, first.stderr);
  using live = Metrics.create(tmp.dir, { name: "live" });
  const second = run("node", "fixtures/metrics_child", ["count-and-exit", tmp.dir, "second", "5", "30", "close"]);
  assert.equal(second.status, 0, second.stderr);
  live.counter({ name: "requests_total", help: "Requests", labelNames: ["code", "method"] })
    .inc({ code: 'é "q" \\', method: "GET" }, 0.5);
  for (const aggregate of ["sum", "max", "min", "last", "each"] as const) {
    live.gauge({ name: `g_${aggregate}`, help: "", aggregate }).set(7);
  }
  using conflicting = Metrics.create(tmp.dir, { name: "zzz" });
  conflicting.counter({ name: "requests_total", help: "Something else" }).inc(1000);
  const third = run("bun", "fixtures/metrics_child", ["count-and-exit", tmp.dir, "third", "3", "9"]);
  assert.equal(third.status, 0, third.stderr);
  writeFileSync(tmp.path("notes.txt"), "not a metrics file at all, just some text that is long enough ".repeat(3));
  writeFileSync(tmp.path("empty"), "");

  const expected = collect(tmp.dir, { meta: false });
  assert.deepEqual(expected.writers, { live: 2, dead: 1, archives: 1 });
  const result = spawnSync("python3", [script, tmp.dir, "--json"], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), normalize(expected.families));
  assert.match(result.stderr, /skipped .*empty/);
  assert.match(result.stderr, /skipped .*notes\.txt/);
  assert.match(result.stderr, /skipped .*zzz\..*conflicting declaration of requests_total/);

  // After compaction, the same totals.
  compact(tmp.dir);
  const again = spawnSync("python3", [script, tmp.dir, "--json"], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(again.stdout), normalize(collect(tmp.dir, { meta: false }).families));
});

test("examples/read_metrics.py prints samples one per line, histograms cumulative", { skip }, () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  metrics.counter({ name: "jobs_total", help: "", labelNames: ["queue"] }).inc({ queue: 'a"b' }, 3);
  const h = metrics.histogram({ name: "size_bytes", help: "", unit: "bytes", buckets: [10, 100] });
  for (const value of [5, 50, 500]) h.observe(value);
  metrics.gauge({ name: "up", help: "" }).set(1);
  const result = spawnSync("python3", [script, tmp.dir], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      'jobs_total{queue="a\\"b"} 3',
      'size_bytes_bucket{le="10"} 1',
      'size_bytes_bucket{le="100"} 2',
      'size_bytes_bucket{le="+Inf"} 3',
      "size_bytes_count 3",
      "size_bytes_sum 555",
      "up 1",
      "",
    ].join("\n"),
  );
  assert.equal(spawnSync("python3", [script, tmp.path("missing")]).status, 3);
  assert.equal(spawnSync("python3", [script]).status, 2);
});
