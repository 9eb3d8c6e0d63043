/**
 * The small part of libc that mmstruct needs, behind one interface implemented by one
 * backend per runtime (`deno.ts`, `node.ts`, `bun.ts`).
 *
 * The backend module is chosen by feature detection and loaded with a dynamic `import()`,
 * so a Deno program never loads koffi and Node never sees `bun:ffi`. Loading the module
 * needs no permission; the library itself is opened (`dlopen`) on the first call to
 * {@linkcode libc}, so importing mmstruct only for its layouts needs no `--allow-ffi`.
 *
 * @module
 */

import { MmapError } from "../mmap_error.ts";
import { DARWIN, type LibcConstants, LINUX_AARCH64, LINUX_X86_64 } from "./constants.ts";
import { type DenoLike, detectRuntime, type ProcessLike, type Runtime } from "./runtime.ts";

export { detectRuntime, type Runtime };

/** The platform a backend is opened for. */
export interface Platform {
  readonly os: "linux" | "darwin";
  readonly arch: "x86_64" | "aarch64";
  readonly constants: LibcConstants;
}

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

function detectPlatform(): { os: string; arch: string } {
  const g = globalThis as { Deno?: DenoLike; process?: ProcessLike };
  const os = g.Deno?.build?.os ?? g.process?.platform ?? "unknown";
  const arch = g.Deno?.build?.arch ?? g.process?.arch ?? "unknown";
  return {
    os,
    arch: arch === "x64" ? "x86_64" : arch === "arm64" ? "aarch64" : arch,
  };
}

function unsupported(what: string): MmapError {
  return new MmapError(`Cannot use memory-mapped files: ${what} is not supported`, {
    syscall: "dlopen",
    errno: 0,
    code: "ENOTSUP",
  });
}

function resolvePlatform(): Platform {
  const { os, arch } = detectPlatform();
  if (os === "windows" || os === "win32") throw unsupported("Windows");
  if (arch !== "x86_64" && arch !== "aarch64") throw unsupported(`the "${arch}" architecture`);
  if (os === "linux") {
    return { os, arch, constants: arch === "x86_64" ? LINUX_X86_64 : LINUX_AARCH64 };
  }
  if (os === "darwin") return { os, arch, constants: DARWIN };
  throw unsupported(`the "${os}" operating system`);
}

async function importFactory(runtime: Runtime): Promise<LibcFactory> {
  // Literal specifiers, so that bundlers and `deno publish` see all three files; each
  // backend imports its own FFI package lazily.
  switch (runtime) {
    case "deno":
      return (await import("./deno.ts")).openLibc;
    case "bun":
      return (await import("./bun.ts")).openLibc;
    case "node":
      return (await import("./node.ts")).openLibc;
  }
}

const factory: LibcFactory = await importFactory(detectRuntime());
let opened: Libc | undefined;

/**
 * The libc of this process, opened on first use.
 *
 * @throws {MmapError} On Windows or an unknown OS or architecture (`code` `"ENOTSUP"`).
 */
export function libc(): Libc {
  return opened ??= factory(resolvePlatform());
}
