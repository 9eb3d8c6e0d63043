/**
 * {@linkcode ScalarArray}: a live array field whose elements cannot be a typed array.
 *
 * @module
 */

/**
 * A live view of an array field whose elements are not native-order numbers: `bool`,
 * `utf8`, and the fixed byte-order types (`u32be`, …). Indexing is by method
 * (`get`/`set`), since only typed arrays index natively at full speed.
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
 * flags.on.set(1, true);
 * assert.deepEqual(flags.on.toArray(), [false, true, false]);
 * assert.equal(flags.on.length, 3);
 * ```
 */
export class ScalarArray<V> implements Iterable<V> {
  readonly #get: (index: number) => V;
  readonly #set: (index: number, value: V) => void;
  /** The number of elements. */
  readonly length: number;

  /**
   * Made by views; not meant to be called directly.
   *
   * @param length The number of elements.
   * @param get Reads element `index` (in bounds).
   * @param set Writes element `index` (in bounds).
   */
  constructor(length: number, get: (index: number) => V, set: (index: number, value: V) => void) {
    this.length = length;
    this.#get = get;
    this.#set = set;
  }

  /**
   * Reads element `index`.
   *
   * @param index From 0 to `length - 1`.
   * @returns The element's value.
   * @throws {RangeError} If `index` is out of bounds.
   */
  get(index: number): V {
    return this.#get(this.#check(index));
  }

  /**
   * Writes element `index`.
   *
   * @param index From 0 to `length - 1`.
   * @param value The new value.
   * @throws {RangeError} If `index` is out of bounds, or a string does not fit.
   * @throws {TypeError} If the view is read-only.
   */
  set(index: number, value: V): void {
    this.#set(this.#check(index), value);
  }

  /**
   * Copies the elements into a plain array.
   *
   * @returns The values, in order.
   */
  toArray(): V[] {
    return Array.from({ length: this.length }, (_, i) => this.#get(i));
  }

  /** Iterates over the values. */
  *[Symbol.iterator](): Iterator<V> {
    for (let i = 0; i < this.length; i++) yield this.#get(i);
  }

  #check(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`Cannot access element ${index}: the array has ${this.length} elements`);
    }
    return index;
  }
}
