import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statfsSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { describe, test } from "node:test";
import { MappedFile, MmapError } from "../mod.ts";
import { libc } from "../ffi/libc.ts";
import { finish, firstLine, run, runtime, start, tempDir } from "./_helpers.ts";

const PAGE = libc().pageSize;

/**
 * How many pages of the file at `path` this process has mapped and dirtied, from
 * `/proc/self/smaps`: a page written through a shared mapping stays dirty until it is
 * written back to the file, which `msync(MS_SYNC)` does at once and the kernel's flusher
 * only for data dirty for 30 s (`vm.dirty_expire_centisecs`) or under memory pressure. Each
 * test dirties a new file and reads this at once, so the flusher never cleans its pages.
 */
function dirtyPages(path: string): number {
  const inode = statSync(path).ino;
  let kb = 0;
  let inside = false;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    // A mapping's first line: "start-end perms offset dev inode path".
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)/.exec(line);
    if (mapping !== null) inside = Number(mapping[1]) === inode;
    const dirty = inside ? /^(?:Shared|Private)_Dirty:\s+(\d+) kB$/.exec(line) : null;
    if (dirty !== null) kb += Number(dirty[1]);
  }
  return kb * 1024 / PAGE;
}

/** Why the write-back tests cannot run here: no smaps, or a temporary directory in memory (tmpfs, ramfs). */
const noWriteBack: string | false = (() => {
  if (!existsSync("/proc/self/smaps")) return "no /proc/self/smaps";
  const type = statfsSync(tmpdir()).type;
  return type === 0x01021994 || type === 0x858458f6 ? `${tmpdir()} is in memory: nothing is written back` : false;
})();

describe("MappedFile", () => {
  test("MappedFile.create() makes a zeroed file of the given size, mapped read-write", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using file = MappedFile.create(path, { size: 10_000 });
    assert.equal(file.byteLength, 10_000);
    assert.equal(file.buffer.byteLength, 10_000);
    assert.equal(file.writable, true);
    assert.equal(file.path, path);
    assert.equal(statSync(path).size, 10_000);
    assert.ok(new Uint8Array(file.buffer).every((b) => b === 0));
  });

  test("MappedFile round trip: create, write, close, open sees the bytes", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const file = MappedFile.create(path, { size: 64 });
    new Float64Array(file.buffer)[3] = Math.PI;
    file.close();
    assert.equal(readFileSync(path).readDoubleLE(24), Math.PI);
    using again = MappedFile.open(path);
    assert.equal(again.writable, false);
    assert.equal(new Float64Array(again.buffer)[3], Math.PI);
  });

  test("MappedFile.open() shows writes of another mapping at once, without sync", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using writer = MappedFile.create(path, { size: 8 });
    using reader = MappedFile.open(path);
    const words = new Int32Array(reader.buffer);
    new Int32Array(writer.buffer)[1] = -5;
    assert.equal(words[1], -5);
  });

  test("MappedFile.create() leaves no temporary file behind", () => {
    using tmp = tempDir();
    MappedFile.create(tmp.path("a.mms"), { size: 8 }).close();
    assert.throws(() => MappedFile.create(tmp.path("a.mms"), { size: 8 }), { code: "EEXIST" });
    assert.deepEqual(readdirSync(tmp.dir), ["a.mms"]);
  });

  test("MappedFile.create() refuses an existing file and leaves it unchanged", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    writeFileSync(path, "keep me");
    assert.throws(
      () => MappedFile.create(path, { size: 8 }),
      (error: unknown) =>
        error instanceof MmapError && error.code === "EEXIST" && error.path === path && error.syscall === "linkat" &&
        error.message.startsWith(`Cannot create "${path}": `),
    );
    assert.equal(readFileSync(path, "utf8"), "keep me");
  });

  test("MappedFile.create() refuses a symlink planted at the path and leaves its target unchanged", () => {
    using tmp = tempDir();
    const target = tmp.path("target");
    writeFileSync(target, "precious");
    const path = tmp.path("a.mms");
    symlinkSync(target, path);
    assert.throws(() => MappedFile.create(path, { size: 4096 }), { name: "MmapError", code: "EEXIST" });
    assert.equal(readFileSync(target, "utf8"), "precious");
    assert.ok(lstatSync(path).isSymbolicLink());
  });

  test("MappedFile.create() makes the file 0600 under umask 000", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const child = run(runtime, "fixtures/mapped_child", ["create", path, "16"], { shellPrefix: "umask 000" });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(statSync(path).mode & 0o7777, 0o600);
  });

  test("MappedFile.create() honours an explicit mode", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    MappedFile.create(path, { size: 16, mode: 0o400 }).close();
    assert.equal(statSync(path).mode & 0o222, 0);
  });

  test("MappedFile.create({ overwrite }) replaces the file while a reader keeps the old one", async () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const old = MappedFile.create(path, { size: 4096 });
    new Uint8Array(old.buffer).set([1, 2, 3, 4]);
    old.close();
    const reader = start(runtime, "fixtures/mapped_child", ["hold", path]);
    assert.equal(await firstLine(reader), "ready");
    const done = finish(reader);
    using fresh = MappedFile.create(path, { size: 100, overwrite: true });
    new Uint8Array(fresh.buffer).set([9, 9, 9, 9]);
    reader.stdin!.write("go\n");
    const { code, signal, stdout, stderr } = await done;
    assert.equal(signal, null, stderr);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), "1,2,3,4");
    assert.equal(statSync(path).size, 100);
    assert.deepEqual([...readFileSync(path).subarray(0, 4)], [9, 9, 9, 9]);
  });

  test("MappedFile.create() rejects bad arguments with TypeError or RangeError", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    assert.throws(() => MappedFile.create("", { size: 8 }), TypeError);
    assert.throws(() => MappedFile.create("a\0b", { size: 8 }), TypeError);
    assert.throws(() => MappedFile.create(path, undefined as unknown as { size: number }), TypeError);
    assert.throws(() => MappedFile.create(path, { size: 0 }), RangeError);
    assert.throws(() => MappedFile.create(path, { size: 1.5 }), TypeError);
    assert.throws(() => MappedFile.create(path, { size: 8, mode: 0o17777 }), RangeError);
    assert.deepEqual(readdirSync(tmp.dir), []);
  });

  test("MappedFile.open() maps an unaligned offset", () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    const bytes = new Uint8Array(3 * PAGE).map((_, i) => i % 251);
    writeFileSync(path, bytes);
    const offset = PAGE + 3;
    using view = MappedFile.open(path, { offset, length: 10 });
    assert.equal(view.byteLength, 10);
    assert.deepEqual([...new Uint8Array(view.buffer)], [...bytes.subarray(offset, offset + 10)]);
    using tail = MappedFile.open(path, { offset: 7 });
    assert.equal(tail.byteLength, 3 * PAGE - 7);
    assert.equal(new Uint8Array(tail.buffer)[0], 7);
  });

  test("MappedFile.open() refuses a length past the end of the file with a RangeError", () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    writeFileSync(path, new Uint8Array(100));
    assert.throws(() => MappedFile.open(path, { length: 101 }), RangeError);
    assert.throws(() => MappedFile.open(path, { offset: 50, length: 51 }), RangeError);
    assert.throws(() => MappedFile.open(path, { offset: 100 }), RangeError);
    assert.throws(() => MappedFile.open(path, { length: 0 }), RangeError);
    assert.throws(() => MappedFile.open(path, { offset: -1 }), RangeError);
    MappedFile.open(path, { offset: 50, length: 50 }).close();
  });

  test("MappedFile.open() refuses an empty file with a clear error", () => {
    using tmp = tempDir();
    const path = tmp.path("empty");
    writeFileSync(path, "");
    assert.throws(() => MappedFile.open(path), { name: "MmapError", code: "EINVAL", message: /the file is empty/ });
  });

  test("MappedFile.open() refuses a directory", () => {
    using tmp = tempDir();
    assert.throws(() => MappedFile.open(tmp.dir), { name: "MmapError", code: "EISDIR" });
  });

  test("MappedFile.open() refuses a FIFO at once, without blocking", () => {
    using tmp = tempDir();
    const path = tmp.path("fifo");
    assert.equal(spawnSync("mkfifo", [path]).status, 0);
    // An open that blocks on a FIFO returns only once a writer opens it, which none does: the
    // child coming back at all is the proof (no time limit on a busy machine).
    const child = run(runtime, "fixtures/mapped_child", ["open", path]);
    assert.equal(child.signal, null, "the child blocked on the FIFO and was killed");
    const result = JSON.parse(child.stdout);
    assert.equal(result.ok, false);
    assert.equal(result.code, "ENODEV");
  });

  test("MappedFile.open() refuses a character device", () => {
    assert.throws(() => MappedFile.open("/dev/null"), {
      name: "MmapError",
      code: "ENODEV",
      message: /character device/,
    });
  });

  test("MappedFile.open() reports a missing file as ENOENT", () => {
    using tmp = tempDir();
    const path = tmp.path("missing");
    assert.throws(() => MappedFile.open(path), { name: "MmapError", code: "ENOENT", syscall: "open", path });
  });

  test("MappedFile.open({ private }) keeps writes out of the file", () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    writeFileSync(path, new Uint8Array([1, 2, 3, 4]));
    using copy = MappedFile.open(path, { private: true });
    assert.equal(copy.writable, true);
    new Uint8Array(copy.buffer)[0] = 200;
    assert.equal(new Uint8Array(copy.buffer)[0], 200);
    copy.sync();
    assert.deepEqual([...readFileSync(path)], [1, 2, 3, 4]);
  });

  test("MappedFile.open({ write, populate }) maps read-write", () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    writeFileSync(path, new Uint8Array(8));
    using file = MappedFile.open(path, { write: true, populate: true });
    new Uint8Array(file.buffer)[7] = 7;
    file.sync();
    assert.equal(readFileSync(path)[7], 7);
  });

  test("MappedFile.open() refuses windows larger than one ArrayBuffer of the runtime", () => {
    using tmp = tempDir();
    const path = tmp.path("sparse");
    const fd = openSync(path, "w");
    // A sparse 5 GiB file: no blocks are written.
    spawnSync("truncate", ["-s", String(5 * 2 ** 30), path]);
    closeSync(fd);
    if (runtime === "deno") {
      using big = MappedFile.open(path);
      assert.equal(big.byteLength, 5 * 2 ** 30);
      assert.equal(new Uint8Array(big.buffer)[4 * 2 ** 30 + 1], 0);
    } else {
      assert.throws(() => MappedFile.open(path), { name: "RangeError", message: /offset and length/ });
      using view = MappedFile.open(path, { offset: 4 * 2 ** 30, length: 4096 });
      assert.equal(view.byteLength, 4096);
    }
  });

  test("MappedFile.sync() writes every dirty page of the mapping back to the file", { skip: noWriteBack }, () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using file = MappedFile.create(path, { size: 4 * PAGE });
    const bytes = new Uint8Array(file.buffer);
    bytes[0] = 1;
    bytes[3 * PAGE] = 1;
    assert.equal(dirtyPages(path), 2);
    file.sync();
    assert.equal(dirtyPages(path), 0);
    assert.equal(readFileSync(path)[3 * PAGE], 1);
  });

  test("MappedFile.sync({ offset, length }) writes back only the pages of the range", { skip: noWriteBack }, () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using file = MappedFile.create(path, { size: 4 * PAGE });
    const bytes = new Uint8Array(file.buffer);
    bytes[0] = 1;
    bytes[2 * PAGE + 5] = 1;
    bytes[3 * PAGE] = 1;
    assert.equal(dirtyPages(path), 3);
    file.sync({ offset: 2 * PAGE + 5, length: 1 });
    assert.equal(dirtyPages(path), 2, "only the page holding the range is written back");
    // A range from the last byte of page 0 to the first of page 1 covers both pages.
    file.sync({ offset: PAGE - 1, length: 2 });
    assert.equal(dirtyPages(path), 1);
    file.sync({ offset: 0, length: 0 });
    assert.equal(dirtyPages(path), 1, "an empty range writes nothing back");
  });

  test("MappedFile.sync() of a view at an unaligned offset writes back its pages", { skip: noWriteBack }, () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    writeFileSync(path, new Uint8Array(3 * PAGE));
    using view = MappedFile.open(path, { write: true, offset: PAGE + 100, length: 200 });
    new Uint8Array(view.buffer)[150] = 1;
    assert.equal(dirtyPages(path), 1);
    view.sync({ offset: 150, length: 1 });
    assert.equal(dirtyPages(path), 0);
    assert.equal(readFileSync(path)[PAGE + 250], 1);
  });

  // MS_ASYNC only schedules the write-back, and Linux (since 2.6.19) leaves that to its
  // usual flusher: what can be checked is that the call does not wait for it.
  test("MappedFile.sync({ async: true }) returns without writing the pages back", { skip: noWriteBack }, () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using file = MappedFile.create(path, { size: 2 * PAGE });
    new Uint8Array(file.buffer)[PAGE] = 1;
    file.sync({ async: true });
    file.sync({ offset: 3, length: PAGE, async: true });
    assert.equal(dirtyPages(path), 1, "sync({ async: true }) waited for the write-back, as MS_SYNC does");
    file.sync();
    assert.equal(dirtyPages(path), 0);
  });

  test("MappedFile.sync() refuses a range past the buffer and options of the wrong type", () => {
    using tmp = tempDir();
    using file = MappedFile.create(tmp.path("a.mms"), { size: 4 * PAGE });
    assert.throws(() => file.sync({ offset: 4 * PAGE, length: 1 }), RangeError);
    assert.throws(() => file.sync({ offset: 3 * PAGE, length: PAGE + 1 }), RangeError);
    assert.throws(() => file.sync({ offset: -1 }), RangeError);
    assert.throws(() => file.sync({ offset: 1.5 }), TypeError);
    assert.throws(() => file.sync({ async: "yes" as unknown as boolean }), TypeError);
  });

  test("MappedFile.advise() accepts the madvise hints and refuses others", () => {
    using tmp = tempDir();
    using file = MappedFile.create(tmp.path("a.mms"), { size: PAGE });
    new Uint8Array(file.buffer)[0] = 3;
    for (const advice of ["normal", "random", "sequential", "willneed", "dontneed"] as const) file.advise(advice);
    // dontneed on a shared mapping drops the pages; they come back from the file.
    assert.equal(new Uint8Array(file.buffer)[0], 3);
    assert.throws(() => file.advise("hugepage" as "normal"), TypeError);
  });

  test("MappedFile.close() is idempotent and makes methods throw TypeError", () => {
    using tmp = tempDir();
    const file = MappedFile.create(tmp.path("a.mms"), { size: 8 });
    file.close();
    file.close();
    file[Symbol.dispose]();
    assert.equal(file.closed, true);
    assert.equal(file.byteLength, 0);
    assert.equal(file.buffer.byteLength, 0);
    assert.throws(() => file.sync(), { name: "TypeError", message: /closed/ });
    assert.throws(() => file.advise("normal"), { name: "TypeError", message: /closed/ });
  });

  test("MappedFile use after close neither crashes nor reaches the file", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const before = new Uint8Array(16).map((_, i) => i + 1);
    writeFileSync(path, before);
    const child = run(runtime, "fixtures/mapped_child", ["use-after-close", path]);
    assert.equal(child.signal, null, child.stderr);
    assert.equal(child.status, 0, child.stderr);
    const { seen, threw } = JSON.parse(child.stdout);
    assert.equal(threw, "TypeError");
    // Stale views read nothing of the file: empty (detached) or zeros, never its bytes.
    assert.ok(seen[0] === null || seen[0] === 0, `stale read ${seen[0]}`);
    assert.ok(seen[1] === null || seen[1] === 0, `stale read ${seen[1]}`);
    assert.equal(seen[2], 0);
    assert.deepEqual([...readFileSync(path)], [...before]);
  });

  test("MappedFile from a read-only open cannot corrupt the file: a write kills only the writer", () => {
    using tmp = tempDir();
    const path = tmp.path("a.bin");
    writeFileSync(path, new Uint8Array([5, 5, 5, 5]));
    const child = run(runtime, "fixtures/mapped_child", ["write-read-only", path]);
    assert.notEqual(child.stdout.trim(), "survived");
    assert.ok(child.signal !== null || child.status !== 0);
    assert.deepEqual([...readFileSync(path)], [5, 5, 5, 5]);
  });
});

describe("MappedFile across processes", () => {
  test("data written by a child process is seen by the parent", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using file = MappedFile.create(path, { size: 64 });
    const child = run(runtime, "fixtures/mapped_child", ["store", path, "3", "777"]);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(new Int32Array(file.buffer)[3], 777);
  });

  test("data written by Deno is read by Node, and by Bun", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const writer = run("deno", "fixtures/mapped_child", ["create", path, "4096", "31337"]);
    assert.equal(writer.status, 0, writer.stderr);
    for (const reader of ["node", "bun"] as const) {
      const child = run(reader, "fixtures/mapped_child", ["load", path, "0"]);
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), "31337", `${reader} read ${child.stdout}`);
    }
  });

  test("two processes doing 1M Atomics.add each end exact", async () => {
    using tmp = tempDir();
    const path = tmp.path("counter.mms");
    using file = MappedFile.create(path, { size: 8 });
    const times = 1_000_000;
    // Two different runtimes, so the test also covers atomics between them.
    const other = runtime === "deno" ? "node" : "deno";
    const children = [
      start(runtime, "fixtures/mapped_child", ["add", path, String(times)]),
      start(other, "fixtures/mapped_child", ["add", path, String(times)]),
    ];
    const results = await Promise.all(children.map((child) => finish(child)));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(Atomics.load(new Int32Array(file.buffer), 0), 2 * times);
  });
});
