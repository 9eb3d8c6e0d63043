import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  array,
  bool,
  bytes,
  f32,
  f64,
  i16,
  i32,
  i64,
  i8,
  MappedFile,
  struct,
  toCtypes,
  u16,
  u32,
  u32be,
  u64,
  u8,
  union,
  utf8,
} from "../mod.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
import { root, tempDir } from "./_helpers.ts";

const Inner = struct({ a: u16, d: f64 });
/** The same layout as `struct record` in tests/fixtures/roundtrip.c. */
const Record = struct({
  i8,
  u8,
  i16,
  u16,
  i32,
  u32,
  i64,
  u64,
  f32,
  f64,
  flag: bool,
  name: utf8(12),
  raw: bytes(4),
  inner: Inner,
  pair: array(Inner, 2),
  nums: array(i32, 3),
  be: u32be,
  un: union({ u: u32, f: f32 }),
});

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const python = spawnSync("python3", ["--version"]).status === 0;

function compile(dir: string): string {
  const binary = join(dir, "roundtrip");
  const result = spawnSync("gcc", [
    "-std=c11",
    "-O1",
    "-Wall",
    "-Werror",
    "-o",
    binary,
    join(root, "tests", "fixtures", "roundtrip.c"),
  ], {
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  return binary;
}

describe("layout interop with C and Python", { skip: gcc ? false : "no C compiler (gcc) on this machine" }, () => {
  test("a struct written by a C program reads back through a view of the mapped file", () => {
    using tmp = tempDir();
    const binary = compile(tmp.dir);
    assert.equal(Number(spawnSync(binary, ["size", "-"], { encoding: "utf8" }).stdout), Record.size);
    const path = tmp.path("record.bin");
    assert.equal(spawnSync(binary, ["write", path]).status, 0);
    using file = MappedFile.open(path);
    const r = Record.view(file);
    assert.equal(r.i8, -5);
    assert.equal(r.u8, 250);
    assert.equal(r.i16, -1234);
    assert.equal(r.u16, 60000);
    assert.equal(r.i32, -123456);
    assert.equal(r.u32, 4000000000);
    assert.equal(r.i64, -9007199254740993n);
    assert.equal(r.u64, 18446744073709551615n);
    assert.equal(r.f32, 1.5);
    assert.equal(r.f64, -2.25);
    assert.equal(r.flag, true);
    assert.equal(r.name, "héllo");
    assert.deepEqual([...r.raw], [1, 2, 3, 4]);
    assert.equal(r.inner.a, 7);
    assert.equal(r.inner.d, 0.5);
    assert.deepEqual(r.pair.map((p) => [p.a, p.d]), [[1, 1.25], [2, 2.5]]);
    assert.deepEqual([...r.nums], [-1, 0, 1]);
    assert.equal(r.be, 0x01020304);
    assert.equal(r.un.u, 0x3f800000);
    assert.equal(r.un.f, 1);
  });

  test("a struct written through a view of a mapped file is read back by a C program", () => {
    using tmp = tempDir();
    const binary = compile(tmp.dir);
    const path = tmp.path("record.bin");
    {
      using file = MappedFile.create(path, { size: Record.size });
      const r = Record.view(file);
      r.i8 = -128;
      r.u8 = 1;
      r.i16 = 32767;
      r.u16 = 2;
      r.i32 = -2147483648;
      r.u32 = 3;
      r.i64 = -(2n ** 63n);
      r.u64 = 12345678901234567890n;
      r.f32 = -0.25;
      r.f64 = 3.125;
      r.flag = false;
      r.name = "z€";
      r.raw.set([9, 8, 7, 6]);
      Record.write(file, 0, { inner: { a: 65535, d: -1 }, pair: [{ a: 10, d: 10.5 }, { a: 20, d: 20.5 }] });
      r.nums.set([5, 6, 7]);
      r.be = 0xa0b0c0d0;
      r.un.f = 2;
    }
    const result = spawnSync(binary, ["check", path], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
  });

  test("a Python ctypes class from toCtypes() reads the file the C program wrote", {
    skip: python ? false : "no python3",
  }, () => {
    using tmp = tempDir();
    const binary = compile(tmp.dir);
    const path = tmp.path("record.bin");
    assert.equal(spawnSync(binary, ["write", path]).status, 0);
    const script = tmp.path("read.py");
    writeFileSync(
      script,
      `${toCtypes(Record, "Record")}
import json, sys
data = open(sys.argv[1], "rb").read()
r = Record.from_buffer_copy(data)
print(json.dumps({
    "i8": r.i8, "u8": r.u8, "i16": r.i16, "u16": r.u16, "i32": r.i32, "u32": r.u32,
    "i64": str(r.i64), "u64": str(r.u64), "f32": r.f32, "f64": r.f64, "flag": r.flag,
    "name": r.name.decode("utf-8"), "raw": list(r.raw), "inner": [r.inner.a, r.inner.d],
    "pair": [[p.a, p.d] for p in r.pair], "nums": list(r.nums), "be": r.be, "un": r.un.u,
}))
`,
    );
    const result = spawnSync("python3", [script, path], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      i8: -5,
      u8: 250,
      i16: -1234,
      u16: 60000,
      i32: -123456,
      u32: 4000000000,
      i64: "-9007199254740993",
      u64: "18446744073709551615",
      f32: 1.5,
      f64: -2.25,
      flag: true,
      name: "héllo",
      raw: [1, 2, 3, 4],
      inner: [7, 0.5],
      pair: [[1, 1.25], [2, 2.5]],
      nums: [-1, 0, 1],
      be: 0x01020304,
      un: 0x3f800000,
    });
    // The view agrees with Python on the same bytes.
    assert.equal(Record.read(new Uint8Array(readFileSync(path)).buffer).name, "héllo");
  });

  test("toCtypes() of every test layout loads in Python with the library's sizes and offsets", {
    skip: python ? false : "no python3",
  }, () => {
    using tmp = tempDir();
    const script = tmp.path("layouts.py");
    writeFileSync(script, LAYOUTS.map(([name, type]) => toCtypes(type, name)).join("\n") + "\nprint('ok')\n");
    const result = spawnSync("python3", [script], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "ok");
  });
});
