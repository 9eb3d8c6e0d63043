/**
 * Reading and writing one value of a field, wherever it lies: strings, scalars through a
 * DataView (any offset, any byte order) and bitfields. The generated accessors inline the
 * common cases and call these for the rest. Internal.
 *
 * @module
 */

import { DATAVIEW, isLittleEndian } from "./_buffer_arrays.ts";
import { fieldName, show, showTyped } from "./_messages.ts";
import type { BitsType, ScalarType } from "./types.ts";

const encoder = new TextEncoder();
/** Keeps a leading U+FEFF: it is part of the string (the default decoder drops it). */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

export function utf8Get(u8: Uint8Array, start: number, size: number): string {
  // In bounds: the view was checked to lie inside the buffer when it was made.
  const end = start + size;
  // The terminator is looked for within the field only: u8.indexOf(0, start) would scan to
  // the next zero byte in the buffer, the whole rest of a file for a string that fills its
  // field. Most strings are short: the first bytes are searched by hand, without allocating.
  const near = Math.min(end, start + 32);
  let stop = start;
  while (stop < near && u8[stop] !== 0) stop++;
  if (stop === near && near < end) {
    const found = u8.subarray(near, end).indexOf(0);
    stop = found < 0 ? end : near + found;
  }
  return decoder.decode(u8.subarray(start, stop));
}

export function utf8Set(u8: Uint8Array, start: number, size: number, value: unknown, name: string): void {
  // Checked as write() checks strings: too long, NUL or a lone surrogate is refused, never cut.
  storeBytes(u8, start, size, encodeUtf8(value, size, name, "set"));
}

/**
 * Stores `bytes` at the start of the `size`-byte field at `start` and zeroes the rest of it:
 * how strings and byte fields are written. A detached or closed buffer is left alone.
 */
export function storeBytes(u8: Uint8Array, start: number, size: number, bytes: ArrayLike<number>): void {
  const target = u8.subarray(start, start + size);
  if (target.length < size) return; // detached or closed buffer: nothing to write to
  target.set(bytes);
  target.fill(0, bytes.length);
}

/**
 * The UTF-8 bytes of a string for a `utf8(size)` field, refusing what the field cannot hold
 * as given: a string longer than `size` bytes (never cut, so a code point is never split),
 * one containing NUL (readers stop at the first NUL, so it would read back cut short), and
 * one with a lone surrogate (UTF-8 cannot encode it: it would read back as U+FFFD).
 *
 * @param verb `"set"` for a view's setter, `"write"` for `write()`.
 * @throws {TypeError} If `value` is not a string.
 * @throws {RangeError} If the string does not fit, contains NUL or is not well-formed.
 */
export function encodeUtf8(value: unknown, size: number, name: string, verb: "set" | "write"): Uint8Array {
  const what = verb === "set" ? name : fieldName(name);
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${verb} ${what}: expected a string, got ${showTyped(value)}`);
  }
  const nul = value.indexOf("\0");
  if (nul >= 0) {
    throw new RangeError(
      `Cannot ${verb} ${what}: ${show(value)} contains a NUL character (at index ${nul}), ` +
        `which would end the string there when read`,
    );
  }
  if (!value.isWellFormed()) {
    throw new RangeError(
      `Cannot ${verb} ${what}: ${show(value)} contains a lone surrogate, which UTF-8 cannot encode`,
    );
  }
  const encoded = encoder.encode(value);
  if (encoded.length > size) {
    throw new RangeError(
      `Cannot ${verb} ${what}: ${show(value)} is ${encoded.length} bytes in UTF-8, the field holds ${size}`,
    );
  }
  return encoded;
}

/** Stores an already checked scalar through the DataView (any offset, any byte order). */
export function storeScalar(type: ScalarType, dv: DataView, at: number, value: number | bigint): void {
  const little = isLittleEndian(type);
  switch (type.name) {
    case "bool":
    case "u8":
      return dv.setUint8(at, value as number);
    case "i8":
      return dv.setInt8(at, value as number);
    case "i16":
      return dv.setInt16(at, value as number, little);
    case "u16":
      return dv.setUint16(at, value as number, little);
    case "i32":
      return dv.setInt32(at, value as number, little);
    case "u32":
      return dv.setUint32(at, value as number, little);
    case "i64":
      return dv.setBigInt64(at, value as bigint, little);
    case "u64":
      return dv.setBigUint64(at, value as bigint, little);
    case "f32":
      return dv.setFloat32(at, value as number, little);
    case "f64":
      return dv.setFloat64(at, value as number, little);
  }
}

/** Reads one scalar through a DataView (any offset, any byte order). */
export function scalarGet(type: ScalarType, dv: DataView, at: number): number | bigint | boolean {
  if (type.name === "bool") return dv.getUint8(at) !== 0;
  const method = `get${DATAVIEW[type.name]}` as "getUint32";
  return dv[method](at, isLittleEndian(type));
}

/**
 * Writes one scalar through a DataView, checking the value's type only: as a typed array
 * would, it wraps integers and rounds floats (the unchecked fast setters of views).
 */
export function scalarSet(type: ScalarType, dv: DataView, at: number, value: unknown, name: string): void {
  if (type.name === "bool") {
    if (typeof value !== "boolean") {
      throw new TypeError(`Cannot set ${name}: expected a boolean, got ${showTyped(value)}`);
    }
    storeScalar(type, dv, at, value ? 1 : 0);
    return;
  }
  const big = type.name === "i64" || type.name === "u64";
  if (big ? typeof value !== "bigint" : typeof value !== "number") {
    throw new TypeError(`Cannot set ${name}: expected a ${big ? "bigint" : "number"}, got ${showTyped(value)}`);
  }
  storeScalar(type, dv, at, value as number | bigint);
}

/**
 * Reads a bitfield: `type.width` bits from bit `bit` (0-7) of byte `at`, in the
 * little-endian bit order of x86_64 and aarch64 (bit i of the field is bit (bit + i) % 8 of
 * byte at + (bit + i) / 8). Numbers are assembled in doubles: at most 5 bytes (39 bits),
 * exact; 64-bit storage types in bigints.
 */
export function bitsGet(u8: Uint8Array, at: number, bit: number, type: BitsType): number | bigint | boolean {
  const width = type.width;
  const span = (bit + width + 7) >> 3;
  // A closed mapping's arrays are empty: read nothing, as typed arrays do.
  if (at + span > u8.length) return undefined as never;
  if (type.size === 8) {
    let v = 0n;
    for (let i = span - 1; i >= 0; i--) v = (v << 8n) | BigInt(u8[at + i]);
    v = (v >> BigInt(bit)) & ((1n << BigInt(width)) - 1n);
    return type.signed && v >> BigInt(width - 1) === 1n ? v - (1n << BigInt(width)) : v;
  }
  let v = 0;
  for (let i = span - 1; i >= 0; i--) v = v * 256 + u8[at + i];
  v = Math.floor(v / 2 ** bit) % 2 ** width;
  if (type.name === "bool") return v !== 0;
  return type.signed && v >= 2 ** (width - 1) ? v - 2 ** width : v;
}

/** The range of values a bitfield holds, as text for error messages. */
function bitsRange(type: BitsType): string {
  const [min, max] = type.signed
    ? [-(2n ** BigInt(type.width - 1)), 2n ** BigInt(type.width - 1) - 1n]
    : [0n, 2n ** BigInt(type.width) - 1n];
  return `${min} to ${max}`;
}

/**
 * Writes a bitfield (see {@linkcode bitsGet}), leaving the other bits of its bytes as they
 * are, after checking the value's type and that it fits the width.
 */
export function bitsSet(u8: Uint8Array, at: number, bit: number, type: BitsType, value: unknown, name: string): void {
  const width = type.width;
  const span = (bit + width + 7) >> 3;
  const what = `bits(${type.name}, ${width})`;
  if (type.name === "bool") {
    if (typeof value !== "boolean") {
      throw new TypeError(`Cannot set ${name}: expected a boolean, got ${showTyped(value)}`);
    }
  } else if (type.size === 8) {
    if (typeof value !== "bigint") {
      throw new TypeError(`Cannot set ${name}: expected a bigint, got ${showTyped(value)}`);
    }
    const limit = 1n << BigInt(type.signed ? width - 1 : width);
    if (type.signed ? value < -limit || value >= limit : value < 0n || value >= limit) {
      throw new RangeError(`Cannot set ${name}: ${value} does not fit in ${what}, which holds ${bitsRange(type)}`);
    }
  } else {
    if (typeof value !== "number") {
      throw new TypeError(`Cannot set ${name}: expected a number, got ${showTyped(value)}`);
    }
    const limit = 2 ** (type.signed ? width - 1 : width);
    if (!Number.isInteger(value) || (type.signed ? value < -limit || value >= limit : value < 0 || value >= limit)) {
      throw new RangeError(`Cannot set ${name}: ${value} does not fit in ${what}, which holds ${bitsRange(type)}`);
    }
  }
  // A closed mapping's arrays are empty: write nothing, as typed arrays do.
  if (at + span > u8.length) return;
  if (type.size === 8) {
    let old = 0n;
    for (let i = span - 1; i >= 0; i--) old = (old << 8n) | BigInt(u8[at + i]);
    const mask = ((1n << BigInt(width)) - 1n) << BigInt(bit);
    let v = (old & ~mask) | ((BigInt.asUintN(width, value as bigint) << BigInt(bit)) & mask);
    for (let i = 0; i < span; i++, v >>= 8n) u8[at + i] = Number(v & 0xffn);
    return;
  }
  const n = typeof value === "boolean" ? Number(value) : value as number;
  let old = 0;
  for (let i = span - 1; i >= 0; i--) old = old * 256 + u8[at + i];
  const low = old % 2 ** bit;
  const high = Math.floor(old / 2 ** (bit + width));
  // Exact in doubles: at most 40 bits.
  let v = high * 2 ** (bit + width) + (n < 0 ? n + 2 ** width : n) * 2 ** bit + low;
  for (let i = 0; i < span; i++, v = Math.floor(v / 256)) u8[at + i] = v % 256;
}
