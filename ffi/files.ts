/**
 * File-system steps over libc that `MappedFile` and `ensurePrivateDirectory`
 * share: the fields of `fstat(2)`, a directory opened once to work relative to it and
 * checked against other users, the file-size limit, `flock(2)`.
 *
 * Why the directory that holds a file is checked, and only that one: whoever may write to
 * it may rename the file away and put something else at its name (a symlink to another
 * file, a file of their own), so it must belong to this user or root and be writable by
 * nobody else, unless it is sticky (as `/tmp`: others may add entries to it, but not remove
 * or rename this user's). It is opened with `O_NOFOLLOW` and checked with `fstat` on the
 * descriptor, and every later step is an `*at()` call on that descriptor, so nothing can
 * be swapped in between. The components above it are followed like those of any path:
 * symlinks there are ordinary (`/var/run` -> `/run`), and an attacker who replaced one
 * would still have to pass the check of the directory it leads to.
 *
 * @module
 */

import { MmapError } from "./mmap_error.ts";
import { check, errnoError } from "./check.ts";
import { errnoName } from "./errno.ts";
import type { Libc } from "./libc.ts";

/** The fields of `struct stat` mmstruct reads. */
export interface FileStatus {
  /** `st_mode`: file type and permission bits. */
  mode: number;
  /** `st_size` in bytes. */
  size: number;
  /** `st_uid`: the owner. */
  uid: number;
  /** `st_dev`: the device holding the file; with `inode`, which file it is. */
  device: bigint;
  /** `st_ino`. */
  inode: bigint;
}

/**
 * `st_ino` is a 64-bit field at offset 8 of `struct stat` on Linux x86_64
 * (`<asm/stat.h>`), Linux aarch64 (`<asm-generic/stat.h>`) and macOS (the 64-bit-inode
 * `struct stat`); `st_dev` is at offset 0: 64 bits on Linux, 32 on macOS.
 */
const STAT_INO_OFFSET = 8;

/** How a handle holds `flock(2)`: `LOCK_SH` or `LOCK_EX`. */
export type LockMode = "shared" | "exclusive";

function quote(text: string): string {
  return JSON.stringify(text);
}

/** `fstat(2)` of an open descriptor. */
export function fileStatus(c: Libc, fd: number, what: string, path: string): FileStatus {
  const k = c.platform.constants;
  const buf = new Uint8Array(k.STAT_SIZE);
  check(c, c.fstat(fd, buf), "fstat", what, path);
  // Only little-endian platforms are supported (x86_64, aarch64), hence `true` below.
  const view = new DataView(buf.buffer);
  const mode = k.STAT_MODE_SIZE === 4
    ? view.getUint32(k.STAT_MODE_OFFSET, true)
    : view.getUint16(k.STAT_MODE_OFFSET, true);
  const uid = view.getUint32(k.STAT_UID_OFFSET, true);
  const size = view.getBigInt64(k.STAT_SIZE_OFFSET, true);
  const device = c.platform.os === "darwin" ? BigInt(view.getUint32(0, true)) : view.getBigUint64(0, true);
  const inode = view.getBigUint64(STAT_INO_OFFSET, true);
  return { mode, size: Number(size), uid, device, inode };
}

/**
 * The {@linkcode MmapError} for a refusal by mmstruct's own checks rather than by the
 * kernel: `code` is the errno name that describes it, `syscall` the call whose result was
 * refused.
 */
export function refusal(message: string, code: string, syscall: string, path: string): MmapError {
  return new MmapError(message, { syscall, code, path });
}

/**
 * Splits `path` into the directory that holds its last component, and that component.
 *
 * Trailing `/` and `/.` are dropped from the directory: `open(2)` follows a symlink named
 * `dir/` or `dir/.` even with `O_NOFOLLOW`, so `link/./x` must be checked as `link`.
 * `name` is empty, `.` or `..` when the path names a directory.
 */
export function splitPath(path: string): { directory: string; name: string } {
  const slash = path.lastIndexOf("/");
  const name = path.slice(slash + 1);
  let directory = slash < 0 ? "." : path.slice(0, slash);
  for (;;) {
    if (directory.endsWith("/")) directory = directory.slice(0, -1);
    else if (directory.endsWith("/.")) directory = directory.slice(0, -2);
    else break;
  }
  if (directory === "") directory = path.startsWith("/") ? "/" : ".";
  return { directory, name };
}

/** Whether `name`, the last component of a path, makes the path name a directory. */
export function namesDirectory(name: string): boolean {
  return name === "" || name === "." || name === "..";
}

/**
 * Opens `directory` (`O_DIRECTORY`) to work relative to it with the `*at()` calls.
 *
 * With `checked`, it is opened with `O_NOFOLLOW` and refused (`MmapError`) if it is a
 * symlink (`"ELOOP"`), belongs to another user than this one or root (`"EPERM"`), or is
 * writable by its group or others without the sticky bit (`"EPERM"`).
 */
export function openDirectory(c: Libc, directory: string, checked: boolean, what: string, path: string): number {
  const k = c.platform.constants;
  const flags = k.O_RDONLY | k.O_DIRECTORY | k.O_CLOEXEC;
  const fd = c.open(directory, flags | (checked ? k.O_NOFOLLOW : 0), 0);
  if (fd === -1) {
    const errno = c.errno();
    const code = errnoName(errno);
    // Linux says ENOTDIR for a symlink opened with O_DIRECTORY | O_NOFOLLOW, macOS ELOOP.
    // The refusal is already decided; opening it again, followed, only names the reason.
    if (checked && (code === "ENOTDIR" || code === "ELOOP")) {
      const followed = c.open(directory, flags, 0);
      if (followed !== -1) {
        c.close(followed);
        throw refusal(`${what}: the directory ${quote(directory)} is a symbolic link`, "ELOOP", "open", path);
      }
    }
    throw errnoError(c, errno, "open", what, path);
  }
  if (checked) {
    try {
      checkDirectory(c, fd, directory, false, what, path);
    } catch (error) {
      c.close(fd);
      throw error;
    }
  }
  return fd;
}

/**
 * Refuses (`MmapError`, `"EPERM"`) the open directory `fd` if another user could replace
 * what is in it: if it belongs to another user than this one (or root, unless `private`),
 * or is writable by its group or others (unless it is sticky and not `private`).
 */
export function checkDirectory(
  c: Libc,
  fd: number,
  directory: string,
  private_: boolean,
  what: string,
  path: string,
): void {
  const { mode, uid } = fileStatus(c, fd, what, path);
  const euid = c.geteuid();
  if (uid !== euid && (private_ || uid !== 0)) {
    throw refusal(
      `${what}: the directory ${quote(directory)} belongs to user ${uid}, not to this user (${euid})` +
        (private_ ? "" : " or root"),
      "EPERM",
      "fstat",
      path,
    );
  }
  const writableByOthers = (mode & 0o022) !== 0;
  const sticky = (mode & 0o1000) !== 0;
  if (writableByOthers && (private_ || !sticky)) {
    throw refusal(
      `${what}: the directory ${quote(directory)} is writable by other users (mode 0o${(mode & 0o7777).toString(8)})` +
        (private_ ? "" : " and not sticky"),
      "EPERM",
      "fstat",
      path,
    );
  }
}

/** Refuses (`MmapError`, `"EPERM"`) a file opened for writing that belongs to another user. */
export function checkFileOwner(c: Libc, uid: number, what: string, path: string): void {
  const euid = c.geteuid();
  if (uid !== euid) {
    throw refusal(`${what}: the file belongs to user ${uid}, not to this user (${euid})`, "EPERM", "fstat", path);
  }
}

/**
 * Throws the `"EFBIG"` {@linkcode MmapError} that `grow` (`posix_fallocate` or
 * `ftruncate`) would fail with if `size` exceeds the file-size limit (`ulimit -f`,
 * `RLIMIT_FSIZE`). Checked before growing because the kernel also raises SIGXFSZ, whose
 * default action kills the process (Deno keeps it; Node and Bun ignore it); changing the
 * signal's disposition would change it for the whole program.
 */
export function checkFileSizeLimit(c: Libc, size: number, grow: string, what: string, path: string): void {
  const k = c.platform.constants;
  const buf = new Uint8Array(16);
  check(c, c.getrlimit(k.RLIMIT_FSIZE, buf), "getrlimit", what, path);
  // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; }: the soft limit is what applies.
  const limit = new DataView(buf.buffer).getBigUint64(0, true);
  if (limit !== k.RLIM_INFINITY && BigInt(size) > limit) {
    throw refusal(
      `${what}: ${size} bytes exceed the file size limit of ${limit} bytes (RLIMIT_FSIZE, ulimit -f)`,
      "EFBIG",
      grow,
      path,
    );
  }
}

/**
 * Takes `flock(fd, LOCK_SH | LOCK_NB)` or `LOCK_EX | LOCK_NB`. A conflicting lock held
 * through another open file (another process, or another handle of this one) is an
 * {@linkcode MmapError} with the errno name of `EWOULDBLOCK` (`"EAGAIN"`: the same number).
 */
export function lockFile(c: Libc, fd: number, lock: LockMode, path: string): void {
  const k = c.platform.constants;
  const what = `Cannot take ${lock === "shared" ? "a shared" : "an exclusive"} lock on ${quote(path)}`;
  if (c.flock(fd, (lock === "shared" ? k.LOCK_SH : k.LOCK_EX) | k.LOCK_NB) !== -1) return;
  const errno = c.errno();
  if (errnoName(errno) === "EAGAIN") {
    throw new MmapError(`${what}: another process or handle holds a conflicting lock`, {
      syscall: "flock",
      errno,
      path,
    });
  }
  throw errnoError(c, errno, "flock", what, path);
}
