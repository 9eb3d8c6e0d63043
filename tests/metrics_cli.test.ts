import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { collect, Metrics, toOpenMetrics, toPrometheus } from "../mod.ts";
import { command, run, runtime, tempDir } from "./_helpers.ts";
import { shellQuote } from "./_tmux.ts";

/** A directory with a gone writer (compacted away by the live one's start), a live one and a foreign file. */
function directory(dir: string): Metrics {
  {
    using gone = Metrics.create(dir, { name: "gone" });
    gone.counter({ name: "req_total", help: "Requests", labelNames: ["code"] }).inc({ code: "200" }, 3);
  }
  const live = Metrics.create(dir, { name: "live" });
  live.counter({ name: "req_total", help: "Requests", labelNames: ["code"] }).inc({ code: 'a "quoted" one' }, 1);
  live.histogram({ name: "lat_seconds", help: "Latency", unit: "seconds", buckets: [0.5] }).observe(0.25);
  live.gauge({ name: "busy", help: "Busy" }).set(2);
  writeFileSync(`${dir}/notes.txt`, "not a metrics file");
  return live;
}

test("mmstruct metrics prints the merged metrics of a directory as a table, and reports what it skipped", () => {
  using tmp = tempDir();
  using _live = directory(tmp.dir);
  const result = run(runtime, "../cli", ["metrics", tmp.dir]);
  assert.equal(result.status, 0, result.stderr);
  const rows = result.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/));
  assert.deepEqual(rows, [
    ["METRIC", "TYPE", "VALUE"],
    ["busy", "gauge", "2"],
    ["lat_seconds", "histogram", "count=1 sum=0.25 [0.5: 1, +Inf: 1]"],
    ["mmstruct_scrape_errors", "gauge", "1"],
    ['mmstruct_writers{state="dead"}', "gauge", "0"],
    ['mmstruct_writers{state="live"}', "gauge", "1"],
    ['req_total{code="200"}', "counter", "3"],
    ['req_total{code="a \\"quoted\\" one"}', "counter", "1"],
  ]);
  assert.match(result.stderr, /^mmstruct: skipped: Cannot read struct file ".*notes\.txt": .*\n$/);
});

test("mmstruct metrics --format json prints what collect() returns, infinities as strings", () => {
  using tmp = tempDir();
  using _live = directory(tmp.dir);
  const result = run(runtime, "../cli", ["metrics", tmp.dir, "--format", "json"]);
  assert.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout);
  const expected = JSON.parse(JSON.stringify(collect(tmp.dir), (_k, v) => v === Infinity ? "+Inf" : v));
  assert.deepEqual(printed, expected);
  assert.equal(
    printed.families.find((f: { name: string }) => f.name === "lat_seconds").series[0].buckets[1].le,
    "+Inf",
  );
});

test("mmstruct metrics --format prometheus and openmetrics print toPrometheus() and toOpenMetrics() of collect()", () => {
  using tmp = tempDir();
  using _live = directory(tmp.dir);
  const families = collect(tmp.dir).families;
  for (const [format, expected] of [["prometheus", toPrometheus(families)], ["openmetrics", toOpenMetrics(families)]]) {
    const result = run(runtime, "../cli", ["metrics", tmp.dir, "--format", format]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, expected, format);
  }
  assert.match(toOpenMetrics(families), /req_total\{code="a \\"quoted\\" one"\} 1\n[^]*# EOF\n$/);
});

test("mmstruct compact folds gone writers and says what it did", () => {
  using tmp = tempDir();
  // Both open before either closes: a start compacts the writers gone before it.
  const writers = ["a", "b"].map((name) => Metrics.create(tmp.path("m"), { name }));
  for (const metrics of writers) metrics.counter({ name: "n_total", help: "" }).inc();
  for (const metrics of writers) metrics.close();
  const result = run(runtime, "../cli", ["compact", tmp.path("m")]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "compacted 2 files of exited writers, removed 2 files\n");
  const again = run(runtime, "../cli", ["compact", tmp.path("m")]);
  assert.equal(again.stdout, "compacted 0 files of exited writers, removed 0 files\n");
});

test("mmstruct metrics and compact exit with show's statuses on errors", () => {
  using tmp = tempDir();
  const missing = run(runtime, "../cli", ["metrics", tmp.path("missing")]);
  assert.equal(missing.status, 3);
  assert.match(
    missing.stderr,
    /^mmstruct: Cannot read the metrics directory ".*missing": No such file or directory\n$/,
  );
  assert.equal(run(runtime, "../cli", ["compact", tmp.path("missing")]).status, 3);
  const format = run(runtime, "../cli", ["metrics", tmp.dir, "--format", "xml"]);
  assert.equal(format.status, 2);
  assert.match(format.stderr, /^mmstruct: --format must be one of table, prometheus, openmetrics, json, got "xml"/);
  assert.equal(run(runtime, "../cli", ["metrics", tmp.dir, "--json"]).status, 2);
  assert.equal(run(runtime, "../cli", ["compact", tmp.dir, "--format", "json"]).status, 2);
  assert.equal(run(runtime, "../cli", ["show", tmp.dir, "--format", "json"]).status, 2);
  assert.match(
    run(runtime, "../cli", ["--help"]).stdout,
    /mmstruct metrics \[DIR\] \[--format table\|prometheus\|openmetrics\|json\]/,
  );
});

test("mmstruct metrics exits quietly when the reader of its output has gone (| head)", () => {
  using tmp = tempDir();
  using metrics = Metrics.create(tmp.dir);
  // More than a pipe holds (64 KiB) in each format: the write after head exits fails with EPIPE.
  const counter = metrics.counter({ name: "c_total", help: "C", labelNames: ["i"], maxSeries: 5000 });
  for (let i = 0; i < 3000; i++) counter.labels({ i: String(i).padStart(40, "0") }).inc();
  const [file, argv] = command(runtime, "../cli", ["metrics", tmp.dir]);
  for (const format of ["table", "prometheus", "openmetrics", "json"]) {
    const line = [file, ...argv, "--format", format].map(shellQuote).join(" ");
    const result = spawnSync("/bin/sh", ["-c", `{ ${line}; echo "status $?" >&2; } | head -c 100 >/dev/null`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(result.stderr, "status 0\n", `--format ${format}`);
  }
});
