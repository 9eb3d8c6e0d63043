/**
 * A mapping is never left behind when making its handle fails. The failure is forced by
 * making libc's `unsafeArrayBuffer` throw (the step between `mmap` and the handle), and
 * the mappings of the file are counted in `/proc/self/maps` before and after.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { MappedFile } from "../mod.ts";
import { libc } from "../ffi/libc.ts";
import { tempDir } from "./_helpers.ts";

/** How many mappings of files under `dir` this process has. */
function mappingsUnder(dir: string): number {
  return readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) => line.includes(`${dir}/`)).length;
}

/** Runs `fn` with libc's `unsafeArrayBuffer` throwing, and returns what `fn` threw. */
function withBufferFailure(fn: () => void): unknown {
  const c = libc() as { unsafeArrayBuffer: (address: bigint, length: number) => ArrayBuffer };
  const original = c.unsafeArrayBuffer;
  const failure = new Error("forced failure of unsafeArrayBuffer");
  c.unsafeArrayBuffer = () => {
    throw failure;
  };
  try {
    fn();
  } catch (error) {
    return error;
  } finally {
    c.unsafeArrayBuffer = original;
  }
  assert.fail("expected the forced failure");
}

test("MappedFile.create() unmaps the file when making its handle throws", () => {
  using dir = tempDir();
  const before = mappingsUnder(dir.dir);
  const thrown = withBufferFailure(() => MappedFile.create(dir.path("a.mms"), { size: 8192 }));
  assert.match(String(thrown), /forced failure/);
  assert.equal(mappingsUnder(dir.dir), before);
});

test("MappedFile.open() unmaps the file when making its handle throws", () => {
  using dir = tempDir();
  writeFileSync(dir.path("a.mms"), new Uint8Array(8192));
  const before = mappingsUnder(dir.dir);
  const thrown = withBufferFailure(() => MappedFile.open(dir.path("a.mms")));
  assert.match(String(thrown), /forced failure/);
  assert.equal(mappingsUnder(dir.dir), before);
  // The file still maps normally afterwards.
  using file = MappedFile.open(dir.path("a.mms"));
  assert.equal(file.buffer.byteLength, 8192);
});
