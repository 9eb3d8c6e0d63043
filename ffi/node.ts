/**
 * The libc backend for Node: `koffi` and `koffi.view`.
 *
 * koffi is loaded with `require` from here, so it is never part of a Deno or Bun module
 * graph. koffi returns `void *` as `bigint`, which is what {@linkcode Libc} wants.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { Libc } from "./libc.ts";
import { openLibrary, type Platform } from "./platform.ts";

/** The part of koffi's API used here (koffi ships its own types; this keeps Deno's graph free of it). */
interface Koffi {
  load(path: string): { func(declaration: string): (...args: unknown[]) => unknown };
  view(pointer: bigint, length: number): ArrayBuffer;
  errno(): number;
}

/** One declaration per function, C names and types exactly as in the headers. */
function declarations(platform: Platform) {
  const fstat = platform.fstatSymbol;
  return {
    // open is variadic; mode is declared fixed, which passes it in a register on Linux.
    open: "int open(const char *path, int flags, uint32_t mode)",
    close: "int close(int fd)",
    fchmod: "int fchmod(int fd, uint32_t mode)",
    ftruncate: "int ftruncate(int fd, int64_t length)",
    posix_fallocate: "int posix_fallocate(int fd, int64_t offset, int64_t len)",
    fstat: `int ${fstat}(int fd, _Out_ uint8_t *buf)`,
    mmap: "void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)",
    munmap: "int munmap(void *addr, size_t length)",
    msync: "int msync(void *addr, size_t length, int flags)",
    madvise: "int madvise(void *addr, size_t length, int advice)",
    rename: "int rename(const char *oldpath, const char *newpath)",
    link: "int link(const char *oldpath, const char *newpath)",
    unlink: "int unlink(const char *path)",
    openat: "int openat(int dirfd, const char *path, int flags, uint32_t mode)",
    linkat: "int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)",
    renameat: "int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)",
    unlinkat: "int unlinkat(int dirfd, const char *path, int flags)",
    mkdirat: "int mkdirat(int dirfd, const char *path, uint32_t mode)",
    flock: "int flock(int fd, int operation)",
    geteuid: "uint32_t geteuid()",
    getrlimit: "int getrlimit(int resource, _Out_ uint8_t *rlim)",
    kill: "int kill(int pid, int sig)",
    getpagesize: "int getpagesize()",
    strerror: "const char *strerror(int errnum)",
  } as const;
}

/** Opens libc through koffi. */
export function openLibc(platform: Platform): Libc {
  const koffi = createRequire(import.meta.url)("koffi") as Koffi;
  const library = openLibrary(platform, (path) => koffi.load(path));
  const d = declarations(platform);
  const bind = <T>(declaration: string): T => library.func(declaration) as T;
  type Int = (...args: unknown[]) => number;
  const open = bind<Int>(d.open);
  const close = bind<Int>(d.close);
  const fchmod = bind<Int>(d.fchmod);
  const ftruncate = bind<Int>(d.ftruncate);
  const posixFallocate = platform.os === "darwin" ? undefined : bind<Int>(d.posix_fallocate);
  const fstat = bind<Int>(d.fstat);
  const mmap = bind<(...args: unknown[]) => bigint>(d.mmap);
  const munmap = bind<Int>(d.munmap);
  const msync = bind<Int>(d.msync);
  const madvise = bind<Int>(d.madvise);
  const rename = bind<Int>(d.rename);
  const link = bind<Int>(d.link);
  const unlink = bind<Int>(d.unlink);
  const openat = bind<Int>(d.openat);
  const linkat = bind<Int>(d.linkat);
  const renameat = bind<Int>(d.renameat);
  const unlinkat = bind<Int>(d.unlinkat);
  const mkdirat = bind<Int>(d.mkdirat);
  const flock = bind<Int>(d.flock);
  const geteuid = bind<Int>(d.geteuid);
  const getrlimit = bind<Int>(d.getrlimit);
  const kill = bind<Int>(d.kill);
  const getpagesize = bind<Int>(d.getpagesize);
  const strerror = bind<(errnum: number) => string | null>(d.strerror);
  // koffi passes a null pointer for `null`, and a bigint as the address itself.
  const address = (value: bigint) => (value === 0n ? null : value);
  return {
    runtime: "node",
    platform,
    pageSize: getpagesize(),
    // Node aborts the process (uncatchably) when asked for a larger external ArrayBuffer.
    maxBufferLength: 2 ** 32,
    open: (path, flags, mode) => open(path, flags, mode),
    close: (fd) => close(fd),
    fchmod: (fd, mode) => fchmod(fd, mode),
    ftruncate: (fd, length) => ftruncate(fd, length),
    posix_fallocate: posixFallocate === undefined
      ? undefined
      : (fd, offset, length) => posixFallocate(fd, offset, length),
    fstat: (fd, buf) => fstat(fd, buf),
    mmap: (addr, length, prot, flags, fd, offset) => mmap(address(addr), length, prot, flags, fd, offset),
    munmap: (addr, length) => munmap(addr, length),
    msync: (addr, length, flags) => msync(addr, length, flags),
    madvise: (addr, length, advice) => madvise(addr, length, advice),
    rename: (from, to) => rename(from, to),
    link: (from, to) => link(from, to),
    unlink: (path) => unlink(path),
    openat: (dirfd, path, flags, mode) => openat(dirfd, path, flags, mode),
    linkat: (fromDir, from, toDir, to, flags) => linkat(fromDir, from, toDir, to, flags),
    renameat: (fromDir, from, toDir, to) => renameat(fromDir, from, toDir, to),
    unlinkat: (dirfd, path, flags) => unlinkat(dirfd, path, flags),
    mkdirat: (dirfd, path, mode) => mkdirat(dirfd, path, mode),
    flock: (fd, operation) => flock(fd, operation),
    geteuid: () => geteuid(),
    getrlimit: (resource, buf) => getrlimit(resource, buf),
    kill: (pid, signal) => kill(pid, signal),
    errno: () => koffi.errno(),
    strerror: (errnum) => strerror(errnum) ?? `errno ${errnum}`,
    unsafeArrayBuffer: (address, length) => koffi.view(address, length),
  };
}
