/**
 * The small part of libc that mmstruct needs, behind one interface implemented by one
 * backend per runtime (`deno.ts`, `node.ts`, `bun.ts`).
 *
 * All three backend modules are imported statically (no top-level `await`, so that
 * `require("mmstruct")` works); each loads its FFI package only when it is opened, and
 * the one for this runtime is chosen by feature detection, so a Deno program never loads
 * koffi and Node never sees `bun:ffi`. Loading the modules needs no permission; the library
 * itself is opened (`dlopen`) on the first call to {@linkcode libc}, so importing mmstruct
 * only for its layouts needs no `--allow-ffi`.
 *
 * @module
 */

import { type Platform, resolvePlatform } from "./platform.ts";
import { detectRuntime, type Runtime } from "./runtime.ts";
// Each backend imports its FFI package lazily (Deno's global, `createRequire("bun:ffi")`,
// `createRequire("koffi")`), so importing all three loads none of them.
import { openLibc as openBunLibc } from "./bun.ts";
import { openLibc as openDenoLibc } from "./deno.ts";
import { openLibc as openNodeLibc } from "./node.ts";

export { detectRuntime, type Platform, type Runtime };

/**
 * The libc calls mmstruct makes. Every function returns what the C function returns
 * (`-1` with `errno` set on failure) and never throws for a failed call; checking is done
 * once, by the caller, so that `errno` is read right after the call that set it.
 * Addresses are `bigint` on every runtime.
 */
export interface Libc {
  readonly runtime: Runtime;
  readonly platform: Platform;
  /** `getpagesize()`. */
  readonly pageSize: number;
  /** The largest `ArrayBuffer` this runtime can wrap around foreign memory. */
  readonly maxBufferLength: number;
  /** `int open(const char *path, int flags, mode_t mode)` */
  open(path: string, flags: number, mode: number): number;
  /** `int close(int fd)` */
  close(fd: number): number;
  /** `int fchmod(int fd, mode_t mode)` */
  fchmod(fd: number, mode: number): number;
  /** `int ftruncate(int fd, off_t length)` */
  ftruncate(fd: number, length: number): number;
  /** `int posix_fallocate(int fd, off_t offset, off_t len)`: returns an errno value, 0 on success; `undefined` where libc lacks it (macOS). */
  readonly posix_fallocate: ((fd: number, offset: number, length: number) => number) | undefined;
  /** `int fstat(int fd, struct stat *buf)`; `buf` must hold `STAT_SIZE` bytes. */
  fstat(fd: number, buf: Uint8Array): number;
  /** `void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)`; `MAP_FAILED` is `0xffffffffffffffffn`. */
  mmap(addr: bigint, length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  /** `int munmap(void *addr, size_t length)` */
  munmap(addr: bigint, length: number): number;
  /** `int msync(void *addr, size_t length, int flags)` */
  msync(addr: bigint, length: number, flags: number): number;
  /** `int madvise(void *addr, size_t length, int advice)` */
  madvise(addr: bigint, length: number, advice: number): number;
  /** `int rename(const char *oldpath, const char *newpath)` */
  rename(oldPath: string, newPath: string): number;
  /** `int link(const char *oldpath, const char *newpath)` */
  link(oldPath: string, newPath: string): number;
  /** `int unlink(const char *path)` */
  unlink(path: string): number;
  /** `int openat(int dirfd, const char *path, int flags, mode_t mode)` */
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  /** `int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)` */
  linkat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags: number): number;
  /** `int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)` */
  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string): number;
  /** `int unlinkat(int dirfd, const char *path, int flags)` */
  unlinkat(dirfd: number, path: string, flags: number): number;
  /** `int mkdirat(int dirfd, const char *path, mode_t mode)` */
  mkdirat(dirfd: number, path: string, mode: number): number;
  /** `int flock(int fd, int operation)` */
  flock(fd: number, operation: number): number;
  /** `uid_t geteuid(void)`: never fails. */
  geteuid(): number;
  /** `int getrlimit(int resource, struct rlimit *rlim)`; `buf` must hold 16 bytes (two `rlim_t`). */
  getrlimit(resource: number, buf: Uint8Array): number;
  /** `int kill(pid_t pid, int sig)` */
  kill(pid: number, signal: number): number;
  /** `errno` of the calling thread, read right after a failed call. */
  errno(): number;
  /** `char *strerror(int errnum)` as a string. */
  strerror(errnum: number): string;
  /**
   * A zero-copy `ArrayBuffer` over `length` bytes at `address`. Unsafe: the caller keeps the
   * memory mapped for as long as the buffer can be reached (or detaches it first).
   */
  unsafeArrayBuffer(address: bigint, length: number): ArrayBuffer;
}

/** `MAP_FAILED`, `(void *) -1`, as every backend returns it. */
export const MAP_FAILED = 0xffffffffffffffffn;

/** Opens a backend for one platform. */
export type LibcFactory = (platform: Platform) => Libc;

/** The backend of each runtime. */
const factories: Record<Runtime, LibcFactory> = { deno: openDenoLibc, node: openNodeLibc, bun: openBunLibc };
let opened: Libc | undefined;

/**
 * The libc of this process, opened on first use.
 *
 * @throws {MmapError} On Windows or an unknown OS or architecture (`code` `"ENOTSUP"`), or if
 * the C library cannot be loaded (`code` `"ELIBACC"`: see `MMSTRUCT_LIBC`).
 */
export function libc(): Libc {
  return opened ??= factories[detectRuntime()](resolvePlatform());
}
