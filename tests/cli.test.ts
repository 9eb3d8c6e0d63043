import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { array, struct, StructFile, u32, u64, u8, utf8 } from "../mod.ts";
import { finish, lines, run, runtime, start, tempDir } from "./_helpers.ts";

const Stats = struct({ requests: u64, errors: u32, path: utf8(16), hist: array(u32, 2), inner: struct({ x: u32 }) });

test("mmstruct show prints a live file as a table and as JSON with exact 64-bit integers", () => {
  using tmp = tempDir();
  const path = tmp.path("stats.mms");
  using file = StructFile.create(path, Stats, { initial: { requests: 2n ** 60n + 1n, path: "/api", hist: [1, 2] } });
  file.update((v) => v.inner.x = 9);
  const table = run(runtime, "../cli", ["show", path]);
  assert.equal(table.status, 0, table.stderr);
  assert.deepEqual(table.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/)), [
    ["FIELD", "TYPE", "VALUE"],
    ["requests", "u64", "1152921504606846977"],
    ["errors", "u32", "0"],
    ["path", "utf8(16)", '"/api"'],
    ["hist", "u32[2]", "[1, 2]"],
    ["inner.x", "u32", "9"],
  ]);
  const json = run(runtime, "../cli", ["show", path, "--json"]);
  assert.equal(json.status, 0, json.stderr);
  assert.equal(
    json.stdout.trim(),
    '{"requests":1152921504606846977,"errors":0,"path":"/api","hist":[1,2],"inner":{"x":9}}',
  );
});

test("mmstruct watch prints a line per change when piped", async () => {
  using tmp = tempDir();
  const path = tmp.path("stats.mms");
  using file = StructFile.create(path, Stats);
  const child = start(runtime, "../cli", ["watch", path, "--interval", "5", "--count", "3"]);
  const output = lines(child);
  const done = finish(child);
  assert.match(await output.next(), /^version=0 requests=0 errors=0 path="" hist=\[0, 0\] inner\.x=0$/);
  // Each change is made once the previous one was printed: a busy machine may delay the
  // child's polls, and changes between two polls are seen as one.
  file.update((v) => v.errors = 1);
  assert.match(await output.next(), /^version=2 .*errors=1 /);
  file.update((v) => v.errors = 2);
  assert.match(await output.next(), /^version=4 .*errors=2 /);
  const { code, stderr } = await done;
  assert.equal(code, 0, stderr);
});

test("mmstruct exits with a status a script can rely on, and a one-line error", () => {
  using tmp = tempDir();
  const missing = run(runtime, "../cli", ["show", tmp.path("missing")]);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /^mmstruct: Cannot open ".*missing": No such file or directory\n$/);
  const usage = run(runtime, "../cli", ["frobnicate"]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^mmstruct: unknown command "frobnicate"/);
  assert.equal(run(runtime, "../cli", ["show"]).status, 2);
  assert.equal(run(runtime, "../cli", ["watch", "x", "--interval", "0"]).status, 2);
  const help = run(runtime, "../cli", ["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: mmstruct show FILE/);
  const text = tmp.path("text");
  writeFileSync(text, "not a struct file ".repeat(20));
  const notStruct = run(runtime, "../cli", ["show", text]);
  assert.equal(notStruct.status, 4);
  assert.match(notStruct.stderr, /^mmstruct: Cannot read struct file/);
});

test("mmstruct show prints a layout with more rows than a function call has arguments", () => {
  using tmp = tempDir();
  const path = tmp.path("many.mms");
  StructFile.create(path, struct({ items: array(struct({ a: u8 }), 150_000) })).close();
  const result = run(runtime, "../cli", ["show", path]);
  assert.equal(result.status, 0, result.stderr.slice(0, 500));
  assert.equal(result.stdout.trim().split("\n").length, 150_001);
});
