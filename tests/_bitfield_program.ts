/**
 * The C side of the value comparisons with gcc (`layout_gcc.test.ts` and
 * `layout_packed_arrays_gcc.test.ts` on the host's gcc, `layout_aarch64.test.ts` on aarch64
 * gcc): values for every leaf of a layout (bitfields, scalars and array elements, floats
 * and fixed byte order included), one C program that writes them or checks them, and the
 * view side of both directions.
 *
 * @module
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BitsType, type CompositeType, type FieldType, type ScalarType, type StructType, toC } from "../mod.ts";
import { seededRandom } from "./_helpers.ts";

/**
 * A value a leaf of `type` holds: an extreme of its range, 0, -1 or a random one; for a float, a random one with
 * every bit of its mantissa drawn (so that each of its bytes matters), which C and JS hold exactly.
 */
function valueFor(type: BitsType | ScalarType, next: () => number): number | bigint | boolean {
  if (type.name === "bool") return next() < 0.5;
  // A 24-bit (f32) or 53-bit (f64) integer over a power of two: exact in the type. next() gives 32 random bits.
  if (type.name === "f32") return (Math.floor(next() * 2 ** 24) - 2 ** 23) / 2 ** 6;
  if (type.name === "f64") {
    return (Math.floor(next() * 2 ** 26) * 2 ** 27 + Math.floor(next() * 2 ** 27) - 2 ** 52) / 2 ** 10;
  }
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

/** One field given a value: its path from the root (field names, and indexes into arrays) and what it holds. */
export interface Leaf {
  path: (string | number)[];
  type: BitsType | ScalarType;
  value: number | bigint | boolean;
}

/** Values for the leaves of `type`: every field of a struct, one member of a union, every element of an array. */
export function leavesOf(type: CompositeType, next: () => number, path: (string | number)[] = []): Leaf[] {
  const members = type.kind === "union" ? [type.fields[Math.floor(next() * type.fields.length)]] : type.fields;
  return members.flatMap((field) => leavesAt(field.type, next, [...path, field.name]));
}

function leavesAt(t: FieldType, next: () => number, path: (string | number)[]): Leaf[] {
  if (t.kind === "struct" || t.kind === "union") return leavesOf(t, next, path);
  if (t.kind === "array") {
    return Array.from({ length: t.length }, (_, i) => leavesAt(t.element, next, [...path, i])).flat();
  }
  if (t.kind !== "bits" && t.kind !== "scalar") throw new TypeError(`no values for ${t.kind} fields`);
  return [{ path, type: t, value: valueFor(t, next) }];
}

/** Seeded values for every layout: `leavesOf(layouts[k], seededRandom(base + k))`. */
export function valuesFor(layouts: [string, StructType][], base: number): Leaf[][] {
  return layouts.map(([, type], k) => leavesOf(type, seededRandom(base + k)));
}

/** A C literal of a leaf's value. */
function literal({ type, value }: Leaf): string {
  if (typeof value === "boolean") return value ? "true" : "false";
  // The shortest decimal that reads back as the double: strtod, like JS, gives back exactly that double.
  if (type.name === "f32" || type.name === "f64") return /[.e]/.test(String(value)) ? String(value) : `${value}.0`;
  const n = BigInt(value);
  return n < 0n ? `(${n + 1n}LL - 1)` : `${n}ULL`;
}

/** A leaf's path as C and as the program's messages name it: `a.b[2].c`. */
const cPath = (path: (string | number)[]): string =>
  path.map((key) => typeof key === "number" ? `[${key}]` : `.${key}`).join("").slice(1);

/**
 * A C expression that stores `value` in the leaf at `lvalue`, or one that loads it, through the
 * byte swap of `BIG_ENDIAN_N`/`LITTLE_ENDIAN_N` where the leaf has a fixed byte order (for a
 * float, through the functions that swap its bytes in memory, `set_f64_big` and the like).
 */
function access(leaf: Leaf, lvalue: string): { store(value: string): string; load: string } {
  const { type } = leaf;
  if (type.kind !== "scalar" || type.byteOrder === "native" || type.size === 1) {
    return { store: (value) => `${lvalue} = ${value}`, load: lvalue };
  }
  if (type.name === "f32" || type.name === "f64") {
    const suffix = `${type.name}_${type.byteOrder}`;
    // A void pointer: a packed member's address may be unaligned, and memcpy is what reads it.
    return {
      store: (value) => `set_${suffix}((void *)&${lvalue}, ${value})`,
      load: `get_${suffix}((void *)&${lvalue})`,
    };
  }
  const swap = `${type.byteOrder.toUpperCase()}_ENDIAN_${type.size * 8}`;
  return {
    store: (value) => `${lvalue} = (__typeof__(${lvalue}))${swap}(${value})`,
    load: `(__typeof__(${lvalue}))${swap}(${lvalue})`,
  };
}

/**
 * A C program that, for each layout, either writes its struct with `written` values to
 * DIR/NAME (`prog write DIR`) or reads DIR/NAME and prints each field that differs from
 * `checked` (`prog check DIR`; `prog check-present DIR` skips the layouts with no file).
 * `prefix` is C source put first (more declarations whose `_Static_assert`s gcc checks).
 */
export function bitfieldProgram(
  layouts: [string, StructType][],
  written: Leaf[][],
  checked: Leaf[][],
  prefix = "",
): string {
  const blocks = layouts.map(([name, type], k) => {
    const tag = `${type.kind} ${name}`;
    const sets = written[k].map((leaf) => `${access(leaf, `r.${cPath(leaf.path)}`).store(literal(leaf))};`).join(" ");
    const checks = checked[k].map((leaf) => {
      const field = access(leaf, `r.${cPath(leaf.path)}`).load;
      return `if (${field} != ${literal(leaf)}) mismatch("${name}.${cPath(leaf.path)}");`;
    }).join("\n    ");
    return `  {
    ${tag} r;
    if (writing) { memset(&r, 0, sizeof r); ${sets} save(dir, "${name}", &r, sizeof r); }
    else if (load(dir, "${name}", &r, sizeof r, present)) {
    ${checks}
    }
  }`;
  });
  return `${prefix}
${layouts.map(([name, type]) => toC(type, name)).join("\n")}
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* A fixed-byte-order field holds its value's bytes in that order: swapped where the machine's order differs. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BIG_ENDIAN_16(x) __builtin_bswap16((uint16_t)(x))
#define BIG_ENDIAN_32(x) __builtin_bswap32((uint32_t)(x))
#define BIG_ENDIAN_64(x) __builtin_bswap64((uint64_t)(x))
#define LITTLE_ENDIAN_16(x) ((uint16_t)(x))
#define LITTLE_ENDIAN_32(x) ((uint32_t)(x))
#define LITTLE_ENDIAN_64(x) ((uint64_t)(x))
#else
#define BIG_ENDIAN_16(x) ((uint16_t)(x))
#define BIG_ENDIAN_32(x) ((uint32_t)(x))
#define BIG_ENDIAN_64(x) ((uint64_t)(x))
#define LITTLE_ENDIAN_16(x) __builtin_bswap16((uint16_t)(x))
#define LITTLE_ENDIAN_32(x) __builtin_bswap32((uint32_t)(x))
#define LITTLE_ENDIAN_64(x) __builtin_bswap64((uint64_t)(x))
#endif
#define FLOAT_IN_ORDER(T, NAME, BITS, ORDER, SWAP) \
  static inline void set_##NAME##_##ORDER(void *p, T v) { \
    uint##BITS##_t u; memcpy(&u, &v, sizeof u); u = SWAP##_##BITS(u); memcpy(p, &u, sizeof u); \
  } \
  static inline T get_##NAME##_##ORDER(const void *p) { \
    uint##BITS##_t u; T v; memcpy(&u, p, sizeof u); u = SWAP##_##BITS(u); memcpy(&v, &u, sizeof v); return v; \
  }
FLOAT_IN_ORDER(float, f32, 32, big, BIG_ENDIAN)
FLOAT_IN_ORDER(float, f32, 32, little, LITTLE_ENDIAN)
FLOAT_IN_ORDER(double, f64, 64, big, BIG_ENDIAN)
FLOAT_IN_ORDER(double, f64, 64, little, LITTLE_ENDIAN)
static int failures = 0;
static void mismatch(const char *what) { printf("%s\\n", what); failures++; }
static void save(const char *dir, const char *name, const void *p, size_t n) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb"); if (f == NULL || fwrite(p, n, 1, f) != 1 || fclose(f) != 0) exit(3);
}
/* 1 when the file was read; 0 when it is missing and missing files are allowed. */
static int load(const char *dir, const char *name, void *p, size_t n, int present) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL && present) return 0;
  if (f == NULL || fread(p, n, 1, f) != 1) exit(3);
  fclose(f);
  return 1;
}
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int writing = strcmp(argv[1], "write") == 0;
  int present = strcmp(argv[1], "check-present") == 0;
  const char *dir = argv[2];
${blocks.join("\n")}
  return failures == 0 ? 0 : 1;
}
`;
}

/** The value at `path` in a plain object (or a view, or an array). */
export const at = (value: unknown, path: (string | number)[]): unknown =>
  path.reduce((v, key) => (v as Record<string | number, unknown>)[key], value);

/** `leaves` as a value for `write()`: objects for structs and unions, arrays for arrays. */
function nested(leaves: Leaf[]): Record<string, unknown> {
  const value: Record<string | number, unknown> = {};
  for (const { path, value: leafValue } of leaves) {
    let target = value;
    path.slice(0, -1).forEach((key, i) => {
      target = (target[key] ??= typeof path[i + 1] === "number" ? [] : {}) as Record<string | number, unknown>;
    });
    target[path.at(-1)!] = leafValue;
  }
  return value;
}

/**
 * Reads DIR/NAME for each layout that has `values`, through a view and through `read()`,
 * and lists each leaf that does not hold its value (also a file of the wrong size).
 */
export function misread(dir: string, layouts: [string, StructType][], values: (Leaf[] | undefined)[]): string[] {
  return layouts.flatMap(([name, type], k) => {
    const leaves = values[k];
    if (leaves === undefined) return [];
    const bytes = readFileSync(join(dir, name));
    if (bytes.length !== type.size) return [`${name}: ${bytes.length} bytes, not ${type.size}`];
    const buffer = new Uint8Array(bytes).buffer;
    const view = type.view(buffer);
    const value = type.read(buffer);
    return leaves.flatMap((leaf) => {
      const got = [at(view, leaf.path), at(value, leaf.path)];
      return got.every((v) => v === leaf.value)
        ? []
        : [`${name}.${cPath(leaf.path)}: ${got.join(" / ")}, not ${leaf.value}`];
    });
  });
}

/** Byte `i` of the noise layout `k`'s buffer starts as, before its fields are set. */
export const noiseByte = (i: number, k: number): number => (i * 151 + k * 7 + 13) & 0xff;

/**
 * Writes each layout's `values` to DIR/NAME over noise: through a view for every other
 * layout (setting the leaves in reverse order, so that a setter that spoiled a
 * neighbour's bits would show), through `write()` for the others. Creates DIR.
 */
export function writeForC(dir: string, layouts: [string, StructType][], values: Leaf[][]): void {
  mkdirSync(dir);
  layouts.forEach(([name, type], k) => {
    const buffer = new ArrayBuffer(type.size);
    new Uint8Array(buffer).forEach((_, i, bytes) => bytes[i] = noiseByte(i, k));
    if (k % 2 === 0) {
      const view = type.view(buffer) as unknown as Record<string | number, unknown>;
      for (const leaf of [...values[k]].reverse()) {
        const parent = leaf.path.slice(0, -1).reduce((v, key) => v[key] as Record<string | number, unknown>, view);
        parent[leaf.path.at(-1)!] = leaf.value;
      }
    } else {
      type.write(buffer, 0, nested(values[k]) as never);
    }
    writeFileSync(join(dir, name), new Uint8Array(buffer));
  });
}
