import assert from "node:assert/strict";
import { test } from "node:test";
import { finish, lines, runtime, start, tempDir } from "./_helpers.ts";

test("examples/writer and examples/reader: the reader prints every change the writer makes", async () => {
  using tmp = tempDir();
  const path = tmp.path("mmaptest");
  // The writer waits for Enter before each change, and gets it only once the reader has
  // printed the previous value: however the machine schedules the two, no change is missed.
  const writer = start(runtime, "../examples/writer", ["--path", path]);
  const writerDone = finish(writer);
  const writerOutput = lines(writer);
  assert.match(await writerOutput.next(), /First 10 bytes of .*: 11 0 0 0 102 111 111 0 0 0/);
  const reader = start(runtime, "../examples/reader", ["--path", path, "--interval", "20", "--until=-7"]);
  const readerDone = finish(reader);
  const readerOutput = lines(reader);
  const printed: string[] = [];
  const until = async (line: string) => {
    while (printed.at(-1) !== line) printed.push(await readerOutput.next());
  };
  await until("i: undefined => 11");
  writer.stdin!.write("\n");
  await until("i: 11 => 121");
  writer.stdin!.write("-7\n");
  await until("i: 121 => -7");
  const [w, r] = await Promise.all([writerDone, readerDone]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(r.code, 0, r.stderr);
  // The writer changes i, then s: a poll in between sees them change one at a time.
  const changes = r.stdout.trim().split("\n").filter((line) => !/^(?:i|s): (.*) => \1$/.test(line));
  assert.deepEqual(changes.filter((line) => line.startsWith("i:")), [
    "i: undefined => 11",
    "i: 11 => 121",
    "i: 121 => -7",
  ]);
  assert.deepEqual(changes.filter((line) => line.startsWith("s:")), ["s: undefined => foo", "s: foo => bar"]);
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
