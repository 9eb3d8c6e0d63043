import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  array,
  atomic,
  bytes,
  f32,
  f64,
  i16,
  i16be,
  i32,
  i32le,
  i64,
  i64be,
  i8,
  type ScalarType,
  struct,
  StructFile,
  toC,
  toCtypes,
  u16,
  u16be,
  u16le,
  u32,
  u32be,
  u64,
  u64le,
  u8,
  utf8,
} from "../mod.ts";
import { tempDir } from "./_helpers.ts";

/** A global that the hostile layouts below try to set from inside generated code. */
const MARK = "mmstructInjected";
const globals = globalThis as Record<string, unknown>;

/** A nested struct type built by hand whose field name is code, as issue 8 describes. */
function handMadeStruct(name: string) {
  return {
    kind: "struct",
    size: 4,
    align: 4,
    packed: false,
    fields: [{ name, type: u32, offset: 0, size: 4 }],
  };
}

describe("struct() and hand-made types", () => {
  test("struct() refuses a hand-made nested struct, and its field name never runs as code", () => {
    delete globals[MARK];
    const hostile = handMadeStruct(`[globalThis.${MARK} = 1]`);
    assert.throws(() => struct({ inner: hostile as never }), { name: "TypeError", message: /made by this library/ });
    try {
      // Were it accepted, a view (and read) compile the nested struct's accessors.
      const Outer = struct({ inner: hostile as never });
      const buffer = new ArrayBuffer(Outer.size);
      void Outer.view(buffer).inner;
      Outer.read(buffer);
    } catch {
      // Refused: what matters below is that nothing ran.
    }
    assert.equal(globals[MARK], undefined);
  });

  test("struct() and array() refuse a copy of a library type", () => {
    assert.throws(() => struct({ a: { ...u32 } as never }), TypeError);
    assert.throws(() => array({ ...f64 } as never, 2), TypeError);
    assert.throws(() => struct({ a: { ...struct({ n: u32 }) } as never }), TypeError);
  });

  test("struct() accepts every type the factories made, nested at any depth", () => {
    const Inner = struct({ n: u32, big: array(u64, 2) });
    const Outer = struct({ inner: Inner, list: array(Inner, 2), x: f32 });
    const buffer = new ArrayBuffer(Outer.size);
    Outer.view(buffer).list[1].n = 7;
    assert.equal(Outer.read(buffer).list[1].n, 7);
  });

  test("toC() and toCtypes() refuse a hand-made layout, whose names would be printed as source", () => {
    const hostile = handMadeStruct("x; }; int evil(void) { return 1; } struct y { int z");
    assert.throws(() => toC(hostile as never, "stats"), { name: "TypeError", message: /made by struct\(\)/ });
    assert.throws(() => toCtypes(hostile as never, "Stats"), { name: "TypeError", message: /made by struct\(\)/ });
    assert.match(toC(struct({ n: u32 }), "stats"), /uint32_t n;/);
  });

  test("StructFile.open() rebuilds a layout from the file through the type factories", () => {
    using dir = tempDir();
    const Inner = struct({ n: u32, tags: array(utf8(4), 2) });
    StructFile.create(dir.path("s.mms"), struct({ inner: Inner, big: i64be, raw: bytes(3) })).close();
    using file = StructFile.open(dir.path("s.mms"));
    // struct() takes only library-made types: every part of the parsed layout is one.
    const Again = struct({ copy: file.type, inner: file.type.fields[0].type, raw: file.type.fields[2].type });
    assert.deepEqual(Again.fields.map((f) => f.size), [file.type.size, Inner.size, 3]);
  });

  test("StructFile.create() refuses a hand-made layout, whose field names never run as code", () => {
    delete globals[MARK];
    using dir = tempDir();
    const hostile = {
      ...handMadeStruct(`[globalThis.${MARK} = 2]`),
      view: () => ({}),
      write: () => {},
      read: () => ({}),
      offsetOf: () => 0,
      cursor: () => ({}),
    };
    assert.throws(() => StructFile.create(dir.path("refused.mms"), hostile as never), TypeError);
    try {
      using file = StructFile.create(dir.path("hostile.mms"), hostile as never);
      // Past the first few snapshots, a struct file compiles a reader for its layout.
      for (let i = 0; i < 40; i++) file.snapshot();
      void file.view;
      file.update(() => {});
    } catch {
      // Refused somewhere on the way: what matters is that nothing ran.
    }
    assert.equal(globals[MARK], undefined);
  });
});

describe("atomic() at the type level", () => {
  test("atomic() refuses a float or fixed byte order field at compile time, and at run time", () => {
    const S = struct({ n: u32, f: f64, be: u16be, big: i64 });
    const v = S.view(new ArrayBuffer(S.size));
    // @ts-expect-error: f64 is not an integer field (checked by deno check and tsc)
    assert.throws(() => atomic(v, "f"), TypeError);
    // @ts-expect-error: atomics need native byte order
    assert.throws(() => atomic(v, "be"), TypeError);
    const n: number = atomic(v, "n").add(1);
    const big: bigint = atomic(v, "big").add(1n);
    assert.deepEqual([n, big], [0, 0n]);
  });

  test("atomic() checks the fields of nested views and cursor records at compile time", () => {
    const S = struct({ inner: struct({ count: u32, ratio: f64 }) });
    const cursor = S.cursor(new ArrayBuffer(S.size * 2));
    atomic(cursor.at(1).inner, "count").add(2);
    // @ts-expect-error: ratio is a float
    assert.throws(() => atomic(cursor.at(1).inner, "ratio"), TypeError);
    assert.equal(cursor.at(1).inner.count, 2);
  });
});

/** The integer scalars with 8 to 32 bits, native and fixed byte order. */
const SMALL_INTEGERS = [i8, u8, i16, u16, i32, u32, i16be, u16le, i32le, u32be];

/** The smallest and largest value of an integer scalar, from its name and size. */
function limits(type: ScalarType): [bigint, bigint] {
  const bits = BigInt(type.size * 8);
  return type.name.startsWith("u") ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
}

/** A buffer of random bytes, and a copy of them to compare with. */
function randomBuffer(size: number): { buffer: ArrayBuffer; before: Uint8Array } {
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < size; i++) bytes[i] = Math.floor(Math.random() * 256);
  return { buffer, before: bytes.slice() };
}

describe("write() is checked", () => {
  test("write() refuses an integer out of range with a RangeError naming the field and the value", () => {
    for (const type of SMALL_INTEGERS) {
      const S = struct({ pad: u8, count: type });
      const buffer = new ArrayBuffer(S.size);
      const [min, max] = limits(type).map(Number);
      for (const good of [min, max, 0]) {
        S.write(buffer, 0, { count: good });
        assert.equal(S.read(buffer).count, good, `${type.name} ${good}`);
      }
      for (const bad of [min - 1, max + 1, max * 2 + 2]) {
        assert.throws(() => S.write(buffer, 0, { count: bad }), (error: Error) => {
          assert.ok(error instanceof RangeError, `${type.name} ${bad}: ${error}`);
          assert.match(error.message, /"count"/);
          assert.ok(error.message.includes(String(bad)), error.message);
          return true;
        });
      }
    }
  });

  test("write() refuses the issue's examples that used to wrap", () => {
    const S = struct({ errors: u32, small: u8, whole: i32 });
    const buffer = new ArrayBuffer(S.size);
    assert.throws(() => S.write(buffer, 0, { errors: -1 }), { name: "RangeError", message: /"errors": -1 / });
    assert.throws(() => S.write(buffer, 0, { small: 300 }), { name: "RangeError", message: /"small": 300 / });
    assert.throws(() => S.write(buffer, 0, { whole: 1.5 }), {
      name: "RangeError",
      message: /"whole": 1\.5 is not an integer/,
    });
    assert.deepEqual(S.read(buffer), { errors: 0, small: 0, whole: 0 });
  });

  test("write() refuses a non-integer, NaN or infinity on an integer field", () => {
    for (const type of SMALL_INTEGERS) {
      const S = struct({ n: type });
      for (const bad of [0.5, -2.25, NaN, Infinity, -Infinity]) {
        assert.throws(() => S.write(new ArrayBuffer(S.size), 0, { n: bad }), RangeError, `${type.name} ${bad}`);
      }
    }
  });

  test("write() refuses a number on a 64-bit field with a TypeError naming the field", () => {
    for (const type of [i64, u64, i64be, u64le]) {
      const S = struct({ total: type });
      assert.throws(() => S.write(new ArrayBuffer(S.size), 0, { total: 5 as unknown as bigint }), {
        name: "TypeError",
        message: /"total".*number 5/,
      });
    }
  });

  test("write() refuses a bigint out of range for a 64-bit field, and takes both ends of it", () => {
    for (const type of [i64, u64, i64be, u64le]) {
      const S = struct({ total: type });
      const buffer = new ArrayBuffer(S.size);
      const [min, max] = limits(type);
      for (const good of [min, max]) {
        S.write(buffer, 0, { total: good });
        assert.equal(S.read(buffer).total, good);
      }
      for (const bad of [min - 1n, max + 1n]) {
        assert.throws(() => S.write(buffer, 0, { total: bad }), { name: "RangeError", message: /"total"/ });
      }
    }
  });

  test("write() refuses a finite number that f32 cannot hold, and takes any other float", () => {
    const S = struct({ single: f32, wide: f64 });
    const buffer = new ArrayBuffer(S.size);
    const largest = 2 ** 127 * (2 - 2 ** -23); // FLT_MAX
    assert.throws(() => S.write(buffer, 0, { single: largest * 2 }), { name: "RangeError", message: /"single"/ });
    assert.throws(() => S.write(buffer, 0, { single: -largest * 2 }), RangeError);
    for (const good of [largest, -largest, 0.1, NaN, Infinity, -Infinity]) {
      S.write(buffer, 0, { single: good, wide: good });
      assert.deepEqual(S.read(buffer), { single: Math.fround(good), wide: good });
    }
  });

  test("write() refuses bytes out of range in a bytes field", () => {
    const S = struct({ digest: bytes(4) });
    const buffer = new ArrayBuffer(S.size);
    assert.throws(() => S.write(buffer, 0, { digest: [1, 2, 300] }), {
      name: "RangeError",
      message: /"digest\[2\]": 300/,
    });
    assert.throws(() => S.write(buffer, 0, { digest: [1, -1] }), RangeError);
    assert.throws(() => S.write(buffer, 0, { digest: [0.5] }), RangeError);
    assert.throws(() => S.write(buffer, 0, { digest: ["1"] as never }), TypeError);
    S.write(buffer, 0, { digest: [0, 255] });
    assert.deepEqual([...S.read(buffer).digest], [0, 255, 0, 0]);
  });

  test("write() refuses a string containing NUL rather than cutting it, and so does a view", () => {
    const S = struct({ name: utf8(16), list: array(utf8(4), 2) });
    const buffer = new ArrayBuffer(S.size);
    assert.throws(() => S.write(buffer, 0, { name: "api\0admin" }), {
      name: "RangeError",
      message: /"name": "api\\u0000admin" contains a NUL/,
    });
    assert.throws(() => S.write(buffer, 0, { list: ["ok", "\0"] }), { name: "RangeError", message: /"list\[1\]"/ });
    const view = S.view(buffer);
    assert.throws(() => view.name = "a\0", RangeError);
    assert.throws(() => view.list.set(0, "b\0"), RangeError);
    assert.deepEqual(S.read(buffer), { name: "", list: ["", ""] });
  });

  test("write() refuses a string too long for its field, or one UTF-8 cannot encode, and never cuts it", () => {
    const S = struct({ name: utf8(4) });
    const buffer = new ArrayBuffer(S.size);
    S.write(buffer, 0, { name: "abcd" }); // fills the field exactly: no terminator, as in C
    assert.equal(S.read(buffer).name, "abcd");
    assert.throws(() => S.write(buffer, 0, { name: "abcde" }), { name: "RangeError", message: /"name".*5 bytes/ });
    assert.throws(() => S.write(buffer, 0, { name: "abcé" }), RangeError); // 5 bytes in UTF-8
    assert.throws(() => S.write(buffer, 0, { name: "a\ud800" }), { name: "RangeError", message: /lone surrogate/ });
    assert.equal(S.read(buffer).name, "abcd");
  });

  test("write() changes nothing when it refuses a value, wherever the value is", () => {
    const Inner = struct({ k: u16, label: utf8(8) });
    const S = struct({
      a: u32,
      b: f64,
      big: u64,
      name: utf8(8),
      raw: bytes(4),
      nums: array(u8, 4),
      inner: Inner,
      list: array(Inner, 2),
    });
    const good = { a: 7, b: 1.5, big: 9n, name: "ok", raw: [1, 2], nums: [1, 2, 3], inner: { k: 3, label: "x" } };
    const refused = [
      { ...good, list: [{ k: 1 }, { k: 70000 }] },
      { ...good, nums: [1, 2, 256] },
      { ...good, inner: { k: 1, label: "a\0" } },
      { ...good, big: -1n },
      { ...good, z: 1 },
      { list: [{ k: 1 }], ...good, a: -1 },
    ];
    for (const value of refused) {
      const { buffer, before } = randomBuffer(S.size);
      assert.throws(() => S.write(buffer, 0, value as never));
      assert.deepEqual(
        new Uint8Array(buffer),
        before,
        JSON.stringify(value, (_, v) => typeof v === "bigint" ? `${v}n` : v),
      );
    }
    const { buffer } = randomBuffer(S.size);
    S.write(buffer, 0, good); // the same values with nothing refused are all written
    const back = S.read(buffer);
    assert.deepEqual([back.a, back.b, back.big, back.name, back.inner], [7, 1.5, 9n, "ok", { k: 3, label: "x" }]);
    assert.deepEqual([...back.raw, ...back.nums.subarray(0, 3)], [1, 2, 0, 0, 1, 2, 3]);
  });

  test("StructFile.create() refuses out-of-range initial values", () => {
    using dir = tempDir();
    const S = struct({ n: u8 });
    assert.throws(() => StructFile.create(dir.path("s.mms"), S, { initial: { n: 256 } }), {
      name: "RangeError",
      message: /"n"/,
    });
    assert.throws(() => StructFile.open(dir.path("s.mms")), { name: "MmapError" }); // never published
  });
});
