/**
 * {@linkcode FormatError}: a file is not a valid struct file.
 *
 * @module
 */

/** Why a file was refused; see {@linkcode FormatError.reason}. */
export type FormatErrorReason =
  | "truncated"
  | "magic"
  | "version"
  | "byte-order"
  | "header"
  | "schema"
  | "layout"
  | "hash"
  | "type-mismatch";

/** What a {@linkcode FormatError} carries besides its message. */
export interface FormatErrorOptions {
  /** Why the file was refused. */
  reason: FormatErrorReason;
  /** The file. */
  path: string;
  /** The error this one wraps, if any. */
  cause?: unknown;
}

/**
 * A file is not a struct file mmstruct can read: too short, bad magic, unknown format
 * version, foreign byte order, a header field out of bounds, a schema that is not valid
 * JSON or describes an impossible layout, or (when a `type` was given) a different
 * layout. Files are treated as hostile input: every such file gets this error, never a
 * crash or an out-of-bounds view.
 *
 * Constructed like every error class of mmstruct: `new FormatError(message, { reason,
 * path, cause? })` (mmstruct 0.1.0 took `(path, reason, detail, options)`).
 *
 * @example Tell a bad file from a missing one
 * ```ts
 * import { FormatError, StructFile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "not-a-struct-file");
 * writeFileSync(path, "hello, world: this is text, not a struct file at all, see?");
 * assert.throws(() => StructFile.open(path), (error) => error instanceof FormatError && error.reason === "truncated");
 * rmSync(dir, { recursive: true });
 * ```
 */
export class FormatError extends Error {
  /** A short machine-readable reason, e.g. `"magic"` or `"schema"`. */
  readonly reason: FormatErrorReason;
  /** The file. */
  readonly path: string;

  /**
   * Makes the error.
   *
   * @param message Human-readable text, e.g. `Cannot read struct file "stats.mms": it does not start with the magic MMSTRUCT`.
   * @param options The reason, the file and the error this one wraps.
   *
   * @example Refuse a file
   * ```ts
   * import { FormatError } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   *
   * const error = new FormatError(`Cannot read struct file "a.mms": bad magic`, { reason: "magic", path: "a.mms" });
   * assert.equal(error.reason, "magic");
   * assert.equal(error.path, "a.mms");
   * ```
   */
  constructor(message: string, options: FormatErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FormatError";
    this.reason = options.reason;
    this.path = options.path;
  }
}

/**
 * The {@linkcode FormatError} for `path`, its message in the one wording every refusal
 * uses: `Cannot read struct file "<path>": <detail>`. Internal.
 */
export function formatError(
  path: string,
  reason: FormatErrorReason,
  detail: string,
  options?: { cause?: unknown },
): FormatError {
  return new FormatError(`Cannot read struct file ${JSON.stringify(path)}: ${detail}`, {
    reason,
    path,
    cause: options?.cause,
  });
}
