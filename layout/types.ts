/**
 * Field types for {@linkcode struct} layouts: the C scalar types, fixed-size strings and
 * byte arrays, and arrays. Sizes are in bytes; alignment follows the x86_64 and aarch64
 * System V ABIs (every scalar is aligned to its size).
 *
 * @module
 */

/** Names of the scalar types, as in the C `<stdint.h>` types they stand for. */
export type ScalarName =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f32"
  | "f64"
  | "bool";

/** Byte order of a scalar field: the platform's (`"native"`, little-endian on x86_64 and aarch64) or fixed. */
export type ByteOrder = "native" | "little" | "big";

/**
 * A scalar field type: a number, a `bigint` (64-bit integers) or a boolean.
 *
 * @typeParam V The JavaScript type of the value.
 * @typeParam N The scalar's name.
 * @typeParam O The byte order.
 */
export interface ScalarType<
  V extends number | bigint | boolean = number | bigint | boolean,
  N extends ScalarName = ScalarName,
  O extends ByteOrder = ByteOrder,
> {
  /** Always `"scalar"`. */
  readonly kind: "scalar";
  /** The scalar's name, e.g. `"u32"`. */
  readonly name: N;
  /** Size in bytes. */
  readonly size: number;
  /** Alignment in bytes (the size). */
  readonly align: number;
  /** Byte order in memory. */
  readonly byteOrder: O;
  /** Type-level only: the JavaScript type of the value. Never set at run time. */
  readonly valueType?: V;
}

/** A fixed-size UTF-8 string field, NUL-padded (see {@linkcode utf8}). */
export interface Utf8Type {
  /** Always `"utf8"`. */
  readonly kind: "utf8";
  /** Size in bytes: the longest string it holds, in UTF-8 bytes. */
  readonly size: number;
  /** Always 1. */
  readonly align: 1;
}

/** A fixed-size byte array field (see {@linkcode bytes}). */
export interface BytesType {
  /** Always `"bytes"`. */
  readonly kind: "bytes";
  /** Size in bytes. */
  readonly size: number;
  /** Always 1. */
  readonly align: 1;
}

/** A fixed-length array field (see {@linkcode array}). */
export interface ArrayType<E extends FieldType = FieldType> {
  /** Always `"array"`. */
  readonly kind: "array";
  /** The element type. */
  readonly element: E;
  /** Number of elements. */
  readonly length: number;
  /** `element.size * length`. */
  readonly size: number;
  /** The element's alignment. */
  readonly align: number;
}

/** The integer scalar types a bitfield can be declared with, and `bool`. */
export type BitsStorage = ScalarType<number | bigint | boolean, Exclude<ScalarName, "f32" | "f64">, "native">;

/**
 * A bitfield: `width` bits of an integer or `bool` storage type (`uint32_t name : 3` in C).
 * See {@linkcode bits}.
 *
 * @typeParam V The JavaScript type of the value: that of the storage type.
 * @typeParam N The storage type's name.
 */
export interface BitsType<
  V extends number | bigint | boolean = number | bigint | boolean,
  N extends Exclude<ScalarName, "f32" | "f64"> = Exclude<ScalarName, "f32" | "f64">,
> {
  /** Always `"bits"`. */
  readonly kind: "bits";
  /** The storage type's name, e.g. `"u32"`. */
  readonly name: N;
  /** The storage type's size in bytes: the unit gcc places the field in. */
  readonly size: number;
  /** The storage type's alignment: what the field adds to the alignment of a struct that is not packed. */
  readonly align: number;
  /** Number of bits, from 1 to the storage type's width (1 for `bool`). */
  readonly width: number;
  /** Whether values are two's complement signed (`i8` … `i64`). */
  readonly signed: boolean;
  /** Type-level only: the JavaScript type of the value. Never set at run time. */
  readonly valueType?: V;
}

/** One field of a struct or union, as laid out. */
export interface FieldInfo {
  /** The field's name. */
  readonly name: string;
  /** The field's type. */
  readonly type: FieldType;
  /**
   * Byte offset from the start of the struct (0 for every union member); for a bitfield,
   * the byte holding its first bit.
   */
  readonly offset: number;
  /** `type.size`. */
  readonly size: number;
  /**
   * Bitfields only: the bit of the byte at `offset` where the field starts, from 0 (the
   * least significant) to 7. The field's bits follow in order of significance, across bytes
   * in increasing address order (the little-endian bit order of x86_64 and aarch64).
   */
  readonly bitOffset?: number;
}

/**
 * The layout part of a struct or union type: what a field of that type needs. The full
 * type, with views, is {@linkcode StructType}.
 */
export interface CompositeType {
  /** `"struct"` or `"union"`. */
  readonly kind: "struct" | "union";
  /** Size in bytes, padding included: a multiple of `align`. */
  readonly size: number;
  /** Alignment in bytes. */
  readonly align: number;
  /** Whether it was declared `packed`. */
  readonly packed: boolean;
  /** The fields in declaration order. */
  readonly fields: readonly FieldInfo[];
}

/** Any type a field can have. */
export type FieldType = ScalarType | Utf8Type | BytesType | ArrayType | CompositeType | BitsType;

/**
 * Every type the factories of this folder made (the scalars, `utf8()`, `bytes()`,
 * `array()`, `struct()`, `union()`): only these may reach the code generator, which
 * writes their sizes and offsets into the accessor classes it compiles. A type object
 * built by hand, or parsed from a file, is refused rather than trusted.
 */
const MADE = new WeakSet<object>();

/** Freezes `type` and records it as made by this library. Internal: for the type factories only. */
export function madeType<T extends object>(type: T): T {
  MADE.add(Object.freeze(type));
  return type;
}

/** Whether `type` was made by one of this library's type factories (see {@linkcode madeType}). */
export function isMadeType(type: unknown): type is FieldType {
  return typeof type === "object" && type !== null && MADE.has(type);
}

function scalar<V extends number | bigint | boolean, N extends ScalarName, O extends ByteOrder>(
  name: N,
  size: number,
  byteOrder: O,
): ScalarType<V, N, O> {
  return madeType({ kind: "scalar", name, size, align: size, byteOrder });
}

/** Signed 8-bit integer (`int8_t`). */
export const i8: ScalarType<number, "i8", "native"> = scalar("i8", 1, "native");
/** Unsigned 8-bit integer (`uint8_t`). */
export const u8: ScalarType<number, "u8", "native"> = scalar("u8", 1, "native");
/** Signed 16-bit integer (`int16_t`), native byte order. */
export const i16: ScalarType<number, "i16", "native"> = scalar("i16", 2, "native");
/** Unsigned 16-bit integer (`uint16_t`), native byte order. */
export const u16: ScalarType<number, "u16", "native"> = scalar("u16", 2, "native");
/** Signed 32-bit integer (`int32_t`), native byte order. */
export const i32: ScalarType<number, "i32", "native"> = scalar("i32", 4, "native");
/** Unsigned 32-bit integer (`uint32_t`), native byte order. */
export const u32: ScalarType<number, "u32", "native"> = scalar("u32", 4, "native");
/** Signed 64-bit integer (`int64_t`) as a `bigint`, native byte order. */
export const i64: ScalarType<bigint, "i64", "native"> = scalar("i64", 8, "native");
/** Unsigned 64-bit integer (`uint64_t`) as a `bigint`, native byte order. */
export const u64: ScalarType<bigint, "u64", "native"> = scalar("u64", 8, "native");
/** 32-bit float (`float`), native byte order. */
export const f32: ScalarType<number, "f32", "native"> = scalar("f32", 4, "native");
/** 64-bit float (`double`), native byte order. */
export const f64: ScalarType<number, "f64", "native"> = scalar("f64", 8, "native");
/** Boolean (`bool`, one byte): reads any non-zero byte as `true`, writes 1 or 0. */
export const bool: ScalarType<boolean, "bool", "native"> = scalar("bool", 1, "native");

/** Signed 16-bit integer, little-endian whatever the platform. */
export const i16le: ScalarType<number, "i16", "little"> = scalar("i16", 2, "little");
/** Unsigned 16-bit integer, little-endian. */
export const u16le: ScalarType<number, "u16", "little"> = scalar("u16", 2, "little");
/** Signed 32-bit integer, little-endian. */
export const i32le: ScalarType<number, "i32", "little"> = scalar("i32", 4, "little");
/** Unsigned 32-bit integer, little-endian. */
export const u32le: ScalarType<number, "u32", "little"> = scalar("u32", 4, "little");
/** Signed 64-bit integer, little-endian. */
export const i64le: ScalarType<bigint, "i64", "little"> = scalar("i64", 8, "little");
/** Unsigned 64-bit integer, little-endian. */
export const u64le: ScalarType<bigint, "u64", "little"> = scalar("u64", 8, "little");
/** 32-bit float, little-endian. */
export const f32le: ScalarType<number, "f32", "little"> = scalar("f32", 4, "little");
/** 64-bit float, little-endian. */
export const f64le: ScalarType<number, "f64", "little"> = scalar("f64", 8, "little");
/** Signed 16-bit integer, big-endian (network order). */
export const i16be: ScalarType<number, "i16", "big"> = scalar("i16", 2, "big");
/** Unsigned 16-bit integer, big-endian. */
export const u16be: ScalarType<number, "u16", "big"> = scalar("u16", 2, "big");
/** Signed 32-bit integer, big-endian. */
export const i32be: ScalarType<number, "i32", "big"> = scalar("i32", 4, "big");
/** Unsigned 32-bit integer, big-endian. */
export const u32be: ScalarType<number, "u32", "big"> = scalar("u32", 4, "big");
/** Signed 64-bit integer, big-endian. */
export const i64be: ScalarType<bigint, "i64", "big"> = scalar("i64", 8, "big");
/** Unsigned 64-bit integer, big-endian. */
export const u64be: ScalarType<bigint, "u64", "big"> = scalar("u64", 8, "big");
/** 32-bit float, big-endian. */
export const f32be: ScalarType<number, "f32", "big"> = scalar("f32", 4, "big");
/** 64-bit float, big-endian. */
export const f64be: ScalarType<number, "f64", "big"> = scalar("f64", 8, "big");

function validateLength(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot declare ${what}: length must be an integer, got ${String(value)}`);
  }
  if (value < 1) throw new RangeError(`Cannot declare ${what}: length ${value} is less than 1`);
  return value;
}

/**
 * A fixed-size UTF-8 string of `byteLength` bytes (`char name[byteLength]` in C), padded
 * with NUL bytes. Reads stop at the first NUL. Writing a string whose UTF-8 encoding is
 * longer than `byteLength` throws a `RangeError` (strings are never cut, so a code point is
 * never split), as does a string containing NUL (it would read back cut there) or a lone
 * surrogate (UTF-8 has no encoding for it); a string that fills the field exactly has no
 * terminating NUL, as in C.
 *
 * @param byteLength The field size in bytes.
 * @returns The field type.
 * @throws {TypeError} If `byteLength` is not an integer.
 * @throws {RangeError} If `byteLength` is less than 1.
 *
 * @example A name field
 * ```ts
 * import { struct, utf8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Tag = struct({ name: utf8(8) });
 * const tag = Tag.view(new ArrayBuffer(Tag.size));
 * tag.name = "héllo";
 * assert.equal(tag.name, "héllo");
 * assert.throws(() => tag.name = "much too long", RangeError);
 * ```
 */
export function utf8(byteLength: number): Utf8Type {
  return madeType({ kind: "utf8", size: validateLength(byteLength, "utf8()"), align: 1 });
}

/**
 * A fixed-size byte array of `byteLength` bytes (`uint8_t name[byteLength]` in C). In a
 * view it is a live `Uint8Array`; `read()` copies it.
 *
 * @param byteLength The field size in bytes.
 * @returns The field type.
 * @throws {TypeError} If `byteLength` is not an integer.
 * @throws {RangeError} If `byteLength` is less than 1.
 *
 * @example A digest field
 * ```ts
 * import { bytes, struct } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Entry = struct({ digest: bytes(4) });
 * const entry = Entry.view(new ArrayBuffer(Entry.size));
 * entry.digest.set([0xde, 0xad, 0xbe, 0xef]);
 * assert.deepEqual([...Entry.read(entry.digest.buffer).digest], [0xde, 0xad, 0xbe, 0xef]);
 * ```
 */
export function bytes(byteLength: number): BytesType {
  return madeType({ kind: "bytes", size: validateLength(byteLength, "bytes()"), align: 1 });
}

/**
 * A fixed-length array of `length` elements of any field type (`T name[length]` in C),
 * structs and arrays included.
 *
 * In a view, an array of native-order numbers is a live typed array (`Uint32Array`,
 * `BigInt64Array`, `Float64Array`, …) where aligned to its element size; any other array
 * (`bool`, `utf8`, fixed byte order, unaligned numbers, structs, arrays) is a
 * {@linkcode ScalarArray}, indexed with `[i]` as well.
 *
 * @param element The element type.
 * @param length The number of elements.
 * @returns The field type.
 * @throws {TypeError} If `element` is not a field type or is a bitfield (C has no arrays of
 * bitfields), or `length` is not an integer.
 * @throws {RangeError} If `length` is less than 1.
 *
 * @example An array of numbers and an array of structs
 * ```ts
 * import { array, f64, struct, u16 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Point = struct({ x: f64, y: f64 });
 * const Shape = struct({ corners: array(Point, 3), tags: array(u16, 4) });
 * const shape = Shape.view(new ArrayBuffer(Shape.size));
 * shape.corners[2].y = 1.5;
 * shape.tags[1] = 7;
 * assert.ok(shape.tags instanceof Uint16Array);
 * assert.deepEqual(Shape.read(shape.tags.buffer).corners[2], { x: 0, y: 1.5 });
 * ```
 */
export function array<E extends FieldType>(element: E, length: number): ArrayType<E> {
  assertFieldType(element, "array()");
  if (element.kind === "bits") {
    throw new TypeError(
      `Cannot declare array(): its elements are bits(${element.name}, ${element.width}), and C has no arrays of bitfields`,
    );
  }
  const n = validateLength(length, "array()");
  const size = element.size * n;
  if (!Number.isSafeInteger(size)) throw new RangeError(`Cannot declare array(): ${n} elements are too many`);
  return madeType({ kind: "array", element, length: n, size, align: element.align });
}

/**
 * A bitfield of `width` bits stored in an integer type or `bool` (`uint32_t name : width`
 * in C), laid out as gcc and clang do on x86_64 and aarch64 (System V): in a struct that is
 * not packed, a bitfield goes into the current storage unit of its type (the `type.size`
 * bytes aligned to it that hold the next free bit) if it fits there, else it starts the
 * next one, and its type's alignment counts in the struct's. In a `packed` struct bitfields
 * follow each other bit by bit and may straddle units. A field after a bitfield starts at
 * the next byte aligned to its type.
 *
 * In a view a bitfield reads as its type's value (`number`, `bigint` for 64-bit types,
 * `boolean`); assigning a value that does not fit the width is a `RangeError` naming the
 * field. Bitfields cannot be bound with `atomic()` (no CPU reads or writes single bits
 * atomically), and there are no arrays of them (C and ctypes have none): `array()` refuses
 * them. Zero-width bitfields (C's unnamed `int : 0`) are not supported.
 *
 * @param type The storage type: `i8`, `u8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64` or `bool`, native byte order.
 * @param width The number of bits: from 1 to the type's width in bits (1 for `bool`).
 * @returns The field type.
 * @throws {TypeError} If `type` is not one of those types or `width` is not an integer.
 * @throws {RangeError} If `width` is less than 1 or more than the type has.
 *
 * @example Flags packed in one 32-bit word
 * ```ts
 * import { bits, bool, i8, struct, u32 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * // struct flags { uint32_t mode : 3; int8_t delta : 4; bool on : 1; };
 * const Flags = struct({ mode: bits(u32, 3), delta: bits(i8, 4), on: bits(bool, 1) });
 * assert.equal(Flags.size, 4);
 * const buffer = new ArrayBuffer(Flags.size);
 * const flags = Flags.view(buffer);
 * flags.mode = 5;
 * flags.delta = -8;
 * flags.on = true;
 * assert.deepEqual(Flags.read(buffer), { mode: 5, delta: -8, on: true });
 * assert.deepEqual([...new Uint8Array(buffer)], [0b1100_0101, 0, 0, 0]);
 * assert.throws(() => flags.mode = 8, RangeError);
 * ```
 */
export function bits<T extends BitsStorage>(
  type: T,
  width: number,
): BitsType<NonNullable<T["valueType"]>, T["name"]> {
  const t = type as ScalarType | null | undefined;
  if (
    typeof t !== "object" || t === null || t.kind !== "scalar" || t.byteOrder !== "native" || t.name === "f32" ||
    t.name === "f64" || SCALAR_TYPES.get(t.name) !== t
  ) {
    const what = typeof t === "object" && t !== null && t.kind === "scalar"
      ? `${t.name}${t.byteOrder === "native" ? "" : ` (${t.byteOrder}-endian)`}`
      : String(type);
    throw new TypeError(
      `Cannot declare bits(): the type must be a native-order integer type or bool, got ${what}`,
    );
  }
  if (typeof width !== "number" || !Number.isInteger(width)) {
    throw new TypeError(`Cannot declare bits(): width must be an integer, got ${String(width)}`);
  }
  const max = t.name === "bool" ? 1 : t.size * 8;
  if (width < 1 || width > max) {
    throw new RangeError(`Cannot declare bits(${t.name}): width ${width} is not from 1 to ${max}`);
  }
  return madeType({
    kind: "bits",
    name: t.name as T["name"],
    size: t.size,
    align: t.align,
    width,
    signed: t.name.startsWith("i"),
  });
}

/** The native-order scalars a bitfield can be stored in, by name. */
const SCALAR_TYPES = new Map<string, ScalarType>([i8, u8, i16, u16, i32, u32, i64, u64, bool].map((t) => [t.name, t]));

/**
 * Throws a `TypeError` unless `type` is a field type made by this library: an object that
 * merely looks like one (built by hand, copied, or from another copy of the library) is
 * refused, since its names and sizes would be compiled into accessor code.
 */
export function assertFieldType(type: unknown, what: string): asserts type is FieldType {
  if (!isMadeType(type)) {
    const shown = typeof type === "object" && type !== null
      ? `an object with kind ${JSON.stringify(String((type as { kind?: unknown }).kind))}`
      : typeof type === "string"
      ? JSON.stringify(type)
      : String(type);
    throw new TypeError(
      `Cannot declare ${what}: ${shown} is not a field type made by this library ` +
        `(use the scalars such as u32, or utf8(), bytes(), array(), struct(), union())`,
    );
  }
}
