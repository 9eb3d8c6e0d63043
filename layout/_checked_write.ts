/**
 * The checked write of `StructType.write()`: every value of a (partial) struct value is
 * checked first, and only when all of them are good is anything written, so that a refused
 * write changes nothing. The views' fast setters do not come through here. Internal.
 *
 * @module
 */

import type { Arrays } from "./_buffer_arrays.ts";
import { bitsSet, encodeUtf8, storeBytes, storeScalar } from "./_codecs.ts";
import { article, fieldName, show, showTyped } from "./_messages.ts";
import type { BitsType, FieldType, ScalarType } from "./types.ts";

/** The smallest and largest value of each integer scalar. */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  i8: [-0x80, 0x7f],
  u8: [0, 0xff],
  i16: [-0x8000, 0x7fff],
  u16: [0, 0xffff],
  i32: [-0x80000000, 0x7fffffff],
  u32: [0, 0xffffffff],
};
const BIGINT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  i64: [-(1n << 63n), (1n << 63n) - 1n],
  u64: [0n, (1n << 64n) - 1n],
};

/** Checks a scalar value for `type`; returns it as it will be stored. */
function checkScalar(type: ScalarType, value: unknown, name: string): number | bigint {
  const kind = type.name;
  if (kind === "bool") {
    if (typeof value !== "boolean") {
      throw new TypeError(`Cannot write ${fieldName(name)}: expected a boolean, got ${showTyped(value)}`);
    }
    return value ? 1 : 0;
  }
  const bigRange = BIGINT_RANGES[kind];
  if (bigRange !== undefined) {
    if (typeof value !== "bigint") {
      const hint = typeof value === "number" && Number.isSafeInteger(value) ? ` (write ${value}n)` : "";
      throw new TypeError(
        `Cannot write ${fieldName(name)}: ${article(kind)} ${kind} field takes a bigint, got ${
          showTyped(value)
        }${hint}`,
      );
    }
    if (value < bigRange[0] || value > bigRange[1]) {
      throw new RangeError(
        `Cannot write ${fieldName(name)}: ${show(value)} is out of range for ${kind} (${bigRange[0]} to ${
          bigRange[1]
        })`,
      );
    }
    return value;
  }
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot write ${fieldName(name)}: ${article(kind)} ${kind} field takes a number, got ${showTyped(value)}`,
    );
  }
  const range = INTEGER_RANGES[kind];
  if (range !== undefined) {
    if (!Number.isInteger(value)) {
      throw new RangeError(`Cannot write ${fieldName(name)}: ${show(value)} is not an integer (the field is ${kind})`);
    }
    if (value < range[0] || value > range[1]) {
      throw new RangeError(
        `Cannot write ${fieldName(name)}: ${show(value)} is out of range for ${kind} (${range[0]} to ${range[1]})`,
      );
    }
  } else if (kind === "f32" && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
    // Rounding to the nearest f32 is what a float field means; overflowing to infinity is not.
    throw new RangeError(
      `Cannot write ${fieldName(name)}: ${show(value)} is out of range for f32 (it would be stored as infinity)`,
    );
  }
  return value;
}

function arrayLike(value: unknown, name: string): ArrayLike<unknown> {
  if (typeof value !== "object" || value === null || typeof (value as ArrayLike<unknown>).length !== "number") {
    throw new TypeError(`Cannot write ${fieldName(name)}: expected an array, got ${showTyped(value)}`);
  }
  return value as ArrayLike<unknown>;
}

/** A store that was checked and is waiting for every other value to be checked too. */
type Store = () => void;

/** Nothing to write into: `bitsSet` on it checks a value and stores nothing. */
const NOWHERE = new Uint8Array(0);

/** Checks a bitfield's value (type and width) and appends its store, which keeps the other bits of its bytes. */
function planBits(
  type: BitsType,
  arrays: Arrays,
  at: number,
  bit: number,
  item: unknown,
  name: string,
  stores: Store[],
) {
  bitsSet(NOWHERE, 0, bit, type, item, name);
  stores.push(() => bitsSet(arrays.u8, at, bit, type, item, name));
}

/**
 * Checks any part of a value of `type` at byte `at` and appends the stores that write it
 * to `stores`. Each value is read once here (a getter is never asked twice), so what was
 * checked is what is written.
 */
function plan(type: FieldType, arrays: Arrays, at: number, item: unknown, name: string, stores: Store[]): void {
  switch (type.kind) {
    case "scalar": {
      const value = checkScalar(type, item, name);
      stores.push(() => storeScalar(type, arrays.dv, at, value));
      return;
    }
    case "bits":
      // Only struct fields are bitfields, planned with their bit offset below: this is one at bit 0.
      planBits(type, arrays, at, 0, item, name, stores);
      return;
    case "utf8": {
      const encoded = encodeUtf8(item, type.size, name, "write");
      // In bounds: the struct was checked to fit, and the field lies inside it.
      stores.push(() => storeBytes(arrays.u8, at, type.size, encoded));
      return;
    }
    case "bytes": {
      const source = arrayLike(item, name);
      if (source.length > type.size) {
        throw new RangeError(`Cannot write ${fieldName(name)}: ${source.length} bytes do not fit in ${type.size}`);
      }
      if (!(source instanceof Uint8Array || source instanceof Uint8ClampedArray)) {
        for (let i = 0; i < source.length; i++) {
          const byte = source[i];
          if (typeof byte !== "number") {
            throw new TypeError(`Cannot write ${fieldName(`${name}[${i}]`)}: expected a byte, got ${showTyped(byte)}`);
          }
          if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) {
            throw new RangeError(
              `Cannot write ${fieldName(`${name}[${i}]`)}: ${show(byte)} is not a byte (an integer from 0 to 255)`,
            );
          }
        }
      }
      const copy = Uint8Array.from(source as ArrayLike<number>); // a copy: the source may change before the store
      stores.push(() => storeBytes(arrays.u8, at, type.size, copy));
      return;
    }
    case "array": {
      const items = arrayLike(item, name);
      const length = items.length;
      if (length > type.length) {
        throw new RangeError(`Cannot write ${fieldName(name)}: ${length} elements do not fit in ${type.length}`);
      }
      const element = type.element;
      const size = element.size;
      if (element.kind === "scalar") {
        // One store for the whole array rather than one per element: arrays can be long.
        const values = new Array<number | bigint>(length);
        for (let i = 0; i < length; i++) values[i] = checkScalar(element, items[i], `${name}[${i}]`);
        stores.push(() => {
          for (let i = 0; i < length; i++) storeScalar(element, arrays.dv, at + i * size, values[i]);
        });
        return;
      }
      for (let i = 0; i < length; i++) plan(element, arrays, at + i * size, items[i], `${name}[${i}]`, stores);
      return;
    }
    case "struct":
    case "union": {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new TypeError(`Cannot write ${fieldName(name)}: expected an object, got ${showTyped(item)}`);
      }
      for (const [key, value] of Object.entries(item)) {
        const member = type.fields.find((f) => f.name === key);
        const path = name === "" ? key : `${name}.${key}`;
        if (member === undefined) {
          throw new TypeError(`Cannot write ${fieldName(path)}: the ${type.kind} has no such field`);
        }
        if (value === undefined) continue;
        if (member.type.kind === "bits") {
          planBits(member.type, arrays, at + member.offset, member.bitOffset ?? 0, value, path, stores);
        } else plan(member.type, arrays, at + member.offset, value, path, stores);
      }
      return;
    }
  }
}

/**
 * Writes any part of a value of `type` at byte `at`: checks every key and value first
 * (types, integer ranges, string contents), then writes them all. A refused value throws
 * before anything is written.
 *
 * @throws {TypeError} If a key is not a field or a value has the wrong type.
 * @throws {RangeError} If a number is out of range or not an integer for an integer field,
 * an array or byte array is too long, or a string does not fit or contains NUL.
 */
export function checkedWrite(type: FieldType, arrays: Arrays, at: number, item: unknown): void {
  const stores: Store[] = [];
  plan(type, arrays, at, item, "", stores);
  for (const store of stores) store();
}
