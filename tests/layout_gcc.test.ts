import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type BitsType, type CompositeType, type ScalarType, type StructType, toC, toCtypes } from "../mod.ts";
import { BIT_LAYOUTS, randomBitLayouts } from "./fixtures/bit_layouts.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
import { seededRandom, tempDir } from "./_helpers.ts";

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

/** A value a leaf of `type` holds: an extreme of its range, 0, -1 or a random one. */
function valueFor(type: BitsType | ScalarType, next: () => number): number | bigint | boolean {
  if (type.name === "bool") return next() < 0.5;
  const width = type.kind === "bits" ? type.width : type.size * 8;
  const signed = type.name.startsWith("i");
  const min = signed ? -(1n << BigInt(width - 1)) : 0n;
  const max = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  const random = () => {
    let v = 0n;
    for (let i = 0; i < 64; i += 16) v = (v << 16n) | BigInt(Math.floor(next() * 65536));
    return min + v % (max - min + 1n);
  };
  const value = [min, max, 0n, signed ? -1n : 1n, random(), random()][Math.floor(next() * 6)];
  return type.size === 8 ? value : Number(value);
}

/** One field given a value: its path from the root and what it holds. */
interface Leaf {
  path: string[];
  type: BitsType | ScalarType;
  value: number | bigint | boolean;
}

/** Values for the leaves of `type`: every field of a struct, one member of a union. */
function leavesOf(type: CompositeType, next: () => number, path: string[] = []): Leaf[] {
  const members = type.kind === "union" ? [type.fields[Math.floor(next() * type.fields.length)]] : type.fields;
  return members.flatMap((field) => {
    const t = field.type;
    const at = [...path, field.name];
    if (t.kind === "struct" || t.kind === "union") return leavesOf(t, next, at);
    if (t.kind !== "bits" && t.kind !== "scalar") throw new TypeError(`no values for ${t.kind} fields`);
    return [{ path: at, type: t, value: valueFor(t, next) }];
  });
}

/** A C literal of a leaf's value. */
function literal(value: number | bigint | boolean): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  const n = BigInt(value);
  return n < 0n ? `(${n + 1n}LL - 1)` : `${n}ULL`;
}

/**
 * A C program that, for each layout, either writes its struct with `written` values to
 * DIR/NAME (`prog write DIR`) or reads DIR/NAME and reports each field that differs from
 * `checked` (`prog check DIR`).
 */
function bitfieldProgram(layouts: [string, StructType][], written: Leaf[][], checked: Leaf[][]): string {
  const blocks = layouts.map(([name, type], k) => {
    const tag = `${type.kind} ${name}`;
    const sets = written[k].map((leaf) => `r.${leaf.path.join(".")} = ${literal(leaf.value)};`).join(" ");
    const checks = checked[k].map((leaf) => {
      const field = `r.${leaf.path.join(".")}`;
      return `if (${field} != ${literal(leaf.value)}) mismatch("${name}.${leaf.path.join(".")}");`;
    }).join("\n    ");
    return `  {
    ${tag} r;
    if (writing) { memset(&r, 0, sizeof r); ${sets} save(dir, "${name}", &r, sizeof r); }
    else {
    load(dir, "${name}", &r, sizeof r);
    ${checks}
    }
  }`;
  });
  return `${layouts.map(([name, type]) => toC(type, name)).join("\n")}
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int failures = 0;
static void mismatch(const char *what) { printf("%s\\n", what); failures++; }
static void save(const char *dir, const char *name, const void *p, size_t n) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb"); if (f == NULL || fwrite(p, n, 1, f) != 1 || fclose(f) != 0) exit(3);
}
static void load(const char *dir, const char *name, void *p, size_t n) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb"); if (f == NULL || fread(p, n, 1, f) != 1) exit(3); fclose(f);
}
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int writing = strcmp(argv[1], "write") == 0;
  const char *dir = argv[2];
${blocks.join("\n")}
  return failures == 0 ? 0 : 1;
}
`;
}

/** The value at `path` in a plain object. */
const at = (value: unknown, path: string[]) => path.reduce((v, key) => (v as Record<string, unknown>)[key], value);

/** `leaves` as a value for `write()`. */
function nested(leaves: Leaf[]): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const leaf of leaves) {
    let target = value;
    for (const key of leaf.path.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[leaf.path.at(-1)!] = leaf.value;
  }
  return value;
}

/** Reads every C-written struct into views and Python ctypes classes; writes structs for C to check. */
const PYTHON_CHECK = `
import ctypes, json, sys
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
print(json.dumps(bad))
`;

const python = spawnSync("python3", ["--version"]).status === 0;
/** Seeds of the random layouts: a fixed list, and one new each run (printed when it fails). */
const SEEDS = [1, 2, 3, 20261201, Date.now() % 2 ** 31];

test(
  "struct() lays out bitfields as gcc does: sizes, neighbours' offsets and values written by C, read by a view and by ctypes, and back",
  { skip: noCompiler },
  () => {
    const layouts = [...BIT_LAYOUTS, ...SEEDS.flatMap((seed) => randomBitLayouts(seed, 12))];
    assert.ok(BIT_LAYOUTS.length >= 30, `only ${BIT_LAYOUTS.length} fixed bitfield layouts`);
    const context = `random layouts from seeds ${SEEDS.join(", ")}`;
    const fromC = layouts.map(([, type], k) => leavesOf(type, seededRandom(1000 + k)));
    const toCValues = layouts.map(([, type], k) => leavesOf(type, seededRandom(5000 + k)));
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
    const misread = layouts.flatMap(([name, type], k) => {
      const bytes = readFileSync(join(fromDir, name));
      assert.equal(bytes.length, type.size, `${name}: gcc's size (${context})`);
      const buffer = new Uint8Array(bytes).buffer;
      const view = type.view(buffer);
      const value = type.read(buffer);
      return fromC[k].flatMap((leaf) => {
        const got = [at(view, leaf.path), at(value, leaf.path)];
        return got.every((v) => v === leaf.value)
          ? []
          : [`${name}.${leaf.path.join(".")}: ${got.join(" / ")}, not ${leaf.value}`];
      });
    });
    assert.deepEqual(misread, [], context);

    // Views (every other layout) and write() set values over noise, C checks them.
    const toDir = tmp.path("to_c");
    mkdirSync(toDir);
    layouts.forEach(([name, type], k) => {
      const buffer = new ArrayBuffer(type.size);
      new Uint8Array(buffer).forEach((_, i, bytes) => bytes[i] = (i * 151 + k * 7 + 13) & 0xff);
      if (k % 2 === 0) {
        // In reverse order: a setter that spoiled a neighbour's bits would show.
        const view = type.view(buffer) as unknown as Record<string, unknown>;
        for (const leaf of [...toCValues[k]].reverse()) {
          const parent = leaf.path.slice(0, -1).reduce((v, key) => v[key] as Record<string, unknown>, view);
          parent[leaf.path.at(-1)!] = leaf.value;
        }
      } else {
        type.write(buffer, 0, nested(toCValues[k]) as never);
      }
      writeFileSync(join(toDir, name), new Uint8Array(buffer));
    });
    const checked = spawnSync(binary, ["check", toDir], { encoding: "utf8" });
    assert.equal(checked.stdout, "", `fields C read differently (${context})`);
    assert.equal(checked.status, 0, checked.stderr);

    // Python ctypes, from toCtypes(), reads what C wrote. A layout ctypes cannot express is refused with a TypeError.
    if (!python) return;
    const refused: string[] = [];
    const spec = layouts.flatMap(([name, type], k) => {
      let source: string;
      try {
        source = toCtypes(type, name);
      } catch (error) {
        assert.ok(error instanceof TypeError, String(error));
        refused.push(name);
        return [];
      }
      const expected = fromC[k].map((
        leaf,
      ) => [leaf.path, String(typeof leaf.value === "boolean" ? Number(leaf.value) : leaf.value)]);
      return [{ name, source, size: type.size, file: join(fromDir, name), expected }];
    });
    // These need a storage unit ctypes does not have: more than 64 bits, or bytes past the end of the struct.
    assert.deepEqual(
      refused.filter((name) => !name.startsWith("bits_random")),
      ["bits_packed_u64", "bits_packed_bool_run", "bits_nested_packed"],
      "fixed layouts ctypes refused",
    );
    const result = spawnSync("python3", ["-c", PYTHON_CHECK], { input: JSON.stringify(spec), encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [], context);
  },
);
