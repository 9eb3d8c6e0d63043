import assert from "node:assert/strict";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { array, bool, bytes, f32, f64be, i16, i64, struct, StructFile, u16, u32, u8, union, utf8 } from "../mod.ts";
import { fnv1a64, OFFSET } from "../struct_file/_format.ts";
import { root, tempDir } from "./_helpers.ts";

const python = spawnSync("python3", ["--version"]).status === 0;
const skip = python ? false : "no python3 on this machine";
const script = join(root, "examples", "read_struct.py");

const Everything = struct({
  id: i64,
  flags: array(bool, 2),
  name: utf8(10),
  raw: bytes(3),
  be: f64be,
  point: struct({ x: i16, y: u16 }, { packed: true }),
  grid: array(array(u8, 2), 2),
  items: array(struct({ k: u8, v: f32 }), 2),
  either: union({ n: u32, c: u8 }),
});

test("examples/read_struct.py reads a file this library wrote, as JSON", { skip }, () => {
  using tmp = tempDir();
  const path = tmp.path("everything.mms");
  using file = StructFile.create(path, Everything, {
    initial: {
      id: -(2n ** 40n),
      flags: [true, false],
      name: "héllo",
      raw: [1, 2, 255],
      be: -1.5,
      point: { x: -3, y: 4 },
      grid: [[1, 2], [3, 4]],
      items: [{ k: 1, v: 0.5 }, { k: 2, v: 0.25 }],
    },
  });
  file.update((v) => v.either.n = 0x01020304);
  const result = spawnSync("python3", [script, path, "--json"], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    id: -(2 ** 40),
    flags: [true, false],
    name: "héllo",
    raw: "0102ff",
    be: -1.5,
    point: { x: -3, y: 4 },
    grid: [[1, 2], [3, 4]],
    items: [{ k: 1, v: 0.5 }, { k: 2, v: 0.25 }],
    either: { n: 0x01020304, c: 4 },
  });
  const text = spawnSync("python3", [script, path], { encoding: "utf8" });
  assert.match(text.stdout, /^# version 2\nid = -1099511627776\n/);
  assert.match(text.stdout, /\npoint\.x = -3\n/);
});

test("examples/read_struct.py refuses what the format says to refuse, with its exit status", { skip }, () => {
  using tmp = tempDir();
  const path = tmp.path("a.mms");
  StructFile.create(path, struct({ a: u32, b: u32 })).close();
  const read = (file: string) => spawnSync("python3", [script, file], { encoding: "utf8" });
  const status = (file: string) => read(file).status;
  assert.equal(status(tmp.path("missing")), 3);
  const bytes = new Uint8Array(readFileSync(path));
  const change = (edit: (dv: DataView, b: Uint8Array) => void) => {
    const copy = bytes.slice();
    edit(new DataView(copy.buffer), copy);
    const bad = tmp.path("bad.mms");
    writeFileSync(bad, copy);
    return read(bad);
  };
  const write = (edit: (dv: DataView, b: Uint8Array) => void) => change(edit).status;
  assert.equal(write((_, b) => b[0] = 0), 4);
  assert.equal(write((dv) => dv.setBigUint64(OFFSET.dataOffset, 2n ** 62n, true)), 4);
  assert.equal(write((_, b) => b[140] ^= 1), 4);
  // A schema whose offsets break the layout rules, with a matching hash.
  assert.equal(
    write((dv, b) => {
      const length = Number(dv.getBigUint64(OFFSET.schemaLength, true));
      const text = new TextDecoder().decode(b.subarray(128, 128 + length)).replace('"offset":4', '"offset":2');
      const encoded = new TextEncoder().encode(text);
      b.set(encoded, 128);
      dv.setBigUint64(OFFSET.layoutHash, fnv1a64(encoded), true);
    }),
    4,
  );
  // The odd sequence names the writer inside the update, whatever the header's last writer
  // (here this live process) says: a pid that does not exist is a dead writer, at once.
  const dead = change((dv) => dv.setUint32(OFFSET.sequence, (0x3ffffffe << 1) | 1, true));
  assert.equal(dead.status, 5);
  assert.match(dead.stderr, /1073741822 died/);
  // And a live one (this process), though the header names a dead pid, is waited for.
  const stuck = change((dv) => {
    dv.setUint32(OFFSET.sequence, (process.pid << 1) | 1, true);
    dv.setUint32(OFFSET.writerPid, 0x3ffffffe, true);
  });
  assert.equal(stuck.status, 5);
  assert.match(stuck.stderr, /stuck/);
  assert.equal(status(path), 0);
});
