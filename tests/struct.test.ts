import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compositeOf } from "../layout/struct.ts";
import {
  array,
  atomic,
  bool,
  bytes,
  f32,
  f32be,
  f64,
  f64be,
  i16,
  i16be,
  i16le,
  i32,
  i32be,
  i64,
  i64be,
  i8,
  MappedFile,
  ScalarArray,
  struct,
  toC,
  toCtypes,
  u16,
  u16be,
  u32,
  u32be,
  u32le,
  u64,
  u64be,
  u64le,
  u8,
  union,
  utf8,
} from "../mod.ts";
import { commonAlignment } from "../layout/_buffer_arrays.ts";
import { tempDir } from "./_helpers.ts";

describe("struct() layout", () => {
  test("struct() places fields at C offsets and pads the size to the alignment", () => {
    const S = struct({ a: u8, b: f64, c: u16 });
    assert.deepEqual(S.fields.map((f) => [f.name, f.offset, f.size]), [["a", 0, 1], ["b", 8, 8], ["c", 16, 2]]);
    assert.equal(S.size, 24);
    assert.equal(S.align, 8);
    assert.equal(S.offsetOf("c"), 16);
    assert.equal(S.kind, "struct");
    assert.equal(S.packed, false);
  });

  test("struct({ packed }) removes padding and aligns to 1", () => {
    const S = struct({ a: u8, b: f64, c: u16 }, { packed: true });
    assert.deepEqual(S.fields.map((f) => f.offset), [0, 1, 9]);
    assert.equal(S.size, 11);
    assert.equal(S.align, 1);
  });

  test("struct({ align }) raises alignment and size but never lowers them", () => {
    assert.equal(struct({ a: u8 }, { align: 16 }).size, 16);
    assert.equal(struct({ a: u64 }, { align: 2 }).align, 8);
    assert.equal(struct({ a: u8, b: u32 }, { packed: true, align: 4 }).size, 8);
  });

  test("union() puts every member at 0 and sizes it to the largest", () => {
    const U = union({ a: u8, b: f64, c: bytes(11) });
    assert.deepEqual(U.fields.map((f) => f.offset), [0, 0, 0]);
    assert.equal(U.size, 16);
    assert.equal(U.align, 8);
    assert.equal(U.kind, "union");
  });

  test("struct() refuses bad declarations with TypeError or RangeError", () => {
    assert.throws(() => struct({}), TypeError);
    assert.throws(() => struct({ "not-c": u8 }), TypeError);
    assert.throws(() => struct({ int: u8 }), /C keyword/);
    assert.throws(() => struct({ constructor: u8 }), /reserved/);
    assert.throws(() => struct({ a: 4 as unknown as typeof u8 }), TypeError);
    assert.throws(() => struct({ a: u8 }, { align: 3 }), RangeError);
    assert.throws(() => struct({ a: u8 }, { packed: "yes" as unknown as boolean }), TypeError);
    assert.throws(() => array(u8, 0), RangeError);
    assert.throws(() => utf8(1.5), TypeError);
    assert.throws(() => bytes(-1), RangeError);
    assert.throws(() => struct({ a: u8 }).offsetOf("b" as "a"), TypeError);
  });
});

describe("struct().view()", () => {
  test("view() reads and writes every scalar type with its range and wrap-around", () => {
    const S = struct({ i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, flag: bool });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    v.i8 = -128;
    v.u8 = 256 + 7;
    v.i16 = -32768;
    v.u16 = 65535;
    v.i32 = -(2 ** 31);
    v.u32 = 2 ** 32 - 1;
    v.i64 = -(2n ** 63n);
    v.u64 = 2n ** 64n - 1n;
    v.f32 = 0.1;
    v.f64 = 0.1;
    v.flag = true;
    assert.deepEqual(S.read(buffer), {
      i8: -128,
      u8: 7,
      i16: -32768,
      u16: 65535,
      i32: -(2 ** 31),
      u32: 2 ** 32 - 1,
      i64: -(2n ** 63n),
      u64: 2n ** 64n - 1n,
      f32: Math.fround(0.1),
      f64: 0.1,
      flag: true,
    });
    const dv = new DataView(buffer);
    assert.equal(dv.getBigUint64(S.offsetOf("u64"), true), 2n ** 64n - 1n);
    assert.equal(dv.getInt16(S.offsetOf("i16"), true), -32768);
  });

  test("view() stores fixed byte orders as declared", () => {
    const S = struct({
      a: u16be,
      b: i32be,
      c: u64be,
      d: f64be,
      e: u32le,
      f: u64le,
      g: i16le,
      h: i64be,
      k: f32be,
      m: i16be,
    });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    v.a = 0x0102;
    v.b = -2;
    v.c = 0x0102030405060708n;
    v.d = 1.5;
    v.e = 0x01020304;
    v.f = 5n;
    v.g = -3;
    v.h = -1n;
    v.k = 2.5;
    v.m = 258;
    const dv = new DataView(buffer);
    assert.equal(dv.getUint16(S.offsetOf("a"), false), 0x0102);
    assert.equal(dv.getInt32(S.offsetOf("b"), false), -2);
    assert.equal(dv.getBigUint64(S.offsetOf("c"), false), 0x0102030405060708n);
    assert.equal(dv.getFloat64(S.offsetOf("d"), false), 1.5);
    assert.equal(dv.getUint32(S.offsetOf("e"), true), 0x01020304);
    assert.equal(dv.getBigUint64(S.offsetOf("f"), true), 5n);
    assert.equal(dv.getInt16(S.offsetOf("g"), true), -3);
    assert.equal(dv.getFloat32(S.offsetOf("k"), false), 2.5);
    assert.deepEqual([v.a, v.b, v.c, v.d, v.e, v.f, v.g, v.h, v.k, v.m], [
      0x0102,
      -2,
      0x0102030405060708n,
      1.5,
      0x01020304,
      5n,
      -3,
      -1n,
      2.5,
      258,
    ]);
  });

  test("view() of a bool reads any non-zero byte as true", () => {
    const S = struct({ flag: bool });
    const buffer = new Uint8Array([42]).buffer;
    assert.equal(S.view(buffer).flag, true);
  });

  test("utf8 fields: NUL padding, reads stop at the first NUL, a full field has no NUL", () => {
    const S = struct({ s: utf8(4), t: u8 });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    v.t = 9;
    v.s = "abcd";
    assert.equal(v.s, "abcd");
    assert.equal(v.t, 9);
    v.s = "é";
    assert.deepEqual([...new Uint8Array(buffer, 0, 4)], [0xc3, 0xa9, 0, 0]);
    assert.equal(v.s, "é");
    new Uint8Array(buffer)[1] = 0;
    assert.equal(v.s, "\ufffd", "a broken sequence decodes to U+FFFD, never throws");
  });

  test("utf8 fields refuse a string that does not fit, never splitting a code point", () => {
    const S = struct({ s: utf8(3) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    v.s = "ab";
    assert.throws(() => v.s = "a€", RangeError); // "€" is 3 bytes: 4 in all
    assert.throws(() => v.s = 5 as unknown as string, TypeError);
    assert.equal(v.s, "ab", "a refused write changes nothing");
  });

  test("bytes fields are live Uint8Arrays", () => {
    const S = struct({ n: u32, b: bytes(3) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    assert.ok(v.b instanceof Uint8Array);
    v.b[2] = 7;
    assert.equal(new Uint8Array(buffer)[6], 7);
    assert.equal(v.b.length, 3);
    assert.equal(v.b, v.b, "the same subarray each time");
  });

  test("numeric array fields are live typed arrays of the right kind", () => {
    const S = struct({ a: array(u32, 3), b: array(f64, 2), c: array(i64, 2), d: array(i8, 2), e: array(u16, 2) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    assert.ok(v.a instanceof Uint32Array && v.b instanceof Float64Array && v.c instanceof BigInt64Array);
    assert.ok(v.d instanceof Int8Array && v.e instanceof Uint16Array);
    v.a[2] = 5;
    v.c[1] = -1n;
    assert.equal(new Uint32Array(buffer)[2], 5);
    assert.deepEqual(S.read(buffer).c, new BigInt64Array([0n, -1n]));
    assert.equal(v.a.length, 3);
  });

  test("arrays of structs are sequences of live views, arrays of arrays nest", () => {
    const P = struct({ x: i16, y: i16 });
    const S = struct({ pts: array(P, 3), grid: array(array(u8, 2), 2) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    assert.equal(v.pts.length, 3);
    v.pts[1].y = -4;
    v.grid[1][0] = 9;
    assert.deepEqual(S.read(buffer), {
      pts: [{ x: 0, y: 0 }, { x: 0, y: -4 }, { x: 0, y: 0 }],
      grid: [new Uint8Array([0, 0]), new Uint8Array([9, 0])],
    });
    assert.throws(() => (v.pts as unknown as unknown[])[0] = {}, TypeError);
  });

  test("arrays of bool, utf8 and fixed byte order elements are ScalarArrays", () => {
    const S = struct({ flags: array(bool, 2), names: array(utf8(3), 2), be: array(u16be, 2), raw: array(bytes(2), 2) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    assert.ok(v.flags instanceof ScalarArray && v.names instanceof ScalarArray && v.be instanceof ScalarArray);
    v.flags.set(1, true);
    v.names.set(0, "ab");
    v.be.set(1, 0x0102);
    v.raw[1][1] = 3;
    assert.deepEqual([...v.flags], [false, true]);
    assert.equal(v.names.get(0), "ab");
    assert.equal(new DataView(buffer).getUint16(S.offsetOf("be") + 2, false), 0x0102);
    assert.throws(() => v.be.get(2), RangeError);
    assert.throws(() => v.names.set(1, "abcd"), RangeError);
    assert.throws(() => v.flags.set(0, 1 as unknown as boolean), TypeError);
    assert.deepEqual(S.read(buffer).raw.map((b) => [...b]), [[0, 0], [0, 3]]);
  });

  test("nested structs and unions are live views", () => {
    const U = union({ f: f32, bits: u32 });
    const S = struct({ a: u8, inner: struct({ b: u16, u: U }) });
    const buffer = new ArrayBuffer(S.size);
    const v = S.view(buffer);
    v.inner.u.f = 1;
    assert.equal(v.inner.u.bits, 0x3f800000);
    v.inner.b = 3;
    assert.deepEqual(S.read(buffer), { a: 0, inner: { b: 3, u: { f: 1, bits: 0x3f800000 } } });
  });

  test("packed fields at odd offsets read and write correctly", () => {
    const S = struct({ a: u8, b: u32, c: f64, d: i64, e: u16 }, { packed: true });
    const buffer = new ArrayBuffer(S.size + 1);
    const v = S.view(buffer, 1);
    v.b = 0xdeadbeef;
    v.c = -0.5;
    v.d = -7n;
    v.e = 0xabcd;
    const dv = new DataView(buffer, 1);
    assert.equal(dv.getUint32(1, true), 0xdeadbeef);
    assert.equal(dv.getFloat64(5, true), -0.5);
    assert.equal(dv.getBigInt64(13, true), -7n);
    assert.equal(dv.getUint16(21, true), 0xabcd);
    assert.deepEqual(S.read(buffer, 1), { a: 0, b: 0xdeadbeef, c: -0.5, d: -7n, e: 0xabcd });
  });

  test("a misaligned numeric array in a packed layout indexes through a DataView, and read() and write() work", () => {
    const S = struct({ a: u8, nums: array(u32, 2) }, { packed: true });
    const buffer = new ArrayBuffer(S.size);
    S.view(buffer).nums[1] = 7;
    assert.equal(new DataView(buffer).getUint32(5, true), 7);
    S.write(buffer, 0, { nums: [1, 2] });
    assert.deepEqual(S.read(buffer).nums, new Uint32Array([1, 2]));
  });

  test("view() checks the byte offset and the buffer size", () => {
    const S = struct({ a: u32 });
    assert.throws(() => S.view(new ArrayBuffer(3)), RangeError);
    assert.throws(() => S.view(new ArrayBuffer(8), 2), { name: "RangeError", message: /alignment/ });
    assert.throws(() => S.view(new ArrayBuffer(8), 8), RangeError);
    assert.throws(() => S.view(new ArrayBuffer(8), -4), RangeError);
    assert.throws(() => S.view("buffer" as unknown as ArrayBuffer), TypeError);
    assert.equal(S.view(new ArrayBuffer(8), 4).a, 0);
  });

  test("views are not extensible: a misspelt field is a TypeError, not a silent new property", () => {
    const v = struct({ hits: u32 }).view(new ArrayBuffer(4)) as unknown as Record<string, unknown>;
    assert.throws(() => v.hitz = 1, TypeError);
  });

  test("views over the same buffer see each other's writes", () => {
    const S = struct({ a: u32 });
    const buffer = new ArrayBuffer(8);
    const one = S.view(buffer, 4);
    const two = S.view(buffer, 4);
    one.a = 11;
    assert.equal(two.a, 11);
  });
});

describe("struct().read() and write()", () => {
  test("write() writes any part of a value, nested parts included", () => {
    const S = struct({ a: u32, inner: struct({ b: u8, c: array(u16, 3) }), s: utf8(4), raw: bytes(2) });
    const buffer = new ArrayBuffer(S.size);
    S.write(buffer, 0, { a: 1, s: "xy", raw: [1, 2] });
    S.write(buffer, 0, { inner: { c: [7, 8] } });
    S.write(buffer, 0, { raw: [5] });
    assert.deepEqual({ ...S.read(buffer), raw: [...S.read(buffer).raw] }, {
      a: 1,
      inner: { b: 0, c: new Uint16Array([7, 8, 0]) },
      s: "xy",
      raw: [5, 0],
    });
  });

  test("write() checks every key and value and writes nothing it refuses", () => {
    const S = struct({ a: u32, b: i64, c: array(u8, 2), d: struct({ e: bool }) });
    const buffer = new ArrayBuffer(S.size);
    assert.throws(() => S.write(buffer, 0, { z: 1 } as never), { name: "TypeError", message: /z/ });
    assert.throws(() => S.write(buffer, 0, { a: "1" as unknown as number }), TypeError);
    assert.throws(() => S.write(buffer, 0, { b: 1 as unknown as bigint }), TypeError);
    assert.throws(() => S.write(buffer, 0, { c: [1, 2, 3] }), RangeError);
    assert.throws(() => S.write(buffer, 0, { d: { e: 1 as unknown as boolean } }), TypeError);
    assert.throws(() => S.write(buffer, 0, { d: { f: true } } as never), { message: /d\.f/ });
    assert.ok(new Uint8Array(buffer).every((b) => b === 0));
  });

  test("read() returns copies detached from the buffer, numeric arrays as typed arrays", () => {
    const S = struct({ raw: bytes(2), nums: array(u8, 2), flags: array(bool, 2), be: array(u16be, 2) });
    const buffer = new ArrayBuffer(S.size);
    const value = S.read(buffer);
    value.raw[0] = 1;
    value.nums[0] = 1;
    assert.ok(new Uint8Array(buffer).every((b) => b === 0));
    assert.ok(value.nums instanceof Uint8Array && value.nums.buffer !== buffer);
    assert.deepEqual([value.flags, value.be], [[false, false], [0, 0]]);
  });
});

describe("struct().cursor()", () => {
  test("cursor() moves one view across records", () => {
    const S = struct({ id: u32, v: f64, tags: array(u8, 2), inner: struct({ k: u16 }) });
    const buffer = new ArrayBuffer(S.size * 3);
    const cursor = S.cursor(buffer);
    assert.equal(cursor.length, 3);
    for (let i = 0; i < cursor.length; i++) {
      const record = cursor.at(i);
      record.id = i + 1;
      record.tags[1] = 10 + i;
      record.inner.k = 20 + i;
    }
    assert.equal(cursor.at(0), cursor.at(1), "the same object");
    assert.deepEqual(
      [0, 1, 2].map((i) => S.read(buffer, i * S.size)),
      [0, 1, 2].map((i) => ({
        id: i + 1,
        v: 0,
        tags: new Uint8Array([0, 10 + i]),
        inner: { k: 20 + i },
      })),
    );
    assert.throws(() => cursor.at(3), RangeError);
    assert.throws(() => cursor.at(-1), RangeError);
    assert.throws(() => S.cursor(buffer, 0, 4), RangeError);
  });

  test("cursor.at() refuses every index that is not an integer in [0, length)", () => {
    const S = struct({ a: u32, b: f64 });
    const cursor = S.cursor(new ArrayBuffer(S.size * 5));
    // Warmed with valid indexes first, so that an optimizing compiler has seen only those.
    for (let i = 0; i < 20_000; i++) cursor.at(i % 5).a++;
    const bad = [5, 6, -1, -5, 0.5, 4.5, -0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 32 + 1, -(2 ** 31)];
    for (const index of [...bad, "1", null, undefined, true, {}]) {
      assert.throws(
        () => cursor.at(index as number),
        { name: "RangeError", message: `Cannot move cursor to record ${String(index)}: there are 5 records` },
        `index ${String(index)}`,
      );
    }
    assert.equal(cursor.at(-0).a, 4000, "-0 is record 0");
    assert.equal(cursor.at(4).a, 4000);
  });

  test("cursor.at() reaches records past index 2^31 of a long cursor", () => {
    const S = struct({ a: u8 });
    // Untouched pages of a large ArrayBuffer cost no memory.
    const buffer = new ArrayBuffer(2 ** 31 + 16);
    const cursor = S.cursor(buffer);
    assert.equal(cursor.length, 2 ** 31 + 16);
    for (const index of [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 15]) cursor.at(index).a = index % 251;
    const raw = new Uint8Array(buffer);
    for (const index of [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 15]) assert.equal(raw[index], index % 251);
    assert.equal(cursor.at(2 ** 31).a, 2 ** 31 % 251);
    for (const index of [2 ** 31 + 16, 2 ** 31 + 0.5, 2 ** 32]) assert.throws(() => cursor.at(index), RangeError);
  });

  test("cursor.at() reaches records past index 2^32 of a longer cursor", (t) => {
    const S = struct({ a: u8 });
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(2 ** 32 + 16);
      new Uint8Array(buffer); // Node 20 and Bun refuse typed arrays of 2^32 elements or more
    } catch {
      t.skip("this runtime cannot make a typed array of 2^32 bytes");
      return;
    }
    const cursor = S.cursor(buffer);
    for (const index of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 15]) cursor.at(index).a = index % 251;
    const raw = new Uint8Array(buffer);
    for (const index of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 15]) assert.equal(raw[index], index % 251);
    for (const index of [2 ** 32 + 16, 2 ** 32 + 0.5]) assert.throws(() => cursor.at(index), RangeError);
  });
});

test("commonAlignment() finds the alignment of offsets past 2^32", () => {
  assert.equal(commonAlignment(8, 2 ** 32), 8);
  assert.equal(commonAlignment(8, 2 ** 32 + 4), 4);
  assert.equal(commonAlignment(4096, 0), 4096);
  assert.equal(commonAlignment(16, 2 ** 40 + 2), 2);
  assert.equal(commonAlignment(1, 8), 1);
});

test("views and cursors work at byte offsets past 2 GiB", () => {
  const S = struct({ a: u8, n: u32, d: f64, big: u64 });
  // Untouched pages of a large ArrayBuffer cost no memory.
  const buffer = new ArrayBuffer(2 ** 31 + 4096);
  const offset = 2 ** 31 + 8;
  const view = S.view(buffer, offset);
  view.n = 7;
  view.d = 1.5;
  view.big = 3n;
  const dv = new DataView(buffer);
  assert.equal(dv.getUint32(offset + 4, true), 7);
  assert.equal(dv.getFloat64(offset + 8, true), 1.5);
  assert.equal(dv.getBigUint64(offset + 16, true), 3n);
  const cursor = S.cursor(buffer, 2 ** 31 - 2 * S.size, 4);
  for (let i = 0; i < 4; i++) cursor.at(i).n = 100 + i;
  for (let i = 0; i < 4; i++) assert.equal(dv.getUint32(2 ** 31 - 2 * S.size + i * S.size + 4, true), 100 + i);
  assert.equal(cursor.at(3).n, 103);
});

describe("atomic()", () => {
  test("atomic() offers every Atomics operation on 8, 16, 32 and 64-bit fields", () => {
    const S = struct({ a: u8, b: i16, c: u32, d: i64, e: u64 });
    const v = S.view(new ArrayBuffer(S.size));
    const c = atomic(v, "c");
    assert.equal(c.add(5), 0);
    assert.equal(c.sub(2), 5);
    assert.equal(c.or(0b1000), 3);
    assert.equal(c.and(0b1010), 0b1011);
    assert.equal(c.xor(0b0011), 0b1010);
    assert.equal(c.exchange(100), 0b1001);
    assert.equal(c.compareExchange(1, 7), 100, "no swap when the value differs");
    assert.equal(c.compareExchange(100, 7), 100);
    assert.equal(c.store(9), 9);
    assert.equal(c.load(), 9);
    assert.equal(v.c, 9);
    atomic(v, "a").add(300);
    assert.equal(v.a, 44, "wraps as uint8");
    atomic(v, "b").sub(1);
    assert.equal(v.b, -1);
    atomic(v, "d").add(-5n);
    assert.equal(v.d, -5n);
    atomic(v, "e").sub(1n);
    assert.equal(v.e, 2n ** 64n - 1n);
  });

  test("atomic() binds nested fields and cursor records", () => {
    const S = struct({ pad: u8, inner: struct({ n: u32 }) });
    const buffer = new ArrayBuffer(S.size * 2);
    const cursor = S.cursor(buffer);
    atomic(cursor.at(1).inner, "n").add(3);
    assert.equal(S.read(buffer, S.size).inner.n, 3);
  });

  test("atomic() refuses misaligned, float, fixed byte order and unknown fields with TypeError", () => {
    const Packed = struct({ a: u8, b: u32 }, { packed: true });
    assert.throws(() => atomic(Packed.view(new ArrayBuffer(8)), "b"), { name: "TypeError", message: /aligned/ });
    const S = struct({ f: f64, be: u32be, s: utf8(4) });
    const v = S.view(new ArrayBuffer(S.size));
    assert.throws(() => atomic(v, "f" as never), TypeError);
    assert.throws(() => atomic(v, "be" as never), TypeError);
    assert.throws(() => atomic(v, "s" as never), TypeError);
    assert.throws(() => atomic({ f: 1 }, "f"), TypeError);
  });

  test("atomic() on an aligned field of a packed struct works", () => {
    const Packed = struct({ a: u32, b: u8 }, { packed: true });
    const field = atomic(Packed.view(new ArrayBuffer(8)), "a");
    field.add(2);
    assert.equal(field.load(), 2);
  });
});

describe("views of a read-only MappedFile", () => {
  test("views of a read-only MappedFile refuse every write with a TypeError", () => {
    using tmp = tempDir();
    const S = struct({
      n: u32,
      s: utf8(4),
      nums: array(u16, 2),
      raw: bytes(2),
      flags: array(bool, 2),
      inner: struct({ k: u8 }),
    });
    const path = tmp.path("a.mms");
    {
      using file = MappedFile.create(path, { size: S.size });
      S.write(file, 0, { n: 5, nums: [1, 2], raw: [3, 4], inner: { k: 6 } });
    }
    using file = MappedFile.open(path);
    const v = S.view(file);
    assert.throws(() => v.n = 1, { name: "TypeError", message: /read-only/ });
    assert.throws(() => v.s = "x", TypeError);
    assert.throws(() => v.inner.k = 1, TypeError);
    assert.throws(() => v.flags.set(0, true), TypeError);
    assert.throws(() => S.write(file, 0, { n: 1 }), TypeError);
    assert.throws(() => atomic(v, "n").add(1), TypeError);
    assert.equal(atomic(v, "n").load(), 5);
    // Typed arrays cannot refuse writes, so a read-only view hands out copies.
    v.nums[0] = 100;
    v.raw[0] = 100;
    assert.deepEqual([...v.nums], [1, 2]);
    assert.deepEqual([...v.raw], [3, 4]);
    assert.deepEqual(S.read(file).nums, new Uint16Array([1, 2]));
  });

  test("a view outlives its MappedFile without crashing or reaching the file", () => {
    using tmp = tempDir();
    const S = struct({ n: u32, nums: array(u32, 2) });
    const file = MappedFile.create(tmp.path("a.mms"), { size: S.size });
    const v = S.view(file);
    v.n = 5;
    const nums = v.nums;
    file.close();
    assert.ok(v.n === undefined || v.n === 0, String(v.n));
    v.n = 6;
    assert.ok(nums.length === 0 || nums[0] === 0);
    assert.throws(() => S.view(file), RangeError);
  });
});

describe("toC() and toCtypes()", () => {
  test("toC() declares nested types first and marks fixed byte order", () => {
    const source = toC(struct({ p: struct({ x: f32 }), n: array(array(i16, 3), 2), be: u32be }), "outer");
    assert.ok(source.indexOf("struct outer_p {") < source.indexOf("struct outer {"));
    assert.match(source, /int16_t n\[2\]\[3\];/);
    assert.match(source, /uint32_t be; \/\* big-endian \*\//);
    assert.match(toC(struct({ a: u8, b: u16 }, { packed: true }), "p"), /\} __attribute__\(\(packed\)\);/);
    assert.match(toC(struct({ a: u8 }, { align: 8 }), "q"), /\} __attribute__\(\(aligned\(8\)\)\);/);
  });

  test("toC() and toCtypes() refuse a bad name or type", () => {
    assert.throws(() => toC(struct({ a: u8 }), "not a name"), TypeError);
    assert.throws(() => toCtypes(struct({ a: u8 }), "1x"), TypeError);
    assert.throws(() => toC(u8 as never, "x"), TypeError);
  });

  test("toCtypes() pads explicitly and uses ctypes byte-order types", () => {
    const source = toCtypes(struct({ a: u8, b: u64be }), "S");
    assert.match(source, /\("_mmstruct_pad0", ctypes\.c_uint8 \* 7\)/);
    assert.match(source, /ctypes\.c_uint64\.__ctype_be__/);
    assert.match(toCtypes(struct({ from: u8 }), "K"), /getattr\(K, "from"\)\.offset == 0/);
  });
});

test("i64be and f64be survive a round trip through write() and read()", () => {
  const S = struct({ a: i64be, b: f64be });
  const buffer = new ArrayBuffer(S.size);
  S.write(buffer, 0, { a: -2n, b: 1e300 });
  assert.deepEqual(S.read(buffer), { a: -2n, b: 1e300 });
});

test("struct types describe themselves as plain data", () => {
  const S = struct({ a: u8, b: i32be });
  assert.deepEqual(JSON.parse(JSON.stringify(S.fields[1])), {
    name: "b",
    type: { kind: "scalar", name: "i32", size: 4, align: 4, byteOrder: "big" },
    offset: 4,
    size: 4,
  });
  assert.ok(Object.isFrozen(S) && Object.isFrozen(S.fields));
});

test("compositeOf() lays pairs out as struct() and union() lay objects out, and refuses a repeated name", () => {
  const pairs = [["a", u8], ["b", u32], ["c", array(u16, 3)]] as const;
  for (const [kind, declare] of [["struct", struct], ["union", union]] as const) {
    const made = compositeOf(kind, pairs, { packed: true });
    const declared = declare({ a: u8, b: u32, c: array(u16, 3) }, { packed: true });
    assert.deepEqual(
      [made.kind, made.size, made.align, made.fields.map((f) => [f.name, f.offset, f.type])],
      [declared.kind, declared.size, declared.align, declared.fields.map((f) => [f.name, f.offset, f.type])],
    );
    assert.throws(() => compositeOf(kind, [["a", u8], ["b", u32], ["a", u16]], {}), {
      name: "TypeError",
      message: `Cannot declare ${kind}(): field name "a" is repeated`,
    });
  }
  assert.throws(() => compositeOf("struct", [["__proto__", u8]], {}), TypeError);
});
