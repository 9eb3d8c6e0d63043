/**
 * Copying a layout's values out of a buffer without a view: what the struct file format
 * (`struct_file/`) needs from the layout code, and nothing of how it is generated. Not
 * part of the public API (`mod.ts` does not export it); the entry point for the folders
 * above `layout/`, which never import its private `_codegen.ts`.
 *
 * @module
 */

import { readInterpreted } from "./_aggregates.ts";
import { type Arrays, arraysFor } from "./_buffer_arrays.ts";
import { bitsGet } from "./_codecs.ts";
import { cachedReaderFor, readerFor } from "./_codegen.ts";
import type { CompositeType } from "./types.ts";

export { type Arrays, arraysFor, bitsGet, readInterpreted };

/** Copies one struct's values: what `$read()` returns is a plain object, as a snapshot is. */
export interface Reader {
  /** A fresh plain-object copy of every field. */
  $read(): Record<string, unknown>;
}

/**
 * A generated reader of `type` at `byteOffset` in `arrays`: a class generated and compiled
 * once per layout (and alignment `guarantee`), worth it for a layout copied many times.
 */
export function generatedReader(type: CompositeType, arrays: Arrays, byteOffset: number, guarantee: number): Reader {
  return new (readerFor(type, guarantee))(arrays, byteOffset);
}

/**
 * {@linkcode generatedReader}, if this process has generated one for the layout already
 * (nothing is generated here); `undefined` if not.
 */
export function existingReader(
  type: CompositeType,
  arrays: Arrays,
  byteOffset: number,
  guarantee: number,
): Reader | undefined {
  const Reader = cachedReaderFor(type, guarantee);
  return Reader === undefined ? undefined : new Reader(arrays, byteOffset);
}
