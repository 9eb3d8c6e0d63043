/**
 * Generates one accessor class per layout: getters and setters on the prototype that index
 * typed arrays held as instance fields, created once per buffer. This is what makes a field
 * read about as fast as indexing a typed array (see `bench/`). Internal.
 *
 * Why this shape, measured in prototypes: per-instance `Object.defineProperty` is 35-70x
 * slower; closures over one buffer are fast only while a call site sees one mapping; a
 * class per layout stays fast however many mappings a call site sees. Each layout's source
 * is made distinct (a unique id), so V8 and JavaScriptCore never share type feedback
 * between layouts.
 *
 * @module
 */

import { BIGINT_VIA_DATAVIEW } from "../ffi/runtime.ts";
import { encodeUtf8 } from "./_checked_write.ts";
import { jsonValue, ScalarArray } from "./scalar_array.ts";
import {
  type ArrayType,
  type BitsType,
  type CompositeType,
  type FieldType,
  isMadeType,
  type ScalarType,
} from "./types.ts";

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

/**
 * The largest power of two, at most `guarantee` (itself a power of two), that divides
 * `offset`. Arithmetic, not bit operations: offsets may pass 2^32 on Deno.
 */
export function commonAlignment(guarantee: number, offset: number): number {
  let alignment = 1;
  while (alignment < guarantee && offset % (alignment * 2) === 0) alignment *= 2;
  return alignment;
}

/** A numeric scalar's name is also the key of its typed array in {@linkcode Arrays}. */
type NumericName = Exclude<ScalarType["name"], "bool">;

const DATAVIEW: Record<string, string> = {
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

/** Whether the scalar is stored in the platform's byte order. */
function nativeOrder(type: ScalarType): boolean {
  return type.byteOrder === "native" || (type.byteOrder === "little") === LITTLE_ENDIAN;
}

/** Whether a typed array can index this scalar at `offset` in a view aligned to `guarantee`. */
export function typedArrayCanIndex(type: ScalarType, guarantee: number, offset: number): boolean {
  return type.name !== "bool" && nativeOrder(type) && guarantee % type.size === 0 && offset % type.size === 0;
}

/** Keeps a leading U+FEFF: it is part of the string (the default decoder drops it). */
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Helpers the generated code calls. */
export interface Helpers {
  utf8Get(u8: Uint8Array, start: number, size: number): string;
  utf8Set(u8: Uint8Array, start: number, size: number, value: unknown, name: string): void;
  readOnly(name: string): never;
  outOfRange(index: number, length: number): never;
  arrayField(
    type: ArrayType,
    arrays: Arrays,
    start: number,
    guarantee: number,
    readOnly: boolean,
    name: string,
  ): unknown;
  readValue(type: FieldType, arrays: Arrays, start: number, guarantee: number): unknown;
  bitsGet(u8: Uint8Array, at: number, bit: number, type: BitsType): number | bigint | boolean;
  bitsSet(u8: Uint8Array, at: number, bit: number, type: BitsType, value: unknown, name: string): void;
}

/** What every generated view has besides its fields. Names start with `$`, which no field name can. */
export interface View {
  readonly $a: Arrays;
  readonly $o: number;
  readonly $t: CompositeType;
  readonly $g: number;
  readonly $ro: boolean;
  $read(): Record<string, unknown>;
}

/** A generated cursor: one view of `View` moved across consecutive records. */
export interface Cursor {
  readonly length: number;
  at(index: number): View;
}

/** A generated cursor class, with the view classes it moves. */
export type CursorClass = (new (arrays: Arrays, byteOffset: number, length: number) => Cursor) & {
  $Moving: (new (arrays: Arrays, byteOffset: number) => View)[];
};

/** A generated view class, with its cursor class (generated on first use). */
export type ViewClass = (new (arrays: Arrays, byteOffset: number) => View) & {
  $cursor(): CursorClass;
};

function utf8Get(u8: Uint8Array, start: number, size: number): string {
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

function utf8Set(u8: Uint8Array, start: number, size: number, value: unknown, name: string): void {
  // Checked as write() checks strings: too long, NUL or a lone surrogate is refused, never cut.
  const encoded = encodeUtf8(value, size, name, "set");
  const target = u8.subarray(start, start + size);
  if (target.length < size) return; // detached or closed buffer: nothing to write to
  target.set(encoded);
  target.fill(0, encoded.length);
}

const helpers: Helpers = {
  utf8Get,
  utf8Set,
  readOnly(name) {
    throw new TypeError(`Cannot set ${name}: the view is read-only (the file was opened without write: true)`);
  },
  outOfRange(index, length) {
    throw new RangeError(`Cannot move cursor to record ${index}: there are ${length} records`);
  },
  arrayField: (...args) => arrayField(...args),
  readValue,
  bitsGet,
  bitsSet,
};

/** Reads one scalar through a DataView (any offset, any byte order). */
function scalarGet(type: ScalarType, dv: DataView, at: number): number | bigint | boolean {
  if (type.name === "bool") return dv.getUint8(at) !== 0;
  const little = type.byteOrder === "native" ? LITTLE_ENDIAN : type.byteOrder === "little";
  const method = `get${DATAVIEW[type.name]}` as "getUint32";
  return dv[method](at, little);
}

/** Writes one scalar through a DataView, checking the value's type. */
function scalarSet(type: ScalarType, dv: DataView, at: number, value: unknown, name: string): void {
  if (type.name === "bool") {
    if (typeof value !== "boolean") throw new TypeError(`Cannot set ${name}: expected a boolean, got ${typeof value}`);
    dv.setUint8(at, value ? 1 : 0);
    return;
  }
  const big = type.name === "i64" || type.name === "u64";
  if (big ? typeof value !== "bigint" : typeof value !== "number") {
    throw new TypeError(`Cannot set ${name}: expected a ${big ? "bigint" : "number"}, got ${typeof value}`);
  }
  const little = type.byteOrder === "native" ? LITTLE_ENDIAN : type.byteOrder === "little";
  const method = `set${DATAVIEW[type.name]}` as "setUint32";
  (dv[method] as (at: number, value: unknown, little: boolean) => void)(at, value, little);
}

/**
 * Reads a bitfield: `type.width` bits from bit `bit` (0-7) of byte `at`, in the
 * little-endian bit order of x86_64 and aarch64 (bit i of the field is bit (bit + i) % 8 of
 * byte at + (bit + i) / 8). Numbers are assembled in doubles: at most 5 bytes (39 bits),
 * exact; 64-bit storage types in bigints.
 */
function bitsGet(u8: Uint8Array, at: number, bit: number, type: BitsType): number | bigint | boolean {
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
function bitsSet(u8: Uint8Array, at: number, bit: number, type: BitsType, value: unknown, name: string): void {
  const width = type.width;
  const span = (bit + width + 7) >> 3;
  const what = `bits(${type.name}, ${width})`;
  if (type.name === "bool") {
    if (typeof value !== "boolean") throw new TypeError(`Cannot set ${name}: expected a boolean, got ${typeof value}`);
  } else if (type.size === 8) {
    if (typeof value !== "bigint") throw new TypeError(`Cannot set ${name}: expected a bigint, got ${typeof value}`);
    const limit = 1n << BigInt(type.signed ? width - 1 : width);
    if (type.signed ? value < -limit || value >= limit : value < 0n || value >= limit) {
      throw new RangeError(`Cannot set ${name}: ${value} does not fit in ${what}, which holds ${bitsRange(type)}`);
    }
  } else {
    if (typeof value !== "number") throw new TypeError(`Cannot set ${name}: expected a number, got ${typeof value}`);
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

export { bitsGet, bitsSet, scalarSet, utf8Set };

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
    readOnly ? helpers.readOnly(`${name}[${i}]`) : set(i, value);
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

/** Whether elements of this type can be a typed array (when aligned). */
function nativeNumbers(element: FieldType): element is ScalarType {
  return element.kind === "scalar" && element.name !== "bool" && element.byteOrder === "native";
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

type TypedArray =
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

const TYPED_ARRAYS: Record<NumericName, new (buffer: ArrayBuffer) => TypedArray> = {
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
function readValue(type: FieldType, arrays: Arrays, start: number, guarantee: number, interpreted = false): unknown {
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

let nextId = 0;
const classCache = new WeakMap<CompositeType, Map<string, ViewClass>>();

/**
 * The accessor class for `type` when every view's byte offset is a multiple of
 * `guarantee`, read-only or not. Cached per type, guarantee and access.
 */
export function classFor(type: CompositeType, guarantee: number, readOnly: boolean, readerOnly = false): ViewClass {
  let byKey = classCache.get(type);
  if (byKey === undefined) classCache.set(type, byKey = new Map());
  const key = `${guarantee}:${readOnly}:${readerOnly}`;
  let View = byKey.get(key);
  if (View === undefined) {
    View = generate(type, guarantee, readOnly || readerOnly, readerOnly);
    byKey.set(key, View);
  }
  return View;
}

/**
 * A class whose instances only copy the struct (`$read()`), with no field accessors: a
 * fraction of a view class's cost to generate and compile, for readers that only take
 * snapshots (opening a struct file of a new layout). Cached like {@linkcode classFor}.
 */
export function readerFor(type: CompositeType, guarantee: number): ViewClass {
  return classFor(type, guarantee, true, true);
}

/** The reader class {@linkcode readerFor} would return, if it was already generated. */
export function cachedReaderFor(type: CompositeType, guarantee: number): ViewClass | undefined {
  return classCache.get(type)?.get(`${guarantee}:true:true`);
}

/**
 * A field name as it enters generated source: a string literal, never raw text, so that
 * no name can be read as code (`get "hits"()`, `this["hits"]` are `get hits()`, `this.hits`).
 */
function key(name: string): string {
  return JSON.stringify(name);
}

/**
 * Throws a `TypeError` unless `type` was made by this library's factories: the generator
 * writes its sizes, offsets and scalar names into source as they are.
 */
function assertGeneratable(type: CompositeType): void {
  if (!isMadeType(type)) {
    throw new TypeError(
      "Cannot generate a view: the layout is not a struct() or union() made by this library (a type built by hand)",
    );
  }
}

/**
 * The keys of a view's internal state (its buffer's arrays, its offset, its cached
 * aggregates): symbols, so that `Object.keys`, `JSON.stringify` and consoles see only the
 * fields. Measured on V8 and JavaScriptCore: a symbol-keyed slot reads as fast as a named one.
 */
const SLOTS: Record<string, symbol> = Object.fromEntries(
  ["a", "o", "b2", "b4", "b8", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "dv"].map(
    (k) => [k, Symbol(`mmstruct.${k}`)],
  ),
);
/** The keys of cached aggregate fields, by their index among a layout's cached fields. */
const CACHE_SLOTS: symbol[] = [];
function cacheSlot(k: number): symbol {
  while (CACHE_SLOTS.length <= k) CACHE_SLOTS.push(Symbol(`mmstruct.c${CACHE_SLOTS.length}`));
  return CACHE_SLOTS[k];
}

function generate(type: CompositeType, guarantee: number, readOnly: boolean, readerOnly: boolean): ViewClass {
  assertGeneratable(type);
  const id = nextId++;
  const arraysUsed = new Set<string>(["u8"]);
  const bases = new Set<number>();
  const caches: string[] = [];
  const children: { type: CompositeType; guarantee: number }[] = [];
  const arrayTypes: ArrayType[] = [];
  const bitTypes: BitsType[] = [];
  const members: string[] = [];
  const reads: string[] = [];
  /** Assignable fields of a read-only view: their setters throw, and are not compiled (see `refuseWrites`). */
  const refused: string[] = [];
  /** `this.$c<k>`: the slot that caches aggregate field `name`. */
  const cache = (name: string) => `this[$c${caches.push(name) - 1}]`;

  for (const field of type.fields) {
    const { name, offset } = field;
    const t = field.type;
    const at = `this[$o] + ${offset}`;
    switch (t.kind) {
      case "scalar": {
        let get: string;
        let set: string;
        if (t.name === "bool") {
          get = `this[$u8][${at}] !== 0`;
          set = `this[$u8][${at}] = v ? 1 : 0;`;
        } else if (
          typedArrayCanIndex(t, guarantee, offset) && !(BIGINT_VIA_DATAVIEW && t.size === 8 && t.name !== "f64")
        ) {
          const array = t.name as NumericName;
          arraysUsed.add(array);
          const index = t.size === 1 ? at : `@B${t.size}@ + ${offset / t.size}`;
          if (t.size > 1) bases.add(t.size);
          get = `this[$${array}][${index}]`;
          set = `this[$${array}][${index}] = v;`;
        } else {
          arraysUsed.add("dv");
          const little = t.byteOrder === "native" ? LITTLE_ENDIAN : t.byteOrder === "little";
          get = `this[$dv].get${DATAVIEW[t.name]}(${at}, ${little})`;
          set = `this[$dv].set${DATAVIEW[t.name]}(${at}, v, ${little});`;
        }
        members.push(`get ${key(name)}() { return ${get}; }`);
        if (readOnly) refused.push(name);
        else members.push(`set ${key(name)}(v) { ${set} }`);
        reads.push(`${key(name)}: ${get}`);
        break;
      }
      case "bits": {
        const { get, set } = bitfieldAccessors(name, at, field.bitOffset ?? 0, t, bitTypes.push(t) - 1);
        members.push(`get ${key(name)}() { return ${get}; }`);
        if (readOnly) refused.push(name);
        else members.push(`set ${key(name)}(v) { ${set} }`);
        reads.push(`${key(name)}: ${get}`);
        break;
      }
      case "utf8": {
        const get = `h.utf8Get(this[$u8], ${at}, ${t.size})`;
        members.push(`get ${key(name)}() { return ${get}; }`);
        if (readOnly) refused.push(name);
        else members.push(`set ${key(name)}(v) { h.utf8Set(this[$u8], ${at}, ${t.size}, v, ${key(name)}); }`);
        reads.push(`${key(name)}: ${get}`);
        break;
      }
      case "bytes": {
        const range = `${at}, ${at} + ${t.size}`;
        if (readOnly) {
          members.push(`get ${key(name)}() { return this[$u8].slice(${range}); }`);
        } else {
          members.push(`get ${key(name)}() { return ${cache(name)} ??= this[$u8].subarray(${range}); }`);
        }
        reads.push(`${key(name)}: this[$u8].slice(${range})`);
        break;
      }
      case "array": {
        const k = arrayTypes.push(t) - 1;
        const g = commonAlignment(guarantee, offset);
        const make = `h.arrayField(h.A[${k}], this[$a], ${at}, ${g}, ${readOnly}, ${key(name)})`;
        if (readOnly && nativeNumbers(t.element) && typedArrayCanIndex(t.element, g, 0)) {
          // A typed array copy (no typed array refuses writes): made at each access, never stale.
          members.push(`get ${key(name)}() { return ${make}; }`);
        } else {
          // Writable typed arrays and element arrays (which read memory at each access) are live: made once.
          members.push(`get ${key(name)}() { return ${cache(name)} ??= ${make}; }`);
        }
        reads.push(`${key(name)}: h.readValue(h.A[${k}], this[$a], ${at}, ${g})`);
        break;
      }
      case "struct":
      case "union": {
        const k = children.push({ type: t, guarantee: commonAlignment(guarantee, offset) }) - 1;
        members.push(`get ${key(name)}() { return ${cache(name)} ??= new (h.C(${k}))(this[$a], ${at}); }`);
        // A reader has no accessors: it copies a nested struct with a reader of its own.
        reads.push(
          readerOnly
            ? `${key(name)}: new (h.C(${k}))(this[$a], ${at}).$read()`
            : `${key(name)}: this[${key(name)}].$read()`,
        );
        break;
      }
    }
  }

  // Slots are symbols held in constants of the generated module (see SLOTS).
  const slots = `const ${
    [...Object.keys(SLOTS).map((k) => `$${k} = h.S.${k}`), ...caches.map((_, k) => `$c${k} = h.K[${k}]`)].join(", ")
  };`;
  const assignArrays = [...arraysUsed].map((a) => `this[$${a}] = a.${a};`).join(" ");
  // Shifts keep bases small integers (V8 Smis) for offsets below 2 GiB; larger offsets
  // (Deno maps past 4 GiB) divide, exactly, since o is a multiple of every unit s.
  const baseOf = (o: string, s: number) => `${o} < 2147483648 ? ${o} >> ${Math.log2(s)} : ${o} / ${s}`;
  const setBases = (target: string) => [...bases].map((s) => `${target}[$b${s}] = ${baseOf("o", s)};`).join(" ");
  const initCaches = caches.map((_, k) => `this[$c${k}] = undefined;`).join(" ");
  // The fields become own, enumerable accessors of each view (descriptors h.D[n], made from
  // the prototype's once): what Object.keys, spreading and for-in list.
  const ownFields = (n: number) => readerOnly ? "" : `Object.defineProperties(this, h.D[${n}]);`;
  const body = `$read() { return { ${reads.join(", ")} }; }
  ${readerOnly ? "" : members.join("\n  ")}`;
  const internals = `get $a() { return this[$a]; }
  get $o() { return this[$o]; }`;
  const viewBody = body.replace(/@B(\d)@/g, "this[$$b$1]");
  const header = `"use strict";
// mmstruct view #${id}: ${type.kind} of ${type.fields.length} fields, ${type.size} bytes, aligned to ${guarantee}${
    readOnly ? ", read-only" : ""
  }
${slots}`;
  const viewSource = `${header}
// Every field of a view is written once, in the constructor: V8 then treats the offsets as
// constants of the object, which is what makes a field access as fast as a typed-array one.
class View${id} {
  constructor(a, o) { this[$a] = a; this[$o] = o; ${assignArrays} ${setBases("this")} ${initCaches} ${
    ownFields(0)
  } Object.preventExtensions(this); }
  ${internals}
  ${viewBody}
}
return View${id};`;
  // Compiled only when a cursor is first asked for: most layouts never need one. A moving
  // view keeps one offset, so that moving it is one store; shifting it is exact below
  // 2 GiB, dividing it is exact above (o is a multiple of every unit s).
  const cursorSource = () =>
    `${header}
// The view a cursor moves: same accessors, offsets that change (a separate class, so that
// moving it never makes the offsets of ordinary views mutable).
class Moving${id} {
  constructor(a, o) { this[$a] = a; this[$o] = o; ${assignArrays} ${initCaches} ${
      ownFields(1)
    } Object.preventExtensions(this); }
  ${internals}
  ${body.replace(/@B(\d)@/g, (_, s) => `(this[$o] >> ${Math.log2(Number(s))})`)}
}
class MovingLarge${id} {
  constructor(a, o) { this[$a] = a; this[$o] = o; ${assignArrays} ${initCaches} ${
      ownFields(2)
    } Object.preventExtensions(this); }
  ${internals}
  ${body.replace(/@B(\d)@/g, (_, s) => `(this[$o] / ${s})`)}
}
class Cursor${id} {
  constructor(a, base, n) {
    this.$v = base + n * ${type.size} <= 2147483648 ? new Moving${id}(a, base) : new MovingLarge${id}(a, base);
    this.$B = base;
    this.length = n; Object.freeze(this);
  }
  at(i) {
    if (!(i >>> 0 === i && i < this.length)) h.outOfRange(i, this.length);
    const v = this.$v;
    v[$o] = this.$B + i * ${type.size}; ${caches.map((_, k) => `v[$c${k}] = undefined;`).join(" ")}
    return v;
  }
}
Cursor${id}.$Moving = [Moving${id}, MovingLarge${id}];
return Cursor${id};`;
  const childClasses: (ViewClass | undefined)[] = [];
  const local = {
    ...helpers,
    A: arrayTypes,
    B: bitTypes,
    S: SLOTS,
    K: caches.map((_, k) => cacheSlot(k)),
    D: [] as PropertyDescriptorMap[],
    C: (k: number) => childClasses[k] ??= classFor(children[k].type, children[k].guarantee, readOnly, readerOnly),
  };
  const View = new Function("h", viewSource)(local) as ViewClass;
  describeView(View.prototype, type, guarantee, readOnly);
  if (!readerOnly) refuseWrites(View.prototype, refused);
  local.D[0] = ownDescriptors(View.prototype, type);
  let Cursor: CursorClass | undefined;
  View.$cursor = () => {
    if (Cursor === undefined) {
      Cursor = new Function("h", cursorSource())(local) as CursorClass;
      Cursor.$Moving.forEach((Moving, n) => {
        describeView(Moving.prototype, type, guarantee, readOnly);
        if (!readerOnly) refuseWrites(Moving.prototype, refused);
        local.D[n + 1] = ownDescriptors(Moving.prototype, type);
      });
    }
    return Cursor;
  };
  return View;
}

/**
 * The getter and setter source of bitfield `name` at byte expression `at`, bit `bit`, whose
 * type `type` is `h.B[k]`. A field of up to 32 bits within 4 bytes is read and written
 * inline, as one 32-bit integer assembled from its bytes (shifts keep the neighbouring bits);
 * the setter checks the value with constants and leaves every other case, and every error,
 * to the shared helpers. Wider fields (64-bit types, and 32-bit ones straddling 5 bytes in
 * a packed struct) always use the helpers.
 */
function bitfieldAccessors(
  name: string,
  at: string,
  bit: number,
  type: BitsType,
  k: number,
): { get: string; set: string } {
  const helper = `h.bitsSet(this[$u8], ${at}, ${bit}, h.B[${k}], v, ${key(name)});`;
  const width = type.width;
  const span = (bit + width + 7) >> 3;
  if (type.size === 8 || span > 4) return { get: `h.bitsGet(this[$u8], ${at}, ${bit}, h.B[${k}])`, set: helper };
  const byte = (i: number) => `this[$u8][${at} + ${i}]`;
  const word = `(${Array.from({ length: span }, (_, i) => i === 0 ? byte(0) : `${byte(i)} << ${8 * i}`).join(" | ")})`;
  // The field's top bit shifted to bit 31, then back down: arithmetic for a sign, logical for none.
  const up = 32 - bit - width;
  const field = `(${word} << ${up}) ${type.signed ? ">>" : ">>>"} ${32 - width}`;
  const get = type.name === "bool" ? `(${field}) !== 0` : `(${field})`;
  // The mask of the field's bits within the word, as a signed 32-bit integer.
  const mask = ((2 ** width - 1) * 2 ** bit) | 0;
  const min = type.signed ? -(2 ** (width - 1)) : 0;
  const max = type.signed ? 2 ** (width - 1) - 1 : 2 ** width - 1;
  const check = type.name === "bool"
    ? `typeof v !== "boolean"`
    : `typeof v !== "number" || !(v >= ${min} && v <= ${max}) || v % 1 !== 0`;
  const stores = Array.from({ length: span }, (_, i) => `${byte(i)} = x${i === 0 ? "" : ` >>> ${8 * i}`};`).join(" ");
  const set = `if (${check}) { ${helper} return; } const x = (${word} & ${~mask}) | ((${
    type.name === "bool" ? "(v ? 1 : 0)" : "v"
  } << ${bit}) & ${mask}); ${stores}`;
  return { get, set };
}

/**
 * The prototype's field accessors as own, enumerable properties for each instance. The same
 * getter and setter functions for every instance, so that engines give all the views of a
 * class one shape (V8 shares a map transition when the accessor pair is the same).
 */
function ownDescriptors(prototype: object, type: CompositeType): PropertyDescriptorMap {
  const descriptors: PropertyDescriptorMap = {};
  for (const { name } of type.fields) {
    const { get, set } = Object.getOwnPropertyDescriptor(prototype, name) ?? {};
    if (get !== undefined) descriptors[name] = { get, set, enumerable: true, configurable: false };
  }
  return descriptors;
}

/**
 * Gives the read-only fields a setter that throws a `TypeError`. Made with a closure rather
 * than compiled with the class: compiling half as many functions makes a new layout's class
 * markedly cheaper, and a refused write is not a hot path. This runs once per class, on
 * its prototype (never per instance).
 */
function refuseWrites(prototype: object, names: readonly string[]): void {
  for (const name of names) {
    const { get } = Object.getOwnPropertyDescriptor(prototype, name)!;
    Object.defineProperty(prototype, name, { get, set: () => helpers.readOnly(name), configurable: false });
  }
}

/** The non-field members every view has: what it is, and how consoles show it. */
function describeView(prototype: object, type: CompositeType, guarantee: number, readOnly: boolean): void {
  Object.defineProperties(prototype, {
    $t: { value: type },
    $g: { value: guarantee },
    $ro: { value: readOnly },
    // JSON.stringify(view): the values of $read(), with 64-bit integers as decimal strings.
    toJSON: {
      value(this: View) {
        return jsonValue(this.$read());
      },
    },
    [Symbol.for("nodejs.util.inspect.custom")]: {
      value(this: View, _depth: number, options: unknown, inspect: (value: unknown, options: unknown) => string) {
        return inspect(this.$read(), options);
      },
    },
    [Symbol.for("Deno.customInspect")]: {
      value(this: View, inspect: (value: unknown, options: unknown) => string, options: unknown) {
        return inspect(this.$read(), options);
      },
    },
  });
}
