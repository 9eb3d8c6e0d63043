/**
 * mmstruct: share data between processes through memory-mapped files, on Deno, Node and
 * Bun.
 *
 * {@linkcode MappedFile} maps a file with libc's `mmap` (through each runtime's FFI) and
 * hands out the mapped memory as a zero-copy `ArrayBuffer`: a write in one process is seen
 * by every other process mapping the file, without a system call. Read the
 * [Safety](https://jsr.io/@mmstruct/mmstruct#safety) section of the README before use.
 *
 * @example Writer and reader
 * ```ts
 * import { MappedFile } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * const path = join(dir, "stats.mms");
 * using writer = MappedFile.create(path, { size: 4096 });
 * using reader = MappedFile.open(path);
 * const hits = new Int32Array(writer.buffer);
 * Atomics.add(hits, 0, 1);
 * assert.equal(Atomics.load(new Int32Array(reader.buffer), 0), 1);
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { type Advice, type CreateOptions, MappedFile, type OpenOptions, type SyncOptions } from "./mapped_file.ts";
export { MmapError, type MmapErrorOptions } from "./mmap_error.ts";
