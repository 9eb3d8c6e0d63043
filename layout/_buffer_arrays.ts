/**
 * The typed arrays every view of a buffer indexes, made once per buffer, and the facts
 * about offsets and byte order that decide whether a typed array can index a field at
 * all. Internal.
 *
 * @module
 */

import type { FieldType, ScalarType } from "./types.ts";

/** Typed arrays over a whole buffer, made once per buffer. */
export interface Arrays {
  readonly buffer: ArrayBufferLike;
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  readonly i16: Int16Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly i64: BigInt64Array;
  readonly u64: BigUint64Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly dv: DataView;
}

/** A numeric scalar's name is also the key of its typed array in {@linkcode Arrays}. */
export type NumericName = Exclude<ScalarType["name"], "bool">;

/** The key of a typed array, or of the DataView, in {@linkcode Arrays}. */
export type ArrayName = NumericName | "dv";

/** A typed array of one of the numeric scalars. */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** The typed array class of each numeric scalar. */
export const TYPED_ARRAYS: Readonly<Record<NumericName, new (buffer: ArrayBuffer) => TypedArray>> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};

/** The DataView method suffix (`getUint32`, `setUint32`) of each numeric scalar. */
export const DATAVIEW: Readonly<Record<NumericName, string>> = {
  i8: "Int8",
  u8: "Uint8",
  i16: "Int16",
  u16: "Uint16",
  i32: "Int32",
  u32: "Uint32",
  i64: "BigInt64",
  u64: "BigUint64",
  f32: "Float32",
  f64: "Float64",
};

const arraysCache = new WeakMap<ArrayBufferLike, Arrays>();

/** The typed arrays over `buffer` (lengths rounded down), cached per buffer. */
export function arraysFor(buffer: ArrayBufferLike): Arrays {
  let arrays = arraysCache.get(buffer);
  if (arrays === undefined || arrays.u8.length !== buffer.byteLength) {
    const n = buffer.byteLength;
    arrays = {
      buffer,
      i8: new Int8Array(buffer, 0, n),
      u8: new Uint8Array(buffer, 0, n),
      i16: new Int16Array(buffer, 0, Math.floor(n / 2)),
      u16: new Uint16Array(buffer, 0, Math.floor(n / 2)),
      i32: new Int32Array(buffer, 0, Math.floor(n / 4)),
      u32: new Uint32Array(buffer, 0, Math.floor(n / 4)),
      i64: new BigInt64Array(buffer, 0, Math.floor(n / 8)),
      u64: new BigUint64Array(buffer, 0, Math.floor(n / 8)),
      f32: new Float32Array(buffer, 0, Math.floor(n / 4)),
      f64: new Float64Array(buffer, 0, Math.floor(n / 8)),
      dv: new DataView(buffer),
    };
    arraysCache.set(buffer, arrays);
  }
  return arrays;
}

/** Whether this platform stores numbers little-endian (x86_64 and aarch64 do). */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether a scalar of this byte order is stored little-endian here. */
export function isLittleEndian(type: ScalarType): boolean {
  return type.byteOrder === "native" ? LITTLE_ENDIAN : type.byteOrder === "little";
}

/**
 * The largest power of two, at most `guarantee` (itself a power of two), that divides
 * `offset`. Arithmetic, not bit operations: offsets may pass 2^32 on Deno.
 */
export function commonAlignment(guarantee: number, offset: number): number {
  let alignment = 1;
  while (alignment < guarantee && offset % (alignment * 2) === 0) alignment *= 2;
  return alignment;
}

/** Whether the scalar is stored in the platform's byte order. */
function nativeOrder(type: ScalarType): boolean {
  return type.byteOrder === "native" || isLittleEndian(type) === LITTLE_ENDIAN;
}

/** Whether elements of this type are numbers a typed array can hold (when aligned). */
export function nativeNumbers(element: FieldType): element is ScalarType {
  return element.kind === "scalar" && element.name !== "bool" && element.byteOrder === "native";
}

/** Whether a typed array can index this scalar at `offset` in a view aligned to `guarantee`. */
export function typedArrayCanIndex(type: ScalarType, guarantee: number, offset: number): boolean {
  return type.name !== "bool" && nativeOrder(type) && guarantee % type.size === 0 && offset % type.size === 0;
}
