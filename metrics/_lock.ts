/**
 * Liveness by `flock(2)`: a writer holds an exclusive lock on each of its segment files
 * for its whole life (taken before the file is published), so a file whose lock can be
 * taken has no writer any more. The kernel releases the lock when the writer's process
 * dies, however it dies, which no pid check can tell as exactly (pids are reused, and a
 * reader may live in another pid namespace). Internal.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { check, errnoError } from "../ffi/check.ts";
import { errnoName } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";

/** Whether `errno` says the lock is held elsewhere. */
function wouldBlock(errno: number): boolean {
  const name = errnoName(errno);
  return name === "EAGAIN" || name === "EWOULDBLOCK";
}

/**
 * Whether the writer of the file at `path` is alive (its lock is held), dead (the lock is
 * free: taken and released at once, shared so that two readers never hide a dead file from
 * each other), or `"gone"` when the file no longer exists.
 *
 * @throws {MmapError} If the file cannot be opened or locked for another reason.
 */
export function probe(path: string): "live" | "dead" | "gone" {
  const c = libc();
  const k = c.platform.constants;
  const what = `Cannot check the writer of ${JSON.stringify(path)}`;
  // O_NONBLOCK: a FIFO planted in the directory must not block the open.
  const fd = c.open(path, k.O_RDONLY | k.O_CLOEXEC | k.O_NONBLOCK | k.O_NOCTTY, 0);
  if (fd === -1) {
    const errno = c.errno();
    if (errnoName(errno) === "ENOENT") return "gone";
    throw errnoError(c, errno, "open", what, path);
  }
  try {
    if (c.flock(fd, k.LOCK_SH | k.LOCK_NB) === 0) {
      c.flock(fd, k.LOCK_UN);
      return "dead";
    }
    const errno = c.errno();
    if (wouldBlock(errno)) return "live";
    throw errnoError(c, errno, "flock", what, path);
  } finally {
    c.close(fd);
  }
}

/**
 * Descriptors a reader may keep open to probe live writers' files without opening them at
 * every scrape (an open is most of a probe's cost): a quarter of the process's limit on
 * open files, at most 4096; 256 where the limit cannot be read.
 */
function probeBudget(): number {
  try {
    const line = readFileSync("/proc/self/limits", "latin1").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isSafeInteger(soft) ? Math.min(4096, Math.floor(soft / 4)) : 256;
  } catch {
    return 256;
  }
}

let budget: number | undefined;

/**
 * Opens `path` to probe it again and again with {@linkcode probeDescriptor}, or returns -1
 * when the descriptor budget is spent (or the file cannot be opened: {@linkcode probe} will
 * say why). Release it with {@linkcode closeProbe}.
 */
export function openProbe(path: string): number {
  budget ??= probeBudget();
  if (budget <= 0) return -1;
  const c = libc();
  const k = c.platform.constants;
  const fd = c.open(path, k.O_RDONLY | k.O_CLOEXEC | k.O_NONBLOCK | k.O_NOCTTY, 0);
  if (fd !== -1) budget--;
  return fd;
}

/** Closes a descriptor from {@linkcode openProbe}. */
export function closeProbe(fd: number): void {
  if (fd === -1) return;
  libc().close(fd);
  budget!++;
}

/**
 * {@linkcode probe} through a descriptor from {@linkcode openProbe}: the open file stays the
 * same file even if its name is removed, and a removed file's writer is gone.
 *
 * @throws {MmapError} If `flock` fails for another reason than the lock being held.
 */
export function probeDescriptor(fd: number, path: string): "live" | "dead" {
  const c = libc();
  const k = c.platform.constants;
  if (c.flock(fd, k.LOCK_SH | k.LOCK_NB) === 0) {
    c.flock(fd, k.LOCK_UN);
    return "dead";
  }
  const errno = c.errno();
  if (wouldBlock(errno)) return "live";
  throw errnoError(c, errno, "flock", `Cannot check the writer of ${JSON.stringify(path)}`, path);
}

/**
 * Opens (creating it if needed) the lock file at `path` and takes an exclusive lock on it
 * without waiting. Returns the descriptor holding the lock, or `undefined` when another
 * process holds it.
 *
 * @throws {MmapError} If the file cannot be opened, or locked for another reason.
 */
export function tryLockFile(path: string): number | undefined {
  const c = libc();
  const k = c.platform.constants;
  const what = `Cannot lock ${JSON.stringify(path)}`;
  const fd = check(
    c,
    c.open(path, k.O_RDWR | k.O_CREAT | k.O_CLOEXEC | k.O_NOFOLLOW | k.O_NONBLOCK, 0o600),
    "open",
    what,
    path,
  );
  if (c.flock(fd, k.LOCK_EX | k.LOCK_NB) === 0) return fd;
  const errno = c.errno();
  c.close(fd);
  if (wouldBlock(errno)) return undefined;
  throw errnoError(c, errno, "flock", what, path);
}

/** Releases a lock taken by {@linkcode tryLockFile} (closing the descriptor releases it). */
export function unlockFile(fd: number): void {
  libc().close(fd);
}
