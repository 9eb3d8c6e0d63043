/**
 * Which file a path names now, and how long it is: `open(2)` and `fstat(2)` through the
 * library's libc, so that Deno needs no permission beyond `--allow-ffi` for it. Internal.
 *
 * @module
 */

import { fileStatus } from "../ffi/files.ts";
import { check } from "../ffi/check.ts";
import { errnoName } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";

/** A file's identity (`st_dev`, `st_ino`) and size, as `fstat` gave them. */
export interface FileIdentity {
  readonly device: bigint;
  readonly inode: bigint;
  readonly size: number;
}

/**
 * The identity and size of the file at `path`, or `undefined` if there is none
 * (`ENOENT`). The path is opened read-only, without blocking (a FIFO put there is not
 * waited on), and closed at once.
 *
 * @throws {MmapError} If the path cannot be opened for another reason (`EACCES`, …).
 */
export function identityOf(path: string, what: string): FileIdentity | undefined {
  const c = libc();
  const k = c.platform.constants;
  const fd = c.open(path, k.O_RDONLY | k.O_CLOEXEC | k.O_NONBLOCK | k.O_NOCTTY, 0);
  if (fd === -1 && errnoName(c.errno()) === "ENOENT") return undefined;
  check(c, fd, "open", what, path);
  try {
    const { device, inode, size } = fileStatus(c, fd, what, path);
    return { device, inode, size };
  } finally {
    // Opened only to fstat it; a failed close has nothing to report.
    c.close(fd);
  }
}

/** Whether two identities name the same file. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.device === b.device && a.inode === b.inode;
}
