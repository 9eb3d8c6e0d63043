/**
 * Type-level tests: each `Expect<Equal<…>>` line fails `deno check` and `tsc` when the
 * inferred type changes; `@ts-expect-error` lines fail when a wrong use stops being an
 * error. The runtime test only makes the runners load the file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  array,
  atomic,
  type AtomicField,
  bool,
  bytes,
  f32,
  i64,
  type ScalarArray,
  struct,
  type StructType,
  u16be,
  u32,
  u64,
  u8,
  union,
  utf8,
} from "../mod.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
type Flat<T> = { [K in keyof T]: T[K] };

const buffer = new ArrayBuffer(1024);

const Stats = struct({ hits: u32, name: utf8(16) });
const stats = Stats.view(buffer);
export type ViewIsExact = Expect<Equal<Flat<typeof stats>, { hits: number; name: string }>>;

const Point = struct({ x: f32, y: f32 });
const All = struct({
  big: i64,
  ubig: u64,
  flag: bool,
  raw: bytes(4),
  nums: array(u32, 2),
  bigs: array(u64, 2),
  flags: array(bool, 2),
  be: array(u16be, 2),
  names: array(utf8(3), 2),
  points: array(Point, 2),
  grid: array(array(u8, 2), 2),
  point: Point,
  either: union({ a: u32, b: f32 }),
});
const all = All.view(buffer);
export type Scalars = Expect<Equal<[typeof all.big, typeof all.ubig, typeof all.flag], [bigint, bigint, boolean]>>;
export type Aggregates = Expect<
  Equal<
    [
      typeof all.raw,
      typeof all.nums,
      typeof all.bigs,
      typeof all.flags,
      typeof all.be,
      typeof all.names,
      typeof all.grid,
    ],
    [
      Uint8Array,
      Uint32Array,
      BigUint64Array,
      ScalarArray<boolean>,
      ScalarArray<number>,
      ScalarArray<string>,
      readonly Uint8Array[],
    ]
  >
>;
export type Nested = Expect<Equal<Flat<typeof all.point>, { x: number; y: number }>>;
export type StructArray = Expect<Equal<Flat<(typeof all.points)[number]>, { x: number; y: number }>>;
export type Union = Expect<Equal<Flat<typeof all.either>, { a: number; b: number }>>;

const value = All.read(buffer);
export type Read = Expect<
  Equal<
    [
      typeof value.big,
      typeof value.nums,
      typeof value.bigs,
      typeof value.flags,
      typeof value.be,
      typeof value.points,
      typeof value.grid,
      typeof value.raw,
    ],
    [bigint, Uint32Array, BigUint64Array, boolean[], number[], { x: number; y: number }[], Uint8Array[], Uint8Array]
  >
>;

const bigAtomic = atomic(all, "big");
export type Atomic64 = Expect<Equal<typeof bigAtomic, AtomicField<bigint>>>;
const hits = atomic(stats, "hits");
export type Atomic32 = Expect<Equal<typeof hits, AtomicField<number>>>;

/** Any struct type is a `StructType`, so functions can take one. */
export const anyStruct: StructType = All;

function wrongUses(): void {
  // @ts-expect-error: a string field holds strings
  stats.name = 5;
  // @ts-expect-error: 64-bit fields are bigint
  all.big = 1;
  // @ts-expect-error: aggregates are not assignable
  all.point = { x: 1, y: 2 };
  // @ts-expect-error: no such field
  Stats.offsetOf("nope");
  // @ts-expect-error: only numeric fields can be atomic
  atomic(stats, "name");
  // @ts-expect-error: write() takes known fields with their types
  Stats.write(buffer, 0, { hits: "1" });
}

test("type-level tests compile (checked by deno check and tsc)", () => {
  assert.equal(typeof wrongUses, "function");
  assert.equal(stats.hits, 0);
});
