/**
 * {@linkcode struct} and {@linkcode union}: C-compatible layouts with typed views.
 *
 * @module
 */

import { arraysFor } from "./_buffer_arrays.ts";
import { classFor, readerFor } from "./_codegen.ts";
import { checkedWrite } from "./_checked_write.ts";
import type { ScalarArray } from "./scalar_array.ts";
import {
  type ArrayType,
  assertFieldType,
  type BitsType,
  type BytesType,
  type CompositeType,
  type FieldInfo,
  type FieldType,
  madeType,
  type ScalarName,
  type ScalarType,
  type Utf8Type,
} from "./types.ts";

/** Field declarations: each name maps to a field type. Names are C identifiers. */
export type Fields = { readonly [name: string]: FieldType };

/** Options for {@linkcode struct} and {@linkcode union}. */
export interface StructOptions {
  /**
   * Lay fields out with no padding, as `__attribute__((packed))`: every field is at
   * alignment 1. Fields that end up misaligned are read through a `DataView` (slower) and
   * cannot be used atomically; a numeric array at an offset its element size does not
   * divide is a {@linkcode ScalarArray} (indexed with `[i]` through a `DataView`) where an
   * aligned one is a typed array (its declared type still says typed array).
   *
   * @default {false}
   */
  packed?: boolean;
  /**
   * Raise the alignment to this power of two, as `__attribute__((aligned(n)))`: the size
   * is padded to a multiple of it. Never lowers the natural alignment (use `packed`).
   *
   * @default {the largest alignment of a field (1 if packed)}
   */
  align?: number;
}

/** Something that owns a buffer and says whether it may be written, like a `MappedFile`. */
export interface BufferOwner {
  /** The memory. */
  readonly buffer: ArrayBuffer;
  /** Whether writes are allowed; views of a non-writable owner refuse every write. */
  readonly writable: boolean;
}

/** What a view or `read` can be made over: a buffer, or an owner such as a `MappedFile`. */
export type BufferSource = ArrayBufferLike | BufferOwner;

/**
 * The plain JavaScript value of a field type, as {@linkcode StructType.read} returns it:
 * arrays of native-order numbers are typed arrays (as in views, but copies), other arrays
 * plain arrays.
 */
export type ValueOf<T> = T extends ScalarType<infer V, ScalarName> ? V
  : T extends BitsType<infer V> ? V
  : T extends Utf8Type ? string
  : T extends BytesType ? Uint8Array
  : T extends ArrayType<infer E> ? ArrayValueOf<E>
  : T extends StructType<infer F> ? StructValue<F>
  : T extends CompositeType ? { [name: string]: unknown }
  : never;

/** The plain value of an array field with elements `E` (see {@linkcode ValueOf}). */
export type ArrayValueOf<E> = E extends ScalarType<infer V, infer N, infer O>
  ? (O extends "native" ? (N extends "bool" ? boolean[] : TypedArrayOf[N]) : V[])
  : ValueOf<E>[];

/** The plain-object value of a struct with fields `F`. */
export type StructValue<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]> };

/** What {@linkcode StructType.write} accepts for a field type: any part of the value. */
export type InputOf<T> = T extends ScalarType<infer V, ScalarName> ? V
  : T extends BitsType<infer V> ? V
  : T extends Utf8Type ? string
  : T extends BytesType ? ArrayLike<number>
  : T extends ArrayType<infer E> ? ArrayLike<InputOf<E>>
  : T extends StructType<infer F> ? StructInput<F>
  : T extends CompositeType ? { [name: string]: unknown }
  : never;

/** Any part of a struct's value, for {@linkcode StructType.write}. */
export type StructInput<F extends Fields> = { [K in keyof F]?: InputOf<F[K]> };

/** The typed array a native-order numeric array field is viewed as. */
export interface TypedArrayOf {
  /** `array(i8, n)`. */
  i8: Int8Array;
  /** `array(u8, n)`. */
  u8: Uint8Array;
  /** `array(i16, n)`. */
  i16: Int16Array;
  /** `array(u16, n)`. */
  u16: Uint16Array;
  /** `array(i32, n)`. */
  i32: Int32Array;
  /** `array(u32, n)`. */
  u32: Uint32Array;
  /** `array(i64, n)`. */
  i64: BigInt64Array;
  /** `array(u64, n)`. */
  u64: BigUint64Array;
  /** `array(f32, n)`. */
  f32: Float32Array;
  /** `array(f64, n)`. */
  f64: Float64Array;
  /** `array(bool, n)`: no typed array holds booleans. */
  bool: ScalarArray<boolean>;
}

/** `ScalarArray<V>` for each member of `V` (so that a `ScalarArray<number>` is one of `ScalarArrayOf<number | bigint>`). */
export type ScalarArrayOf<V> = V extends unknown ? ScalarArray<V> : never;

/** How an array field with elements `E` appears in a view. */
export type ArrayView<E> = E extends ScalarType<infer V, infer N, infer O>
  ? (O extends "native" ? TypedArrayOf[N] : ScalarArrayOf<V>)
  : E extends Utf8Type ? ScalarArray<string>
  : E extends BytesType ? readonly Uint8Array[]
  : E extends ArrayType<infer E2> ? readonly ArrayView<E2>[]
  : E extends StructType<infer F> ? readonly StructView<F>[]
  : E extends CompositeType ? readonly { readonly [name: string]: unknown }[]
  : never;

/** How a field of type `T` appears in a view. */
export type ViewOf<T> = T extends ScalarType<infer V, ScalarName> ? V
  : T extends BitsType<infer V> ? V
  : T extends Utf8Type ? string
  : T extends BytesType ? Uint8Array
  : T extends ArrayType<infer E> ? ArrayView<E>
  : T extends StructType<infer F> ? StructView<F>
  : T extends CompositeType ? { readonly [name: string]: unknown }
  : never;

/** The fields of `F` a view can assign: scalars, bitfields and strings. */
export type AssignableKeys<F> = { [K in keyof F]: F[K] extends ScalarType | BitsType | Utf8Type ? K : never }[keyof F];

/**
 * A live view of a struct: reading a property reads memory, assigning one writes it.
 * Scalars and strings are assignable; aggregates (nested structs, arrays, byte arrays) are
 * live objects themselves.
 */
export type StructView<F extends Fields> =
  & { -readonly [K in AssignableKeys<F>]: ViewOf<F[K]> }
  & { readonly [K in Exclude<keyof F, AssignableKeys<F>>]: ViewOf<F[K]> };

/**
 * A single view moved across consecutive records, for bulk loops without an object per
 * record. See {@linkcode StructType.cursor}.
 */
export interface StructCursor<F extends Fields> {
  /** The number of records. */
  readonly length: number;
  /**
   * Moves the view to record `index` and returns it (always the same object: views taken
   * from it before the move, nested ones included, are stale).
   *
   * @throws {RangeError} If `index` is out of bounds.
   */
  at(index: number): StructView<F>;
}

/**
 * A struct (or union) type: its C layout, and views, reads and writes over any buffer.
 *
 * @typeParam F The field declarations.
 */
export interface StructType<F extends Fields = Fields> extends CompositeType {
  /**
   * The byte offset of field `name`; for a bitfield, of the byte holding its first bit (its
   * bit there is the field's `bitOffset` in {@linkcode CompositeType.fields}).
   *
   * @throws {TypeError} If there is no such field.
   */
  offsetOf(name: keyof F & string): number;
  /**
   * A live view of the struct at `byteOffset` in `source`.
   *
   * @param source An `ArrayBuffer`, or an owner of one such as a `MappedFile` (a read-only
   * owner gives a view that refuses writes with a `TypeError`).
   * @param byteOffset Where the struct starts; a multiple of `align`.
   * @throws {RangeError} If the struct does not fit, or `byteOffset` is misaligned.
   */
  view(source: BufferSource, byteOffset?: number): StructView<F>;
  /**
   * A plain-object copy of the struct at `byteOffset`.
   *
   * @throws {RangeError} If the struct does not fit, or `byteOffset` is misaligned.
   */
  read(source: BufferSource, byteOffset?: number): StructValue<F>;
  /**
   * Writes the given fields (any part of the value, nested parts included) at `byteOffset`,
   * checked, unlike a view's number setters: integer fields take only integers in their
   * range, 64-bit fields only `bigint`s in theirs, `f32` any number but one that would
   * overflow to infinity, `bool` only booleans, `bytes` only integers from 0 to 255, and
   * strings only those that fit whole in UTF-8 with no NUL and no lone surrogate. Every
   * value is checked before anything is written: a refused write changes nothing.
   *
   * @throws {TypeError} If a key is not a field, a value has the wrong type (a `number` for
   * a 64-bit field, say), or the source is read-only.
   * @throws {RangeError} If the struct does not fit, `byteOffset` is misaligned, a number is
   * out of range or not an integer for an integer field, an array is too long, or a string
   * does not fit or contains NUL.
   */
  write(source: BufferSource, byteOffset: number, value: StructInput<F>): void;
  /**
   * A cursor over `length` consecutive structs from `byteOffset`.
   *
   * @param length Number of records; defaults to as many as fit.
   * @throws {RangeError} If the records do not fit, or `byteOffset` is misaligned.
   */
  cursor(source: BufferSource, byteOffset?: number, length?: number): StructCursor<F>;
}

const C_KEYWORDS = new Set(
  ("auto break case char const continue default do double else enum extern float for goto if inline int long " +
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while " +
    "_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local bool true false")
    .split(" "),
);
const RESERVED = new Set(["constructor", "__proto__", "prototype", "toString", "valueOf", "hasOwnProperty", "toJSON"]);

function validateName(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new TypeError(`Cannot declare ${what}: field name ${JSON.stringify(name)} is not a C identifier`);
  }
  if (C_KEYWORDS.has(name)) throw new TypeError(`Cannot declare ${what}: field name "${name}" is a C keyword`);
  if (RESERVED.has(name)) throw new TypeError(`Cannot declare ${what}: field name "${name}" is reserved`);
}

function validateAlign(align: unknown, what: string): number | undefined {
  if (align === undefined) return undefined;
  if (
    typeof align !== "number" || !Number.isInteger(align) || align < 1 || (align & (align - 1)) !== 0 || align > 4096
  ) {
    throw new RangeError(`Cannot declare ${what}: align ${String(align)} is not a power of two from 1 to 4096`);
  }
  return align;
}

/**
 * The first bit of a bitfield whose predecessors end at bit `bitEnd`, by gcc's rules for
 * x86_64 and aarch64: packed, right there; otherwise there if the field fits in the
 * naturally aligned storage unit of its type holding that bit, else at the next unit.
 */
function bitfieldStart(bitEnd: number, type: BitsType, packed: boolean): number {
  if (packed) return bitEnd;
  const unit = type.size * 8;
  return Math.floor(bitEnd / unit) === Math.floor((bitEnd + type.width - 1) / unit) ? bitEnd : roundUp(bitEnd, unit);
}

function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

function sourceOf(source: BufferSource, what: string): { buffer: ArrayBufferLike; writable: boolean } {
  if (
    source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && source instanceof SharedArrayBuffer)
  ) {
    return { buffer: source, writable: true };
  }
  const owner = source as BufferOwner | null;
  if (typeof owner === "object" && owner !== null && owner.buffer instanceof ArrayBuffer) {
    return { buffer: owner.buffer, writable: owner.writable === true };
  }
  throw new TypeError(`Cannot ${what}: expected an ArrayBuffer or a MappedFile, got ${String(source)}`);
}

class StructLayout<F extends Fields> implements StructType<F> {
  readonly kind: "struct" | "union";
  readonly size: number;
  readonly align: number;
  readonly packed: boolean;
  readonly fields: readonly FieldInfo[];
  readonly #offsets: Map<string, number>;

  constructor(kind: "struct" | "union", entries: readonly (readonly [string, unknown])[], options: StructOptions) {
    const what = `${kind}()`;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot declare ${what}: options must be an object`);
    }
    const packed = options.packed ?? false;
    if (typeof packed !== "boolean") throw new TypeError(`Cannot declare ${what}: packed must be a boolean`);
    const minimum = validateAlign(options.align, what);
    if (entries.length === 0) throw new TypeError(`Cannot declare ${what}: it needs at least one field`);
    let end = 0;
    let align = 1;
    /** In bits: where the next bitfield may start (a multiple of 8 after any other field). */
    let bitEnd = 0;
    const fields: FieldInfo[] = [];
    for (const [name, type] of entries) {
      validateName(name, what);
      assertFieldType(type, `${what} field "${name}"`);
      const fieldAlign = packed ? 1 : type.align;
      if (type.kind === "bits") {
        const start = kind === "union" ? 0 : bitfieldStart(bitEnd, type, packed);
        const offset = Math.floor(start / 8);
        fields.push(Object.freeze({ name, type, offset, size: type.size, bitOffset: start % 8 }));
        bitEnd = Math.max(bitEnd, start + type.width);
        end = Math.max(end, Math.ceil(bitEnd / 8));
      } else {
        const offset = kind === "union" ? 0 : roundUp(end, fieldAlign);
        fields.push(Object.freeze({ name, type, offset, size: type.size }));
        end = Math.max(end, offset + type.size);
        bitEnd = end * 8;
      }
      align = Math.max(align, fieldAlign);
    }
    if (minimum !== undefined) align = Math.max(align, minimum);
    this.kind = kind;
    this.packed = packed;
    this.align = align;
    this.size = roundUp(end, align);
    if (!Number.isSafeInteger(this.size)) throw new RangeError(`Cannot declare ${what}: it is too large`);
    this.fields = Object.freeze(fields);
    this.#offsets = new Map(fields.map((f) => [f.name, f.offset]));
    if (this.#offsets.size !== fields.length) {
      // Only pairs (compositeOf) can repeat a name; an object's keys cannot.
      const name = fields.find((f, i) => fields.findIndex((g) => g.name === f.name) !== i)!.name;
      throw new TypeError(`Cannot declare ${what}: field name ${JSON.stringify(name)} is repeated`);
    }
    madeType(this);
  }

  offsetOf(name: keyof F & string): number {
    const offset = this.#offsets.get(name);
    if (offset === undefined) {
      throw new TypeError(`Cannot find field ${JSON.stringify(name)}: the ${this.kind} has no such field`);
    }
    return offset;
  }

  #place(source: BufferSource, byteOffset: number, count: number, what: string) {
    const { buffer, writable } = sourceOf(source, what);
    if (typeof byteOffset !== "number" || !Number.isSafeInteger(byteOffset) || byteOffset < 0) {
      throw new RangeError(`Cannot ${what}: byteOffset must be a non-negative integer, got ${String(byteOffset)}`);
    }
    if (byteOffset % this.align !== 0) {
      throw new RangeError(`Cannot ${what}: byteOffset ${byteOffset} is not a multiple of the alignment ${this.align}`);
    }
    // In bounds: every access a view makes lies in [byteOffset, byteOffset + size * count).
    if (byteOffset + this.size * count > buffer.byteLength) {
      throw new RangeError(
        `Cannot ${what}: ${count === 1 ? "" : `${count} records of `}${this.size} bytes at offset ${byteOffset} ` +
          `do not fit in a buffer of ${buffer.byteLength} bytes`,
      );
    }
    return { arrays: arraysFor(buffer), writable };
  }

  view(source: BufferSource, byteOffset = 0): StructView<F> {
    const { arrays, writable } = this.#place(source, byteOffset, 1, "view struct");
    const View = classFor(this, this.align, !writable);
    return new View(arrays, byteOffset) as unknown as StructView<F>;
  }

  read(source: BufferSource, byteOffset = 0): StructValue<F> {
    const { arrays } = this.#place(source, byteOffset, 1, "read struct");
    // A reader class: it copies the fields and defines no accessors on the instance, as a view does.
    return new (readerFor(this, this.align))(arrays, byteOffset).$read() as StructValue<F>;
  }

  write(source: BufferSource, byteOffset: number, value: StructInput<F>): void {
    const { arrays, writable } = this.#place(source, byteOffset, 1, "write struct");
    if (!writable) {
      throw new TypeError("Cannot write struct: the source is read-only (the file was opened without write: true)");
    }
    checkedWrite(this, arrays, byteOffset, value);
  }

  cursor(source: BufferSource, byteOffset = 0, length?: number): StructCursor<F> {
    const { buffer } = sourceOf(source, "make cursor");
    const count = length ?? Math.floor((buffer.byteLength - byteOffset) / this.size);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`Cannot make cursor: length must be a non-negative integer, got ${String(length)}`);
    }
    const { arrays, writable } = this.#place(source, byteOffset, count, "make cursor");
    const View = classFor(this, this.align, !writable);
    return new (View.$cursor())(arrays, byteOffset, count) as unknown as StructCursor<F>;
  }
}

/**
 * Declares a C struct: fields laid out in order, each at the next offset aligned to its
 * type, the size padded to the largest alignment, exactly as gcc and clang do on x86_64
 * and aarch64 (System V). The result gives offsets, live views over any buffer (a
 * `MappedFile` included), plain-object reads and partial writes.
 *
 * A view's numeric fields read and write at about the speed of typed-array indexing: each
 * layout gets its own generated accessor class. Its setters are unchecked, as typed-array
 * elements are: a number field converts what it is given to a number and stores it as a
 * typed array would (integers wrap modulo 2^n and drop fractions, `NaN` stores 0, `f32`
 * rounds), a `bool` field stores whether the value is truthy, and a 64-bit field
 * (a `bigint`) throws the runtime's own `TypeError` for a `number`. String setters are
 * checked as `write()` checks them. For checked writes of numbers, use `write()`.
 * Bitfields (`bits()`) are laid out as gcc lays them out, and their setters are checked:
 * a value that does not fit is a `RangeError`.
 * Every array field
 * indexes with `[i]` (see {@linkcode ScalarArray} for arrays that are not typed arrays, and
 * their `RangeError` out of range). A view lists its fields to `Object.keys`, shows them in
 * consoles, refuses a stray property with a `TypeError`, and `JSON.stringify` gives its
 * values with 64-bit integers as decimal strings (always, whatever the value).
 *
 * @param fields Field names (C identifiers) mapped to field types, in memory order.
 * @param options `packed` and `align`, as the gcc attributes.
 * @returns The struct type.
 * @throws {TypeError} If there are no fields, a name is not a C identifier, or a type is not a field type.
 * @throws {RangeError} If `align` is not a power of two.
 *
 * @example Declare, view and read
 * ```ts
 * import { f64, i64, struct, u32, utf8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * // struct stats { uint32_t hits; double load; int64_t bytes; char name[16]; };
 * const Stats = struct({ hits: u32, load: f64, bytes: i64, name: utf8(16) });
 * assert.equal(Stats.size, 40);
 * assert.equal(Stats.offsetOf("load"), 8);
 *
 * const buffer = new ArrayBuffer(Stats.size);
 * const stats = Stats.view(buffer);
 * stats.hits += 1;
 * stats.bytes = 1n << 40n;
 * stats.name = "api";
 * assert.deepEqual(Stats.read(buffer), { hits: 1, load: 0, bytes: 1n << 40n, name: "api" });
 * ```
 *
 * @example Unchecked setters, checked write()
 * ```ts
 * import { struct, u32, u8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Counters = struct({ errors: u32, level: u8 });
 * const buffer = new ArrayBuffer(Counters.size);
 * const counters = Counters.view(buffer);
 * counters.errors = -1; // wraps, as in a Uint32Array
 * assert.equal(counters.errors, 4294967295);
 * assert.throws(() => Counters.write(buffer, 0, { level: 1, errors: -1 }), RangeError);
 * assert.equal(counters.level, 0); // a refused write() writes nothing
 * ```
 *
 * @example Packed and nested
 * ```ts
 * import { struct, u16, u8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Header = struct({ tag: u8, length: u16 }, { packed: true });
 * const Frame = struct({ header: Header, flags: u8 });
 * assert.equal(Header.size, 3);
 * assert.equal(Frame.size, 4);
 * const frame = Frame.view(new ArrayBuffer(4));
 * frame.header.length = 513;
 * assert.equal(frame.header.length, 513);
 * ```
 */
export function struct<const F extends Fields>(fields: F, options: StructOptions = {}): StructType<F> {
  return new StructLayout("struct", entriesOf("struct", fields), options);
}

/**
 * Declares a C union: every member at offset 0, the size that of the largest member padded
 * to the largest alignment. Views read every member over the same bytes.
 *
 * @param fields Member names mapped to field types.
 * @param options `packed` and `align`, as the gcc attributes.
 * @returns The union type (a {@linkcode StructType} with `kind` `"union"`).
 * @throws {TypeError} If there are no members, a name is not a C identifier, or a type is not a field type.
 * @throws {RangeError} If `align` is not a power of two.
 *
 * @example Type punning
 * ```ts
 * import { f32, u32, union } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Bits = union({ real: f32, bits: u32 });
 * const value = Bits.view(new ArrayBuffer(Bits.size));
 * value.real = 1;
 * assert.equal(value.bits, 0x3f800000);
 * ```
 */
export function union<const F extends Fields>(fields: F, options: StructOptions = {}): StructType<F> {
  return new StructLayout("union", entriesOf("union", fields), options);
}

function entriesOf(kind: "struct" | "union", fields: unknown): [string, unknown][] {
  if (typeof fields !== "object" || fields === null) {
    throw new TypeError(`Cannot declare ${kind}(): fields must be an object`);
  }
  return Object.entries(fields);
}

/**
 * {@linkcode struct} or {@linkcode union} from `[name, type]` pairs in memory order, checked
 * exactly as they check their fields: for layouts rebuilt from data, such as a struct file's
 * schema, whose names would otherwise go into an `Object.create(null)` object, which V8
 * keeps as a dictionary that `Object.entries` walks slowly (half the time of `struct()` of
 * 32 new names). Not part of the public API (`mod.ts` does not export it).
 *
 * @param kind `"struct"` or `"union"`.
 * @param fields The field names and types.
 * @param options As for {@linkcode struct}.
 * @returns The struct or union type.
 * @throws {TypeError} As {@linkcode struct} does, and if a name is repeated.
 * @throws {RangeError} As {@linkcode struct} does.
 */
export function compositeOf(
  kind: "struct" | "union",
  fields: readonly (readonly [string, FieldType])[],
  options: StructOptions,
): StructType {
  return new StructLayout(kind, fields, options);
}
