/**
 * Aggregate fields: the view of an array field (a typed array where one can index it,
 * otherwise a {@linkcode ScalarArray}), and plain-value copies of any field for `read()`.
 * Nested structs are made by the generated classes of `_codegen.ts`, which in turn call
 * these for their array fields: the two modules import each other, as nesting recurses
 * (only functions cross, called after both modules have loaded). Internal.
 *
 * @module
 */

import {
  type Arrays,
  commonAlignment,
  nativeNumbers,
  type NumericName,
  TYPED_ARRAYS,
  type TypedArray,
  typedArrayCanIndex,
} from "./_buffer_arrays.ts";
import { bitsGet, scalarGet, scalarSet, utf8Get, utf8Set } from "./_codecs.ts";
import { classFor, readerFor } from "./_codegen.ts";
import { refuseReadOnly } from "./_messages.ts";
import { ScalarArray } from "./scalar_array.ts";
import type { ArrayType, FieldType, ScalarType } from "./types.ts";

/**
 * How to read and write element `i` of an array field that is not a typed array: the
 * accessors of a {@linkcode ScalarArray}. Each read reads memory (so a read-only view never
 * shows a stale copy); live elements (structs, byte fields, native arrays of a writable
 * view) are made once, on first access, and kept. Bitfield elements would be one more
 * case here; `array()` refuses them, as C has no arrays of bitfields.
 */
function elementAccess(
  type: ArrayType,
  arrays: Arrays,
  start: number,
  guarantee: number,
  readOnly: boolean,
  name: string,
): { get: (i: number) => unknown; set: (i: number, value: unknown) => void } {
  const element = type.element;
  const size = element.size;
  // In bounds: i is checked against the length by ScalarArray, and the view lies in the buffer.
  const at = (i: number) => start + i * size;
  const notAssignable = (i: number): never => {
    throw new TypeError(
      `Cannot set ${name}[${i}]: a ${element.kind === "bytes" ? "byte field" : element.kind} element is not ` +
        `assignable, assign its ${element.kind === "struct" || element.kind === "union" ? "fields" : "elements"}`,
    );
  };
  const refuse = (i: number, value: unknown, set: (i: number, value: unknown) => void) =>
    readOnly ? refuseReadOnly(`${name}[${i}]`) : set(i, value);
  const kept = (make: (i: number) => unknown) => {
    const made: unknown[] = [];
    return (i: number) => made[i] ??= make(i);
  };
  switch (element.kind) {
    case "bits":
      throw new TypeError(`Cannot index ${name}: arrays of bitfields do not exist (array() refuses them)`);
    case "struct":
    case "union": {
      // One class for every element: each element's offset is a multiple of the alignment
      // common to the array's start and the element size.
      const View = classFor(element, commonAlignment(guarantee, size), readOnly);
      return { get: kept((i) => new View(arrays, at(i))), set: notAssignable };
    }
    case "array": {
      const make = (i: number) =>
        arrayField(element, arrays, at(i), commonAlignment(guarantee, i * size), readOnly, `${name}[${i}]`);
      // A read-only native array is a copy (no typed array refuses writes): made at each access.
      const copies = readOnly && nativeNumbers(element.element);
      return { get: copies ? make : kept(make), set: notAssignable };
    }
    case "bytes":
      return {
        get: readOnly
          ? (i) => arrays.u8.slice(at(i), at(i) + size)
          : kept((i) => arrays.u8.subarray(at(i), at(i) + size)),
        set: notAssignable,
      };
    case "utf8":
      return {
        get: (i) => utf8Get(arrays.u8, at(i), size),
        set: (i, value) => refuse(i, value, () => utf8Set(arrays.u8, at(i), size, value, `${name}[${i}]`)),
      };
    case "scalar":
      return {
        get: (i) => scalarGet(element, arrays.dv, at(i)),
        set: (i, value) => refuse(i, value, () => scalarSet(element, arrays.dv, at(i), value, `${name}[${i}]`)),
      };
  }
}

/**
 * The view of any array field: a typed array where one can index it (native-order numbers,
 * aligned to their size), otherwise a {@linkcode ScalarArray} over {@linkcode elementAccess}.
 */
export function arrayField(
  type: ArrayType,
  arrays: Arrays,
  start: number,
  guarantee: number,
  readOnly: boolean,
  name: string,
): unknown {
  const element = type.element;
  if (nativeNumbers(element) && typedArrayCanIndex(element, guarantee, 0)) {
    const typed = arrays[element.name as NumericName] as Uint8Array;
    const first = start / element.size;
    const view = readOnly ? typed.slice(first, first + type.length) : typed.subarray(first, first + type.length);
    // A stray property is a TypeError (in strict mode), as on views; elements index as before.
    return Object.preventExtensions(view);
  }
  const { get, set } = elementAccess(type, arrays, start, guarantee, readOnly, name);
  return new ScalarArray(type.length, get, set);
}

/**
 * Arrays of structs at least this long are copied by a generated reader even by the
 * interpreted copy: compiling one is cheap next to walking the layout for every element.
 */
const COMPILE_ARRAYS_FROM = 16;

/**
 * A copy of `length` native-order numbers of `element` at byte `start`: a typed array of
 * its own, made with one copy of the bytes.
 */
function copyNumbers(element: ScalarType, arrays: Arrays, start: number, length: number): TypedArray {
  const name = element.name as NumericName;
  const size = element.size;
  if (start % size === 0) {
    // In bounds: the caller's view lies inside the buffer, and `arrays` spans all of it.
    const first = start / size;
    return (arrays[name] as Uint8Array).slice(first, first + length);
  }
  // Misaligned (a packed layout): copy the bytes into an aligned buffer of their own.
  return new TYPED_ARRAYS[name](arrays.u8.slice(start, start + length * size).buffer);
}

/**
 * A plain-value copy of any field (for `read()` of aggregates). Arrays of native-order
 * numbers are copied as typed arrays. Nested structs are copied by their generated reader
 * classes or, with `interpreted`, by walking the layout.
 */
export function readValue(
  type: FieldType,
  arrays: Arrays,
  start: number,
  guarantee: number,
  interpreted = false,
): unknown {
  switch (type.kind) {
    case "scalar":
      return scalarGet(type, arrays.dv, start);
    case "bits":
      // Only struct fields are bitfields, read with their bit offset below: this is one
      // that starts at bit 0 of `start`.
      return bitsGet(arrays.u8, start, 0, type);
    case "utf8":
      return utf8Get(arrays.u8, start, type.size);
    case "bytes":
      return arrays.u8.slice(start, start + type.size);
    case "array": {
      const element = type.element;
      const size = element.size;
      const length = type.length;
      if (element.kind === "scalar" && element.name !== "bool" && element.byteOrder === "native") {
        return copyNumbers(element, arrays, start, length);
      }
      const values = new Array(length);
      if (
        (element.kind === "struct" || element.kind === "union") && (!interpreted || length >= COMPILE_ARRAYS_FROM)
      ) {
        // One reader class for every element: each element's offset is a multiple of the
        // alignment common to the array's start and the element size.
        const cursor = new (readerFor(element, commonAlignment(guarantee, size)).$cursor())(arrays, start, length);
        for (let i = 0; i < length; i++) values[i] = cursor.at(i).$read();
        return values;
      }
      for (let i = 0; i < length; i++) {
        values[i] = readValue(element, arrays, start + i * size, commonAlignment(guarantee, i * size), interpreted);
      }
      return values;
    }
    case "struct":
    case "union": {
      if (!interpreted) return new (classFor(type, guarantee, true))(arrays, start).$read();
      // Field names are C identifiers and never "__proto__" (refused when declared).
      const value: Record<string, unknown> = {};
      for (const field of type.fields) {
        const at = start + field.offset;
        value[field.name] = field.type.kind === "bits"
          ? bitsGet(arrays.u8, at, field.bitOffset ?? 0, field.type)
          : readValue(field.type, arrays, at, commonAlignment(guarantee, field.offset), true);
      }
      return value;
    }
  }
}

/**
 * Copies a value of `type` at `start` without generated code: slower per copy than a
 * generated reader, but with nothing to compile first. For the first few copies of a
 * layout, which a short-lived reader (a monitoring plugin run once per poll) never gets past.
 * Gives the same value as the generated readers: plain objects, arrays, bigints for 64-bit
 * integers.
 */
export function readInterpreted(type: FieldType, arrays: Arrays, start: number): unknown {
  return readValue(type, arrays, start, 1, true);
}
