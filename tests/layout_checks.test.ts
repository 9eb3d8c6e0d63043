import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { array, atomic, f32, f64, i64, struct, StructFile, u16be, u32, u64 } from "../mod.ts";
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
