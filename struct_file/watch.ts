/**
 * {@linkcode watch}: follow a struct file's changes as an async iterator.
 *
 * @module
 */

import type { Fields, StructType, StructValue } from "../layout/struct.ts";
import { StructFile } from "./struct_file.ts";

/** Options for {@linkcode watch}. */
export interface WatchOptions<F extends Fields> {
  /**
   * How often to look at the sequence word, in milliseconds. A look costs one memory read.
   *
   * @default {100}
   */
  interval?: number;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /**
   * The layout the file must have, as in {@linkcode StructFile.open}.
   *
   * @default {the layout the file describes}
   */
  type?: StructType<F>;
  /**
   * How long a snapshot waits for a writer inside an update, as in {@linkcode StructFile.open}.
   *
   * @default {1000}
   */
  timeout?: number;
}

/** One change seen by {@linkcode watch}. */
export interface WatchEvent<F extends Fields> {
  /** The consistent copy of the data. */
  value: StructValue<F>;
  /** The sequence word it was taken at. */
  version: number;
  /** The layout of the file. */
  type: StructType<F>;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Yields a consistent snapshot of the struct file at `path` now, then each time it changes
 * (polling the sequence word every `interval` ms): the generic form of a polling reader.
 * The file is mapped read-only once and unmapped when the iteration ends (`break`, `return`,
 * an error, or `signal`).
 *
 * Changes that happen between two polls are seen as one.
 *
 * @param path The struct file.
 * @param options Interval, abort signal, expected layout, snapshot timeout.
 * @returns An async iterator of changes.
 * @throws {FormatError} If the file is not a valid struct file (on the first iteration).
 * @throws {MmapError} If it cannot be opened.
 * @throws {StaleWriterError} If a snapshot cannot be had: the writer died or is stuck inside an update.
 * @throws {RangeError} If `interval` is not a positive number.
 *
 * @example Print each change until aborted
 * ```ts
 * import { StructFile, struct, u32, watch } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "n.mms");
 * using file = StructFile.create(path, struct({ n: u32 }));
 * const controller = new AbortController();
 * const seen: number[] = [];
 * for await (const { value } of watch(path, { interval: 5, signal: controller.signal })) {
 *   seen.push(value.n as number);
 *   if (seen.length === 3) controller.abort();
 *   else file.update((v) => v.n += 1);
 * }
 * assert.deepEqual(seen, [0, 1, 2]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function* watch<F extends Fields = Fields>(
  path: string,
  options: WatchOptions<F> = {},
): AsyncGenerator<WatchEvent<F>, void, undefined> {
  const interval = options.interval ?? 100;
  if (typeof interval !== "number" || !(interval > 0) || interval > 2 ** 31) {
    throw new RangeError(`Cannot watch ${JSON.stringify(path)}: interval must be a positive number of milliseconds`);
  }
  const signal = options.signal;
  if (signal?.aborted) return;
  using file = StructFile.open(path, { type: options.type, timeout: options.timeout });
  let last: number | undefined;
  while (!signal?.aborted) {
    if (file.version !== last) {
      const [value, version] = file.snapshotWithVersion();
      last = version;
      yield { value, version, type: file.type };
      continue;
    }
    await delay(interval, signal);
  }
}
