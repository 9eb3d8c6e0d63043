/**
 * {@linkcode ScalarArray}: a live array field that cannot be a typed array.
 *
 * @module
 */

/** Where an element array keeps its accessors: symbols, so that they never show as keys. */
const GET: unique symbol = Symbol("mmstruct.get");
const SET: unique symbol = Symbol("mmstruct.set");
const GET_CHECKED: unique symbol = Symbol("mmstruct.getChecked");
const SET_CHECKED: unique symbol = Symbol("mmstruct.setChecked");

/**
 * The index that `key` names, `-1` for a canonical numeric string that is not an index of
 * the array ("-1", "1.5", "7" of 7 elements), or `undefined` for any other key (a method
 * name, a stray property). Numeric strings are what typed arrays treat as indexes. Plain
 * indexes are parsed by hand: no string is made on the way (this runs at every `[i]`).
 */
function indexOf(key: string | symbol, length: number): number | undefined {
  if (typeof key !== "string") return undefined;
  const n = key.length;
  if (n === 0) return undefined;
  const first = key.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    if (n <= 9) {
      let value = 0;
      let i = 0;
      for (; i < n; i++) {
        const digit = key.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
      }
      // A leading zero ("01") makes no canonical numeric string: a property name.
      if (i === n) return first === 48 && n > 1 ? undefined : value < length ? value : -1;
    }
  } else if (first !== 45 && first !== 73 && first !== 78) {
    // Only digits and "-", "I" (Infinity), "N" (NaN) can start a canonical numeric string.
    return undefined;
  }
  if (key === "-0") return -1;
  const number = Number(key);
  if (String(number) !== key) return undefined;
  return Number.isInteger(number) && number >= 0 && number < length ? number : -1;
}

function outOfRange(index: string, length: number): never {
  throw new RangeError(`Cannot access element ${index}: the array has ${length} elements (0 to ${length - 1})`);
}

function noProperty(key: string | symbol): never {
  throw new TypeError(`Cannot set property ${String(key)}: an array field has only its elements`);
}

/**
 * The traps that make a {@linkcode ScalarArray} index like an array: `array[i]` reads and
 * writes element `i`; a numeric index outside the array is a `RangeError` (read or write);
 * any other property cannot be added, changed or deleted (a `TypeError`).
 */
const HANDLER: ProxyHandler<ScalarArray<unknown>> = {
  get(target, key, receiver) {
    const index = indexOf(key, target.length);
    if (index === undefined) {
      // get() and set() as closures over the target: a call runs no further trap.
      if (key === "get") return target[GET_CHECKED];
      if (key === "set") return target[SET_CHECKED];
      return Reflect.get(target, key, receiver);
    }
    if (index < 0) outOfRange(key as string, target.length);
    return target[GET](index);
  },
  set(target, key, value) {
    const index = indexOf(key, target.length);
    if (index === undefined) noProperty(key);
    if (index < 0) outOfRange(key as string, target.length);
    target[SET](index, value);
    return true;
  },
  has(target, key) {
    const index = indexOf(key, target.length);
    return index === undefined ? Reflect.has(target, key) : index >= 0;
  },
  ownKeys(target) {
    return [...Array.from({ length: target.length }, (_, i) => String(i)), ...Reflect.ownKeys(target)];
  },
  getOwnPropertyDescriptor(target, key) {
    const index = indexOf(key, target.length);
    if (index === undefined || index < 0) return Reflect.getOwnPropertyDescriptor(target, key);
    return { value: target[GET](index), writable: true, enumerable: true, configurable: true };
  },
  defineProperty(_target, key) {
    return noProperty(key);
  },
  deleteProperty(_target, key) {
    return noProperty(key);
  },
};

/**
 * A live view of an array field that is not a typed array: elements of type `bool`,
 * `utf8`, fixed byte order (`u32be`, …), native numbers at offsets no typed array can index
 * (a `packed` layout), byte fields, structs and arrays. It indexes like a typed array
 * (`flags[1] = true`, `names[0]`), reading and writing memory at each access, and it is an
 * `Array` (`Array.isArray`, `map`, `forEach`, spreading), but a fixed one:
 *
 * - an index outside `0` to `length - 1` (or a numeric key that is no index, such as `-1`
 *   or `1.5`) throws a `RangeError`, on reading as on writing. Native typed arrays, which
 *   arrays of native-order numbers are, cannot be changed: they read `undefined` and ignore
 *   the write.
 * - no other property can be added, changed or deleted (a `TypeError`).
 * - elements that are themselves live objects (structs, byte fields, arrays) cannot be
 *   assigned (a `TypeError`): assign their fields or elements.
 *
 * `JSON.stringify` gives the elements' values (see {@linkcode struct} for how 64-bit
 * integers appear), and consoles show them.
 *
 * @typeParam V The element value type.
 *
 * @example An array of flags
 * ```ts
 * import { array, bool, struct } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const Flags = struct({ on: array(bool, 3) });
 * const flags = Flags.view(new ArrayBuffer(Flags.size));
 * flags.on[1] = true;
 * assert.deepEqual([...flags.on], [false, true, false]);
 * assert.equal(flags.on.length, 3);
 * assert.throws(() => flags.on[3], RangeError);
 * ```
 */
export class ScalarArray<V> extends Array<V> {
  /** Methods such as `map` make plain arrays, not live views. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** Internal: reads element `index` (in bounds). */
  declare readonly [GET]: (index: number) => V;
  /** Internal: writes element `index` (in bounds). */
  declare readonly [SET]: (index: number, value: V) => void;
  /** Internal: {@linkcode ScalarArray.get} as a closure. */
  declare readonly [GET_CHECKED]: (index: number) => V;
  /** Internal: {@linkcode ScalarArray.set} as a closure. */
  declare readonly [SET_CHECKED]: (index: number, value: V) => void;

  /**
   * Made by views; not meant to be called directly.
   *
   * @param length The number of elements.
   * @param get Reads element `index` (in bounds).
   * @param set Writes element `index` (in bounds).
   */
  constructor(length: number, get: (index: number) => V, set: (index: number, value: V) => void) {
    super(length);
    Object.defineProperty(this, GET, { value: get });
    Object.defineProperty(this, SET, { value: set });
    Object.defineProperty(this, GET_CHECKED, { value: (index: number) => get(checked(index, length)) });
    Object.defineProperty(this, SET_CHECKED, {
      value: (index: number, value: V) => set(checked(index, length), value),
    });
    // The proxy is what indexes: `new ScalarArray(...)` is the proxy, its target this array.
    return new Proxy(this, HANDLER as ProxyHandler<this>);
  }

  /**
   * Reads element `index`.
   *
   * @param index From 0 to `length - 1`.
   * @returns The element's value.
   * @throws {RangeError} If `index` is out of bounds.
   */
  get(index: number): V {
    return this[GET](checked(index, this.length));
  }

  /**
   * Writes element `index`.
   *
   * @param index From 0 to `length - 1`.
   * @param value The new value.
   * @throws {RangeError} If `index` is out of bounds, or a string does not fit.
   * @throws {TypeError} If the view is read-only, or the value has the wrong type.
   */
  set(index: number, value: V): void {
    this[SET](checked(index, this.length), value);
  }

  /**
   * Copies the elements into a plain array.
   *
   * @returns The values, in order.
   */
  toArray(): V[] {
    return Array.from({ length: this.length }, (_, i) => this[GET](i));
  }

  /**
   * The values, as `JSON.stringify` shows them.
   *
   * @returns A plain array of JSON values.
   */
  toJSON(): unknown[] {
    return this.toArray().map(jsonValue);
  }
}

// Consoles show the values. Node and Deno inspect a proxy's target, not the proxy (so no
// trap runs), and the target has the accessors too.
Object.defineProperties(ScalarArray.prototype, {
  [Symbol.for("nodejs.util.inspect.custom")]: {
    value(this: ScalarArray<unknown>, _depth: number, options: unknown, inspect: (v: unknown, o: unknown) => string) {
      return inspect(this.toArray(), options);
    },
  },
  [Symbol.for("Deno.customInspect")]: {
    value(this: ScalarArray<unknown>, inspect: (v: unknown, o: unknown) => string, options: unknown) {
      return inspect(this.toArray(), options);
    },
  },
});

/** Private methods would not work on the proxy (`this`): a function instead. */
function checked(index: number, length: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= length) outOfRange(String(index), length);
  return index;
}

/**
 * A value as JSON shows it: 64-bit integers (`bigint`) as decimal strings, typed arrays
 * and byte fields as arrays of numbers, views and element arrays through their `toJSON`.
 */
export function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object" || value === null) return value;
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => typeof v === "bigint" ? v.toString() : v);
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return value;
  if (Array.isArray(value)) return value.map(jsonValue);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = jsonValue((value as Record<string, unknown>)[key]);
  return out;
}
