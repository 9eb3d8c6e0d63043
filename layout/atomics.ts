/**
 * {@linkcode atomic}: atomic operations on an integer field of a view, exact across
 * processes sharing a mapping.
 *
 * @module
 */

import { ATOMIC_LOAD_MAY_WRITE } from "../ffi/runtime.ts";
import type { View } from "./_codegen.ts";
import { describeValue } from "../ffi/describe_value.ts";
import type { TypedArray } from "./_buffer_arrays.ts";
import type { Fields, StructView } from "./struct.ts";
import type { ScalarType } from "./types.ts";

type IntegerArray = Exclude<TypedArray, Float32Array | Float64Array>;

/** The integer scalars' names; each is also the key of its typed array. */
export type IntegerName = "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "i64" | "u64";

const INTEGER_NAMES: ReadonlySet<string> = new Set<IntegerName>(["i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64"]);

/** Private memory for the barriers of `AtomicField.load` on read-only memory under Bun. */
const FENCE = new Int32Array(1);

/**
 * Atomic operations on one integer field, bound to its place in memory. Each method is
 * the `Atomics` function of the same name: sequentially consistent, and exact between
 * processes mapping the same file (Deno, Node and Bun alike). Every method but `load`
 * returns the field's previous value (`store` returns the value stored).
 *
 * Made by {@linkcode atomic}. A `TypeError` from a mutating method means the view is
 * read-only.
 *
 * @typeParam V `number`, or `bigint` for 64-bit fields.
 */
export class AtomicField<V extends number | bigint> {
  readonly #array: IntegerArray;
  readonly #index: number;
  readonly #writable: boolean;
  readonly #name: string;
  /** Load with a plain aligned read between barriers (see `ATOMIC_LOAD_MAY_WRITE`): read-only memory under Bun. */
  readonly #plainLoad: boolean;

  /**
   * Made by {@linkcode atomic}; not meant to be called directly.
   *
   * @param array The integer typed array over the buffer.
   * @param index The field's element index in `array`.
   * @param writable Whether mutating methods are allowed.
   * @param name The field name, for error messages.
   */
  constructor(array: IntegerArray, index: number, writable: boolean, name: string) {
    this.#array = array;
    this.#index = index;
    this.#writable = writable;
    this.#name = name;
    this.#plainLoad = ATOMIC_LOAD_MAY_WRITE && !writable && array.BYTES_PER_ELEMENT < 8;
  }

  /**
   * `Atomics.load`: the current value. (On a read-only view of an 8 to 32-bit field under
   * Bun, an aligned plain load between two barriers: Bun's optimized `Atomics.load` writes
   * to memory, which a read-only mapping forbids.)
   */
  load(): V {
    if (this.#plainLoad) {
      // Bun's optimizing JITs hoist a plain load out of a polling loop (which then never
      // sees another process's store). An atomic operation on private memory before and
      // after is a barrier they keep, and a full fence on the CPU: the load is made afresh
      // each time, in order with the loads around it, as Atomics.load would make it.
      Atomics.load(FENCE, 0);
      const value = this.#array[this.#index] as V;
      Atomics.load(FENCE, 0);
      return value;
    }
    return Atomics.load(this.#array as Int32Array, this.#index) as V;
  }

  /** `Atomics.store`: sets the value and returns it. */
  store(value: V): V {
    this.#check();
    return Atomics.store(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.add`: adds and returns the previous value (wrapping on overflow). */
  add(value: V): V {
    this.#check();
    return Atomics.add(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.sub`: subtracts and returns the previous value. */
  sub(value: V): V {
    this.#check();
    return Atomics.sub(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.and`: bitwise AND, returns the previous value. */
  and(value: V): V {
    this.#check();
    return Atomics.and(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.or`: bitwise OR, returns the previous value. */
  or(value: V): V {
    this.#check();
    return Atomics.or(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.xor`: bitwise XOR, returns the previous value. */
  xor(value: V): V {
    this.#check();
    return Atomics.xor(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /** `Atomics.exchange`: sets the value, returns the previous one. */
  exchange(value: V): V {
    this.#check();
    return Atomics.exchange(this.#array as Int32Array, this.#index, value as number) as V;
  }

  /**
   * `Atomics.compareExchange`: sets `replacement` only if the value is `expected`; returns
   * the previous value either way (equal to `expected` when it succeeded).
   */
  compareExchange(expected: V, replacement: V): V {
    this.#check();
    return Atomics.compareExchange(
      this.#array as Int32Array,
      this.#index,
      expected as number,
      replacement as number,
    ) as V;
  }

  #check(): void {
    if (!this.#writable) {
      throw new TypeError(
        `Cannot change ${this.#name}: the view is read-only (the file was opened without write: true)`,
      );
    }
  }
}

/** The keys of a view whose values are numbers or bigints. */
export type NumericKeys<V> = { [K in keyof V]: V[K] extends number | bigint ? K : never }[keyof V] & string;

/**
 * The fields of `F` that {@linkcode atomic} accepts: integers of 8 to 64 bits in native
 * byte order (floats, `bool`, fixed byte order and aggregates are left out).
 */
export type IntegerKeys<F> =
  & {
    [K in keyof F]: F[K] extends ScalarType<number | bigint, IntegerName, "native"> ? K : never;
  }[keyof F]
  & string;

/**
 * The names {@linkcode atomic} accepts for a view of type `V`: the integer fields
 * ({@linkcode IntegerKeys}) of a `StructView` whose fields are known, else every key
 * whose value is a number or a bigint (checked at run time).
 */
export type AtomicKeys<V> = V extends StructView<infer F extends Fields>
  // A plain object matches StructView<Fields>, with no field types to tell floats from integers.
  ? (string extends keyof F ? NumericKeys<V> : IntegerKeys<F>)
  : NumericKeys<V>;

/**
 * Binds atomic operations to the integer field `name` of a struct view (8, 16, 32 or 64
 * bits, native byte order). Bind once, outside hot loops: the result is as fast as a raw
 * `Atomics` call on a typed array.
 *
 * Atomics are exact across processes sharing a `MAP_SHARED` mapping. `Atomics.wait` and
 * `Atomics.notify` do not work on mapped memory and are not offered.
 *
 * @param view A view from `struct(...).view()` (a nested struct's view works too).
 * @param name An integer field of it. For a view whose layout TypeScript knows, any other
 * field (a float, say) is a compile-time error, see {@linkcode AtomicKeys}.
 * @returns The bound field. For a cursor's view, it stays bound to the current record.
 * @throws {TypeError} If `view` is not a struct view, `name` is not an integer field, the
 * field has a fixed byte order, or it is not naturally aligned (packed layouts).
 *
 * @example Count hits from many processes
 * ```ts
 * import { atomic, struct, u32, u64 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Stats = struct({ hits: u32, bytes: u64 });
 * const stats = Stats.view(new ArrayBuffer(Stats.size));
 * const hits = atomic(stats, "hits");
 * const bytes = atomic(stats, "bytes");
 * hits.add(1);
 * bytes.add(512n);
 * assert.equal(hits.compareExchange(1, 10), 1);
 * assert.equal(stats.hits, 10);
 * assert.equal(bytes.load(), 512n);
 * ```
 */
export function atomic<V extends object, K extends AtomicKeys<V>>(
  view: V,
  name: K,
): AtomicField<V[K] & (number | bigint)> {
  const internal = view as unknown as View;
  const type = internal?.$t;
  if (type === undefined || typeof internal.$read !== "function") {
    throw new TypeError(`Cannot bind atomic "${String(name)}": expected a struct view, got ${describeValue(view)}`);
  }
  const field = type.fields.find((f) => f.name === name);
  if (field === undefined) throw new TypeError(`Cannot bind atomic "${name}": the ${type.kind} has no such field`);
  const t = field.type;
  if (t.kind !== "scalar" || !INTEGER_NAMES.has(t.name)) {
    throw new TypeError(`Cannot bind atomic "${name}": it is not an integer field`);
  }
  if (t.byteOrder !== "native") {
    throw new TypeError(
      `Cannot bind atomic "${name}": atomics work only on native byte order fields, it is ${t.byteOrder}-endian`,
    );
  }
  const at = internal.$o + field.offset;
  if (at % t.size !== 0) {
    throw new TypeError(
      `Cannot bind atomic "${name}": it is at byte ${at}, not aligned to its size ${t.size} (a packed layout)`,
    );
  }
  const array = internal.$a[t.name as IntegerName];
  return new AtomicField(array, at / t.size, !internal.$ro, name);
}
