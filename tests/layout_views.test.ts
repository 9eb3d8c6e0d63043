import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { array, bool, bytes, f64, i64, struct, StructFile, u32, u64, u8, utf8 } from "../mod.ts";
import { run, tempDir } from "./_helpers.ts";

const Stats = struct({
  hits: u32,
  load: f64,
  total: u64,
  delta: i64,
  name: utf8(8),
  flags: array(bool, 2),
  inner: struct({ a: u8 }),
  nums: array(u32, 2),
});

describe("views", () => {
  test("view() of a read-only struct file shows what the writer stored since in arrays of bytes and of arrays", () => {
    using tmp = tempDir();
    const S = struct({
      raw: array(bytes(2), 2),
      grid: array(array(u32, 2), 2),
      nested: array(array(bool, 2), 2),
      flags: array(bool, 2),
    });
    using writer = StructFile.create(tmp.path("s.mms"), S);
    using reader = StructFile.open(tmp.path("s.mms"));
    const view = reader.view as unknown as {
      raw: Uint8Array[];
      grid: Uint32Array[];
      nested: boolean[][];
      flags: boolean[];
    };
    // First accesses, before the writer stores anything.
    assert.equal(view.raw[1][0], 0);
    assert.equal(view.grid[1][0], 0);
    assert.equal(view.nested[1][1], false);
    assert.equal(view.flags[1], false);
    const raw = view.raw;
    const grid = view.grid;
    const flags = view.flags;
    writer.update((s) => {
      s.raw[1][0] = 9;
      s.grid[1][0] = 9;
      s.nested[1][1] = true;
      s.flags[1] = true;
    });
    assert.equal(view.raw[1][0], 9);
    assert.equal(view.grid[1][0], 9);
    assert.equal(view.nested[1][1], true);
    assert.equal(raw[1][0], 9);
    assert.equal(grid[1][0], 9);
    assert.equal(flags[1], true);
  });

  test("Object.keys(view) gives the field names, in order, and nothing else", () => {
    const v = Stats.view(new ArrayBuffer(Stats.size));
    const names = Stats.fields.map((f) => f.name);
    assert.deepEqual(Object.keys(v), names);
    assert.deepEqual(Object.keys(v.inner), ["a"]);
    assert.deepEqual(Object.keys({ ...v }), names);
    const ro = Stats.view({ buffer: new ArrayBuffer(Stats.size), writable: false });
    assert.deepEqual(Object.keys(ro), names);
    const cursor = Stats.cursor(new ArrayBuffer(Stats.size * 2));
    assert.deepEqual(Object.keys(cursor.at(1)), names);
  });

  test("JSON.stringify(view) gives the values, 64-bit integers as decimal strings", () => {
    const buffer = new ArrayBuffer(Stats.size);
    const v = Stats.view(buffer);
    v.hits = 7;
    v.load = 0.5;
    v.total = (1n << 64n) - 1n;
    v.delta = -3n;
    v.name = "api";
    v.flags[1] = true;
    v.inner.a = 2;
    v.nums[1] = 5;
    const value = Stats.read(buffer);
    assert.deepEqual(JSON.parse(JSON.stringify(v)), {
      ...value,
      total: value.total.toString(),
      delta: value.delta.toString(),
      nums: [...value.nums],
    });
    assert.equal(JSON.stringify(v.flags), JSON.stringify(value.flags));
    const U = struct({ a: u32, b: f64 });
    assert.equal(JSON.stringify(U.view(new ArrayBuffer(U.size))), '{"a":0,"b":0}');
  });

  for (const on of ["deno", "node", "bun"] as const) {
    test(`console.log(view) on ${on} shows the fields and their values, not internals`, () => {
      const result = run(on, "fixtures/print_view");
      assert.equal(result.status, 0, result.stderr);
      const out = result.stdout;
      for (const shown of ["hits", "42", "load", "0.25", "total", "1099511627776n", "name", "api", "flags", "true"]) {
        assert.ok(out.includes(shown), `${JSON.stringify(shown)} missing from ${out}`);
      }
      assert.doesNotMatch(out, /\$u8|\$a|Symbol|mmstruct\.|Getter/);
    });
  }
});
