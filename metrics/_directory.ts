/**
 * Where metrics files live by default, and what identifies this writer (process and
 * thread). Internal.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { threadId } from "node:worker_threads";
import { libc } from "../ffi/libc.ts";
import { errnoNumber } from "../ffi/errno.ts";
import { MmapError } from "../ffi/mmap_error.ts";

/**
 * The names in a directory (`readdir`), or an {@linkcode MmapError} saying why not, with
 * libc's wording (`No such file or directory`), like every other failed call.
 */
export function listDirectory(dir: string, what: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "EIO";
    const errno = errnoNumber(code);
    const reason = errno === 0 ? (error as Error).message : libc().strerror(errno);
    throw new MmapError(`${what} ${JSON.stringify(dir)}: ${reason}`, {
      syscall: "opendir",
      code,
      path: dir,
      cause: error,
    });
  }
}

/** An environment variable, or `undefined` when unset or unreadable (Deno without `--allow-env`). */
export function readEnv(name: string): string | undefined {
  try {
    const value = process.env[name];
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * The default metrics directory: `$MMSTRUCT_METRICS_DIR`; else
 * `$XDG_RUNTIME_DIR/mmstruct-metrics` (a per-user tmpfs on systemd machines); else
 * `/dev/shm/mmstruct-metrics-<uid>` (tmpfs on Linux), or the same name in the temporary
 * directory where there is no `/dev/shm` (macOS).
 */
export function defaultDirectory(): string {
  const explicit = readEnv("MMSTRUCT_METRICS_DIR");
  if (explicit !== undefined) return explicit;
  const runtime = readEnv("XDG_RUNTIME_DIR");
  if (runtime !== undefined) return join(runtime, "mmstruct-metrics");
  const name = `mmstruct-metrics-${libc().geteuid()}`;
  return existsSync("/dev/shm") ? join("/dev/shm", name) : join(tmpdir(), name);
}

/**
 * The compaction mark: the generation of the newest archive and a random number, which
 * every compactor writes into the lock file after publishing an archive and before
 * removing anything. A reader that reads the same mark before and after listing the
 * directory and opening its files knows that no compaction removed a file in between
 * (`""` when there is no lock file yet; `undefined` when it cannot be read). Listings
 * alone cannot tell: `readdir` is not atomic, and may miss both the archive linked and the
 * files removed during it.
 */
export function compactionMark(lockPath: string): string | undefined {
  try {
    return readFileSync(lockPath, "latin1");
  } catch (error) {
    return (error as { code?: string }).code === "ENOENT" ? "" : undefined;
  }
}

/** Writes a new compaction mark (see {@linkcode compactionMark}) in place: the lock is on this inode. */
export function writeCompactionMark(lockPath: string, generation: number): void {
  const random = crypto.getRandomValues(new Uint32Array(2));
  writeFileSync(lockPath, `${generation} ${random[0].toString(16)}${random[1].toString(16)}\n`);
}

/** Whether this code runs in a Web Worker (Deno's report `threadId` 0, as the main thread). */
function inWebWorker(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown }).WorkerGlobalScope;
  return typeof scope === "function" && globalThis instanceof scope;
}

let thread: number | undefined;

/**
 * This thread's number: `threadId` from `node:worker_threads` (0 on the main thread).
 * Deno's Web Workers report 0 there, as its main thread does: they get a random number
 * from 2^30 up instead, so that each thread's file and `"each"` gauge series differ.
 */
export function threadNumber(): number {
  if (thread === undefined) {
    thread = threadId !== 0 || !inWebWorker()
      ? threadId
      : 0x40000000 + (crypto.getRandomValues(new Uint32Array(1))[0] & 0x3fffffff);
  }
  return thread;
}
