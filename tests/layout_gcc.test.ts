import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type CompositeType, toC, toCtypes } from "../mod.ts";
import { BIT_LAYOUTS, randomBitLayouts } from "./fixtures/bit_layouts.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
import { bitfieldProgram, type Leaf, misread, noiseByte, valuesFor, writeForC } from "./_bitfield_program.ts";
import { tempDir } from "./_helpers.ts";

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const noCompiler = gcc ? false : "no C compiler (gcc) on this machine: layouts are not compared with gcc";

test(
  "struct() lays out at least 40 definitions exactly as gcc: size, alignment and every offset",
  { skip: noCompiler },
  () => {
    assert.ok(LAYOUTS.length >= 40, `only ${LAYOUTS.length} layouts`);
    using tmp = tempDir();
    const source = LAYOUTS.map(([name, type]) => toC(type, name)).join("\n");
    const file = tmp.path("layouts.c");
    writeFileSync(file, source);
    // _Static_assert checks sizeof, _Alignof and offsetof of every field against our numbers.
    const result = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-fsyntax-only", file], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
  },
);

test("toC() asserts numbers gcc checks: a wrong offset fails to compile", { skip: noCompiler }, () => {
  using tmp = tempDir();
  const [name, type] = LAYOUTS.find(([n]) => n === "char_double_char")!;
  const file = tmp.path("wrong.c");
  writeFileSync(
    file,
    toC(type, name).replace("offsetof(struct char_double_char, d) == 8", "offsetof(struct char_double_char, d) == 4"),
  );
  const result = spawnSync("gcc", ["-std=c11", "-fsyntax-only", file], { encoding: "utf8" });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /offsetof\(struct char_double_char, d\)/);
});

/**
 * For each layout, reads the C-written struct into its toCtypes() class and lists the fields
 * that differ; then maps a file of noise, sets the "written" values through the class
 * (`from_buffer` over the mapping, in reverse order so that a setter that spoiled a
 * neighbour's bits would show) and flushes it, for C and views to check.
 */
const PYTHON_CHECK = `
import ctypes, json, mmap, sys
bad = []
for layout in json.load(sys.stdin):
    namespace = {}
    exec(layout["source"], namespace)
    cls = namespace[layout["name"]]
    if ctypes.sizeof(cls) != layout["size"]:
        bad.append("%s: sizeof %d, not %d" % (layout["name"], ctypes.sizeof(cls), layout["size"]))
    with open(layout["file"], "rb") as f:
        record = cls.from_buffer_copy(f.read())
    for path, want in layout["expected"]:
        value = record
        for key in path:
            value = getattr(value, key)
        if str(int(value)) != want:
            bad.append("%s.%s: %d, not %s" % (layout["name"], ".".join(path), int(value), want))
    with open(layout["out"], "w+b") as f:
        f.write(bytes.fromhex(layout["noise"]))
        f.flush()
        with mmap.mmap(f.fileno(), 0) as mm:
            record = cls.from_buffer(mm)
            for path, value in reversed(layout["written"]):
                parent = record
                for key in path[:-1]:
                    parent = getattr(parent, key)
                setattr(parent, path[-1], int(value))
            del record, parent
            mm.flush()
print(json.dumps(bad))
`;

const python = spawnSync("python3", ["--version"]).status === 0;
/** Seeds of the random layouts: a fixed list, and one new each run (printed when it fails). */
const SEEDS = [1, 2, 3, 20261201, Date.now() % 2 ** 31];

/** The names of the bitfields in `type` and the structs and unions in it. */
function bitfieldNames(type: CompositeType): string[] {
  return type.fields.flatMap((f) =>
    f.type.kind === "bits" ? [f.name] : f.type.kind === "struct" || f.type.kind === "union" ? bitfieldNames(f.type) : []
  );
}

/** A leaf's value as Python's int() reads it. */
const pythonInt = (leaf: Leaf) => String(typeof leaf.value === "boolean" ? Number(leaf.value) : leaf.value);

test(
  "struct() lays out bitfields as gcc does: values C writes read by views and ctypes, values views and ctypes write read by C",
  { skip: noCompiler },
  () => {
    const layouts = [...BIT_LAYOUTS, ...SEEDS.flatMap((seed) => randomBitLayouts(seed, 12))];
    assert.ok(BIT_LAYOUTS.length >= 30, `only ${BIT_LAYOUTS.length} fixed bitfield layouts`);
    const context = `random layouts from seeds ${SEEDS.join(", ")}`;
    const fromC = valuesFor(layouts, 1000);
    const toCValues = valuesFor(layouts, 5000);
    using tmp = tempDir();
    const source = tmp.path("bitfields.c");
    writeFileSync(source, bitfieldProgram(layouts, fromC, toCValues));
    const binary = tmp.path("bitfields");
    // The _Static_asserts check sizeof, _Alignof and the offsets of every field around the bitfields.
    const compiled = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-O1", "-o", binary, source], {
      encoding: "utf8",
    });
    assert.equal(compiled.status, 0, `${context}\n${compiled.stderr}`);

    // C writes, views read.
    const fromDir = tmp.path("from_c");
    mkdirSync(fromDir);
    const wrote = spawnSync(binary, ["write", fromDir], { encoding: "utf8" });
    assert.equal(wrote.status, 0, wrote.stderr);
    assert.deepEqual(misread(fromDir, layouts, fromC), [], context);

    // Views (every other layout) and write() set values over noise, C checks them.
    const toDir = tmp.path("to_c");
    writeForC(toDir, layouts, toCValues);
    const checked = spawnSync(binary, ["check", toDir], { encoding: "utf8" });
    assert.equal(checked.stdout, "", `fields C read differently (${context})`);
    assert.equal(checked.status, 0, checked.stderr);

    // Python ctypes, from toCtypes(), reads what C wrote and writes what C and views read. A layout ctypes cannot
    // express is refused with a TypeError that names one of its bitfields.
    if (!python) return;
    const fromPy = tmp.path("from_python");
    mkdirSync(fromPy);
    const refused: string[] = [];
    const spec = layouts.flatMap(([name, type], k) => {
      let source: string;
      try {
        source = toCtypes(type, name);
      } catch (error) {
        assert.ok(error instanceof TypeError, String(error));
        const field = /ctypes has no storage unit for bitfield "([^"]+)"/.exec(error.message)?.[1];
        assert.ok(field !== undefined && bitfieldNames(type).includes(field), `${name}: ${error.message}`);
        refused.push(name);
        return [];
      }
      const noise = Array.from({ length: type.size }, (_, i) => noiseByte(i, k).toString(16).padStart(2, "0"));
      return [{
        name,
        source,
        size: type.size,
        file: join(fromDir, name),
        expected: fromC[k].map((leaf) => [leaf.path, pythonInt(leaf)]),
        out: join(fromPy, name),
        noise: noise.join(""),
        written: toCValues[k].map((leaf) => [leaf.path, pythonInt(leaf)]),
      }];
    });
    // These need a storage unit ctypes does not have: more than 64 bits, or bytes past the end of the struct.
    assert.deepEqual(
      refused.filter((name) => !name.startsWith("bits_random")),
      ["bits_packed_u64", "bits_packed_bool_run", "bits_nested_packed"],
      "fixed layouts ctypes refused",
    );
    const result = spawnSync("python3", ["-c", PYTHON_CHECK], { input: JSON.stringify(spec), encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [], `fields ctypes read differently (${context})`);

    // What ctypes wrote: C checks every file there (and skips the refused layouts), views read them.
    assert.equal(readdirSync(fromPy).length, layouts.length - refused.length);
    const pyChecked = spawnSync(binary, ["check-present", fromPy], { encoding: "utf8" });
    assert.equal(pyChecked.stdout, "", `fields C read differently from what ctypes wrote (${context})`);
    assert.equal(pyChecked.status, 0, pyChecked.stderr);
    const written = layouts.map(([name], k) => refused.includes(name) ? undefined : toCValues[k]);
    assert.deepEqual(misread(fromPy, layouts, written), [], `fields views read differently from ctypes (${context})`);
  },
);
