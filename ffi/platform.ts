/**
 * Platform facts: which OS and architecture this is, which libc to open and under what
 * names it exports the symbols that differ between platforms. The three backends
 * (`deno.ts`, `node.ts`, `bun.ts`) read them from {@linkcode Platform} rather than each
 * spelling them out.
 *
 * @module
 */

import { DARWIN, type LibcConstants, LINUX_AARCH64, LINUX_X86_64 } from "./constants.ts";
import { MmapError } from "./mmap_error.ts";
import { detectPlatform } from "./runtime.ts";

/**
 * The environment variable that names the C library to open instead of the platform's
 * default, as `DENO_SQLITE_PATH` does for denodrivers/sqlite3: on musl (Alpine) set it to
 * `libc.musl-x86_64.so.1` (or `libc.musl-aarch64.so.1`, or a full path such as
 * `/lib/ld-musl-x86_64.so.1`). Read once, when libc is first opened; under Deno only with
 * `--allow-env` (without it the default is used, and no permission prompt is shown).
 */
export const LIBC_ENV = "MMSTRUCT_LIBC";

/** The platform a backend is opened for. */
export interface Platform {
  readonly os: "linux" | "darwin";
  readonly arch: "x86_64" | "aarch64";
  readonly constants: LibcConstants;
  /** The C library to `dlopen`: `libc.so.6` (glibc), `/usr/lib/libSystem.B.dylib`, or `MMSTRUCT_LIBC`. */
  readonly libraryPath: string;
  /**
   * The symbol of `fstat(2)`: `fstat$INODE64` on macOS x86_64, whose plain `fstat` fills
   * the old 32-bit-inode `struct stat`; `fstat` elsewhere (glibc exports it since 2.33;
   * older glibc has only `__fxstat`, which mmstruct does not call).
   */
  readonly fstatSymbol: string;
  /** The function that returns the address of this thread's `errno`: `__errno_location` (glibc, musl) or `__error` (macOS). */
  readonly errnoSymbol: string;
}

function unsupported(what: string): MmapError {
  return new MmapError(`Cannot use memory-mapped files: ${what} is not supported`, {
    syscall: "dlopen",
    errno: 0,
    code: "ENOTSUP",
  });
}

/** `MMSTRUCT_LIBC`, or `undefined` when unset, empty or not readable (Deno without `--allow-env`). */
export function libraryOverride(): string | undefined {
  const g = globalThis as {
    Deno?: {
      env?: { get(name: string): string | undefined };
      permissions?: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
    };
    process?: { env?: Record<string, string | undefined> };
  };
  let value: string | undefined;
  try {
    if (g.Deno?.env !== undefined) {
      // Ask first: reading an env variable without the permission would prompt on a terminal.
      const state = g.Deno.permissions?.querySync?.({ name: "env", variable: LIBC_ENV }).state;
      value = state === "granted" ? g.Deno.env.get(LIBC_ENV) : undefined;
    } else {
      value = g.process?.env?.[LIBC_ENV];
    }
  } catch {
    value = undefined;
  }
  return value === "" ? undefined : value;
}

/**
 * The platform of this process.
 *
 * @throws {MmapError} On Windows or an unknown OS or architecture (`code` `"ENOTSUP"`).
 */
export function resolvePlatform(): Platform {
  const { os, arch } = detectPlatform();
  if (os === "windows" || os === "win32") throw unsupported("Windows");
  if (arch !== "x86_64" && arch !== "aarch64") throw unsupported(`the "${arch}" architecture`);
  if (os !== "linux" && os !== "darwin") throw unsupported(`the "${os}" operating system`);
  const darwin = os === "darwin";
  return {
    os,
    arch,
    constants: darwin ? DARWIN : arch === "x86_64" ? LINUX_X86_64 : LINUX_AARCH64,
    libraryPath: libraryOverride() ?? (darwin ? "/usr/lib/libSystem.B.dylib" : "libc.so.6"),
    fstatSymbol: darwin && arch === "x86_64" ? "fstat$INODE64" : "fstat",
    errnoSymbol: darwin ? "__error" : "__errno_location",
  };
}

/**
 * Opens the C library with `open` (a backend's `dlopen`), turning its failure into an
 * {@linkcode MmapError} that names the library and how to choose another.
 *
 * @throws {MmapError} If the library cannot be loaded (`syscall` `"dlopen"`, `errno` 0, `code` `"ELIBACC"`).
 */
export function openLibrary<T>(platform: Platform, open: (path: string) => T): T {
  try {
    return open(platform.libraryPath);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return throwLoadError(platform.libraryPath, detail, error);
  }
}

function throwLoadError(path: string, detail: string, cause: unknown): never {
  throw new MmapError(
    `Cannot load the C library ${JSON.stringify(path)} (set ${LIBC_ENV} to choose another): ${detail}`,
    // dlopen reports through dlerror(), not errno; ELIBACC is Linux's name for the condition.
    { syscall: "dlopen", errno: 0, code: "ELIBACC", path, cause },
  );
}
