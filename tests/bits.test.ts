import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  array,
  atomic,
  bits,
  type BitsType,
  bool,
  f32,
  f64,
  i16,
  i32,
  i64,
  i8,
  MappedFile,
  struct,
  StructFile,
  toC,
  toCtypes,
  u16,
  u16be,
  u32,
  u32le,
  u64,
  u8,
  union,
} from "../mod.ts";
import { root, run, runtime, tempDir } from "./_helpers.ts";

const Flags = struct({ mode: bits(u32, 3), delta: bits(i8, 4), on: bits(bool, 1), count: u16, big: bits(i64, 40) });

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
type Flat<T> = { [K in keyof T]: T[K] };
type FlagsValue = { mode: number; delta: number; on: boolean; count: number; big: bigint };
/** Fails `deno check` and `tsc` if a bitfield's view, read() or write() type changes. */
export type BitfieldTypes = [
  Expect<Equal<Flat<ReturnType<typeof Flags.view>>, FlagsValue>>,
  Expect<Equal<Flat<ReturnType<typeof Flags.read>>, FlagsValue>>,
  Expect<Equal<Flat<Parameters<typeof Flags.write>[2]>, Partial<Readonly<FlagsValue>>>>,
  Expect<Equal<ReturnType<typeof bits<typeof u64>>, BitsType<bigint, "u64">>>,
];
/** Never called: the line below must not compile. */
export const floatBitfield = () =>
  // @ts-expect-error floats have no bitfields
  bits(f32, 3);

test("bits() accepts every integer storage type and bool, at every width they have", () => {
  for (const type of [i8, u8, i16, u16, i32, u32, i64, u64]) {
    for (const width of [1, type.size * 8]) {
      const field = bits(type, width);
      assert.equal(field.kind, "bits");
      assert.equal(field.name, type.name);
      assert.equal(field.width, width);
      assert.equal(field.signed, type.name.startsWith("i"));
      assert.equal(field.size, type.size);
      assert.ok(Object.isFrozen(field));
    }
  }
  assert.equal(bits(bool, 1).width, 1);
});

test("bits() refuses floats, fixed byte orders and non-types with a TypeError, bad widths with a RangeError", () => {
  for (const type of [f32, f64, u16be, u32le, { kind: "scalar", name: "u8", size: 1, align: 1, byteOrder: "native" }]) {
    assert.throws(() => bits(type as typeof u8, 1), TypeError);
  }
  assert.throws(() => bits(null as unknown as typeof u8, 1), TypeError);
  assert.throws(() => bits(u8, 1.5), TypeError);
  assert.throws(() => bits(u8, "3" as unknown as number), TypeError);
  assert.throws(() => bits(u8, 0), {
    name: "RangeError",
    message: "Cannot declare bits(u8): width 0 is not from 1 to 8",
  });
  assert.throws(() => bits(u8, 9), RangeError);
  assert.throws(() => bits(u64, 65), RangeError);
  assert.throws(() => bits(bool, 2), RangeError);
});

test("array() refuses bitfield elements with a TypeError: C and ctypes have no arrays of bitfields", () => {
  assert.throws(() => array(bits(u8, 3), 4), {
    name: "TypeError",
    message: "Cannot declare array(): its elements are bits(u8, 3), and C has no arrays of bitfields",
  });
});

test("atomic() refuses a bitfield with a TypeError", () => {
  const view = Flags.view(new ArrayBuffer(Flags.size));
  // A compile-time error too (atomic() takes only integer fields' names): the casts test the run-time check.
  assert.throws(() => atomic(view, "mode" as never), {
    name: "TypeError",
    message: /"mode": it is not an integer field/,
  });
  assert.throws(() => atomic(view, "big" as never), TypeError);
  assert.equal(atomic(view, "count").add(1), 0);
});

test("struct() puts bitfields in units of their type and starts a new unit when one does not fit", () => {
  const type = struct({ a: bits(u8, 3), b: bits(u8, 6), c: bits(u16, 7), n: u8, d: bits(u32, 30), e: bits(u32, 3) });
  const places = type.fields.map((f) => [f.name, f.offset, f.bitOffset]);
  assert.deepEqual(places, [["a", 0, 0], ["b", 1, 0], ["c", 2, 0], ["n", 3, undefined], ["d", 4, 0], [
    "e",
    8,
    0,
  ]]);
  assert.equal(type.size, 12);
  assert.equal(type.align, 4);
});

test("struct() packs bitfields bit by bit in a packed struct, across bytes and units", () => {
  const type = struct({ a: u8, b: bits(u32, 31), c: bits(u64, 64), d: u8 }, { packed: true });
  assert.deepEqual(type.fields.map((f) => [f.offset, f.bitOffset]), [[0, undefined], [1, 0], [4, 7], [13, undefined]]);
  assert.equal(type.size, 14);
  assert.equal(type.align, 1);
});

test("union() puts every bitfield at bit 0 and counts its type's alignment", () => {
  const type = union({ a: bits(u32, 3), b: u8 });
  assert.deepEqual(type.fields.map((f) => [f.offset, f.bitOffset]), [[0, 0], [0, undefined]]);
  assert.equal(type.size, 4);
  assert.equal(union({ a: bits(u32, 3) }, { packed: true }).size, 1);
});

test("struct().view() reads and writes bitfields without touching the bits around them", () => {
  const buffer = new ArrayBuffer(Flags.size);
  new Uint8Array(buffer).fill(0xff);
  const view = Flags.view(buffer);
  assert.deepEqual([view.mode, view.delta, view.on, view.big], [7, -1, true, -1n]);
  view.mode = 2;
  view.delta = -8;
  view.on = false;
  view.big = (1n << 39n) - 1n;
  assert.deepEqual([view.mode, view.delta, view.on, view.big, view.count], [2, -8, false, (1n << 39n) - 1n, 0xffff]);
  // mode is bits 0-2 of byte 0, delta bits 3-6, on bit 7; big does not fit in the i64 unit at byte 0 after
  // count, so it starts the next one, at byte 8.
  const bytes = new Uint8Array(buffer);
  assert.equal(bytes[0], 0b0100_0010);
  const big = Flags.fields.find((f) => f.name === "big")!;
  assert.equal(big.offset, 8);
  assert.equal(bytes[big.offset + 5], 0xff, "the byte after big keeps its bits");
  assert.equal(bytes[big.offset + 4] & 0x80, 0, "big's top bit is its sign, 0");
});

test("struct().view() refuses a value that does not fit with a RangeError naming the field, a wrong type with a TypeError", () => {
  const view = Flags.view(new ArrayBuffer(Flags.size));
  assert.throws(() => view.mode = 8, {
    name: "RangeError",
    message: "Cannot set mode: 8 does not fit in bits(u32, 3), which holds 0 to 7",
  });
  assert.throws(() => view.mode = -1, RangeError);
  assert.throws(() => view.mode = 1.5, RangeError);
  assert.throws(() => view.mode = NaN, RangeError);
  assert.throws(() => view.delta = 8, {
    name: "RangeError",
    message: /delta: 8 does not fit in bits\(i8, 4\), which holds -8 to 7/,
  });
  assert.throws(() => view.delta = -9, RangeError);
  assert.throws(() => view.big = 1n << 39n, RangeError);
  assert.throws(() => view.big = 5 as unknown as bigint, { name: "TypeError", message: /big: expected a bigint/ });
  assert.throws(() => view.on = 1 as unknown as boolean, TypeError);
  assert.throws(() => view.mode = "3" as unknown as number, TypeError);
  assert.deepEqual([view.mode, view.delta, view.on, view.big], [0, 0, false, 0n]);
});

test("struct().write() checks bitfields and names the field's path; read() copies them", () => {
  const Outer = struct({ tag: u8, flags: Flags });
  const buffer = new ArrayBuffer(Outer.size);
  Outer.write(buffer, 0, { tag: 1, flags: { mode: 7, delta: -3, on: true, big: -5n } });
  assert.deepEqual(Outer.read(buffer), { tag: 1, flags: { mode: 7, delta: -3, on: true, count: 0, big: -5n } });
  assert.throws(() => Outer.write(buffer, 0, { flags: { delta: 8 } }), {
    name: "RangeError",
    message: /^Cannot set flags\.delta: 8 does not fit/,
  });
  assert.throws(() => Outer.write(buffer, 0, { flags: { on: 0 as unknown as boolean } }), TypeError);
});

test("struct().view() of a read-only MappedFile refuses bitfield writes with a TypeError", () => {
  using tmp = tempDir();
  const path = tmp.path("flags.bin");
  {
    using file = MappedFile.create(path, { size: Flags.size });
    Flags.write(file, 0, { mode: 3 });
  }
  using file = MappedFile.open(path);
  const view = Flags.view(file);
  assert.equal(view.mode, 3);
  assert.throws(() => view.mode = 1, { name: "TypeError", message: /read-only/ });
  assert.throws(() => Flags.write(file, 0, { mode: 1 }), TypeError);
  assert.equal(view.mode, 3);
});

test("struct().cursor() moves bitfield accessors across records", () => {
  const Row = struct({ a: bits(u8, 4), b: bits(i16, 9) });
  const buffer = new ArrayBuffer(Row.size * 3);
  const cursor = Row.cursor(buffer);
  for (let i = 0; i < 3; i++) {
    cursor.at(i).a = i + 1;
    cursor.at(i).b = -i - 100;
  }
  assert.deepEqual([0, 1, 2].map((i) => Row.read(buffer, i * Row.size)), [
    { a: 1, b: -100 },
    { a: 2, b: -101 },
    { a: 3, b: -102 },
  ]);
});

test("StructFile.create() writes format version 3 only for layouts with bitfields, and open() reads them back", () => {
  using tmp = tempDir();
  const plain = tmp.path("plain.mms");
  StructFile.create(plain, struct({ a: u32 })).close();
  // A copy: Node's Buffer may be a slice of a larger pool.
  const versionOf = (file: string) => new DataView(new Uint8Array(readFileSync(file)).buffer).getUint16(8, true);
  assert.equal(versionOf(plain), 2);
  const path = tmp.path("bits.mms");
  const Nested = struct({ n: u8, flags: Flags, more: array(struct({ x: bits(u16, 5), y: bits(bool, 1) }), 2) });
  {
    using writer = StructFile.create(path, Nested, { initial: { flags: { mode: 5, big: -2n } } });
    writer.update((v) => {
      v.flags.delta = -4;
      v.more[1].x = 31;
      v.more[1].y = true;
    });
  }
  assert.equal(versionOf(path), 3);
  using generic = StructFile.open(path);
  assert.deepEqual(generic.snapshot(), {
    n: 0,
    flags: { mode: 5, delta: -4, on: false, count: 0, big: -2n },
    more: [{ x: 0, y: false }, { x: 31, y: true }],
  });
  using typed = StructFile.open(path, { type: Nested });
  assert.equal(typed.view.flags.big, -2n);
});

test("toC() declares bitfields with their width and asserts only the offsets C has", () => {
  const source = toC(struct({ a: u8, mode: bits(u32, 3), on: bits(bool, 1), z: u16 }), "s");
  assert.match(source, /\n {2}uint32_t mode : 3;\n {2}bool on : 1;\n/);
  assert.match(source, /offsetof\(struct s, z\) == 2/);
  assert.doesNotMatch(source, /offsetof\(struct s, mode\)/);
});

test("toCtypes() declares bitfields in ctypes' (name, type, width) form and refuses what ctypes cannot hold", () => {
  assert.match(
    toCtypes(struct({ a: bits(u32, 3), b: bits(i8, 4) }), "S"),
    /\("a", ctypes\.c_uint8, 3\),\n.*\("b", ctypes\.c_int8, 4\)/,
  );
  // 64 bits from bit 7: 9 bytes, more than any ctypes integer.
  assert.throws(() => toCtypes(struct({ a: bits(u8, 7), b: bits(u64, 64) }, { packed: true }), "S"), {
    name: "TypeError",
    message: /ctypes has no storage unit for bitfield "b"/,
  });
  // a needs bytes 0 to 2: a 4-byte unit there would hold the bool, which cannot share it as an integer could.
  assert.throws(() => toCtypes(struct({ a: bits(i64, 20), b: bool, c: bits(u32, 4) }), "S"), {
    name: "TypeError",
    message: /ctypes has no storage unit for bitfield "a" at bit 0/,
  });
  // Taking c into a unit with b does not help either: the error names b, the bitfield, not the integer c.
  assert.throws(() => toCtypes(struct({ a: bits(u32, 18), b: bits(u32, 23), c: i32 }, { packed: true }), "S"), {
    name: "TypeError",
    message: /ctypes has no storage unit for bitfield "b" at bit 18/,
  });
});

const python = spawnSync("python3", ["--version"]).status === 0;

test("examples/read_struct.py reads a struct file with bitfields as the library does", { skip: !python }, () => {
  using tmp = tempDir();
  const path = tmp.path("bits.mms");
  using file = StructFile.create(path, Flags, {
    initial: { mode: 6, delta: -7, on: true, count: 9, big: -(1n << 39n) },
  });
  const result = spawnSync("python3", [join(root, "examples", "read_struct.py"), path, "--json"], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  // -2^39 is exact in a double: JSON.parse reads it as is.
  assert.deepEqual(JSON.parse(result.stdout), { mode: 6, delta: -7, on: true, count: 9, big: -(2 ** 39) });
  file.close();
});

test("mmstruct show prints bitfields with their type, as a table and as JSON", () => {
  using tmp = tempDir();
  const path = tmp.path("bits.mms");
  const Nested = struct({ inner: Flags, tail: bits(u64, 64) });
  using file = StructFile.create(path, Nested, {
    initial: { inner: { mode: 6, delta: -7, on: true, count: 9, big: -5n }, tail: 2n ** 64n - 1n },
  });
  const table = run(runtime, "../cli", ["show", path]);
  assert.equal(table.status, 0, table.stderr);
  assert.deepEqual(table.stdout.trim().split("\n").map((line) => line.split(/\s{2,}/)), [
    ["FIELD", "TYPE", "VALUE"],
    ["inner.mode", "bits(u32, 3)", "6"],
    ["inner.delta", "bits(i8, 4)", "-7"],
    ["inner.on", "bits(bool, 1)", "true"],
    ["inner.count", "u16", "9"],
    ["inner.big", "bits(i64, 40)", "-5"],
    ["tail", "bits(u64, 64)", "18446744073709551615"],
  ]);
  const json = run(runtime, "../cli", ["show", path, "--json"]);
  assert.equal(json.status, 0, json.stderr);
  assert.equal(
    json.stdout.trim(),
    '{"inner":{"mode":6,"delta":-7,"on":true,"count":9,"big":-5},"tail":18446744073709551615}',
  );
  file.close();
});
