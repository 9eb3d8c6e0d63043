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

/**
 * A file is not a struct file mmstruct can read: too short, bad magic, unknown format
 * version, foreign byte order, a header field out of bounds, a schema that is not valid
 * JSON or describes an impossible layout, or (when a `type` was given) a different
 * layout. Files are treated as hostile input: every such file gets this error, never a
 * crash or an out-of-bounds view.
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
   * @param path The file.
   * @param reason The reason code.
   * @param detail What exactly is wrong, for the message.
   * @param options The error this one wraps, if any.
   */
  constructor(path: string, reason: FormatErrorReason, detail: string, options?: { cause?: unknown }) {
    super(`Cannot read struct file ${JSON.stringify(path)}: ${detail}`, options);
    this.name = "FormatError";
    this.reason = reason;
    this.path = path;
  }
}
