import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  array,
  bits,
  bool,
  f64,
  FormatError,
  i16be,
  MappedFile,
  StaleWriterError,
  struct,
  StructFile,
  u16,
  u32,
  u64,
  u8,
  union,
  utf8,
  watch,
} from "../mod.ts";
import { fnv1a64, OFFSET } from "../struct_file/_format.ts";
import { arraysFor, readInterpreted } from "../layout/reader.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
import { Pair } from "./fixtures/pair.ts";
import { rewriteSchema } from "./_struct_files.ts";
import { finish, lines, run, runtime, seededRandom, start, tempDir } from "./_helpers.ts";

const STATS_FIELDS = {
  requests: u64,
  errors: u32,
  load: f64,
  up: bool,
  name: utf8(16),
  point: struct({ x: i16be, y: u16 }),
  hist: array(u32, 3),
  either: union({ n: u32, c: u8 }),
};
const Stats = struct(STATS_FIELDS);

/**
 * Changes the header of the struct file at `path` in place, as another process could: its
 * 32-bit words, and the writer's start time.
 */
function editHeader(path: string, edit: (words: Int32Array, start: BigUint64Array) => void): void {
  using raw = MappedFile.open(path, { write: true });
  edit(new Int32Array(raw.buffer, 0, 32), new BigUint64Array(raw.buffer, OFFSET.writerStart, 1));
}

/**
 * Resolves once `condition()` holds, polling; rejects if `child` exits first. No deadline:
 * a busy machine may take long to start a child, and a child that fails exits.
 */
function waitFor(condition: () => boolean, child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) return resolve();
      if (child.exitCode !== null || child.signalCode !== null) {
        return reject(new Error(`the child exited (${child.exitCode ?? child.signalCode}) before ${what}`));
      }
      setTimeout(poll, 5);
    };
    poll();
  });
}

describe("StructFile", () => {
  test("StructFile.create() and open() round-trip values, typed or rebuilt from the schema", () => {
    using tmp = tempDir();
    const path = tmp.path("stats.mms");
    using writer = StructFile.create(path, Stats, {
      initial: { requests: 5n, name: "api", point: { x: -2, y: 3 }, hist: [1, 2, 3] },
    });
    writer.update((v) => {
      v.errors = 1;
      v.up = true;
      v.either.n = 0x01020304;
    });
    const expected = {
      requests: 5n,
      errors: 1,
      load: 0,
      up: true,
      name: "api",
      point: { x: -2, y: 3 },
      hist: new Uint32Array([1, 2, 3]),
      either: { n: 0x01020304, c: 4 },
    };
    using typed = StructFile.open(path, { type: Stats });
    assert.deepEqual(typed.snapshot(), expected);
    assert.equal(typed.type, Stats);
    using generic = StructFile.open(path);
    assert.deepEqual(generic.snapshot(), expected);
    assert.deepEqual(generic.type.fields.map((f) => [f.name, f.offset]), Stats.fields.map((f) => [f.name, f.offset]));
    assert.equal(generic.writable, false);
    assert.equal(writer.writable, true);
    assert.equal(generic.version, 2);
  });

  test("StructFile.create() writes the header the format specifies", () => {
    using tmp = tempDir();
    const path = tmp.path("stats.mms");
    const before = Date.now();
    StructFile.create(path, Stats).close();
    const bytes = readFileSync(path);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(bytes.subarray(0, 8).toString("latin1"), "MMSTRUCT");
    assert.equal(dv.getUint16(8, true), 2);
    assert.equal(dv.getUint16(10, true), 0x0102);
    assert.equal(dv.getUint32(12, true), 128);
    assert.equal(dv.getBigUint64(16, true), 128n);
    const schemaLength = Number(dv.getBigUint64(24, true));
    const dataOffset = Number(dv.getBigUint64(32, true));
    assert.equal(dataOffset % 64, 0);
    assert.ok(dataOffset >= 128 + schemaLength);
    assert.equal(Number(dv.getBigUint64(40, true)), Stats.size);
    assert.equal(bytes.length, dataOffset + Stats.size);
    assert.equal(dv.getUint32(48, true), 0);
    assert.equal(dv.getUint32(56, true), process.pid);
    assert.ok(Number(dv.getBigUint64(72, true)) >= before);
    const schema = bytes.subarray(128, 128 + schemaLength);
    assert.equal(dv.getBigUint64(80, true), fnv1a64(schema));
    assert.equal(JSON.parse(schema.toString("utf8")).fields[0].name, "requests");
  });

  test("fnv1a64() matches the reference FNV-1a 64-bit values", () => {
    const hash = (text: string) => fnv1a64(new TextEncoder().encode(text));
    assert.equal(hash(""), 0xcbf29ce484222325n);
    assert.equal(hash("a"), 0xaf63dc4c8601ec8cn);
    assert.equal(hash("foobar"), 0x85944171f73967e8n);
  });

  test("fnv1a64() matches FNV-1a 64 in BigInt arithmetic on random and all-0xff bytes", () => {
    // The definition, byte by byte: the limbs' carries are what an error would lose, and
    // 0xff bytes make the largest products.
    const reference = (bytes: Uint8Array) => {
      let h = 0xcbf29ce484222325n;
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h;
    };
    const random = seededRandom(8);
    for (let length = 0; length < 300; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      assert.equal(fnv1a64(bytes), reference(bytes), `random bytes, length ${length}`);
      const ones = new Uint8Array(length).fill(0xff);
      assert.equal(fnv1a64(ones), reference(ones), `0xff bytes, length ${length}`);
    }
  });

  test("StructFile.open({ type }) refuses another layout, naming the first difference", () => {
    using tmp = tempDir();
    const path = tmp.path("stats.mms");
    StructFile.create(path, struct({ hits: u32, name: utf8(8) })).close();
    const mismatch = (type: Parameters<typeof StructFile.open>[1]) => {
      try {
        StructFile.open(path, type).close();
      } catch (error) {
        assert.ok(error instanceof FormatError);
        assert.equal(error.reason, "type-mismatch");
        return error.message;
      }
      assert.fail("expected a FormatError");
    };
    assert.match(
      mismatch({ type: struct({ hits: u64, name: utf8(8) }) }),
      /hits\.name: expected "u64", the file has "u32"/,
    );
    assert.match(mismatch({ type: struct({ hits: u32, name: utf8(9) }) }), /name\.size: expected 9, the file has 8/);
    assert.match(mismatch({ type: struct({ hits: u32 }) }), /the file has an extra field "name"/);
    assert.match(mismatch({ type: struct({ hits: u32, name: utf8(8), more: u8 }) }), /the file lacks field "more"/);
  });

  test("StructFile.update() keeps the sequence odd during the update and even after, also when fn throws", () => {
    using tmp = tempDir();
    using file = StructFile.create(tmp.path("a.mms"), Pair);
    const seen: number[] = [];
    file.update(() => seen.push(file.version));
    assert.deepEqual(seen, [1]);
    assert.equal(file.version, 2);
    assert.throws(() =>
      file.update(() => {
        throw new SyntaxError("boom");
      }), SyntaxError);
    assert.equal(file.version, 4);
    assert.throws(() => file.update(() => file.update(() => {})), { name: "TypeError", message: /nest/ });
    assert.equal(file.version % 2, 0);
  });

  test("StructFile.update() refuses a read-only or closed file with a TypeError", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    const writer = StructFile.create(path, Pair);
    using reader = StructFile.open(path);
    assert.throws(() => reader.update(() => {}), { name: "TypeError", message: /read-only/ });
    assert.throws(() => (reader.view as { a: number }).a = 1, TypeError);
    writer.close();
    writer.close();
    assert.equal(writer.closed, true);
    assert.throws(() => writer.update(() => {}), { name: "TypeError", message: /closed/ });
    assert.throws(() => writer.snapshot(), TypeError);
  });

  test("StructFile.create() refuses a bad initial value and leaves no file", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    assert.throws(() => StructFile.create(path, Pair, { initial: { a: "x" as unknown as number } }), TypeError);
    assert.throws(() => StructFile.create(path, Pair, { initial: { s: "much too long for it" } }), RangeError);
    assert.throws(() => StructFile.open(path), { name: "MmapError", code: "ENOENT" });
    assert.throws(() => StructFile.create(path, u32 as never), TypeError);
  });

  test("snapshot() copies every layout exactly, before and after it generates a reader", () => {
    // The first copies a file makes are interpreted, later ones use generated code: both
    // must give what type.read() gives, for every kind of field, from any bytes.
    for (const [name, type] of LAYOUTS) {
      const bytes = new Uint8Array(type.size);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + name.length * 17) & 0xff;
      assert.deepEqual(readInterpreted(type, arraysFor(bytes.buffer), 0), type.read(bytes.buffer), name);
    }
    using tmp = tempDir();
    const path = tmp.path("stats.mms");
    // A field name no other test uses: the layout is new to this process.
    const Fresh = struct({ ...STATS_FIELDS, fresh_9f3: u8 });
    using writer = StructFile.create(path, Fresh);
    using reader = StructFile.open(path, { type: Fresh });
    // Copies of the file with buffers of their own (a Node Buffer may share a larger pool).
    const contents = () => new Uint8Array(readFileSync(path));
    const dataOffset = Number(new DataView(contents().buffer).getBigUint64(OFFSET.dataOffset, true));
    for (let i = 0; i < 40; i++) {
      writer.update((v) => {
        v.requests = BigInt(i) << 40n;
        v.name = `n${i}é`;
        v.hist.set([i, i + 1, 0xffffffff - i]);
        v.point.x = -i;
        v.fresh_9f3 = i;
      });
      assert.deepEqual(reader.snapshot(), Fresh.read(contents().buffer, dataOffset), `snapshot ${i}`);
    }
  });

  test("StructFile.open() of a file made by another runtime rebuilds its layout", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    const other = runtime === "deno" ? "node" : "deno";
    const child = run(other, "fixtures/struct_file_child", ["create", path]);
    assert.equal(child.status, 0, child.stderr);
    using file = StructFile.open(path);
    assert.deepEqual(file.snapshot(), { a: 21, b: 42n, s: "21", arr: new Uint32Array(4).fill(21) });
    assert.deepEqual(file.type.fields.map((f) => f.name), ["a", "b", "s", "arr"]);
  });

  test("StructFile.snapshot() is never torn while another process updates, and sees its last update", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    // Update n sets a = n (b = 2n, s = "n", arr all n) and makes the version 2n.
    using file = StructFile.create(path, Pair, { initial: { s: "0" } });
    const updates = 200_000;
    const writer = start(runtime, "fixtures/struct_file_child", ["soak", path, String(updates)]);
    const done = finish(writer);
    let exited = false;
    done.then(() => exited = true);
    let torn = 0;
    let backwards = 0;
    let last = { a: 0, version: 0 };
    // Snapshots from before the writer starts until its last update is seen (or it exits):
    // what holds however the two processes are scheduled.
    while (last.a !== updates && !exited) {
      for (let i = 0; i < 10_000; i++) {
        const [{ a, b, s, arr }, version] = file.snapshotWithVersion();
        if (b !== 2n * BigInt(a) || s !== String(a) || arr.some((x) => x !== a) || version !== 2 * a) torn++;
        if (a < last.a || version < last.version) backwards++;
        last = { a, version };
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the child's exit be seen
    }
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(torn, 0, "every snapshot is one whole update, taken at its version");
    assert.equal(backwards, 0, "versions and values never go back");
    assert.deepEqual([file.snapshot(), file.version], [
      { a: updates, b: 2n * BigInt(updates), s: String(updates), arr: new Uint32Array(4).fill(updates) },
      2 * updates,
    ]);
  });

  test("a writer killed inside update(): snapshot() fails at once, and a new writer recovers the file", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair, { initial: { a: 1, b: 2n, s: "1", arr: [1, 1, 1, 1] } }).close();
    // Waiting for the timeout takes at least the timeout: giving up sooner is the dead writer
    // detected. A minute, so that no busy machine slows the detection down that much.
    const timeout = 60_000;
    using reader = StructFile.open(path, { timeout });
    const writer = start(runtime, "fixtures/struct_file_child", ["hang", path]);
    const done = finish(writer);
    await waitFor(() => reader.version % 2 === 1, writer, "entering its update");
    writer.kill("SIGKILL");
    await done;
    const started = performance.now();
    assert.throws(
      () => reader.snapshot(),
      (error: unknown) => error instanceof StaleWriterError && error.alive === false && error.pid === writer.pid,
    );
    assert.ok(performance.now() - started < timeout, "gave up at once, not after the timeout");
    {
      using recovering = StructFile.open(path, { write: true, type: Pair });
      recovering.update((v) => {
        v.a = 7;
        v.b = 14n;
        v.s = "7";
        v.arr.fill(7);
      });
    }
    assert.deepEqual(reader.snapshot(), { a: 7, b: 14n, s: "7", arr: new Uint32Array(4).fill(7) });
    // The dead writer's update counts as done (0 to 2), the new writer's as the next.
    assert.equal(reader.version, 4);
  });

  test("the sequence, not the header, names the writer inside an update", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair).close();
    const deadPid = 0x3ffffffe;
    const setHolder = (holder: number, recorded: number) =>
      editHeader(path, (words) => {
        words[OFFSET.sequence / 4] = (holder << 1) | 1;
        words[OFFSET.lastEven / 4] = 10; // the update under way started at version 10
        words[OFFSET.writerPid / 4] = recorded;
      });
    // A new writer that took the sequence but has not yet recorded itself in the header
    // (the header still names an earlier writer, long gone): alive, so waited for.
    setHolder(process.pid, deadPid);
    using reader = StructFile.open(path, { timeout: 100 });
    assert.equal(reader.version, 11);
    assert.throws(
      () => reader.snapshot(),
      (error: unknown) => error instanceof StaleWriterError && error.alive === true && error.pid === process.pid,
    );
    using other = StructFile.open(path, { write: true, timeout: 100, type: Pair });
    assert.throws(() => other.update(() => {}), StaleWriterError, "no takeover from a live writer");
    // The other way round: the header names a live process, the sequence a dead one.
    setHolder(deadPid, process.pid);
    const timeout = 60_000; // as in the test of a killed writer: sooner than this is the dead pid detected
    using patient = StructFile.open(path, { timeout });
    const started = performance.now();
    assert.throws(
      () => patient.snapshot(),
      (error: unknown) => error instanceof StaleWriterError && error.alive === false && error.pid === deadPid,
    );
    assert.ok(performance.now() - started < timeout, "gave up before the timeout");
    other.update((v) => v.a = 5);
    assert.equal(reader.version, 14, "the dead writer's update ends at 12, this one at 14");
    assert.equal(reader.snapshot().a, 5);
  });

  test("a writer with the pid of an earlier writer of the file is not paired with that one's start time", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair).close();
    // An earlier process with this pid wrote the file: the header has this pid, another start time.
    editHeader(path, (words, start) => {
      words[OFFSET.writerPid / 4] = process.pid;
      start[0] = 12345n;
    });
    using writer = StructFile.open(path, { write: true, type: Pair });
    editHeader(
      path,
      (words) => assert.equal(words[OFFSET.writerPid / 4], 0, "opening for write forgets the earlier process"),
    );
    // This process has taken the sequence and not yet recorded itself: it is alive.
    editHeader(path, (words) => words[OFFSET.sequence / 4] = (process.pid << 1) | 1);
    using reader = StructFile.open(path, { timeout: 50 });
    assert.throws(() => reader.snapshot(), (error: unknown) => error instanceof StaleWriterError && error.alive);
    editHeader(path, (words) => words[OFFSET.sequence / 4] = 0);
    writer.update((v) => v.a = 1);
    editHeader(path, (words, start) => {
      assert.equal(words[OFFSET.writerPid / 4], process.pid);
      assert.notEqual(start[0], 12345n);
    });
  });

  test("a writer restarted with the pid of one that died inside an update takes the file over", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair).close();
    // An earlier process with this pid died inside an update that started at version 10.
    editHeader(path, (words, start) => {
      words[OFFSET.sequence / 4] = (process.pid << 1) | 1;
      words[OFFSET.lastEven / 4] = 10;
      words[OFFSET.writerPid / 4] = process.pid;
      start[0] = 12345n;
    });
    using writer = StructFile.open(path, { write: true, type: Pair, timeout: 60_000 });
    // Opening keeps the evidence: the holder named by the sequence is not this process.
    using reader = StructFile.open(path, { timeout: 60_000 });
    assert.throws(() => reader.snapshot(), (error: unknown) => error instanceof StaleWriterError && !error.alive);
    writer.update((v) => v.a = 3);
    assert.equal(reader.version, 14, "taken over at 12, updated to 14");
    assert.equal(reader.snapshot().a, 3);
    editHeader(path, (words, start) => {
      assert.equal(words[OFFSET.writerPid / 4], process.pid);
      assert.notEqual(start[0], 12345n);
    });
  });

  test("update() that another writer took over throws instead of marking the other's update finished", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using file = StructFile.create(path, Pair);
    using raw = MappedFile.open(path, { write: true });
    const sequence = new Int32Array(raw.buffer, OFFSET.sequence, 1);
    const other = (0x3ffffff0 << 1) | 1;
    assert.throws(
      () => file.update(() => sequence[0] = other),
      (error: unknown) =>
        error instanceof StaleWriterError && error.pid === 0x3ffffff0 && /took the file over/.test(error.message),
    );
    assert.equal(sequence[0], other, "the other writer's update is still under way");
    // What fn threw is kept as the cause.
    const boom = new SyntaxError("boom");
    sequence[0] = 0;
    assert.throws(
      () =>
        file.update(() => {
          sequence[0] = other;
          throw boom;
        }),
      (error: unknown) => error instanceof StaleWriterError && error.cause === boom,
    );
  });

  test("a writer alive but stuck inside update(): snapshot() gives up after the timeout", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair).close();
    using reader = StructFile.open(path, { timeout: 300 });
    const writer = start(runtime, "fixtures/struct_file_child", ["hang", path]);
    const done = finish(writer);
    try {
      await waitFor(() => reader.version % 2 === 1, writer, "entering its update");
      const started = performance.now();
      assert.throws(
        () => reader.snapshot(),
        (error: unknown) => error instanceof StaleWriterError && error.alive === true && error.pid === writer.pid,
      );
      // At least the timeout (no upper bound: a busy machine may be slow to give up).
      const waited = performance.now() - started;
      assert.ok(waited >= 290, `waited ${waited} ms`);
      // A second writer does not take over from a live one either.
      using other = StructFile.open(path, { write: true, timeout: 100 });
      assert.throws(
        () => other.update(() => {}),
        (error: unknown) => error instanceof StaleWriterError && /^Cannot update .*is alive/.test(error.message),
      );
    } finally {
      writer.kill("SIGKILL");
      await done;
    }
  });

  test("a writer that keeps the sequence odd but changing: snapshot() and update() still give up in time", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair).close();
    using reader = StructFile.open(path, { timeout: 400 });
    using writer = StructFile.open(path, { timeout: 400, write: true, type: Pair });
    const child = start(runtime, "fixtures/struct_file_child", ["flicker", path, "30000"]);
    const done = finish(child);
    try {
      await waitFor(() => reader.version % 2 === 1, child, "the sequence turned odd");
      for (const attempt of [() => reader.snapshot(), () => writer.update(() => {})]) {
        const started = performance.now();
        assert.throws(attempt, (error: unknown) => error instanceof StaleWriterError && error.alive === true);
        // At least the timeout, and not until the child stops (it would then be dead, not alive).
        const waited = performance.now() - started;
        assert.ok(waited >= 390, `waited ${waited} ms`);
      }
    } finally {
      child.kill("SIGKILL");
      await done;
    }
  });

  test("StructFile.check() tells a file replaced, removed or truncated at its path", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using writer = StructFile.create(path, Pair, { initial: { a: 1 } });
    using reader = StructFile.open(path);
    assert.equal(reader.check(), "current");
    assert.equal(writer.check(), "current");
    using restarted = StructFile.create(path, Pair, { initial: { a: 2 }, overwrite: true });
    assert.deepEqual([reader.check(), writer.check(), restarted.check()], ["replaced", "replaced", "current"]);
    assert.equal(reader.snapshot().a, 1, "a snapshot alone cannot tell");
    using current = StructFile.open(path);
    // Grown (more bytes after the data are not part of it), then truncated into the data.
    truncateSync(path, statSync(path).size + 10);
    assert.equal(current.check(), "current");
    truncateSync(path, 100);
    assert.throws(
      () => current.check(),
      (error: unknown) =>
        error instanceof FormatError && error.reason === "truncated" &&
        /truncated to 100 bytes while open, its data ends at byte \d+/.test(error.message),
    );
    rmSync(path);
    assert.equal(current.check(), "replaced");
    current.close();
    assert.throws(() => current.check(), TypeError);
  });

  test("StructFile.open() maps only what it needs: a struct file followed by gigabytes opens on every runtime", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair, { initial: { a: 5 } }).close();
    // Sparse: 5 GiB, more than Node and Bun can put in one ArrayBuffer.
    assert.equal(spawnSync("truncate", ["-s", String(5 * 2 ** 30), path]).status, 0);
    using file = StructFile.open(path);
    assert.equal(file.snapshot().a, 5);
  });

  test("read-only snapshots and atomic loads never write to the mapping, however hot the JIT", () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    StructFile.create(path, Pair, { initial: { a: 1, b: 2n } }).close();
    const child = run(runtime, "fixtures/struct_file_child", ["read-hot", path]);
    assert.equal(child.signal, null, `the reader was killed: ${child.stderr}`);
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), String(300_000 * (1 + 1 + 2 + 0)));
  });

  test("StructFile.update() from processes on Deno, Node and Bun at once loses no increment", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using file = StructFile.create(path, Pair);
    // One writer on each runtime, and this process: the protocol must hold between engines.
    const runtimes = ["deno", "node", "bun"] as const;
    const each = 50_000;
    const started = runtimes.map((on) => start(on, "fixtures/struct_file_child", ["bump", path, `${each}`]));
    const outputs = started.map(lines);
    const results = Promise.all(started.map(finish));
    for (const output of outputs) assert.equal(await output.next(), "ready");
    file.update((v) => v.s = "go");
    // This process takes part too, while the children run.
    let mine = 0;
    while (file.snapshot().a < each && mine < each) {
      file.update((v) => {
        v.a = v.a + 1;
        v.b = 2n * BigInt(v.a);
      });
      mine++;
      if (mine % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const result of await results) assert.equal(result.code, 0, result.stderr);
    const total = runtimes.length * each + mine;
    assert.deepEqual([file.snapshot().a, file.snapshot().b], [total, 2n * BigInt(total)]);
    assert.equal(file.version, 2 * (total + 1), 'one version step per update (and one for "go")');
  });
});

describe("watch()", () => {
  test("watch() yields the current value, then each change, until aborted", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using file = StructFile.create(path, Pair);
    const controller = new AbortController();
    const seen: [number, number][] = [];
    for await (const { value, version, type } of watch(path, { interval: 2, signal: controller.signal })) {
      assert.equal(type.size, Pair.size);
      seen.push([value.a as number, version]);
      if (seen.length === 4) controller.abort();
      else setTimeout(() => file.update((v) => v.a += 10), 5);
    }
    assert.deepEqual(seen, [[0, 0], [10, 2], [20, 4], [30, 6]]);
  });

  test("watch() follows a file replaced at its path and says so, however the old one changes", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using old = StructFile.create(path, Pair, { initial: { a: 1 } });
    const events = watch(path, { interval: 2 });
    try {
      const first = await events.next();
      assert.deepEqual([first.value?.value.a, first.value?.version, first.value?.reopened], [1, 0, false]);
      // A restarted writer publishes a new file by rename; the old file's writer goes on.
      using restarted = StructFile.create(path, Pair, { initial: { a: 2 }, overwrite: true });
      old.update((v) => v.a = 100);
      const next = await events.next();
      assert.deepEqual([next.value?.value.a, next.value?.version, next.value?.reopened], [2, 0, true]);
      restarted.update((v) => v.a = 3);
      const after = await events.next();
      assert.deepEqual([after.value?.value.a, after.value?.version, after.value?.reopened], [3, 2, false]);
    } finally {
      await events.return();
    }
  });

  test("watch() ends with a FormatError when the file is truncated, not with the zeros it reads as", async () => {
    using tmp = tempDir();
    const path = tmp.path("pair.mms");
    using file = StructFile.create(path, Pair, { initial: { a: 5 } });
    file.update((v) => v.a = 6);
    const events = watch(path, { interval: 2 });
    try {
      assert.equal((await events.next()).value?.value.a, 6);
      // Within the first page, header included: the mapping reads zeros, and version 0.
      truncateSync(path, 40);
      await assert.rejects(events.next(), {
        name: "FormatError",
        reason: "truncated",
        message: /truncated to 40 bytes/,
      });
    } finally {
      await events.return();
    }
  });

  test("watch() refuses a bad interval and a bad file", async () => {
    using tmp = tempDir();
    const path = tmp.path("text");
    writeFileSync(path, "x".repeat(200));
    await assert.rejects(watch(path, { interval: 0 }).next(), RangeError);
    await assert.rejects(watch(path).next(), { name: "FormatError", reason: "magic" });
  });
});

describe("StructFile.open() of hostile files", () => {
  function validBytes(): Uint8Array {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    StructFile.create(path, Stats).close();
    return new Uint8Array(readFileSync(path));
  }

  function reasonFor(bytes: Uint8Array): string {
    using tmp = tempDir();
    const path = tmp.path("bad.mms");
    writeFileSync(path, bytes);
    try {
      StructFile.open(path).close();
    } catch (error) {
      assert.ok(error instanceof FormatError, String(error));
      return error.reason;
    }
    return "opened";
  }

  function withHeader(change: (dv: DataView, bytes: Uint8Array) => void): Uint8Array {
    const bytes = validBytes();
    change(new DataView(bytes.buffer), bytes);
    return bytes;
  }

  function withSchema(change: (schema: Record<string, unknown>) => void): Uint8Array {
    return rewriteSchema(validBytes(), change);
  }

  test("StructFile.open() gives each kind of bad file a FormatError with its reason", () => {
    assert.equal(reasonFor(validBytes()), "opened");
    assert.equal(reasonFor(new Uint8Array(0)), "truncated");
    assert.equal(reasonFor(validBytes().subarray(0, 100)), "truncated");
    assert.equal(reasonFor(validBytes().subarray(0, validBytes().length - 1)), "truncated");
    assert.equal(reasonFor(withHeader((_, b) => b[0] = 0x6d)), "magic");
    assert.equal(reasonFor(withHeader((dv) => dv.setUint16(8, 4, true))), "version");
    assert.equal(reasonFor(withHeader((dv) => dv.setUint16(8, 1, true))), "version", "version 1 had another seqlock");
    assert.equal(reasonFor(withHeader((dv) => dv.setUint16(10, 0x0102, false))), "byte-order");
    assert.equal(reasonFor(withHeader((dv) => dv.setUint32(12, 64, true))), "header");
    assert.equal(reasonFor(withHeader((dv) => dv.setBigUint64(16, 2n ** 63n, true))), "header");
    assert.equal(reasonFor(withHeader((dv) => dv.setBigUint64(24, 0n, true))), "header");
    assert.equal(reasonFor(withHeader((dv) => dv.setBigUint64(32, 100n, true))), "header");
    assert.equal(reasonFor(withHeader((dv) => dv.setBigUint64(40, 2n ** 64n - 1n, true))), "header");
    assert.equal(reasonFor(withHeader((dv) => dv.setBigUint64(40, 8n, true))), "layout");
    assert.equal(reasonFor(withHeader((_, b) => b[130] ^= 1)), "hash");
    assert.equal(reasonFor(withSchema((s) => (s.fields as { offset: number }[])[1].offset = 4)), "layout");
    assert.equal(reasonFor(withSchema((s) => (s.fields as { offset: number }[])[1].offset = 9)), "layout");
    assert.equal(reasonFor(withSchema((s) => s.size = 8)), "layout");
    assert.equal(reasonFor(withSchema((s) => (s.fields as { name: string }[])[0].name = "not a name")), "layout");
    assert.equal(reasonFor(withSchema((s) => (s.fields as { name: string }[])[1].name = "requests")), "schema");
    assert.equal(reasonFor(withSchema((s) => s.kind = "class")), "schema");
    assert.equal(reasonFor(withSchema((s) => s.fields = [])), "schema");
    assert.equal(
      reasonFor(withSchema((s) => (s.fields as { type: unknown }[])[0].type = { kind: "scalar", name: "u128" })),
      "schema",
    );
    // 2^25 values in a file of a few hundred bytes (the data length would be checked next).
    const huge = { kind: "array", length: 2 ** 25, element: { kind: "scalar", name: "u8", byteOrder: "native" } };
    const tooManyValues = withSchema((s) =>
      Object.assign(s, { size: 2 ** 25, align: 1, fields: [{ name: "a", offset: 0, type: huge }] })
    );
    assert.equal(reasonFor(tooManyValues), "schema");
    // Fewer values, but a snapshot would take 2 GiB: 2^23 byte fields, each a Uint8Array of its own.
    const many = { kind: "array", length: 2 ** 23, element: { kind: "bytes", size: 1 } };
    const tooMany = withSchema((s) =>
      Object.assign(s, { size: 2 ** 23, align: 1, fields: [{ name: "a", offset: 0, type: many }] })
    );
    assert.equal(reasonFor(tooMany), "schema");
    const bigBytes = withSchema((s) =>
      Object.assign(s, {
        size: 2 ** 31,
        align: 1,
        fields: [{ name: "a", offset: 0, type: { kind: "bytes", size: 2 ** 31 } }],
      })
    );
    assert.equal(reasonFor(bigBytes), "schema");
    const proto = withSchema((s) =>
      Object.assign(s, {
        size: 4,
        align: 4,
        fields: [{ name: "__proto__", offset: 0, type: { kind: "scalar", name: "u32", byteOrder: "native" } }, {
          name: "a",
          offset: 0,
          type: { kind: "scalar", name: "u32", byteOrder: "native" },
        }],
      })
    );
    assert.equal(reasonFor(proto), "layout");
    let deep: Record<string, unknown> = { kind: "scalar", name: "u8", byteOrder: "native" };
    for (let i = 0; i < 40; i++) deep = { kind: "array", length: 1, element: deep };
    assert.equal(reasonFor(withSchema((s) => (s.fields as { type: unknown }[])[0].type = deep)), "schema");
  });

  test("StructFile.open() refuses a schema that is not JSON or not UTF-8", () => {
    const replaceSchema = (text: Uint8Array) =>
      withHeader((dv, bytes) => {
        bytes.set(text, 128);
        dv.setBigUint64(OFFSET.schemaLength, BigInt(text.length), true);
        dv.setBigUint64(OFFSET.layoutHash, fnv1a64(text), true);
      });
    assert.equal(reasonFor(replaceSchema(new TextEncoder().encode("{nope"))), "schema");
    assert.equal(reasonFor(replaceSchema(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), "schema");
    assert.equal(reasonFor(replaceSchema(new TextEncoder().encode('"just a string"'))), "schema");
  });

  test("StructFile.open() refuses a version 2 file with a bitfield after opening its schema as version 3", () => {
    using tmp = tempDir();
    const v3 = tmp.path("v3.mms");
    // A layout no other test uses, so that the version 3 open below is what caches it.
    StructFile.create(v3, struct({ mode: bits(u8, 3), cachedAsVersion3: u32 })).close();
    const bytes = new Uint8Array(readFileSync(v3));
    const dv = new DataView(bytes.buffer);
    assert.equal(dv.getUint16(OFFSET.version, true), 3);
    StructFile.open(v3).close();
    // The same bytes as version 2 (the layout hash covers only the schema): bitfields unknown.
    dv.setUint16(OFFSET.version, 2, true);
    const v2 = tmp.path("v2.mms");
    writeFileSync(v2, bytes);
    assert.throws(() => StructFile.open(v2), (error) => error instanceof FormatError && error.reason === "schema");
    // And the version 3 file still opens, from its own entry.
    StructFile.open(v3).close();
  });

  test("StructFile reads the header once: changes to it after open are not used", () => {
    using tmp = tempDir();
    const path = tmp.path("a.mms");
    using writer = StructFile.create(path, Pair, { initial: { a: 3 } });
    using reader = StructFile.open(path);
    using raw = MappedFile.open(path, { write: true });
    new DataView(raw.buffer).setBigUint64(OFFSET.dataOffset, 2n ** 40n, true);
    assert.equal(reader.snapshot().a, 3);
    writer.update((v) => v.a = 4);
    assert.equal(reader.view.a, 4);
  });
});
