/**
 * {@linkcode StructFile}: a self-describing file holding one struct, with torn-read-free
 * snapshots.
 *
 * @module
 */

import {
  type Arrays,
  arraysFor,
  existingReader,
  generatedReader,
  type Reader,
  readInterpreted,
} from "../layout/reader.ts";
import type { Fields, StructInput, StructType, StructValue, StructView } from "../layout/struct.ts";
import { isMadeType } from "../layout/types.ts";
import { libc } from "../ffi/libc.ts";
import { createMappedFile, type LockMode, type MappedFile, openMappedFile, type SyncOptions } from "../mapped_file.ts";
import { MmapError } from "../ffi/mmap_error.ts";
import { DATA_ALIGN, fnv1a64, HEADER_LENGTH, MAX_SCHEMA_LENGTH, readHeader, writeHeader } from "./_format.ts";
import { type FileIdentity, identityOf, sameFile } from "./_identity.ts";
import { ownStartTime, PID } from "./_process.ts";
import { firstDifference, formatVersionOf, fromSchemaText, toSchema } from "./_schema.ts";
import { Seqlock } from "./_seqlock.ts";
import { isSynchronousFunction, isThenable, notSynchronousError, thenableError } from "./_synchronous.ts";
import { formatError } from "./format_error.ts";
import { describeValue } from "../ffi/describe_value.ts";

/** Copies a file makes before it generates a reader for its layout. */
const COMPILE_AFTER = 16;

/** Options for {@linkcode StructFile.create}. */
export interface StructFileCreateOptions<F extends Fields> {
  /**
   * Initial field values (any part of the value); the rest is zero. Written before the
   * file appears at its path.
   *
   * @default {all zeros}
   */
  initial?: StructInput<F>;
  /**
   * Permission bits, as {@linkcode MappedFile.create}.
   *
   * @default {0o600}
   */
  mode?: number;
  /**
   * Replace an existing file by rename (readers of the old file keep it), as
   * {@linkcode MappedFile.create}.
   *
   * @default {false}
   */
  overwrite?: boolean;
  /**
   * Hold a `flock(2)` lock on the file for the life of the handle, taken before the file
   * appears at `path`, as {@linkcode MappedFile.create}.
   *
   * @default {undefined (no lock)}
   */
  lock?: LockMode;
}

/** Options for {@linkcode StructFile.open}. */
export interface StructFileOpenOptions<F extends Fields> {
  /**
   * The layout the file must have. When given, a file with any other layout is refused
   * with a {@linkcode FormatError} (`reason` `"type-mismatch"`) naming the first
   * difference, and views are typed by it. When not, the layout is rebuilt from the file.
   *
   * @default {the layout the file describes}
   */
  type?: StructType<F>;
  /**
   * Map read-write, to {@linkcode StructFile.prototype.update} the data. Several processes
   * may write: updates take turns through the sequence word.
   *
   * @default {false}
   */
  write?: boolean;
  /**
   * How long {@linkcode StructFile.prototype.snapshot} (and `update`) wait for a writer that
   * is alive but inside an update, in milliseconds.
   *
   * @default {1000}
   */
  timeout?: number;
  /**
   * Hold a `flock(2)` lock on the file for the life of the handle, as
   * {@linkcode MappedFile.open}: a conflicting lock is an `MmapError`.
   *
   * @default {undefined (no lock)}
   */
  lock?: LockMode;
}

/**
 * What {@linkcode StructFile.prototype.check} finds at the file's path: the file this
 * object maps (`"current"`), or another file or none (`"replaced"`: open the path again to
 * follow it).
 */
export type StructFileStatus = "current" | "replaced";

/**
 * Internal, for the `mmstruct` command: runs `read` over the mapped data as
 * {@linkcode StructFile.prototype.snapshot} copies it, again until no update overlapped
 * it, and returns its result and the version it was read at. `read` must only read: it
 * may run several times, over data an update is changing. `arrays` span the mapping, and
 * read nothing once the file is closed.
 */
export let readConsistently: <T>(
  file: StructFile,
  read: (arrays: Arrays, dataOffset: number) => T,
) => [T, number];

/**
 * Layouts rebuilt from schema text, so that opening many files of one layout parses it
 * once. Keyed by the text itself (decoded, so hashed once for get and set), with the format
 * version beside the layout: a key of version and text made a 3 KB string anew each open.
 */
const layoutCache = new Map<string, { version: number; type: StructType }>();
const LAYOUT_CACHE_SIZE = 64;

const encoder = new TextEncoder();
/** Keeps a byte order mark, so that a schema starting with one is refused (`docs/FORMAT.md`). */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

function validateTimeout(timeout: unknown): number {
  if (typeof timeout !== "number" || !(timeout >= 0) || timeout > 2 ** 31) {
    throw new RangeError(`Cannot open struct file: timeout must be a number of milliseconds, got ${String(timeout)}`);
  }
  return timeout;
}

/**
 * A file holding one struct that describes itself: a header, the layout as JSON and the
 * data (format: `docs/FORMAT.md`). Any reader can open any struct file and get typed,
 * consistent values without knowing the layout in advance: this library (even with no
 * compiled-in layout), the `mmstruct` command, or a C or Python program.
 *
 * Writers group field changes in {@linkcode StructFile.prototype.update}; readers take
 * {@linkcode StructFile.prototype.snapshot}s, which never show half an update (a sequence
 * lock). See [Safety](https://jsr.io/@mmstruct/mmstruct#safety) for what mapping a file
 * implies.
 *
 * @typeParam F The fields of the layout.
 *
 * @example Writer and reader
 * ```ts
 * import { StructFile, struct, u32, u64 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "stats.mms");
 * const Stats = struct({ requests: u64, errors: u32 });
 *
 * using writer = StructFile.create(path, Stats, { initial: { requests: 10n } });
 * writer.update((stats) => {
 *   stats.requests += 1n;
 *   stats.errors += 1;
 * });
 *
 * using reader = StructFile.open(path); // no layout needed: the file has it
 * assert.deepEqual(reader.snapshot(), { requests: 11n, errors: 1 });
 * rmSync(dir, { recursive: true });
 * ```
 */
export class StructFile<F extends Fields = Fields> {
  readonly #file: MappedFile;
  readonly #type: StructType<F>;
  /** Made on first use: generating a layout's accessors costs more than the rest of `open`. */
  #view: StructView<F> | undefined;
  readonly #dataOffset: number;
  readonly #arrays: Arrays;
  /** Generated on the `COMPILE_AFTER`th snapshot: until then snapshots copy without it. */
  #reader: Reader | undefined;
  #snapshots = 0;
  /** The header's sequence lock: updates take it, snapshots retry around it. */
  readonly #lock: Seqlock;
  /** The file that was at the path when it was opened (undefined if it could not be told). */
  readonly #identity: FileIdentity | undefined;
  #updating = false;
  /**
   * Writable and not closed: what `update` checks on every call, kept here because reading
   * it through the {@linkcode MappedFile}'s getters costs Bun (1.4.5) about 10 ns an update.
   */
  #updatable: boolean;

  static {
    readConsistently = (file, read) => {
      if (file.#file.closed) throw new TypeError(`Cannot snapshot ${JSON.stringify(file.path)}: the file is closed`);
      return file.#lock.read(() => read(file.#arrays, file.#dataOffset));
    };
  }

  private constructor(
    file: MappedFile,
    type: StructType<F>,
    dataOffset: number,
    timeout: number,
    identity: FileIdentity | undefined,
  ) {
    this.#file = file;
    this.#identity = identity;
    this.#type = type;
    // In bounds: readHeader (or create) checked dataOffset + type.size <= file size.
    this.#dataOffset = dataOffset;
    this.#arrays = arraysFor(file.buffer);
    this.#reader = existingReader(type, this.#arrays, dataOffset, type.align); // a layout this process has read before
    this.#lock = new Seqlock(file.buffer, file.writable, file.path, timeout);
    this.#updatable = file.writable;
  }

  /**
   * Creates a struct file: header, schema and initial data are written under a temporary
   * name, then the file appears at `path` complete (as {@linkcode MappedFile.create}, whose
   * safety rules apply). This process is recorded as the writer.
   *
   * @param path Where the file appears.
   * @param type The layout.
   * @param options Initial values, mode, overwrite, a lock to hold.
   * @returns The file, open for writing.
   * @throws {TypeError} If `type` is not a struct type or an initial value is wrong.
   * @throws {RangeError} If an initial value does not fit.
   * @throws {MmapError} If the file cannot be created (`"EEXIST"` without `overwrite`, …).
   *
   * @example Create with initial values
   * ```ts
   * import { StructFile, struct, u16, utf8 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const Info = struct({ port: u16, host: utf8(32) });
   * using file = StructFile.create(join(dir, "info.mms"), Info, { initial: { port: 8080, host: "localhost" } });
   * assert.equal(file.view.port, 8080);
   * rmSync(dir, { recursive: true });
   * ```
   */
  static create<F extends Fields>(
    path: string,
    type: StructType<F>,
    options: StructFileCreateOptions<F> = {},
  ): StructFile<F> {
    if (!isMadeType(type) || (type.kind !== "struct" && type.kind !== "union")) {
      throw new TypeError(
        `Cannot create struct file ${JSON.stringify(path)}: expected a struct type, got ${describeValue(type)}`,
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create struct file ${JSON.stringify(path)}: options must be an object, got ${describeValue(options)}`,
      );
    }
    const schema = encoder.encode(JSON.stringify(toSchema(type)));
    if (schema.length > MAX_SCHEMA_LENGTH) {
      throw new RangeError(
        `Cannot create struct file ${JSON.stringify(path)}: the layout's schema exceeds ${MAX_SCHEMA_LENGTH} bytes`,
      );
    }
    const dataOffset = roundUp(HEADER_LENGTH + schema.length, Math.max(DATA_ALIGN, type.align));
    const file = createMappedFile(
      path,
      { size: dataOffset + type.size, mode: options.mode, overwrite: options.overwrite, lock: options.lock },
      (buffer) => {
        writeHeader(buffer, {
          version: formatVersionOf(type),
          schemaLength: schema.length,
          dataOffset,
          dataLength: type.size,
          writerPid: PID,
          writerStart: ownStartTime(),
          createdMs: Date.now(),
          layoutHash: fnv1a64(schema),
        });
        new Uint8Array(buffer, HEADER_LENGTH, schema.length).set(schema);
        if (options.initial !== undefined) type.write(buffer, dataOffset, options.initial);
      },
    );
    // Just published: the path names this file, barring a replacement in the last microseconds.
    // A file its writer cannot read (mode 0o200) has no identity: check() cannot open it either.
    let identity: FileIdentity | undefined;
    try {
      identity = identityOf(path, `Cannot create ${JSON.stringify(path)}`);
    } catch (error) {
      if (!(error instanceof MmapError)) throw error;
    }
    return new StructFile(file, type, dataOffset, 1000, identity);
  }

  /**
   * Opens any struct file and rebuilds its layout from the schema it holds, or checks it
   * against `options.type`. Read-only unless `write` is set. The file is treated as hostile:
   * anything malformed is a {@linkcode FormatError}, never a crash or an out-of-bounds view.
   *
   * @param path The struct file.
   * @param options The expected layout, write access, snapshot timeout, a lock to hold.
   * @returns The open file.
   * @throws {FormatError} If the file is not a valid struct file or has another layout than `type`.
   * @throws {MmapError} If the file cannot be opened (`"ENOENT"`, `"EACCES"`, …).
   * @throws {RangeError} If `timeout` is not a number of milliseconds.
   *
   * @example Check the layout
   * ```ts
   * import { FormatError, StructFile, struct, u32, u64 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const path = join(dir, "stats.mms");
   * StructFile.create(path, struct({ hits: u32 })).close();
   * assert.throws(() => StructFile.open(path, { type: struct({ hits: u64 }) }), FormatError);
   * using file = StructFile.open(path, { type: struct({ hits: u32 }) });
   * assert.equal(file.view.hits, 0);
   * rmSync(dir, { recursive: true });
   * ```
   */
  static open<F extends Fields = Fields>(path: string, options: StructFileOpenOptions<F> = {}): StructFile<F> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot open struct file ${JSON.stringify(path)}: options must be an object, got ${describeValue(options)}`,
      );
    }
    const timeout = validateTimeout(options.timeout ?? 1000);
    // The identity of the descriptor mapped, not of what the path named a moment before or
    // after: check() then says "current" exactly while the path names the mapped file.
    let identity: FileIdentity | undefined;
    let file: MappedFile;
    try {
      // At most what one buffer may hold on this runtime: a struct file whose data ends
      // within that opens even if more bytes follow (they are not part of it).
      file = openMappedFile(
        path,
        { write: options.write ?? false, lock: options.lock },
        libc().maxBufferLength,
        ({ device, inode, size }) => identity = { device, inode, size },
      );
    } catch (error) {
      if (error instanceof MmapError && error.code === "EINVAL" && error.syscall === "mmap") {
        throw formatError(path, "truncated", "the file is empty", { cause: error });
      }
      throw error;
    }
    try {
      const header = readHeader(file.buffer, path);
      // One copy of the schema: hashed and parsed from private memory, not the shared file.
      const schema = new Uint8Array(file.buffer, header.schemaOffset, header.schemaLength).slice();
      const hash = fnv1a64(schema);
      if (hash !== header.layoutHash) {
        throw formatError(path, "hash", "the schema does not match the layout hash in the header");
      }
      let text: string;
      try {
        text = decoder.decode(schema);
      } catch (error) {
        throw formatError(path, "schema", "the schema is not valid UTF-8", { cause: error });
      }
      // The version must match too: a version 2 schema with a bitfield is refused.
      const cached = layoutCache.get(text);
      let type: StructType;
      if (cached !== undefined && cached.version === header.version) {
        type = cached.type;
      } else {
        type = fromSchemaText(text, path, header.version);
        if (cached === undefined && layoutCache.size >= LAYOUT_CACHE_SIZE) {
          layoutCache.delete(layoutCache.keys().next().value!);
        }
        layoutCache.set(text, { version: header.version, type });
      }
      if (type.size !== header.dataLength) {
        throw formatError(path, "layout", `the data area has ${header.dataLength} bytes, the layout ${type.size}`);
      }
      if (header.dataOffset % type.align !== 0) {
        throw formatError(
          path,
          "header",
          `data offset ${header.dataOffset} is not aligned to the layout's ${type.align}`,
        );
      }
      if (options.type !== undefined) {
        const difference = firstDifference(toSchema(options.type), toSchema(type));
        if (difference !== undefined) {
          throw formatError(
            path,
            "type-mismatch",
            `the file's layout differs from the expected one: ${difference}`,
          );
        }
        type = options.type as StructType;
      }
      return new StructFile(file, type as StructType<F>, header.dataOffset, timeout, identity);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** The layout of the data. */
  get type(): StructType<F> {
    return this.#type;
  }

  /**
   * A live view of the data. Reads of a single field are always whole, but several reads
   * may straddle an update: use {@linkcode StructFile.prototype.snapshot} for a consistent
   * copy. Writes through it outside `update` are not seen as a change by readers' `version`;
   * on a read-only file they throw a `TypeError`.
   */
  get view(): StructView<F> {
    return this.#view ??= this.#type.view(this.#file, this.#dataOffset);
  }

  /**
   * The sequence word: it changes with every update (odd while one is under way). Comparing
   * it with an earlier value is the cheapest way to tell whether anything changed.
   */
  get version(): number {
    if (this.#file.closed) {
      throw new TypeError(`Cannot read the version of ${JSON.stringify(this.path)}: the file is closed`);
    }
    return this.#lock.version();
  }

  /** The path the file was opened or created at. */
  get path(): string {
    return this.#file.path;
  }

  /** Whether the file is open for writing. */
  get writable(): boolean {
    return this.#file.writable;
  }

  /** Whether {@linkcode StructFile.prototype.close} has been called. */
  get closed(): boolean {
    return this.#file.closed;
  }

  /**
   * Runs `fn(view)` as one write section: readers' snapshots see either none or all of its
   * changes. The sequence word is odd while `fn` runs and even after, also when `fn`
   * throws (its partial changes are then published as they are, and the error rethrown).
   * Writers in other processes take turns; a writer that died inside an update is taken
   * over.
   *
   * `fn` must be synchronous: the write section ends when it returns. An `async` function
   * is refused before anything happens (a compile-time error too, as is any `fn` typed to
   * return a promise). A function that returns a promise or another thenable without being
   * `async` can be told only once it returned: what it wrote until then is published as
   * one update, as when `fn` throws, then `update` throws a `TypeError`; writes made after
   * that, when the promise's callbacks run, are outside any update (readers' `version` does
   * not change and a snapshot may see them half done).
   *
   * @param fn Changes fields through the view, synchronously. It must not call `update` itself.
   * @throws {TypeError} If the file is read-only or closed, `update` is nested, or `fn` is
   * not a function, is `async` or returned a thenable.
   * @throws {StaleWriterError} If another live writer holds the file for longer than the timeout, or took
   * the file over during this update (judging this process dead).
   *
   * @example Keep two fields consistent
   * ```ts
   * import { StructFile, struct, u32 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = StructFile.create(join(dir, "pair.mms"), struct({ a: u32, b: u32 }));
   * file.update((v) => {
   *   v.a = 21;
   *   v.b = 42;
   * });
   * assert.equal(file.version, 2);
   * rmSync(dir, { recursive: true });
   * ```
   */
  update<R>(
    fn: (view: StructView<F>) => R & (R extends { then: (...args: never[]) => unknown } ? never : unknown),
  ): void {
    // The checks that pass on every good call, then the rare errors apart: this path stays
    // small enough for V8 to inline `update` and `fn` into the caller, and V8 15 (Deno) then
    // allocates no closure for an `update(() => …)` written in place.
    if (!this.#updatable || this.#updating || !isSynchronousFunction(fn)) {
      this.#refuseUpdate(fn);
    }
    const lock = this.#lock;
    const s = lock.enter();
    this.#updating = true;
    try {
      const result = fn(this.#view ?? this.view);
      // Inside the write section and the try: a `then` getter may throw, or call update().
      if (result !== undefined && isThenable(result)) throw thenableError(this.path);
    } catch (error) {
      this.#updating = false;
      lock.leave(s, { error });
      throw error;
    }
    this.#updating = false;
    lock.leave(s, undefined);
  }

  /** Throws the `TypeError` for an `update` refused before it took the write section. */
  #refuseUpdate(fn: unknown): never {
    if (!this.#file.writable || this.#file.closed) {
      throw new TypeError(
        `Cannot update ${JSON.stringify(this.path)}: the file is ${
          this.#file.closed ? "closed" : "read-only (open it with write: true)"
        }`,
      );
    }
    if (this.#updating) throw new TypeError(`Cannot update ${JSON.stringify(this.path)}: update() calls cannot nest`);
    throw notSynchronousError(fn, this.path);
  }

  /**
   * A consistent plain-object copy of the data: never half an update. Retries while a
   * writer is inside an update; gives up at once when that writer is dead, and after the
   * timeout (`open`'s `timeout`, 1 s by default) when it is alive but does not finish.
   * Arrays of native-order numbers are copied as typed arrays (`array(u32, n)` as a
   * `Uint32Array`), each in one copy.
   *
   * What a snapshot alone can and cannot tell: it never returns a torn copy, and it detects
   * a writer that died or hangs inside an update. It cannot tell that the file was replaced
   * at its path (it keeps reading the file it mapped, which no writer may update any more)
   * or truncated by another program: a truncation within the last mapped page reads as
   * zeros, which a snapshot returns as valid values, and one past it kills the process
   * (SIGBUS, see [Safety](https://jsr.io/@mmstruct/mmstruct#safety)). A reader that polls
   * calls {@linkcode StructFile.prototype.check} before each snapshot, as
   * {@linkcode watch} does.
   *
   * @returns The values of every field.
   * @throws {StaleWriterError} If the writer died inside an update, or is stuck in one.
   * @throws {TypeError} If the file is closed.
   *
   * @example Poll a file
   * ```ts
   * import { StructFile, struct, u32 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = StructFile.create(join(dir, "n.mms"), struct({ n: u32 }), { initial: { n: 5 } });
   * assert.deepEqual(file.snapshot(), { n: 5 });
   * rmSync(dir, { recursive: true });
   * ```
   */
  snapshot(): StructValue<F> {
    return this.snapshotWithVersion()[0];
  }

  /**
   * {@linkcode StructFile.prototype.snapshot} and the (even) version it was taken at.
   *
   * @returns `[value, version]`.
   * @throws {StaleWriterError} As `snapshot`.
   */
  snapshotWithVersion(): [StructValue<F>, number] {
    // Seqlock.read() with the copy written in: a call through a closure here costs a few
    // nanoseconds of the 60 to 110 a snapshot of 32 fields takes.
    if (this.#file.closed) throw new TypeError(`Cannot snapshot ${JSON.stringify(this.path)}: the file is closed`);
    const lock = this.#lock;
    let started = 0;
    for (let attempt = 0;; attempt++) {
      const before = lock.load();
      if ((before & 1) === 0) {
        const reader = this.#reader;
        const value = reader !== undefined ? reader.$read() : this.#copyInterpreted();
        if (lock.load() === before) return [value as StructValue<F>, before >>> 0];
      }
      if (attempt < 64) continue; // contended: spin briefly first
      if (started === 0) started = performance.now();
      lock.waitToRead(before, started);
    }
  }

  /**
   * Looks at what the path names now (an `open(2)` and `fstat(2)` of it): whether it is
   * still the file this object maps, and whether that file still holds all of its data.
   * Pollers call it before each snapshot, which can tell neither (see
   * {@linkcode StructFile.prototype.snapshot}): {@linkcode watch} and the `mmstruct`
   * command do, at every poll.
   *
   * A writer that restarts publishes a new file by rename (`create({ overwrite: true })`):
   * the path then names another file, and this one is `"replaced"`; open the path again to
   * follow it. A file removed from the path is `"replaced"` too (reopening it then fails
   * with `ENOENT`). A truncated file is a {@linkcode FormatError} (`reason`
   * `"truncated"`): reading it would return zeros or kill the process.
   *
   * The size is checked only while the path names the mapped file; once replaced, the old
   * file cannot be checked, and should no longer be read. A truncation after `check()`
   * returned is not seen until the next one.
   *
   * @returns `"current"` or `"replaced"`.
   * @throws {FormatError} If the mapped file is now shorter than its data (`reason` `"truncated"`).
   * @throws {MmapError} If the path cannot be opened for another reason than `ENOENT` (`"EACCES"`, …).
   * @throws {TypeError} If the file is closed.
   *
   * @example Follow a file that its writer replaces
   * ```ts
   * import { StructFile, struct, u32 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const path = join(dir, "n.mms");
   * const N = struct({ n: u32 });
   * StructFile.create(path, N, { initial: { n: 1 } }).close();
   * let reader = StructFile.open(path);
   * assert.equal(reader.check(), "current");
   * StructFile.create(path, N, { initial: { n: 2 }, overwrite: true }).close(); // a restarted writer
   * if (reader.check() === "replaced") {
   *   reader.close();
   *   reader = StructFile.open(path);
   * }
   * assert.deepEqual(reader.snapshot(), { n: 2 });
   * reader.close();
   * rmSync(dir, { recursive: true });
   * ```
   */
  check(): StructFileStatus {
    const what = `Cannot check ${JSON.stringify(this.path)}`;
    if (this.#file.closed) throw new TypeError(`${what}: the file is closed`);
    const now = identityOf(this.path, what);
    if (now === undefined || this.#identity === undefined || !sameFile(now, this.#identity)) return "replaced";
    // The path names the mapped file: its size now is that file's.
    const end = this.#dataOffset + this.#type.size;
    if (now.size < end) {
      throw formatError(
        this.path,
        "truncated",
        `the file was truncated to ${now.size} bytes while open, its data ends at byte ${end}`,
      );
    }
    return "current";
  }

  /**
   * The process recorded in the header as the file's writer (the last to create or update
   * it), and whether it still runs: the same process, told from a later one that reuses its
   * pid by its start time on Linux. A reader polling a file whose writer has exited (or
   * was killed) sees values that will not change again; `mmstruct watch` says so.
   *
   * @returns The writer's pid (0 when none is recorded) and whether it is running.
   * @throws {TypeError} If the file is closed.
   *
   * @example The writer of a file this process created
   * ```ts
   * import { StructFile, struct, u32 } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import process from "node:process";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = StructFile.create(join(dir, "n.mms"), struct({ n: u32 }));
   * assert.deepEqual(file.writer(), { pid: process.pid, alive: true });
   * rmSync(dir, { recursive: true });
   * ```
   */
  writer(): { readonly pid: number; readonly alive: boolean } {
    if (this.#file.closed) {
      throw new TypeError(`Cannot read the writer of ${JSON.stringify(this.path)}: the file is closed`);
    }
    return this.#lock.writer();
  }

  /**
   * A copy of the data made without generated code, for the first copies a file makes:
   * generating and compiling a layout's reader costs more than opening the file, which a
   * reader that opens, copies once and exits (a monitoring plugin) need never pay.
   */
  #copyInterpreted(): unknown {
    if (++this.#snapshots >= COMPILE_AFTER) {
      this.#reader = generatedReader(this.#type, this.#arrays, this.#dataOffset, this.#type.align);
    }
    return readInterpreted(this.#type, this.#arrays, this.#dataOffset);
  }

  /**
   * Flushes the file to disk (`msync`), as {@linkcode MappedFile.prototype.sync}.
   *
   * @param options A byte range of the whole file and `async`.
   * @throws {MmapError} If `msync` fails.
   * @throws {TypeError} If the file is closed.
   */
  sync(options?: SyncOptions): void {
    this.#file.sync(options);
  }

  /**
   * Unmaps the file. Calling it more than once is a no-op; views read nothing after it.
   *
   * @throws {TypeError} If called inside {@linkcode StructFile.prototype.update} (from its `fn`): the update must
   * leave the write section first, or every reader would wait for it until its timeout. Close after `update` returns.
   */
  close(): void {
    if (this.#updating) {
      throw new TypeError(
        `Cannot close ${JSON.stringify(this.path)} inside update(): close it after update() returns`,
      );
    }
    this.#updatable = false;
    this.#file.close();
  }

  /** Same as {@linkcode StructFile.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
