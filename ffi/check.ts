/**
 * The one place a libc result becomes an {@linkcode MmapError}.
 *
 * @module
 */

import { MmapError } from "./mmap_error.ts";
import { type Libc, MAP_FAILED } from "./libc.ts";

/** Makes the error for a failed call from an errno value already read. */
export function errnoError(
  c: Libc,
  errno: number,
  syscall: string,
  what: string,
  path?: string,
): MmapError {
  // The code is named from errno by MmapError, through the one errno table (errno.ts).
  return new MmapError(`${what}: ${c.strerror(errno)}`, { syscall, errno, path });
}

/**
 * Returns `result`, or throws the {@linkcode MmapError} for `errno` when it is `-1`.
 *
 * @param what The message prefix, e.g. `Cannot open "stats.mms"`.
 */
export function check(c: Libc, result: number, syscall: string, what: string, path?: string): number {
  if (result !== -1) return result;
  throw errnoError(c, c.errno(), syscall, what, path);
}

/** Returns the address, or throws the {@linkcode MmapError} for `errno` when it is `MAP_FAILED`. */
export function checkMap(c: Libc, address: bigint, what: string, path?: string): bigint {
  if (address !== MAP_FAILED) return address;
  throw errnoError(c, c.errno(), "mmap", what, path);
}
