/**
 * Per-OS libc constants, spelled as in the C headers.
 *
 * Linux values are from `<asm-generic/*.h>` and `<bits/*.h>` (x86_64 and aarch64 differ
 * only in `O_DIRECTORY`/`O_NOFOLLOW` and the `struct stat` layout); macOS values are from
 * the macOS SDK headers (`<sys/fcntl.h>`, `<sys/mman.h>`, `<sys/stat.h>`, `<sys/file.h>`, `<sys/resource.h>`) and are not exercised by this repository's CI.
 *
 * @module
 */

/** The constants the library needs, for one OS and architecture. */
export interface LibcConstants {
  readonly O_RDONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NOFOLLOW: number;
  readonly O_CLOEXEC: number;
  readonly O_NONBLOCK: number;
  readonly O_NOCTTY: number;
  readonly O_DIRECTORY: number;
  /** The `dirfd` that makes the `*at()` calls resolve relative paths from the working directory. */
  readonly AT_FDCWD: number;
  /** `flock(2)` operations (`<sys/file.h>`): the same numbers on Linux and macOS. */
  readonly LOCK_SH: number;
  readonly LOCK_EX: number;
  readonly LOCK_NB: number;
  readonly LOCK_UN: number;
  /** The `getrlimit(2)` resource for the largest file the process may write (`ulimit -f`). */
  readonly RLIMIT_FSIZE: number;
  /** `rlim_t` of an unlimited resource (`rlim_t` is an unsigned 64-bit integer). */
  readonly RLIM_INFINITY: bigint;
  readonly PROT_NONE: number;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly MAP_PRIVATE: number;
  readonly MAP_FIXED: number;
  readonly MAP_ANONYMOUS: number;
  readonly MAP_NORESERVE: number;
  /** 0 where the OS has no such flag (macOS). */
  readonly MAP_POPULATE: number;
  readonly MS_ASYNC: number;
  readonly MS_SYNC: number;
  readonly MADV_NORMAL: number;
  readonly MADV_RANDOM: number;
  readonly MADV_SEQUENTIAL: number;
  readonly MADV_WILLNEED: number;
  readonly MADV_DONTNEED: number;
  readonly S_IFMT: number;
  readonly S_IFREG: number;
  readonly S_IFDIR: number;
  readonly S_IFIFO: number;
  readonly S_IFCHR: number;
  readonly S_IFBLK: number;
  readonly S_IFSOCK: number;
  /** `sizeof(struct stat)`. */
  readonly STAT_SIZE: number;
  /** `offsetof(struct stat, st_mode)`. */
  readonly STAT_MODE_OFFSET: number;
  /** `sizeof(st_mode)`: 4 on Linux (`unsigned int`), 2 on macOS (`mode_t` is `uint16_t`). */
  readonly STAT_MODE_SIZE: 2 | 4;
  /** `offsetof(struct stat, st_uid)`; `uid_t` is an unsigned 32-bit integer. */
  readonly STAT_UID_OFFSET: number;
  /** `offsetof(struct stat, st_size)`; `st_size` is a signed 64-bit `off_t`. */
  readonly STAT_SIZE_OFFSET: number;
}

const S_IF = {
  S_IFMT: 0o170000,
  S_IFREG: 0o100000,
  S_IFDIR: 0o040000,
  S_IFIFO: 0o010000,
  S_IFCHR: 0o020000,
  S_IFBLK: 0o060000,
  S_IFSOCK: 0o140000,
} as const;

/** `<sys/file.h>`: BSD `flock`, whose numbers Linux kept. */
const LOCK = {
  LOCK_SH: 1,
  LOCK_EX: 2,
  LOCK_NB: 4,
  LOCK_UN: 8,
} as const;

const PROT_MADV = {
  PROT_NONE: 0,
  PROT_READ: 1,
  PROT_WRITE: 2,
  MADV_NORMAL: 0,
  MADV_RANDOM: 1,
  MADV_SEQUENTIAL: 2,
  MADV_WILLNEED: 3,
  MADV_DONTNEED: 4,
} as const;

const LINUX_COMMON = {
  ...S_IF,
  ...PROT_MADV,
  ...LOCK,
  AT_FDCWD: -100,
  RLIMIT_FSIZE: 1,
  RLIM_INFINITY: 0xffffffffffffffffn,
  O_RDONLY: 0,
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_NORESERVE: 0x4000,
  MAP_POPULATE: 0x8000,
  MS_ASYNC: 1,
  MS_SYNC: 4,
  STAT_MODE_SIZE: 4,
  STAT_SIZE_OFFSET: 48,
} as const;

/** Linux on x86_64 (`<asm/stat.h>`: st_mode after st_dev, st_ino, st_nlink; st_uid after st_mode). */
export const LINUX_X86_64: LibcConstants = {
  ...LINUX_COMMON,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  STAT_SIZE: 144,
  STAT_MODE_OFFSET: 24,
  STAT_UID_OFFSET: 28,
};

/** Linux on aarch64 (`<asm-generic/stat.h>`: st_mode after st_dev, st_ino; st_nlink, then st_uid). */
export const LINUX_AARCH64: LibcConstants = {
  ...LINUX_COMMON,
  O_DIRECTORY: 0o40000,
  O_NOFOLLOW: 0o100000,
  STAT_SIZE: 128,
  STAT_MODE_OFFSET: 16,
  STAT_UID_OFFSET: 24,
};

/** macOS (x86_64 and arm64 share these; `struct stat` is the 64-bit-inode one). */
export const DARWIN: LibcConstants = {
  ...S_IF,
  ...PROT_MADV,
  ...LOCK,
  O_DIRECTORY: 0x100000,
  AT_FDCWD: -2,
  RLIMIT_FSIZE: 1,
  RLIM_INFINITY: 0x7fffffffffffffffn,
  O_RDONLY: 0,
  O_RDWR: 0x2,
  O_NONBLOCK: 0x4,
  O_NOFOLLOW: 0x100,
  O_CREAT: 0x200,
  O_EXCL: 0x800,
  O_NOCTTY: 0x20000,
  O_CLOEXEC: 0x1000000,
  MAP_SHARED: 0x1,
  MAP_PRIVATE: 0x2,
  MAP_FIXED: 0x10,
  MAP_NORESERVE: 0x40,
  MAP_ANONYMOUS: 0x1000,
  MAP_POPULATE: 0,
  MS_ASYNC: 0x1,
  MS_SYNC: 0x10,
  STAT_SIZE: 144,
  STAT_MODE_OFFSET: 4,
  STAT_MODE_SIZE: 2,
  STAT_UID_OFFSET: 16,
  STAT_SIZE_OFFSET: 96,
};
