import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { struct, StructFile, u32 } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

const Pair = struct({ a: u32, b: u32 });

describe("StructFile.update() and asynchronous functions", () => {
  test("update() refuses an async function before it writes or publishes anything", async () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const before = file.version;
    let ran = false;
    const fn = async (v: { a: number; b: number }) => {
      ran = true;
      v.a = 1;
      await null;
      v.b = 2;
    };
    // @ts-expect-error: an async fn is refused at compile time too
    assert.throws(() => file.update(fn), { name: "TypeError", message: /async function/ });
    await new Promise((resolve) => setTimeout(resolve, 0)); // where the awaited write would have run
    assert.equal(ran, false);
    assert.equal(file.version, before);
    assert.deepEqual(file.snapshot(), { a: 0, b: 0 });
  });

  test("update() publishes what a thenable-returning fn wrote before returning, then throws a TypeError", async () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const before = file.version;
    let later: Promise<void> | undefined;
    const fn = (v: { a: number; b: number }) => {
      v.a = 1;
      later = (async () => {
        await null;
        v.b = 2;
      })();
      return later;
    };
    // @ts-expect-error: a fn typed to return a promise is refused at compile time too
    assert.throws(() => file.update(fn), { name: "TypeError", message: /returned a promise/ });
    // One update, finished (even): the synchronous write is published, no writer holds the file.
    assert.equal(file.version, before + 2);
    assert.deepEqual(file.snapshot(), { a: 1, b: 0 });
    await later;
    // The awaited write landed outside any update: readers' version never saw it.
    assert.equal(file.version, before + 2);
    assert.deepEqual(file.snapshot(), { a: 1, b: 2 });
    file.update((v) => v.a = 3); // the file is free for the next update
    assert.equal(file.version, before + 4);
  });

  test("update() refuses a thenable that is not a promise", () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const thenable = { then: (resolve: (value: number) => void) => resolve(1) };
    // @ts-expect-error: a thenable return type is refused at compile time
    assert.throws(() => file.update(() => thenable), { name: "TypeError", message: /thenable/ });
    assert.equal(file.version % 2, 0);
  });

  test("update() refuses a fn that is not a function without taking the write section", () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const before = file.version;
    assert.throws(() => file.update(42 as never), { name: "TypeError", message: /fn must be a function, got number/ });
    assert.equal(file.version, before);
  });

  test("update() still accepts synchronous functions whatever they return", () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    file.update((v) => v.a = 5); // an arrow expression returns the assigned number
    file.update((v) => ({ b: v.b = 6 }));
    file.update(function (v) {
      v.a += 1;
    });
    assert.deepEqual(file.snapshot(), { a: 6, b: 6 });
  });

  test("update() publishes and rethrows when looking at what fn returned throws (a throwing then getter)", () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const before = file.version;
    const boom = new Error("then getter");
    const result = {
      get then(): never {
        throw boom;
      },
    };
    assert.throws(() => file.update((v) => (v.a = 1, result as unknown)), (error) => error === boom);
    assert.equal(file.version, before + 2); // left the write section: even, one update on
    assert.deepEqual(file.snapshot(), { a: 1, b: 0 });
  });

  test("update() refuses an update() nested in a then getter of what fn returned", () => {
    using dir = tempDir();
    using file = StructFile.create(dir.path("pair.mms"), Pair);
    const before = file.version;
    let nested: unknown;
    const result = {
      get then(): undefined {
        try {
          file.update((v) => v.b = 2);
        } catch (error) {
          nested = error;
        }
        return undefined;
      },
    };
    file.update((v) => (v.a = 1, result as unknown));
    assert.ok(nested instanceof TypeError && /cannot nest/.test(nested.message), String(nested));
    assert.equal(file.version, before + 2);
    assert.deepEqual(file.snapshot(), { a: 1, b: 0 });
  });
});

describe("StructFile.close() inside update()", () => {
  test("close() inside update() is refused, and the update is published and the file stays usable", () => {
    using dir = tempDir();
    const path = dir.path("pair.mms");
    using file = StructFile.create(path, Pair);
    const before = file.version;
    assert.throws(
      () =>
        file.update((v) => {
          v.a = 7;
          file.close();
        }),
      { name: "TypeError", message: /Cannot close .*pair\.mms.* inside update\(\)/ },
    );
    // The write section was left: the version moved on by one update, and it is even again.
    assert.equal(file.closed, false);
    assert.equal(file.version, before + 2);
    using reader = StructFile.open(path, { timeout: 100 });
    assert.deepEqual(reader.snapshot(), { a: 7, b: 0 });
    file.update((v) => {
      v.b = 8;
    });
    assert.deepEqual(reader.snapshot(), { a: 7, b: 8 });
    file.close();
    assert.equal(file.closed, true);
  });
});
