import assert from "node:assert/strict";
import { test } from "node:test";
import { finish, runtime, start, tempDir } from "./_helpers.ts";

test("examples/writer and examples/reader: the reader prints every change the writer makes", async () => {
  using tmp = tempDir();
  const path = tmp.path("mmaptest");
  const writer = finish(start(runtime, "../examples/writer", ["--path", path, "--auto", "600", "--then=-7"]));
  const reader = finish(
    start(runtime, "../examples/reader", ["--path", path, "--interval", "20", "--until=-7", "--timeout", "20000"]),
  );
  const [w, r] = await Promise.all([writer, reader]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(r.code, 0, r.stderr);
  assert.match(w.stdout, /First 10 bytes of .*: 11 0 0 0 102 111 111 0 0 0/);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(lines.filter((line) => line.startsWith("i:")), [
    "i: undefined => 11",
    "i: 11 => 121",
    "i: 121 => -7",
  ]);
  assert.ok(lines.includes("s: foo => bar"), r.stdout);
});

test("examples/struct_writer and examples/struct_reader: the reader sees the writer's struct", async () => {
  using tmp = tempDir();
  const path = tmp.path("stats.mms");
  const writer = await finish(
    start(runtime, "../examples/struct_writer", ["--path", path, "--requests", "20", "--interval", "1"]),
  );
  assert.equal(writer.code, 0, writer.stderr);
  assert.match(writer.stdout, /done: 20 requests, 2 errors/);
  const reader = await finish(start(runtime, "../examples/struct_reader", ["--path", path, "--once"]));
  assert.equal(reader.code, 0, reader.stderr);
  assert.match(reader.stdout, /^requests=20 errors=2 load=0\.20 latency=\d+\.\dms last=\/$/m);
});

test("examples/demo: the merged metrics count every answered request once, a SIGKILLed worker's too", {
  timeout: 180_000,
}, async () => {
  const demo = await finish(start(runtime, "../examples/demo", ["--only", "metrics"]));
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  assert.match(demo.stdout, /killed worker \d+ with SIGKILL after \d+ answers/);
  const totals =
    /answered (\d+) of (\d+) requests \(\d+ retries\); merged metrics: (\d+) requests counted, (\d+) latencies observed: (\w+)/
      .exec(demo.stdout);
  assert.ok(totals !== null, demo.stdout);
  const [, answered, sent, counted, observed, verdict] = totals;
  assert.ok(Number(sent) > 0);
  assert.deepEqual([answered, counted, observed, verdict], [sent, sent, sent, "exact"]);
});
