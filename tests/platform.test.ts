/**
 * Platform facts: the C library mmstruct opens, and its override for musl (`MMSTRUCT_LIBC`).
 * Each case runs in a child process, since libc is opened once per process.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { run, runtime, tempDir } from "./_helpers.ts";

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Runs the child on this runtime with `MMSTRUCT_LIBC` set to `library` and returns what it printed. */
function createWith(library: string, path: string): Record<string, unknown> {
  const result = run(runtime, "fixtures/libc_child", [path], {
    shellPrefix: `MMSTRUCT_LIBC=${shellQuote(library)}; export MMSTRUCT_LIBC`,
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

/** The absolute path of the C library this process has mapped (from `/proc/self/maps`). */
function mappedLibc(): string {
  const line = readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => /\/libc(-[^/]*)?\.so[.\d]*$/.test(l));
  assert.ok(line !== undefined, "no libc in /proc/self/maps");
  return line.slice(line.indexOf("/"));
}

test("libc() refuses a library MMSTRUCT_LIBC names that does not exist, with an MmapError", () => {
  using dir = tempDir();
  const missing = dir.path("no-such-libc.so.6");
  const outcome = createWith(missing, dir.path("a.mms"));
  assert.equal(outcome.ok, false);
  assert.equal(outcome.mmapError, true, JSON.stringify(outcome));
  assert.equal(outcome.code, "ELIBACC");
  assert.equal(outcome.syscall, "dlopen");
  assert.equal(outcome.path, missing);
  assert.ok((outcome.message as string).includes(JSON.stringify(missing)), outcome.message as string);
  assert.match(outcome.message as string, /MMSTRUCT_LIBC/);
});

test("libc() opens the library MMSTRUCT_LIBC names", () => {
  using dir = tempDir();
  const outcome = createWith(mappedLibc(), dir.path("a.mms"));
  assert.deepEqual(outcome, { ok: true });
  // Read from the Buffer itself: its .buffer can be a shared pool that holds other bytes first (Node 24).
  assert.equal(readFileSync(dir.path("a.mms")).readInt32LE(0), 7);
});
