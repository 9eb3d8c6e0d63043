import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { array, bytes, i64, MappedFile, struct, StructFile, u32, u64, u8, utf8 } from "../mod.ts";
import { OFFSET } from "../struct_file/_format.ts";
import { command, finish, lines, run, runtime, start, tempDir } from "./_helpers.ts";

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

test("mmstruct show --all prints every row of a layout with more rows than a function call has arguments", () => {
  using tmp = tempDir();
  const path = tmp.path("many.mms");
  StructFile.create(path, struct({ items: array(struct({ a: u8 }), 150_000) })).close();
  const result = run(runtime, "../cli", ["show", path, "--all"]);
  assert.equal(result.status, 0, result.stderr.slice(0, 500));
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 150_001);
  assert.deepEqual(lines[150_000].split(/ +/), ["items[149999].a", "u8", "0"]);
});

/**
 * Runs the command on this runtime with a small heap (Node, Deno: 64 MiB for JavaScript
 * objects) or, on Bun, whose heap has no such limit, at most 3 GB of data memory
 * (`ulimit -d`; Bun reserves some 2 GB at start).
 */
function runSmall(args: string[]) {
  const [file, argv] = command(runtime, "../cli", args);
  const quoted = [file, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const limit = runtime === "bun" ? "ulimit -d 3000000; " : "";
  return spawnSync("/bin/sh", ["-c", `${limit}exec ${quoted}`], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=64", DENO_V8_FLAGS: "--max-old-space-size=64" },
    maxBuffer: 64 << 20,
  });
}

test("mmstruct show of 2^24 one-byte structs prints the first ones and the count, in bounded memory", () => {
  using tmp = tempDir();
  const path = tmp.path("items.mms");
  // A 16 MiB file within the library's limits: a snapshot of it is 2^24 objects.
  const Items = struct({ items: array(struct({ b: u8 }), 2 ** 24) });
  StructFile.create(path, Items).close();
  {
    // Written in place: a view's array of 2^24 struct views would be large itself.
    using raw = MappedFile.open(path, { write: true });
    new Uint8Array(raw.buffer)[Number(new DataView(raw.buffer).getBigUint64(OFFSET.dataOffset, true)) + 3] = 7;
  }
  const result = runSmall(["show", path]);
  assert.equal(result.status, 0, result.stderr.slice(0, 500));
  const rows = result.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/));
  assert.deepEqual(rows.slice(0, 5), [
    ["FIELD", "TYPE", "VALUE"],
    ["items[0].b", "u8", "0"],
    ["items[1].b", "u8", "0"],
    ["items[2].b", "u8", "0"],
    ["items[3].b", "u8", "7"],
  ]);
  assert.deepEqual(rows.slice(16), [
    ["items[15].b", "u8", "0"],
    ["items[16…16777215]", "struct[16777216]", "… 16777200 more of 16777216 elements (--all shows every one)"],
  ]);
});

test("mmstruct show shortens long byte fields, strings and arrays of numbers, in bounded memory", () => {
  using tmp = tempDir();
  const path = tmp.path("long.mms");
  const Long = struct({ raw: bytes(2 ** 24), text: utf8(2 ** 24), nums: array(u32, 2 ** 22) });
  using file = StructFile.create(path, Long, { initial: { text: "é".repeat(2 ** 23) } });
  file.update((v) => {
    v.nums[0] = 42;
    v.raw[1] = 0xab;
  });
  const result = runSmall(["show", path]);
  assert.equal(result.status, 0, result.stderr.slice(0, 500));
  assert.deepEqual(result.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/)), [
    ["FIELD", "TYPE", "VALUE"],
    ["raw", "bytes(16777216)", `00 ab ${"00 ".repeat(30)}… (16777216 bytes)`],
    // 256 bytes of text: 128 two-byte characters, none cut.
    ["text", "utf8(16777216)", `"${"é".repeat(128)}"… (16777216 bytes)`],
    ["nums", "u32[4194304]", `[42, ${"0, ".repeat(15)}… (4194304 elements)]`],
  ]);
});

test("mmstruct show --json prints the whole file, streamed, in bounded memory", () => {
  using tmp = tempDir();
  const path = tmp.path("wide.mms");
  using file = StructFile.create(path, struct({ items: array(struct({ b: u8, c: i64 }), 2 ** 20), tag: utf8(4) }));
  file.update((v) => v.tag = "end");
  const result = runSmall(["show", path, "--json"]);
  assert.equal(result.status, 0, result.stderr.slice(0, 500));
  const value = JSON.parse(result.stdout);
  assert.equal(value.items.length, 2 ** 20);
  assert.deepEqual([value.items[0], value.items[2 ** 20 - 1], value.tag], [{ b: 0, c: 0 }, { b: 0, c: 0 }, "end"]);
});

for (
  const [flags, first, reopened] of [
    [[], "version=0 n=1", "version=0 reopened=true n=2"],
    [["--json"], '{"version":0,"reopened":false,"value":{"n":1}}', '{"version":0,"reopened":true,"value":{"n":2}}'],
  ]
) {
  test(["mmstruct watch", ...flags, "follows a file replaced at its path, and says so"].join(" "), async () => {
    using tmp = tempDir();
    const path = tmp.path("stats.mms");
    const N = struct({ n: u32 });
    using old = StructFile.create(path, N, { initial: { n: 1 } });
    const child = start(runtime, "../cli", ["watch", path, "--interval", "5", "--count", "2", ...flags]);
    const output = lines(child);
    const done = finish(child);
    assert.equal(await output.next(), first);
    // A restarted writer publishes a new file; the old one's writer keeps changing it.
    using replacement = StructFile.create(path, N, { initial: { n: 2 }, overwrite: true });
    old.update((v) => v.n = 100);
    assert.equal(await output.next(), reopened);
    const { code, stderr } = await done;
    assert.equal(code, 0, stderr);
    assert.equal(replacement.snapshot().n, 2);
  });
}

test("mmstruct watch stops with a typed error when the file is truncated under it", async () => {
  using tmp = tempDir();
  const path = tmp.path("stats.mms");
  using file = StructFile.create(path, struct({ n: u32 }), { initial: { n: 5 } });
  file.update((v) => v.n = 6);
  const child = start(runtime, "../cli", ["watch", path, "--interval", "5", "--count", "2"]);
  const output = lines(child);
  const done = finish(child);
  assert.equal(await output.next(), "version=2 n=6");
  // Within the first page, header included: the mapping reads zeros there now.
  truncateSync(path, 40);
  const { code, stdout, stderr } = await done;
  assert.equal(code, 4, `stdout: ${stdout}`);
  assert.match(stderr, /^mmstruct: Cannot read struct file ".*": the file was truncated to 40 bytes while open/);
});
