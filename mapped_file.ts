/**
 * {@linkcode MappedFile}: a file mapped into memory, exposed as a zero-copy `ArrayBuffer`.
 *
 * @module
 */

import process from "node:process";
import { check, checkMap, errnoError } from "./ffi/check.ts";
import { errnoName } from "./ffi/errno.ts";
import {
  checkDirectory,
  checkFileOwner,
  checkFileSizeLimit,
  type FileStatus,
  fileStatus,
  lockFile,
  type LockMode,
  namesDirectory,
  openDirectory,
  refusal,
  splitPath,
} from "./ffi/files.ts";
import { type Libc, libc } from "./ffi/libc.ts";
import { detachBuffer } from "./ffi/runtime.ts";
import { describeValue } from "./ffi/describe_value.ts";

export type { LockMode };

/** Options for {@linkcode MappedFile.create}. */
export interface CreateOptions {
  /** Size of the file and of the mapping, in bytes. Required; at least 1. */
  size: number;
  /**
   * Permission bits of the new file, before the process umask is applied (as `open(2)`).
   *
   * @default {0o600}
   */
  mode?: number;
  /**
   * Replace a file that already exists at `path`. The old file is never truncated (that
   * would kill every process that has it mapped with SIGBUS): the new file is written
   * beside it and `rename(2)`d over it, so processes that mapped the old file keep it.
   *
   * @default {false}
   */
  overwrite?: boolean;
  /**
   * Hold a `flock(2)` lock on the new file for the life of the handle: `"shared"` (`LOCK_SH`;
   * several holders at once) or `"exclusive"` (`LOCK_EX`). It is taken without waiting
   * (`LOCK_NB`): a conflicting lock held through another open of the file, in another
   * process or in this one, is an `MmapError` with `code` `"EAGAIN"` (the errno
   * name of `EWOULDBLOCK`). The handle keeps the file descriptor open to hold the lock, and
   * {@linkcode MappedFile.prototype.close} releases it (so does the death of the process,
   * and the garbage collection of an unclosed handle and its buffer). The lock is taken on
   * the temporary file, before it appears at `path`, so that the file is never seen
   * unlocked; with `overwrite`, the replaced file keeps its own locks. Locks are advisory:
   * they keep out only those who ask for one.
   *
   * @default {undefined (no lock)}
   */
  lock?: LockMode;
  /**
   * Skip the checks on the directory that will hold the file: that it is not a symlink,
   * belongs to this user or root, and is not writable by its group or others unless it is
   * sticky (as `/tmp`). Anyone who may write to that directory may replace the file once it
   * is published, so only set this for a directory shared on purpose (a group's directory)
   * or reached through a symlink you trust. The file itself is still created under a
   * temporary name with `O_EXCL | O_NOFOLLOW` and published with `linkat`/`renameat`, which
   * never follow a symlink. See [Safety](https://jsr.io/@mmstruct/mmstruct#safety).
   *
   * @default {false}
   */
  unsafeAllowAnyDirectory?: boolean;
}

/** Options for {@linkcode MappedFile.open}. */
export interface OpenOptions {
  /**
   * Map read-write (`O_RDWR`, `PROT_READ | PROT_WRITE`). When false the mapping is
   * `PROT_READ`: see the Safety section of the README before writing to its buffer.
   *
   * A file opened for writing must be safe to write: a symlink at `path` is never followed
   * (`O_NOFOLLOW`: `"ELOOP"`), the file must belong to this user, and the directory that
   * holds it must pass the checks of {@linkcode MappedFile.create} (not a symlink, this
   * user's or root's, not writable by others unless sticky); `unsafeAllowAnyDirectory`
   * skips the last two. Read-only opens follow symlinks and check no owner.
   *
   * @default {false}
   */
  write?: boolean;
  /**
   * Byte offset in the file where the mapping starts. Need not be a multiple of the page
   * size: the library maps from the page below and offsets the buffer.
   *
   * @default {0}
   */
  offset?: number;
  /**
   * Bytes to map. Must not reach past the end of the file.
   *
   * @default {the file size minus `offset`}
   */
  length?: number;
  /**
   * Map copy-on-write (`MAP_PRIVATE`): the buffer is writable, but writes stay in this
   * process and never reach the file. Pages this process has not written still show
   * other processes' changes on Linux. `sync()` has no effect on such a mapping.
   *
   * @default {false}
   */
  private?: boolean;
  /**
   * Read the whole range into memory now (`MAP_POPULATE`), so first accesses do not
   * fault. Has no effect on macOS.
   *
   * @default {false}
   */
  populate?: boolean;
  /**
   * Hold a `flock(2)` lock on the file for the life of the handle: `"shared"` (`LOCK_SH`;
   * several holders at once) or `"exclusive"` (`LOCK_EX`). It is taken without waiting
   * (`LOCK_NB`): a conflicting lock held through another open of the file, in another
   * process or in this one, is an `MmapError` with `code` `"EAGAIN"` (the errno
   * name of `EWOULDBLOCK`). The handle keeps the file descriptor open to hold the lock, and
   * {@linkcode MappedFile.prototype.close} releases it (so does the death of the process,
   * and the garbage collection of an unclosed handle and its buffer). Locks are advisory:
   * they keep out only those who ask for one.
   *
   * @default {undefined (no lock)}
   */
  lock?: LockMode;
  /**
   * With `write`, skip the checks that the file belongs to this user and that the directory
   * that holds it is not a symlink, belongs to this user or root, and is not writable by
   * others unless sticky, as {@linkcode CreateOptions.unsafeAllowAnyDirectory}. For files
   * shared on purpose (several users of one group writing one file). A symlink at `path`
   * itself is still refused when writing: pass its target (`realpathSync(path)`) instead.
   * No effect without `write`.
   *
   * @default {false}
   */
  unsafeAllowAnyDirectory?: boolean;
}

/** Options for {@linkcode MappedFile.prototype.sync}. */
export interface SyncOptions {
  /**
   * Start the write-back and return without waiting for it (`MS_ASYNC`) instead of
   * waiting until the data is on disk (`MS_SYNC`).
   *
   * @default {false}
   */
  async?: boolean;
  /**
   * First byte of the range to flush, relative to the buffer. Rounded down to a page
   * boundary inside the library.
   *
   * @default {0}
   */
  offset?: number;
  /**
   * Bytes to flush from `offset`.
   *
   * @default {the rest of the buffer}
   */
  length?: number;
}

/** A hint for {@linkcode MappedFile.prototype.advise}, the `MADV_*` constant in lower case. */
export type Advice = "normal" | "random" | "sequential" | "willneed" | "dontneed";

const ADVICE = {
  normal: "MADV_NORMAL",
  random: "MADV_RANDOM",
  sequential: "MADV_SEQUENTIAL",
  willneed: "MADV_WILLNEED",
  dontneed: "MADV_DONTNEED",
} as const;

/** Where a mapping lives (what `munmap` needs), and the descriptor kept open to hold a lock. */
interface Region {
  address: bigint;
  length: number;
  /** The descriptor holding the handle's `flock` lock; -1 when none, or once closed. */
  fd: number;
}

/**
 * A buffer that is never closed by its owner is unmapped once it is garbage-collected:
 * nothing can reach the memory any more, since every view keeps its buffer alive.
 */
const unmapOnCollect = new FinalizationRegistry<Region>((region) => {
  libc().munmap(region.address, region.length);
  if (region.fd >= 0) libc().close(region.fd);
});

function describe(path: string): string {
  return JSON.stringify(path);
}

function validatePath(path: unknown, verb: string, noun = "file"): asserts path is string {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`Cannot ${verb} ${noun}: path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if (path.includes("\0")) {
    throw new TypeError(`Cannot ${verb} ${describe(path)}: path contains a NUL character`);
  }
}

function validateInteger(value: unknown, name: string, what: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${what}: ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min) throw new RangeError(`${what}: ${name} ${value} is less than ${min}`);
  return value;
}

function validateBoolean(value: unknown, name: string, what: string): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${what}: ${name} must be a boolean, got ${String(value)}`);
  return value;
}

function validateLock(value: unknown, what: string): LockMode | undefined {
  if (value === undefined || value === "shared" || value === "exclusive") return value;
  throw new TypeError(`${what}: lock must be "shared" or "exclusive", got ${JSON.stringify(value) ?? String(value)}`);
}

function validateBufferLength(c: Libc, length: number, what: string): void {
  if (length > c.maxBufferLength) {
    throw new RangeError(
      `${what}: ${length} bytes exceed the ${c.maxBufferLength} bytes ${c.runtime} allows in one ArrayBuffer: ` +
        `map the file in windows with the offset and length options`,
    );
  }
}

function fileType(mode: number, c: Libc): string | undefined {
  const k = c.platform.constants;
  switch (mode & k.S_IFMT) {
    case k.S_IFREG:
      return undefined;
    case k.S_IFDIR:
      return "a directory";
    case k.S_IFIFO:
      return "a FIFO";
    case k.S_IFCHR:
      return "a character device";
    case k.S_IFBLK:
      return "a block device";
    case k.S_IFSOCK:
      return "a socket";
    default:
      return "not a regular file";
  }
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The private constructor, for {@linkcode createMappedFile} and {@linkcode openMappedFile}.
 * It takes over `region`: should making the handle throw, the mapping is unmapped before
 * the error goes on, since no handle exists to close it.
 */
let construct: (path: string, region: Region, byteOffset: number, byteLength: number, writable: boolean) => MappedFile;

/**
 * A file mapped into memory with `mmap(2)`, shared with every other process that maps it.
 *
 * {@linkcode MappedFile.prototype.buffer} is the mapped memory itself: writes to it are
 * seen at once by other processes mapping the same file, with no system call. Read the
 * [Safety](https://jsr.io/@mmstruct/mmstruct#safety) section of the README first: another
 * process truncating the file, or a write through a read-only mapping, kills the process in
 * a way JavaScript cannot catch.
 *
 * A `MappedFile` is a resource: close it with {@linkcode MappedFile.prototype.close} or a
 * `using` declaration. After closing, the buffer and every view over it read as empty (Deno,
 * Bun) or as zeros (Node), and never reach the file.
 *
 * @example Share a counter between processes
 * ```ts
 * import { MappedFile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "counter.mms");
 * {
 *   using writer = MappedFile.create(path, { size: 4096 });
 *   new Int32Array(writer.buffer)[0] = 42;
 *
 *   using reader = MappedFile.open(path);
 *   assert.equal(new Int32Array(reader.buffer)[0], 42);
 * }
 * rmSync(dir, { recursive: true });
 * ```
 */
export class MappedFile {
  readonly #path: string;
  readonly #region: Region;
  #buffer: ArrayBuffer;
  readonly #byteOffset: number;
  readonly #writable: boolean;
  #closed = false;

  static {
    construct = (path, region, byteOffset, byteLength, writable) => {
      try {
        return new MappedFile(path, region, byteOffset, byteLength, writable);
      } catch (error) {
        // A failed munmap here has nothing to add to the error that is on its way.
        libc().munmap(region.address, region.length);
        throw error;
      }
    };
  }

  private constructor(path: string, region: Region, byteOffset: number, byteLength: number, writable: boolean) {
    const c = libc();
    this.#path = path;
    this.#region = region;
    this.#byteOffset = byteOffset;
    this.#writable = writable;
    // In bounds: byteOffset + byteLength <= region.length, checked by the callers.
    this.#buffer = c.unsafeArrayBuffer(region.address + BigInt(byteOffset), byteLength);
    unmapOnCollect.register(this.#buffer, region, this);
  }

  /**
   * Creates a new file of `size` zero bytes and maps it read-write and shared.
   *
   * The directory that will hold the file is opened once (`O_DIRECTORY | O_NOFOLLOW`) and
   * checked: it must not be a symlink, must belong to this user or root, and must not be
   * writable by its group or others unless it is sticky (as `/tmp`), since whoever may
   * write to it could replace the file (`unsafeAllowAnyDirectory` skips this; symlinks
   * further up the path are followed). Everything else happens relative to that
   * directory: the file is opened with `O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC` under a
   * temporary name (`openat`), locked if `lock` asks, its blocks are allocated with
   * `posix_fallocate(3)` (a full disk fails here with `ENOSPC`, not later with SIGBUS), and
   * only then does it appear at `path`: with `linkat(2)` (which never follows or replaces
   * an existing entry, symlinks included) or, with `overwrite`, `renameat(2)`. Readers
   * never see a half-made file. A `size` over the file-size limit (`ulimit -f`) is refused
   * before anything is created. See [Safety](https://jsr.io/@mmstruct/mmstruct#safety).
   *
   * @param path Where the file appears.
   * @param options The size, mode, whether to replace an existing file, a lock to hold,
   * and the directory checks' opt-out.
   * @returns The writable mapping of the new file.
   * @throws {TypeError} If `path` is not a non-empty string or an option has the wrong type.
   * @throws {RangeError} If `size` is less than 1, or more than this runtime can map at once.
   * @throws {MmapError} If the directory is refused (`"ELOOP"` for a symlink, `"EPERM"` for
   * one another user owns or may write to; the message says which), if `path` names a
   * directory (`"EISDIR"`), if `size` exceeds the file-size limit (`"EFBIG"`), or if a
   * system call fails: `"EEXIST"` when something is at `path` already (without
   * `overwrite`), `"ENOSPC"` for a full disk, `"EACCES"`, ….
   *
   * @example Create a file and write to it
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const path = join(dir, "stats.mms");
   * using file = MappedFile.create(path, { size: 16 });
   * new Uint8Array(file.buffer).set([1, 2, 3]);
   * file.sync();
   * assert.deepEqual([...readFileSync(path).subarray(0, 4)], [1, 2, 3, 0]);
   * rmSync(dir, { recursive: true });
   * ```
   */
  static create(path: string, options: CreateOptions): MappedFile {
    return createMappedFile(path, options, () => {});
  }

  /**
   * Maps an existing file, read-only unless `write` is set.
   *
   * Anything but a regular file (a FIFO, a directory, a device) is refused at once,
   * without blocking. With `write`, a symlink at `path` is refused (`O_NOFOLLOW`), the file
   * must belong to this user and its directory must pass the checks of
   * {@linkcode MappedFile.create}. See [Safety](https://jsr.io/@mmstruct/mmstruct#safety).
   *
   * @param path The file to map.
   * @param options Access, the window to map (`offset`, `length`), `private`, `populate`,
   * a lock to hold, and the write checks' opt-out.
   * @returns The mapping.
   * @throws {TypeError} If `path` is not a non-empty string or an option has the wrong type.
   * @throws {RangeError} If `offset` or `length` is negative, or reaches past the end of the
   * file, or the window is larger than this runtime can map at once.
   * @throws {MmapError} If the file cannot be opened or mapped (`"ENOENT"`, `"EACCES"`, …),
   * is not a regular file (`"EISDIR"` for a directory, `"ENODEV"` otherwise) or is empty
   * (`"EINVAL"`); with `write`, if it is a symlink (`"ELOOP"`), belongs to another user or
   * sits in a directory that is refused (`"EPERM"`, `"ELOOP"`); with `lock`, if another
   * open of the file holds a conflicting lock (`"EAGAIN"`).
   *
   * @example Map a window of a file
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const path = join(dir, "data.bin");
   * writeFileSync(path, new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
   * using slice = MappedFile.open(path, { offset: 5 });
   * assert.deepEqual([...new Uint8Array(slice.buffer)], [5, 6, 7]);
   * rmSync(dir, { recursive: true });
   * ```
   */
  static open(path: string, options: OpenOptions = {}): MappedFile {
    return openMappedFile(path, options);
  }

  /**
   * The mapped memory, zero-copy: reads and writes go straight to the shared pages. Every
   * call returns the same `ArrayBuffer`; after {@linkcode MappedFile.prototype.close} it is
   * empty.
   *
   * @example Write through a typed array
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = MappedFile.create(join(dir, "a.mms"), { size: 8 });
   * const words = new Uint32Array(file.buffer);
   * words[1] = 7;
   * assert.equal(new DataView(file.buffer).getUint32(4, true), 7);
   * rmSync(dir, { recursive: true });
   * ```
   */
  get buffer(): ArrayBuffer {
    return this.#buffer;
  }

  /** Bytes in {@linkcode MappedFile.prototype.buffer}; 0 once closed. */
  get byteLength(): number {
    return this.#closed ? 0 : this.#buffer.byteLength;
  }

  /** The path the file was opened or created at. */
  get path(): string {
    return this.#path;
  }

  /** Whether the buffer may be written (`write: true`, `private: true`, or a created file). */
  get writable(): boolean {
    return this.#writable;
  }

  /** Whether {@linkcode MappedFile.prototype.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Flushes changes to the file on disk with `msync(2)`: waits until they are written
   * (`MS_SYNC`), or only starts the write-back with `async: true` (`MS_ASYNC`). Other
   * processes see changes without it; it is for durability across a crash of the machine.
   *
   * @param options An optional byte range (rounded out to whole pages) and `async`.
   * @throws {TypeError} If the file is closed or an option has the wrong type.
   * @throws {RangeError} If the range reaches outside the buffer.
   * @throws {MmapError} If `msync` fails (`"EIO"` for a write error).
   *
   * @example Flush one record
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = MappedFile.create(join(dir, "log.mms"), { size: 65536 });
   * new Uint8Array(file.buffer, 8192, 16).fill(1);
   * file.sync({ offset: 8192, length: 16 });
   * file.sync({ async: true });
   * rmSync(dir, { recursive: true });
   * ```
   */
  sync(options: SyncOptions = {}): void {
    const what = `Cannot sync ${describe(this.#path)}`;
    this.#assertOpen(what);
    const async = options.async ?? false;
    if (typeof async !== "boolean") {
      throw new TypeError(`${what}: async must be a boolean, got ${describeValue(async)}`);
    }
    const byteLength = this.#buffer.byteLength;
    const offset = validateInteger(options.offset ?? 0, "offset", what, 0);
    const length = validateInteger(options.length ?? byteLength - offset, "length", what, 0);
    if (offset + length > byteLength) {
      throw new RangeError(
        `${what}: offset ${offset} + length ${length} is past the end of the buffer (${byteLength} bytes)`,
      );
    }
    if (length === 0) return;
    const c = libc();
    // msync(2) needs a page-aligned address: round the start down within the region.
    const start = this.#byteOffset + offset;
    const alignedStart = start - (start % c.pageSize);
    const flags = async ? c.platform.constants.MS_ASYNC : c.platform.constants.MS_SYNC;
    check(
      c,
      c.msync(this.#region.address + BigInt(alignedStart), start + length - alignedStart, flags),
      "msync",
      what,
      this.#path,
    );
  }

  /**
   * Tells the kernel how the mapping will be used (`madvise(2)`). `"dontneed"` drops the
   * pages from this process; a shared mapping reads them back from the file on next
   * access, a private one loses its private changes.
   *
   * @param advice `"normal"`, `"random"`, `"sequential"`, `"willneed"` or `"dontneed"`.
   * @throws {TypeError} If the file is closed or `advice` is not one of these.
   * @throws {MmapError} If `madvise` fails.
   *
   * @example Read a file front to back
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using file = MappedFile.create(join(dir, "big.mms"), { size: 1 << 20 });
   * file.advise("sequential");
   * rmSync(dir, { recursive: true });
   * ```
   */
  advise(advice: Advice): void {
    const what = `Cannot advise ${describe(this.#path)}`;
    this.#assertOpen(what);
    if (!Object.hasOwn(ADVICE, advice)) {
      throw new TypeError(
        `${what}: advice must be one of ${Object.keys(ADVICE).join(", ")}, got ${JSON.stringify(advice)}`,
      );
    }
    const c = libc();
    const value = c.platform.constants[ADVICE[advice]];
    check(c, c.madvise(this.#region.address, this.#region.length, value), "madvise", what, this.#path);
  }

  /**
   * Unmaps the file and releases its `lock`, if it holds one. Calling it more than once is
   * a no-op.
   *
   * Stale views cannot reach the file afterwards: where the runtime can detach an
   * `ArrayBuffer` (Deno, Bun, Node 21+) the buffer is detached and every view over it has
   * length 0; elsewhere (Node 20) anonymous zero pages are mapped over the same addresses,
   * so stale views read zeros and their writes go nowhere, and those pages are released
   * once the old buffer is garbage-collected.
   *
   * @throws {MmapError} In the unlikely case the kernel refuses to unmap or replace the
   * pages; the handle is closed all the same.
   *
   * @example Close explicitly
   * ```ts
   * import { MappedFile } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * const file = MappedFile.create(join(dir, "a.mms"), { size: 8 });
   * file.close();
   * file.close();
   * assert.equal(file.closed, true);
   * assert.equal(file.byteLength, 0);
   * rmSync(dir, { recursive: true });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = libc();
    try {
      this.#unmap(c);
    } finally {
      // After the pages are gone, so that the next holder of the lock never overlaps this
      // mapping; -1 first, so that the registry never closes a descriptor number reused since.
      const fd = this.#region.fd;
      this.#region.fd = -1;
      if (fd >= 0) c.close(fd);
    }
  }

  #unmap(c: Libc): void {
    const what = `Cannot unmap ${describe(this.#path)}`;
    const old = this.#buffer;
    if (detachBuffer(old)) {
      unmapOnCollect.unregister(this);
      check(c, c.munmap(this.#region.address, this.#region.length), "munmap", what, this.#path);
      return;
    }
    // No way to detach: replace the pages in place. Private anonymous pages read as zeros
    // and take writes that reach nothing; MAP_NORESERVE because they are never meant to be
    // used. The registry (still holding `old`) unmaps them once `old` is collected.
    const k = c.platform.constants;
    this.#buffer = new ArrayBuffer(0);
    checkMap(
      c,
      c.mmap(
        this.#region.address,
        this.#region.length,
        k.PROT_READ | k.PROT_WRITE,
        k.MAP_FIXED | k.MAP_PRIVATE | k.MAP_ANONYMOUS | k.MAP_NORESERVE,
        -1,
        0,
      ),
      what,
      this.#path,
    );
  }

  /** Same as {@linkcode MappedFile.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new TypeError(`${what}: the file is closed`);
  }
}

/**
 * {@linkcode MappedFile.create} that runs `initialize` on the new mapping before the file
 * appears at `path`, so that no reader ever sees it uninitialized. Not part of the public
 * API: the struct file format uses it to write its header.
 */
export function createMappedFile(
  path: string,
  options: CreateOptions,
  initialize: (buffer: ArrayBuffer) => void,
): MappedFile {
  validatePath(path, "create");
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create ${describe(path)}: options must be an object with a size, got ${describeValue(options)}`,
    );
  }
  const what = `Cannot create ${describe(path)}`;
  const size = validateInteger(options.size, "size", what, 1);
  const mode = validateInteger(options.mode ?? 0o600, "mode", what, 0);
  if (mode > 0o7777) throw new RangeError(`${what}: mode 0o${mode.toString(8)} is not a permission mode`);
  const overwrite = validateBoolean(options.overwrite ?? false, "overwrite", what);
  const lock = validateLock(options.lock, what);
  const anyDirectory = validateBoolean(options.unsafeAllowAnyDirectory ?? false, "unsafeAllowAnyDirectory", what);
  const c = libc();
  validateBufferLength(c, size, what);

  const { directory, name } = splitPath(path);
  if (namesDirectory(name)) throw refusal(`${what}: the path names a directory`, "EISDIR", "openat", path);
  // Before anything exists: past the limit the kernel would also raise SIGXFSZ.
  checkFileSizeLimit(c, size, c.posix_fallocate === undefined ? "ftruncate" : "posix_fallocate", what, path);
  const dirfd = openDirectory(c, directory, !anyDirectory, what, path);
  try {
    return createIn(c, dirfd, name, { path, size, mode, overwrite, lock }, initialize);
  } finally {
    c.close(dirfd);
  }
}

/** The rest of {@linkcode createMappedFile}, relative to the directory `dirfd` already checked. */
function createIn(
  c: Libc,
  dirfd: number,
  name: string,
  options: { path: string; size: number; mode: number; overwrite: boolean; lock: LockMode | undefined },
  initialize: (buffer: ArrayBuffer) => void,
): MappedFile {
  const { path, size, mode, overwrite, lock } = options;
  const what = `Cannot create ${describe(path)}`;
  const k = c.platform.constants;
  const temporary = `.${name}.${process.pid}.${randomSuffix()}.tmp`;
  const fd = check(
    c,
    c.openat(dirfd, temporary, k.O_RDWR | k.O_CREAT | k.O_EXCL | k.O_NOFOLLOW | k.O_CLOEXEC, mode),
    "openat",
    what,
    path,
  );
  // Once the handle holds the lock, the descriptor is the handle's to close.
  let handed = false;
  try {
    if (c.platform.os === "darwin") {
      // open(2) is variadic and Apple's arm64 ABI passes `mode` on the stack, which a
      // fixed-signature FFI call does not: set the mode explicitly.
      check(c, c.fchmod(fd, mode), "fchmod", what, path);
    }
    // Before the file appears at `path` (linkat or renameat below), so it is never seen unlocked.
    if (lock !== undefined) lockFile(c, fd, lock, path);
    if (c.posix_fallocate !== undefined) {
      // posix_fallocate returns the error number instead of setting errno.
      const error = c.posix_fallocate(fd, 0, size);
      if (error !== 0) throw errnoError(c, error, "posix_fallocate", what, path);
    } else {
      check(c, c.ftruncate(fd, size), "ftruncate", what, path);
    }
    const address = checkMap(c, c.mmap(0n, size, k.PROT_READ | k.PROT_WRITE, k.MAP_SHARED, fd, 0), what, path);
    const file = construct(path, { address, length: size, fd: lock === undefined ? -1 : fd }, 0, size, true);
    handed = lock !== undefined;
    try {
      initialize(file.buffer);
      if (overwrite) {
        check(c, c.renameat(dirfd, temporary, dirfd, name), "renameat", what, path);
      } else {
        check(c, c.linkat(dirfd, temporary, dirfd, name, 0), "linkat", what, path);
        c.unlinkat(dirfd, temporary, 0);
      }
    } catch (error) {
      file.close();
      throw error;
    }
    return file;
  } catch (error) {
    c.unlinkat(dirfd, temporary, 0);
    throw error;
  } finally {
    // The mapping outlives the descriptor; a failed close here has nothing to report.
    if (!handed) c.close(fd);
  }
}

/**
 * {@linkcode MappedFile.open}, mapping at most `limit` bytes when no `length` is given (so
 * that a reader that needs only the start of a large file can map it on Node and Bun), and
 * giving `opened` the `fstat` of the very descriptor it maps (so that the caller knows
 * which file it mapped without opening the path again). Not part of the public API: the
 * struct file format uses it.
 */
export function openMappedFile(
  path: string,
  options: OpenOptions,
  limit: number = Infinity,
  opened?: (status: FileStatus) => void,
): MappedFile {
  validatePath(path, "open");
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot open ${describe(path)}: options must be an object, got ${describeValue(options)}`);
  }
  const what = `Cannot map ${describe(path)}`;
  const write = validateBoolean(options.write ?? false, "write", what);
  const copyOnWrite = validateBoolean(options.private ?? false, "private", what);
  const populate = validateBoolean(options.populate ?? false, "populate", what);
  const anyDirectory = validateBoolean(options.unsafeAllowAnyDirectory ?? false, "unsafeAllowAnyDirectory", what);
  const lock = validateLock(options.lock, what);
  const offset = validateInteger(options.offset ?? 0, "offset", what, 0);
  const requested = options.length === undefined ? undefined : validateInteger(options.length, "length", what, 1);
  const c = libc();
  const k = c.platform.constants;

  // Only a shared read-write mapping writes to the file; a private one keeps its writes.
  const writesFile = write && !copyOnWrite;
  const fd = writesFile
    ? openForWriting(c, path, anyDirectory)
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it has no effect on regular files.
    : check(
      c,
      c.open(path, k.O_RDONLY | k.O_CLOEXEC | k.O_NONBLOCK | k.O_NOCTTY, 0),
      "open",
      `Cannot open ${describe(path)}`,
      path,
    );
  // Once the handle holds the lock, the descriptor is the handle's to close.
  let handed = false;
  try {
    const status = fileStatus(c, fd, what, path);
    const { mode, size, uid } = status;
    const type = fileType(mode, c);
    if (type !== undefined) {
      throw refusal(
        `${what}: it is ${type}, not a regular file`,
        type === "a directory" ? "EISDIR" : "ENODEV",
        "mmap",
        path,
      );
    }
    if (writesFile && !anyDirectory) checkFileOwner(c, uid, what, path);
    if (size === 0) throw refusal(`${what}: the file is empty`, "EINVAL", "mmap", path);
    if (offset >= size) {
      throw new RangeError(`${what}: offset ${offset} is not before the end of the file (${size} bytes)`);
    }
    // Without a length, map the rest of the file, up to `limit`.
    const length = requested ?? Math.min(size - offset, limit);
    if (offset + length > size) {
      throw new RangeError(
        `${what}: offset ${offset} + length ${length} is past the end of the file (${size} bytes)`,
      );
    }
    validateBufferLength(c, length, what);
    if (lock !== undefined) lockFile(c, fd, lock, path);
    opened?.(status);
    // mmap(2) wants a page-aligned offset: map from the page below and skip `delta` bytes.
    const delta = offset % c.pageSize;
    const region = { address: 0n, length: length + delta, fd: lock === undefined ? -1 : fd };
    const prot = write || copyOnWrite ? k.PROT_READ | k.PROT_WRITE : k.PROT_READ;
    const flags = (copyOnWrite ? k.MAP_PRIVATE : k.MAP_SHARED) | (populate ? k.MAP_POPULATE : 0);
    region.address = checkMap(c, c.mmap(0n, region.length, prot, flags, fd, offset - delta), what, path);
    const file = construct(path, region, delta, length, write || copyOnWrite);
    handed = lock !== undefined;
    return file;
  } finally {
    // The mapping outlives the descriptor; a failed close here has nothing to report.
    if (!handed) c.close(fd);
  }
}

/**
 * Opens `path` `O_RDWR` for a shared writable mapping: relative to its directory, opened
 * once and checked (unless `anyDirectory`), and without following a symlink at `path`.
 */
function openForWriting(c: Libc, path: string, anyDirectory: boolean): number {
  const k = c.platform.constants;
  const what = `Cannot open ${describe(path)}`;
  const { directory, name } = splitPath(path);
  if (namesDirectory(name)) {
    throw refusal(`${what}: it is a directory, not a regular file`, "EISDIR", "openat", path);
  }
  const dirfd = openDirectory(c, directory, !anyDirectory, what, path);
  try {
    const flags = k.O_RDWR | k.O_NOFOLLOW | k.O_CLOEXEC | k.O_NONBLOCK | k.O_NOCTTY;
    const fd = c.openat(dirfd, name, flags, 0);
    if (fd !== -1) return fd;
    const errno = c.errno();
    // One component, relative to `dirfd`: ELOOP can only mean that `name` is a symlink.
    if (errnoName(errno) === "ELOOP") {
      throw refusal(
        `${what}: it is a symbolic link, which is not followed when opening for writing`,
        "ELOOP",
        "openat",
        path,
      );
    }
    throw errnoError(c, errno, "openat", what, path);
  } finally {
    c.close(dirfd);
  }
}

/**
 * Makes sure `path` is a private directory of this user, to keep mapped files in: creates
 * it `0700` when it is missing (and any missing parent, also `0700`, whatever the umask),
 * and refuses one that exists but is a symlink, belongs to another user or is writable by
 * its group or others (sticky or not). The directory that holds it must pass the checks of
 * {@linkcode MappedFile.create} (this user's or root's, not writable by others unless
 * sticky, as `/tmp`), since whoever may write there could rename it away; symlinks in the
 * parents are followed. An existing directory is never changed.
 *
 * Each step opens the next component relative to the last one (`openat`, `mkdirat`), the
 * last without following a symlink, and checks what was opened (`fstat`), so nothing can be
 * swapped in between. Calling it again, or from several processes at once, is safe.
 *
 * @param path The directory.
 * @throws {TypeError} If `path` is not a non-empty string or contains a NUL character.
 * @throws {MmapError} If the directory is refused: `"ELOOP"` for a symlink, `"ENOTDIR"`
 * for something that is not a directory, `"EPERM"` for a directory (or parent) another user
 * owns or may write to, with the reason in the message; or if a system call fails
 * (`"EACCES"`, …).
 *
 * @example Keep files in a private directory
 * ```ts
 * import { ensurePrivateDirectory, MappedFile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, statSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const base = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const dir = join(base, "metrics", "app");
 * ensurePrivateDirectory(dir);
 * ensurePrivateDirectory(dir); // already there and private: nothing to do
 * assert.equal(statSync(dir).mode & 0o777, 0o700);
 * using file = MappedFile.create(join(dir, "stats.mms"), { size: 4096 });
 * assert.equal(file.byteLength, 4096);
 * rmSync(base, { recursive: true });
 * ```
 */
export function ensurePrivateDirectory(path: string): void {
  validatePath(path, "make", "private directory");
  const what = `Cannot make private directory ${describe(path)}`;
  const c = libc();
  const k = c.platform.constants;
  const names = path.split("/").filter((name) => name !== "");
  let fd = check(
    c,
    c.open(path.startsWith("/") ? "/" : ".", k.O_RDONLY | k.O_DIRECTORY | k.O_CLOEXEC, 0),
    "open",
    what,
    path,
  );
  try {
    for (const [index, name] of names.entries()) {
      const last = index === names.length - 1;
      if (last) checkDirectory(c, fd, parentOf(path), false, what, path);
      const next = enterDirectory(c, fd, name, last, what, path);
      c.close(fd);
      fd = next;
    }
    checkDirectory(c, fd, path, true, what, path);
  } finally {
    c.close(fd);
  }
}

function parentOf(path: string): string {
  return splitPath(path.replace(/\/+$/, "")).directory;
}

/**
 * Opens the directory `name` in `dirfd`, making it `0700` if it is missing: the last
 * component of the path without following a symlink, those above it as any path.
 */
function enterDirectory(c: Libc, dirfd: number, name: string, last: boolean, what: string, path: string): number {
  const k = c.platform.constants;
  const flags = k.O_RDONLY | k.O_DIRECTORY | k.O_CLOEXEC;
  const existing = flags | (last ? k.O_NOFOLLOW : 0);
  let fd = c.openat(dirfd, name, existing, 0);
  if (fd !== -1) return fd;
  let errno = c.errno();
  if (errnoName(errno) === "ENOENT") {
    if (c.mkdirat(dirfd, name, 0o700) === 0) return openCreated(c, dirfd, name, what, path);
    errno = c.errno();
    if (errnoName(errno) !== "EEXIST") throw errnoError(c, errno, "mkdirat", what, path);
    // Made by another process meanwhile: take it as if it had been there.
    fd = c.openat(dirfd, name, existing, 0);
    if (fd !== -1) return fd;
    errno = c.errno();
  }
  const code = errnoName(errno);
  // Linux says ENOTDIR for a symlink opened with O_DIRECTORY | O_NOFOLLOW, macOS ELOOP.
  // The refusal is already decided; opening it again, followed, only names the reason.
  if (last && (code === "ENOTDIR" || code === "ELOOP")) {
    const followed = c.openat(dirfd, name, flags, 0);
    if (followed !== -1) {
      c.close(followed);
      throw refusal(`${what}: it is a symbolic link`, "ELOOP", "openat", path);
    }
  }
  throw errnoError(c, errno, "openat", what, path);
}

/**
 * Opens the directory just made by `mkdirat`, checks that it is still the one made (this
 * user's and private: no one swapped it meanwhile) and makes it exactly `0700`, which the
 * umask may have narrowed.
 */
function openCreated(c: Libc, dirfd: number, name: string, what: string, path: string): number {
  const k = c.platform.constants;
  const fd = check(
    c,
    c.openat(dirfd, name, k.O_RDONLY | k.O_DIRECTORY | k.O_NOFOLLOW | k.O_CLOEXEC, 0),
    "openat",
    what,
    path,
  );
  try {
    checkDirectory(c, fd, name, true, what, path);
    check(c, c.fchmod(fd, 0o700), "fchmod", what, path);
  } catch (error) {
    c.close(fd);
    throw error;
  }
  return fd;
}
