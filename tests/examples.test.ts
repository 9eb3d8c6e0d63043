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
