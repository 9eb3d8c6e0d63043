/**
 * Which file a path names now, and how long it is: `open(2)` and `fstat(2)` through the
 * library's libc, so that Deno needs no permission beyond `--allow-ffi` for it. Internal.
 *
 * @module
 */

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
 * `st_ino` is a 64-bit field at offset 8 of `struct stat` on Linux x86_64
 * (`<asm/stat.h>`), Linux aarch64 (`<asm-generic/stat.h>`) and macOS (the 64-bit-inode
 * `struct stat`); `st_dev` is at offset 0: 64 bits on Linux, 32 on macOS.
 */
const STAT_INO_OFFSET = 8;

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
    const buf = new Uint8Array(k.STAT_SIZE);
    check(c, c.fstat(fd, buf), "fstat", what, path);
    const view = new DataView(buf.buffer);
    // Little-endian platforms only (x86_64, aarch64), hence `true`.
    return {
      device: c.platform.os === "darwin" ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true),
      inode: view.getBigUint64(STAT_INO_OFFSET, true),
      size: Number(view.getBigInt64(k.STAT_SIZE_OFFSET, true)),
    };
  } finally {
    // Opened only to fstat it; a failed close has nothing to report.
    c.close(fd);
  }
}

/** Whether two identities name the same file. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.device === b.device && a.inode === b.inode;
}
