/**
 * The sequence lock on its own, over a header in private memory: how a writer takes and
 * leaves the write section, how a reader retries, and how both treat a writer that died or
 * holds the lock too long. (`struct_file.test.ts` covers it through `StructFile`, across
 * processes.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { StaleWriterError } from "../mod.ts";
import { HEADER_LENGTH, OFFSET } from "../struct_file/_format.ts";
import { HOLDING, Seqlock } from "../struct_file/_seqlock.ts";

/** A zeroed header, and its sequence, lastEven and writerPid words. */
function header(): { buffer: ArrayBuffer; words: Int32Array; writerPid: Int32Array } {
  const buffer = new ArrayBuffer(HEADER_LENGTH);
  return {
    buffer,
    words: new Int32Array(buffer, OFFSET.sequence, 2),
    writerPid: new Int32Array(buffer, OFFSET.writerPid, 1),
  };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["--version"]);
  assert.equal(child.error, undefined);
  return child.pid!;
}

test("Seqlock.enter() names this process in the sequence and leave() moves it to the next even value", () => {
  const { buffer, words, writerPid } = header();
  const lock = new Seqlock(buffer, true, "a.mms", 1000);
  const s = lock.enter();
  assert.equal(s, 0);
  assert.equal(words[0], HOLDING);
  assert.equal(words[0] >>> 1, process.pid);
  assert.equal(writerPid[0], process.pid);
  assert.equal(lock.version(), 1);
  lock.leave(s, undefined);
  assert.deepEqual([...words], [2, 2]);
  assert.equal(lock.version(), 2);
});

test("Seqlock.read() copies again when an update overlapped the copy", () => {
  const { buffer } = header();
  const lock = new Seqlock(buffer, true, "a.mms", 1000);
  let calls = 0;
  const [value, version] = lock.read(() => {
    calls++;
    if (calls === 1) lock.leave(lock.enter(), undefined); // an update during the first copy
    return calls;
  });
  assert.equal(calls, 2);
  assert.deepEqual([value, version], [2, 2]);
});

test("Seqlock.read() throws a StaleWriterError when the writer died inside an update", () => {
  const { buffer, words, writerPid } = header();
  const pid = deadPid();
  words[0] = (pid << 1) | 1;
  writerPid[0] = pid;
  const lock = new Seqlock(buffer, false, "a.mms", 60_000);
  assert.throws(() => lock.read(() => 0), (error) => {
    assert.ok(error instanceof StaleWriterError);
    assert.deepEqual([error.path, error.pid, error.alive], ["a.mms", pid, false]);
    return true;
  });
});

test("Seqlock.read() throws a StaleWriterError once a live writer holds the lock past the timeout", () => {
  const { buffer, words, writerPid } = header();
  const pid = process.ppid; // alive for as long as this test runs
  words[0] = (pid << 1) | 1;
  writerPid[0] = pid;
  const lock = new Seqlock(buffer, false, "a.mms", 20);
  assert.throws(() => lock.read(() => 0), (error) => {
    assert.ok(error instanceof StaleWriterError);
    assert.deepEqual([error.pid, error.alive], [pid, true]);
    return true;
  });
});

test("Seqlock.enter() takes over from a writer that died inside an update", () => {
  const { buffer, words, writerPid } = header();
  const pid = deadPid();
  words[0] = (pid << 1) | 1;
  words[1] = 4; // the dead writer's update started from version 4
  writerPid[0] = pid;
  const lock = new Seqlock(buffer, true, "a.mms", 60_000);
  const s = lock.enter();
  assert.equal(s, 6); // its update is finished for it, as version 6
  assert.equal(words[0], HOLDING);
  lock.leave(s, undefined);
  assert.deepEqual([...words], [8, 8]);
});

test("Seqlock.leave() throws a StaleWriterError, caused by the update's error, when another writer took over", () => {
  const { buffer, words } = header();
  const lock = new Seqlock(buffer, true, "a.mms", 1000);
  const s = lock.enter();
  const other = process.ppid;
  words[0] = (other << 1) | 1; // another writer judged this one dead and took the lock
  const cause = new Error("the update's own error");
  assert.throws(() => lock.leave(s, { error: cause }), (error) => {
    assert.ok(error instanceof StaleWriterError);
    assert.equal(error.pid, other);
    assert.equal(error.cause, cause);
    return true;
  });
  assert.equal(words[0], (other << 1) | 1); // the other writer's update is not marked finished
});
