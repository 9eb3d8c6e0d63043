/**
 * {@linkcode watch}: follow a struct file's changes as an async iterator.
 *
 * @module
 */

import type { Fields, StructType, StructValue } from "../layout/struct.ts";
import { StructFile } from "./struct_file.ts";
import { describeValue } from "../ffi/describe_value.ts";

/** Options for {@linkcode watch}. */
export interface WatchOptions<F extends Fields> {
  /**
   * How often to look at the file, in milliseconds. A look is a
   * {@linkcode StructFile.prototype.check} of the path (an `open` and `fstat`) and one
   * memory read of the sequence word.
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
  /**
   * Whether this is the first event from a new file: the one watched before was replaced at
   * the path (a restarted writer publishes a new file by rename), and the new one is
   * followed from here. Its version starts again from that file's.
   */
  reopened: boolean;
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
 * The file is mapped read-only and unmapped when the iteration ends (`break`, `return`, an
 * error, or `signal`).
 *
 * Changes that happen between two polls are seen as one. Every poll first checks the path
 * ({@linkcode StructFile.prototype.check}): when another file has replaced the watched one
 * there, that file is opened and followed (its first event has `reopened: true`); when the
 * watched file was truncated, the iteration ends with a {@linkcode FormatError} (`reason`
 * `"truncated"`) instead of yielding the zeros a truncated file reads as.
 *
 * @param path The struct file.
 * @param options Interval, abort signal, expected layout, snapshot timeout.
 * @returns An async iterator of changes.
 * @throws {FormatError} If the file is not a valid struct file (on the first iteration, or
 * when a replacing file is opened), or was truncated.
 * @throws {MmapError} If it cannot be opened, or was removed (`"ENOENT"` on reopening it).
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
  for await (const { value, version, type, reopened } of follow(path, options, (file) => file.snapshotWithVersion())) {
    yield { value, version, type, reopened };
  }
}

/** One change seen by {@linkcode follow}: what `read` returned, and the file it read. */
export interface FollowEvent<F extends Fields, T> {
  value: T;
  version: number;
  type: StructType<F>;
  reopened: boolean;
  /** The file read, open until the iteration goes on. */
  file: StructFile<F>;
}

/**
 * {@linkcode watch} with another reader than `snapshotWithVersion()`: the `mmstruct`
 * command reads less than everything of a large file. Internal.
 */
export async function* follow<F extends Fields, T>(
  path: string,
  options: WatchOptions<F>,
  read: (file: StructFile<F>) => [T, number],
): AsyncGenerator<FollowEvent<F, T>, void, undefined> {
  const interval = options.interval ?? 100;
  if (typeof interval !== "number" || !(interval > 0) || interval > 2 ** 31) {
    throw new RangeError(
      `Cannot watch ${JSON.stringify(path)}: interval must be a positive number of milliseconds, got ${
        describeValue(interval)
      }`,
    );
  }
  const signal = options.signal;
  if (signal?.aborted) return;
  const open = () => StructFile.open(path, { type: options.type, timeout: options.timeout });
  let file = open();
  try {
    let last: number | undefined;
    let reopened = false;
    while (!signal?.aborted) {
      if (file.check() === "replaced") {
        const next = open();
        file.close();
        file = next;
        last = undefined;
        reopened = true;
      }
      if (file.version !== last) {
        const [value, version] = read(file);
        // Replaced or cut short while it was read: the copy may be the old file's, or zeros.
        // Look again (check() throws for a truncated file) before reporting it.
        if (file.check() !== "current") continue;
        last = version;
        yield { value, version, type: file.type, reopened, file };
        reopened = false;
        continue;
      }
      await delay(interval, signal);
    }
  } finally {
    file.close();
  }
}
