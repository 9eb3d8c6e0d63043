import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { array, bool, bytes, f64, i16, i32be, ScalarArray, struct, u16be, u32, u64, u8, utf8 } from "../mod.ts";

const Point = struct({ x: i16, y: i16 });
/** One array of every kind that is not a typed array, and one that is. */
const Arrays = struct({
  flags: array(bool, 3),
  names: array(utf8(4), 2),
  be: array(u16be, 3),
  points: array(Point, 2),
  raw: array(bytes(2), 2),
  grid: array(array(u8, 2), 2),
  nums: array(u32, 2),
});
const Packed = struct({ a: u8, nums: array(u32, 3), wide: array(u64, 2), reals: array(f64, 2) }, { packed: true });

describe("array() fields", () => {
  test("array() of bool, utf8 and fixed byte order elements indexes with [i] for reading and writing", () => {
    const buffer = new ArrayBuffer(Arrays.size);
    const v = Arrays.view(buffer);
    v.flags[1] = true;
    v.names[1] = "héh";
    v.be[2] = 0x0102;
    assert.deepEqual([v.flags[0], v.flags[1], v.flags[2]], [false, true, false]);
    assert.equal(v.names[1], "héh");
    assert.equal(v.be[2], 0x0102);
    const dv = new DataView(buffer);
    assert.equal(dv.getUint8(Arrays.offsetOf("flags") + 1), 1);
    assert.equal(dv.getUint16(Arrays.offsetOf("be") + 4, false), 0x0102);
    assert.deepEqual(Arrays.read(buffer).names, ["", "héh"]);
    assert.ok(v.flags instanceof ScalarArray && Array.isArray(v.flags));
    assert.deepEqual(v.be.map((x) => x + 1), [1, 1, 0x0103]);
  });

  test("array() in a packed struct indexes misaligned numbers with [i] through a DataView", () => {
    const buffer = new ArrayBuffer(Packed.size + 1);
    const v = Packed.view(buffer, 1);
    v.nums[2] = 0xdeadbeef;
    v.wide[1] = (1n << 63n) + 5n;
    v.reals[0] = -2.5;
    const dv = new DataView(buffer, 1);
    assert.equal(dv.getUint32(Packed.offsetOf("nums") + 8, true), 0xdeadbeef);
    assert.equal(dv.getBigUint64(Packed.offsetOf("wide") + 8, true), (1n << 63n) + 5n);
    assert.equal(dv.getFloat64(Packed.offsetOf("reals"), true), -2.5);
    assert.equal(v.nums[2], 0xdeadbeef);
    assert.equal(v.wide[1], (1n << 63n) + 5n);
    assert.deepEqual(Packed.read(buffer, 1).nums, new Uint32Array([0, 0, 0xdeadbeef]));
    assert.throws(() => v.nums[0] = 1n as unknown as number, TypeError);
  });

  test("array() elements out of range are a RangeError on reading and writing, for every kind but typed arrays", () => {
    const v = Arrays.view(new ArrayBuffer(Arrays.size));
    const p = Packed.view(new ArrayBuffer(Packed.size));
    const kinds: [string, unknown[]][] = [
      ["flags", v.flags],
      ["names", v.names],
      ["be", v.be],
      ["points", v.points as unknown as unknown[]],
      ["raw", v.raw as unknown as unknown[]],
      ["grid", v.grid as unknown as unknown[]],
      ["packed nums", p.nums as unknown as unknown[]],
    ];
    for (const [name, a] of kinds) {
      for (const index of [a.length, -1, 1.5, 2 ** 32]) {
        assert.throws(() => a[index], RangeError, `${name}[${index}]`);
        assert.throws(() => a[index] = a[0], RangeError, `${name}[${index}] =`);
      }
      assert.equal(index(a), a.length);
    }
    // Native typed arrays keep JavaScript's rule: undefined, and the write is ignored.
    assert.equal(v.nums[2], undefined);
    v.nums[2] = 1;
    assert.equal(v.nums.length, 2);
  });

  test("array() fields and views refuse a stray property with a TypeError", () => {
    const v = Arrays.view(new ArrayBuffer(Arrays.size));
    const p = Packed.view(new ArrayBuffer(Packed.size));
    const targets: [string, object][] = [
      ["view", v],
      ["nested view", v.points[0]],
      ["flags", v.flags],
      ["points", v.points],
      ["grid", v.grid],
      ["packed nums", p.nums],
      ["typed array", v.nums],
      ["typed array in an array", v.grid[0]],
    ];
    for (const [name, target] of targets) {
      assert.throws(() => (target as Record<string, unknown>).extra = 1, TypeError, name);
      assert.equal((target as Record<string, unknown>).extra, undefined, name);
    }
    assert.throws(() => (v.flags as unknown as { length: number }).length = 0, TypeError);
    assert.throws(() => delete (v.flags as unknown as Record<number, unknown>)[0], TypeError);
    assert.throws(() => Object.defineProperty(v.flags, "0", { value: true }), TypeError);
  });

  test("array() elements that are live objects cannot be assigned", () => {
    const v = Arrays.view(new ArrayBuffer(Arrays.size));
    assert.throws(() => (v.points as unknown as unknown[])[0] = { x: 1, y: 2 }, TypeError);
    assert.throws(() => (v.raw as unknown as unknown[])[0] = new Uint8Array(2), TypeError);
    assert.throws(() => (v.grid as unknown as unknown[])[1] = new Uint8Array(2), TypeError);
    v.points[1].x = 3;
    v.grid[1][1] = 4;
    assert.equal(v.points[1].x, 3);
    assert.equal(v.grid[1][1], 4);
    assert.equal(v.points[1], v.points[1]);
  });

  test("array() element arrays refuse writes of a read-only view with a TypeError", () => {
    const buffer = new ArrayBuffer(Arrays.size);
    const ro = Arrays.view({ buffer, writable: false });
    assert.throws(() => ro.flags[0] = true, { name: "TypeError", message: /read-only/ });
    assert.throws(() => ro.names[0] = "a", { name: "TypeError", message: /read-only/ });
    assert.throws(() => ro.points[0].x = 1, TypeError);
    assert.deepEqual(new Uint8Array(buffer), new Uint8Array(Arrays.size));
  });

  test("array() element arrays check values as write() does", () => {
    const v = Arrays.view(new ArrayBuffer(Arrays.size));
    assert.throws(() => v.flags[0] = 1 as unknown as boolean, TypeError);
    assert.throws(() => v.names[0] = "abcde", RangeError);
    const S = struct({ a: array(i32be, 1) });
    assert.throws(() => S.view(new ArrayBuffer(S.size)).a[0] = "1" as unknown as number, TypeError);
  });
});

/** How many indexes `in` finds: the array reports exactly its elements. */
function index(a: unknown[]): number {
  let n = 0;
  while (n in a) n++;
  return n;
}
