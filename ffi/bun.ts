/**
 * The libc backend for Bun: `bun:ffi` and `toArrayBuffer`.
 *
 * Bun passes pointers as `number` (addresses fit in 53 bits on x86_64 and aarch64) but
 * returns `(void *) -1` as a `bigint`; both become `bigint` here.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { Libc } from "./libc.ts";
import { openLibrary, type Platform } from "./platform.ts";

type FFIType = string;
interface Definition {
  args: readonly FFIType[];
  returns: FFIType;
}
/** The part of `bun:ffi` used here (typed locally so that Deno and tsc never resolve `bun:ffi`). */
interface BunFFI {
  dlopen<T extends Record<string, Definition>>(
    path: string,
    symbols: T,
  ): { symbols: { [K in keyof T]: (...args: unknown[]) => unknown } };
  toArrayBuffer(pointer: number, byteOffset: number, byteLength: number): ArrayBuffer;
  read: { i32(pointer: number, byteOffset: number): number };
  CString: new (pointer: number) => { toString(): string };
}

function symbols(platform: Platform) {
  const { fstatSymbol: fstat, errnoSymbol } = platform;
  const table = {
    open: {
      args: [
        "ptr", // const char *path
        "i32", // int flags
        "u32", // mode_t mode (variadic in C; passed in a register on Linux)
      ],
      returns: "i32", // int
    },
    close: { args: ["i32" /* int fd */], returns: "i32" },
    fchmod: { args: ["i32", /* int fd */ "u32" /* mode_t mode */], returns: "i32" },
    ftruncate: { args: ["i32", /* int fd */ "i64" /* off_t length */], returns: "i32" },
    [fstat]: { args: ["i32", /* int fd */ "ptr" /* struct stat *buf */], returns: "i32" },
    mmap: {
      args: [
        "ptr", // void *addr
        "usize", // size_t length
        "i32", // int prot
        "i32", // int flags
        "i32", // int fd
        "i64", // off_t offset
      ],
      returns: "ptr", // void *
    },
    munmap: { args: ["ptr", /* void *addr */ "usize" /* size_t length */], returns: "i32" },
    msync: { args: ["ptr", /* void *addr */ "usize", /* size_t length */ "i32" /* int flags */], returns: "i32" },
    madvise: { args: ["ptr", /* void *addr */ "usize", /* size_t length */ "i32" /* int advice */], returns: "i32" },
    rename: { args: ["ptr", /* const char *oldpath */ "ptr" /* const char *newpath */], returns: "i32" },
    link: { args: ["ptr", /* const char *oldpath */ "ptr" /* const char *newpath */], returns: "i32" },
    unlink: { args: ["ptr" /* const char *path */], returns: "i32" },
    openat: {
      args: [
        "i32", // int dirfd
        "ptr", // const char *path
        "i32", // int flags
        "u32", // mode_t mode (variadic in C, as for open)
      ],
      returns: "i32",
    },
    linkat: {
      args: [
        "i32", // int olddirfd
        "ptr", // const char *oldpath
        "i32", // int newdirfd
        "ptr", // const char *newpath
        "i32", // int flags
      ],
      returns: "i32",
    },
    renameat: {
      args: [
        "i32", // int olddirfd
        "ptr", // const char *oldpath
        "i32", // int newdirfd
        "ptr", // const char *newpath
      ],
      returns: "i32",
    },
    unlinkat: { args: ["i32", /* int dirfd */ "ptr", /* const char *path */ "i32" /* int flags */], returns: "i32" },
    mkdirat: { args: ["i32", /* int dirfd */ "ptr", /* const char *path */ "u32" /* mode_t mode */], returns: "i32" },
    flock: { args: ["i32", /* int fd */ "i32" /* int operation */], returns: "i32" },
    geteuid: { args: [], returns: "u32" /* uid_t */ },
    getrlimit: { args: ["i32", /* int resource */ "ptr" /* struct rlimit *rlim */], returns: "i32" },
    kill: { args: ["i32", /* pid_t pid */ "i32" /* int sig */], returns: "i32" },
    getpagesize: { args: [], returns: "i32" },
    [errnoSymbol]: { args: [], returns: "ptr" /* int * */ },
    strerror: { args: ["i32" /* int errnum */], returns: "ptr" /* char * */ },
  } as Record<string, Definition>;
  if (platform.os !== "darwin") {
    // int posix_fallocate(int fd, off_t offset, off_t len): an errno value, 0 on success
    table.posix_fallocate = { args: ["i32", "i64", "i64"], returns: "i32" };
  }
  return { table, fstat };
}

const encoder = new TextEncoder();
function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/** Opens libc through `bun:ffi`. */
export function openLibc(platform: Platform): Libc {
  const ffi = createRequire(import.meta.url)("bun:ffi") as BunFFI;
  const { table, fstat } = symbols(platform);
  const c = openLibrary(platform, (path) => ffi.dlopen(path, table)).symbols as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const int = (name: string) => c[name] as (...args: unknown[]) => number;
  const errnoAddress = (c[platform.errnoSymbol] as () => number)();
  const fallocate = c.posix_fallocate as ((...args: unknown[]) => number) | undefined;
  const pointer = (address: bigint) => (address === 0n ? null : Number(address));
  const mmap = c.mmap as (...args: unknown[]) => number | bigint | null;
  const strerror = c.strerror as (errnum: number) => number | null;
  return {
    runtime: "bun",
    platform,
    pageSize: int("getpagesize")(),
    // JavaScriptCore refuses larger ArrayBuffers.
    maxBufferLength: 2 ** 32,
    open: (path, flags, mode) => int("open")(cString(path), flags, mode),
    close: (fd) => int("close")(fd),
    fchmod: (fd, mode) => int("fchmod")(fd, mode),
    ftruncate: (fd, length) => int("ftruncate")(fd, length),
    posix_fallocate: fallocate === undefined ? undefined : (fd, offset, length) => fallocate(fd, offset, length),
    fstat: (fd, buf) => int(fstat)(fd, buf),
    mmap: (addr, length, prot, flags, fd, offset) => {
      const result = mmap(pointer(addr), length, prot, flags, fd, offset);
      return result === null ? 0n : BigInt(result);
    },
    munmap: (addr, length) => int("munmap")(pointer(addr), length),
    msync: (addr, length, flags) => int("msync")(pointer(addr), length, flags),
    madvise: (addr, length, advice) => int("madvise")(pointer(addr), length, advice),
    rename: (from, to) => int("rename")(cString(from), cString(to)),
    link: (from, to) => int("link")(cString(from), cString(to)),
    unlink: (path) => int("unlink")(cString(path)),
    openat: (dirfd, path, flags, mode) => int("openat")(dirfd, cString(path), flags, mode),
    linkat: (fromDir, from, toDir, to, flags) => int("linkat")(fromDir, cString(from), toDir, cString(to), flags),
    renameat: (fromDir, from, toDir, to) => int("renameat")(fromDir, cString(from), toDir, cString(to)),
    unlinkat: (dirfd, path, flags) => int("unlinkat")(dirfd, cString(path), flags),
    mkdirat: (dirfd, path, mode) => int("mkdirat")(dirfd, cString(path), mode),
    flock: (fd, operation) => int("flock")(fd, operation),
    geteuid: () => int("geteuid")(),
    getrlimit: (resource, buf) => int("getrlimit")(resource, buf),
    kill: (pid, signal) => int("kill")(pid, signal),
    errno: () => ffi.read.i32(errnoAddress, 0),
    strerror: (errnum) => {
      const message = strerror(errnum);
      return message === null ? `errno ${errnum}` : new ffi.CString(message).toString();
    },
    unsafeArrayBuffer: (address, length) => ffi.toArrayBuffer(Number(address), 0, length),
  };
}
