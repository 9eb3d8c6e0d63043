/**
 * One error convention: every error class of mmstruct takes `(message, { fields, cause })`,
 * errno values are named from one table, and a refused argument is quoted in the message.
 *
 * @module
 */

import assert from "node:assert/strict";
import { constants } from "node:os";
import { test } from "node:test";
import {
  collect,
  FormatError,
  MappedFile,
  metricsHandler,
  MmapError,
  nagiosCheck,
  StaleWriterError,
  struct,
  StructFile,
  toMunin,
  u32,
  watch,
} from "../mod.ts";
import { tempDir } from "./_helpers.ts";

test("MmapError() names the code from errno, and errno from the code", () => {
  const byNumber = new MmapError("Cannot open", { syscall: "open", errno: constants.errno.ENOENT, path: "a" });
  assert.equal(byNumber.code, "ENOENT");
  assert.equal(byNumber.path, "a");
  const byName = new MmapError("Cannot lock", { syscall: "flock", code: "EAGAIN" });
  assert.equal(byName.errno, constants.errno.EAGAIN);
  const both = new MmapError("Cannot load", { syscall: "dlopen", errno: 0, code: "ELIBACC" });
  assert.deepEqual([both.errno, both.code], [0, "ELIBACC"]);
});

test("FormatError() takes the message first, then reason, path and cause", () => {
  const cause = new Error("inner");
  const error = new FormatError('Cannot read struct file "a.mms": bad magic', {
    reason: "magic",
    path: "a.mms",
    cause,
  });
  assert.equal(error.message, 'Cannot read struct file "a.mms": bad magic');
  assert.equal(error.reason, "magic");
  assert.equal(error.path, "a.mms");
  assert.equal(error.cause, cause);
  assert.equal(error.name, "FormatError");
});

test("StaleWriterError() takes the message first, then path, pid, alive and cause", () => {
  const cause = new Error("inner");
  const error = new StaleWriterError("Writer 42 died", { path: "a.mms", pid: 42, alive: false, cause });
  assert.equal(error.message, "Writer 42 died");
  assert.deepEqual([error.path, error.pid, error.alive, error.cause], ["a.mms", 42, false, cause]);
  assert.equal(error.name, "StaleWriterError");
});

test("StructFile.open() gives a FormatError whose message names the file", () => {
  using dir = tempDir();
  const path = dir.path("text.mms");
  MappedFile.create(path, { size: 200 }).close();
  assert.throws(() => StructFile.open(path), (error) => {
    assert.ok(error instanceof FormatError);
    assert.equal(error.path, path);
    assert.equal(error.reason, "magic");
    assert.ok(error.message.startsWith(`Cannot read struct file ${JSON.stringify(path)}: `), error.message);
    return true;
  });
});

/** Asserts that `fn` throws a TypeError or RangeError whose message ends with `got <shown>`. */
function refusesWith(fn: () => unknown, shown: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof TypeError || error instanceof RangeError, String(error));
    assert.ok(error.message.endsWith(`got ${shown}`), error.message);
    return true;
  });
}

test("MappedFile.create(), StructFile.open(), collect(), the exporters and watch() end a refusal with the refused value", async () => {
  using dir = tempDir();
  const path = dir.path("a.mms");
  refusesWith(() => MappedFile.create(path, 5 as never), "5");
  refusesWith(() => MappedFile.open(path, "r" as never), `"r"`);
  refusesWith(() => StructFile.create(path, {} as never), "an object");
  refusesWith(() => StructFile.create(path, struct({ n: u32 }), 7 as never), "7");
  refusesWith(() => StructFile.open(path, 7 as never), "7");
  {
    using file = MappedFile.create(path, { size: 4096 });
    refusesWith(() => file.sync({ async: "yes" as never }), `"yes"`);
  }
  await assert.rejects(
    () => watch(path, { interval: -1 }).next(),
    (error) => error instanceof RangeError && error.message.endsWith("got -1"),
  );
  refusesWith(() => collect(dir.dir, { meta: "no" as never }), `"no"`);
  refusesWith(() => collect(dir.dir, 3 as never), "3");
  refusesWith(() => toMunin("x" as never), `"x"`);
  refusesWith(() => toMunin([], { multigraph: 1 as never }), "1");
  refusesWith(() => metricsHandler(dir.dir, { onError: 1 as never }), "1");
  refusesWith(() => nagiosCheck([], { metric: "m", now: Number.NaN }), "NaN");
  refusesWith(() => nagiosCheck([], { metric: "m", sum: "yes" as never }), `"yes"`);
  refusesWith(() => nagiosCheck([], 5n as never), "5n");
});
