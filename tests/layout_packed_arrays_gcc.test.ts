/**
 * Packed structs with arrays of every numeric type, at offsets no typed array can index,
 * round-trip values both ways with a program gcc compiles from `toC()`: values C writes are
 * what a view's `[i]` reads, and values a view's `[i] = v` writes are what C reads.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import {
  array,
  bool,
  f32,
  f64,
  type FieldType,
  i16,
  i16be,
  i32,
  i64,
  i8,
  struct,
  toC,
  u16,
  u32,
  u32be,
  u64,
  u64be,
  u8,
} from "../mod.ts";
import { seededRandom, tempDir } from "./_helpers.ts";

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const noCompiler = gcc ? false : "no C compiler (gcc) on this machine: layouts are not compared with gcc";

const ELEMENTS = { i8, u8, i16, u16, i32, u32, i64, u64, f32, f64, bool, i16be, u32be, u64be } as const;
type Name = keyof typeof ELEMENTS;
const NAMES = Object.keys(ELEMENTS) as Name[];
const LENGTH = 3;

/** Each array starts at an odd offset (after a pad of 1 or 2 bytes): no element size above 1 divides it. */
const fields: Record<string, FieldType> = {};
let end = 0;
NAMES.forEach((name, k) => {
  const pad = end % 2 === 0 ? 1 : 2;
  fields[`pad${k}`] = array(u8, pad);
  fields[`a_${name}`] = array(ELEMENTS[name], LENGTH);
  end += pad + ELEMENTS[name].size * LENGTH;
});
const Packed = struct(fields, { packed: true });

type Value = number | bigint | boolean;

/** A value of each element type, covering its whole range (floats exact in C and JS). */
function valueOf(name: Name, next: () => number): Value {
  const bits = (n: number) => {
    let v = 0n;
    for (let i = 0; i < n; i += 16) v = (v << 16n) | BigInt(Math.floor(next() * 65536));
    return BigInt.asUintN(n, v);
  };
  switch (name) {
    case "bool":
      return next() < 0.5;
    case "f32":
      return Math.fround((Math.floor(next() * 2 ** 21) - 2 ** 20) / 8);
    case "f64":
      return (Math.floor(next() * 2 ** 48) - 2 ** 47) / 8;
    case "i64":
      return BigInt.asIntN(64, bits(64));
    case "u64":
    case "u64be":
      return bits(64);
    default: {
      const size = ELEMENTS[name].size * 8;
      const v = bits(size);
      return Number(name.startsWith("i") ? BigInt.asIntN(size, v) : v);
    }
  }
}

function valuesFor(seed: number): Map<string, Value[]> {
  const next = seededRandom(seed);
  return new Map(NAMES.map((name) => [`a_${name}`, Array.from({ length: LENGTH }, () => valueOf(name, next))]));
}

/** A C expression of the value as the C field holds it (fixed byte order: swapped back). */
function cValue(name: Name, value: Value): string {
  if (name === "bool") return value ? "true" : "false";
  if (name === "f32") return `(float)${value}`;
  if (name === "f64") return String(value);
  return `(${cType(name)})UINT64_C(${BigInt.asUintN(64, BigInt(value as number | bigint))})`;
}

function cType(name: Name): string {
  return `${name.startsWith("i") ? "" : "u"}int${ELEMENTS[name].size * 8}_t`;
}

function cRead(name: Name, field: string, i: number): string {
  if (!name.endsWith("be")) return `r.${field}[${i}]`;
  return `(${cType(name)})__builtin_bswap${ELEMENTS[name].size * 8}(r.${field}[${i}])`;
}

function program(written: Map<string, Value[]>, expected: Map<string, Value[]>): string {
  const writes: string[] = [];
  const checks: string[] = [];
  for (const name of NAMES) {
    const field = `a_${name}`;
    for (let i = 0; i < LENGTH; i++) {
      const swap = name.endsWith("be") ? `__builtin_bswap${ELEMENTS[name].size * 8}` : "";
      writes.push(`r.${field}[${i}] = ${swap}(${cValue(name, written.get(field)![i])});`);
      checks.push(
        `if (${cRead(name, field, i)} != ${cValue(name, expected.get(field)![i])}) { ` +
          `fprintf(stderr, "mismatch: ${field}[${i}]\\n"); bad++; }`,
      );
    }
  }
  return `${toC(Packed, "packed_arrays")}
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  struct packed_arrays r;
  int bad = 0;
  if (argc != 3) return 2;
  memset(&r, 0, sizeof r);
  if (strcmp(argv[1], "write") == 0) {
    ${writes.join("\n    ")}
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL || fwrite(&r, sizeof r, 1, f) != 1 || fclose(f) != 0) return 3;
    return 0;
  }
  FILE *f = fopen(argv[2], "rb");
  if (f == NULL || fread(&r, sizeof r, 1, f) != 1) return 3;
  fclose(f);
  ${checks.join("\n  ")}
  return bad == 0 ? 0 : 1;
}
`;
}

test(
  "struct() packed arrays of every numeric type index with [i] and round-trip values with gcc both ways",
  { skip: noCompiler },
  () => {
    using tmp = tempDir();
    const seed = Math.floor(Math.random() * 2 ** 31);
    const fromC = valuesFor(seed);
    const fromJs = valuesFor(seed + 1);
    writeFileSync(tmp.path("p.c"), program(fromC, fromJs));
    const exe = tmp.path("p");
    const built = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-o", exe, tmp.path("p.c")], { encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);
    // Most arrays start at an offset no element size divides: the DataView path.
    const misaligned = NAMES.filter((n) => Packed.offsetOf(`a_${n}`) % ELEMENTS[n].size !== 0);
    assert.deepEqual(misaligned, NAMES.filter((n) => ELEMENTS[n].size > 1));

    const written = spawnSync(exe, ["write", tmp.path("c.bin")], { encoding: "utf8" });
    assert.equal(written.status, 0, written.stderr);
    const bytes = readFileSync(tmp.path("c.bin"));
    assert.equal(bytes.length, Packed.size);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const view = Packed.view(buffer) as unknown as Record<string, Value[]>;
    for (const [field, values] of fromC) {
      for (let i = 0; i < LENGTH; i++) assert.equal(view[field][i], values[i], `${field}[${i}] (seed ${seed})`);
    }

    const out = new ArrayBuffer(Packed.size);
    const target = Packed.view(out) as unknown as Record<string, Value[]>;
    for (const [field, values] of fromJs) values.forEach((v, i) => target[field][i] = v);
    writeFileSync(tmp.path("js.bin"), new Uint8Array(out));
    const checked = spawnSync(exe, ["check", tmp.path("js.bin")], { encoding: "utf8" });
    assert.equal(checked.status, 0, `seed ${seed}: ${checked.stderr}`);
  },
);
