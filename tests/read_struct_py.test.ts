import assert from "node:assert/strict";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  array,
  bool,
  bytes,
  f32,
  f64be,
  FormatError,
  i16,
  i64,
  StaleWriterError,
  struct,
  StructFile,
  u16,
  u32,
  u8,
  union,
  utf8,
} from "../mod.ts";
import type { FieldType } from "../mod.ts";
import { fnv1a64, OFFSET } from "../struct_file/_format.ts";
import { corpus } from "./_corpus.ts";
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

test("examples/read_struct.py --json prints why it refused a file, with the library's reason", { skip }, () => {
  using tmp = tempDir();
  const path = tmp.path("a.mms");
  StructFile.create(path, struct({ a: u32, b: u32 })).close();
  const bytes = new Uint8Array(readFileSync(path));
  bytes[OFFSET.version] = 7;
  writeFileSync(path, bytes);
  const result = spawnSync("python3", [script, path, "--json"], { encoding: "utf8" });
  assert.equal(result.status, 4);
  assert.deepEqual(JSON.parse(result.stdout), {
    error: "FormatError",
    reason: "version",
    message: "format version 7 is not supported (this reader reads 2 and 3)",
  });
  assert.match(result.stderr, /^read_struct\.py: not a valid struct file: .* \(reason: version\)\n$/);
  const missing = spawnSync("python3", [script, tmp.path("missing"), "--json"], { encoding: "utf8" });
  assert.equal(missing.status, 3);
  assert.equal(JSON.parse(missing.stdout).code, "ENOENT");
});

/** What a reader made of a file: a comparable value, or why it refused it. */
type Outcome = { value: unknown } | { reason: string; alive?: boolean };

/** A value as both readers print it for comparison: integers and floats as exact strings, bytes in hex. */
function comparable(type: FieldType, value: unknown): unknown {
  switch (type.kind) {
    case "scalar": {
      if (type.name === "bool") return value;
      if (type.name === "f32" || type.name === "f64") {
        if (Number.isNaN(value)) return "nan";
        const bits = new DataView(new ArrayBuffer(8));
        bits.setFloat64(0, value as number);
        return `f:${bits.getBigUint64(0).toString(16).padStart(16, "0")}`;
      }
      return `i:${String(value)}`;
    }
    case "bits":
      return type.name === "bool" ? value : `i:${String(value)}`;
    case "utf8":
      return value;
    case "bytes":
      return Array.from(value as Uint8Array, (b) => b.toString(16).padStart(2, "0")).join("");
    case "array": {
      const items = value as ArrayLike<unknown>;
      return Array.from({ length: type.length }, (_, i) => comparable(type.element, items[i]));
    }
    case "struct":
    case "union":
      return Object.fromEntries(
        type.fields.map((f) => [f.name, comparable(f.type, (value as Record<string, unknown>)[f.name])]),
      );
  }
}

function libraryOutcome(path: string): Outcome {
  try {
    using file = StructFile.open(path);
    return { value: comparable(file.type, file.snapshot()) };
  } catch (error) {
    if (error instanceof FormatError) return { reason: error.reason };
    if (error instanceof StaleWriterError) return { reason: "stale", alive: error.alive };
    throw error;
  }
}

/**
 * Runs `main([path, "--json"])` of examples/read_struct.py on each file in one Python
 * process (an interpreter per file would take seconds), and prints one JSON line per file.
 */
const DRIVER = `
import contextlib, importlib.util, io, json, math, struct, sys
spec = importlib.util.spec_from_file_location("read_struct", sys.argv[1])
rs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rs)

def comparable(layout, value):
    if isinstance(layout, rs.Scalar):
        if layout.name == "bool":
            return value
        if layout.name in ("f32", "f64"):
            return "nan" if math.isnan(value) else "f:" + struct.pack(">d", value).hex()
        return "i:%d" % value
    if isinstance(layout, rs.Bits):
        return value if layout.name == "bool" else "i:%d" % value
    if isinstance(layout, rs.Array):
        return [comparable(layout.element, v) for v in value]
    if isinstance(layout, rs.Composite):
        return {name: comparable(t, value[name]) for name, _, t in layout.fields}
    return value

for path in sys.argv[2:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = rs.main([path, "--json"])
    line = {"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()}
    if status == 0:
        layout, _, value = rs.read(path)
        line["value"] = comparable(layout, value)
    print(json.dumps(line))
`;

function pythonOutcomes(paths: string[]): Outcome[] {
  const result = spawnSync("python3", ["-c", DRIVER, script, ...paths], { encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trimEnd().split("\n").map((text, i) => {
    const line = JSON.parse(text) as { status: number; stdout: string; stderr: string; value?: unknown };
    const printed = line.stdout === "" ? undefined : JSON.parse(line.stdout);
    if (line.status === 0) return { value: line.value };
    if (line.status === 5) return { reason: "stale", alive: printed.alive };
    // The reason is both in the JSON and at the end of the line on standard error.
    const said = /\(reason: ([a-z-]+)\)\n$/.exec(line.stderr)?.[1];
    assert.equal(line.status, 4, `${paths[i]}: ${line.stderr}`);
    assert.equal(said, printed.reason, line.stderr);
    return { reason: printed.reason };
  });
}

test("examples/read_struct.py and the library accept and refuse the same files, for the same reasons", { skip }, () => {
  using tmp = tempDir();
  const files = corpus();
  const paths = files.map((file) => {
    const path = tmp.path(file.name);
    writeFileSync(path, file.bytes);
    return path;
  });
  const library = paths.map(libraryOutcome);
  const python = pythonOutcomes(paths);
  const differences = files.flatMap((file, i) =>
    JSON.stringify(library[i]) === JSON.stringify(python[i])
      ? []
      : [`${file.name}: the library ${JSON.stringify(library[i])}, read_struct.py ${JSON.stringify(python[i])}`]
  );
  assert.deepEqual(differences, []);
  // The hand-made files also get the outcome docs/FORMAT.md gives them.
  const unexpected = files.flatMap((file, i) => {
    const outcome = library[i];
    const got = "value" in outcome ? "ok" : outcome.reason;
    return file.expected === undefined || got === file.expected ? [] : [`${file.name}: ${got}, not ${file.expected}`];
  });
  assert.deepEqual(unexpected, []);
  // Every outcome occurs, so that each check of both readers is exercised.
  const seen = new Set(library.map((o) => "value" in o ? "ok" : o.reason));
  for (
    const outcome of [
      "ok",
      "truncated",
      "magic",
      "version",
      "byte-order",
      "header",
      "schema",
      "layout",
      "hash",
      "stale",
    ]
  ) {
    assert.ok(seen.has(outcome), `no corpus file gives ${outcome}`);
  }
});
