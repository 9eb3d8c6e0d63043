/**
 * The error every failed system call in mmstruct throws.
 *
 * @module
 */

import { errnoName, errnoNumber } from "./errno.ts";

/**
 * What an {@linkcode MmapError} carries besides its message: the same options object
 * shape as `FormatError` and `StaleWriterError` (message first, then
 * the class's fields and `cause`). Give `errno` or `code`, or both: the other is named
 * from the platform's errno table.
 */
export type MmapErrorOptions =
  & {
    /** The libc function that failed (or whose result was refused), e.g. `"open"`. */
    syscall: string;
    /** The file the call was about, when there is one. */
    path?: string;
    /** The error this one wraps, if any. */
    cause?: unknown;
  }
  & (
    | {
      /** The C `errno` value, or 0 when the failure has none (an unsupported OS). */
      errno: number;
      /** The symbolic errno name, e.g. `"ENOENT"`; named from `errno` when not given. */
      code?: string;
    }
    | {
      /** The C `errno` value; numbered from `code` when not given (0 for a name this platform lacks). */
      errno?: number;
      /** The symbolic errno name, e.g. `"ENOENT"`. */
      code: string;
    }
  );

/**
 * A system call failed: the file could not be opened, sized, mapped, synced, renamed or
 * locked. Or mmstruct refused what a call returned, and `code` names the errno that
 * describes it: `"ELOOP"` for a symlink where none may be, `"EPERM"` for a directory or
 * file another user owns or may write to, `"EFBIG"` for a size past the file-size limit,
 * `"EAGAIN"` for a lock another open file holds; the message says which check refused.
 *
 * Read `code` to branch on the reason (`"ENOENT"`, `"EEXIST"`, `"ENOSPC"`, `"EACCES"`, …);
 * `syscall` names the libc function and `path` the file. Bad arguments are never an
 * `MmapError`: they throw `TypeError` or `RangeError` before any system call is made.
 *
 * Constructed like every error class of mmstruct: `new MmapError(message, { syscall, errno
 * or code, path?, cause? })`.
 *
 * @example Branch on the errno name
 * ```ts
 * import { MappedFile, MmapError } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * try {
 *   MappedFile.open("/nonexistent/stats.mms");
 *   assert.fail("expected an MmapError");
 * } catch (error) {
 *   assert.ok(error instanceof MmapError);
 *   assert.equal(error.code, "ENOENT");
 *   assert.equal(error.syscall, "open");
 * }
 * ```
 */
export class MmapError extends Error {
  /** The libc function that failed (or whose result was refused), e.g. `"open"` or `"posix_fallocate"`. */
  readonly syscall: string;
  /** The C `errno` value (platform-specific number; prefer {@linkcode MmapError.code}). */
  readonly errno: number;
  /** The symbolic errno name, e.g. `"ENOENT"`; `"E<number>"` for one without a known name. */
  readonly code: string;
  /** The file the failed call was about, if any. */
  readonly path: string | undefined;

  /**
   * Makes an error for a failed system call.
   *
   * @param message Human-readable text, e.g. `Cannot open "stats.mms": No such file or directory`.
   * @param options The syscall, errno and/or code, path and cause.
   *
   * @example Name the errno from its number
   * ```ts
   * import { MmapError } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   *
   * const error = new MmapError(`Cannot open "stats.mms": No such file or directory`, { syscall: "open", errno: 2 });
   * assert.equal(error.code, "ENOENT");
   * ```
   */
  constructor(message: string, options: MmapErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MmapError";
    this.syscall = options.syscall;
    this.errno = options.errno ?? errnoNumber(options.code!);
    this.code = options.code ?? errnoName(options.errno!);
    this.path = options.path;
  }
}
