/**
 * Packed structs with arrays of every numeric type, at offsets no typed array can index,
 * round-trip values both ways with a program the host's gcc compiles from `toC()`: values C
 * writes are what a view's `[i]` and `read()` give, and values a view's `[i] = v` and
 * `write()` store are what C reads. `layout_aarch64.test.ts` checks the same struct with
 * aarch64 gcc.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { bitfieldProgram, misread, valuesFor, writeForC } from "./_bitfield_program.ts";
import { PACKED_ARRAY_LAYOUTS, PACKED_ELEMENTS } from "./fixtures/packed_arrays.ts";
import { tempDir } from "./_helpers.ts";

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const noCompiler = gcc ? false : "no C compiler (gcc) on this machine: layouts are not compared with gcc";

test(
  "struct() packed arrays of every numeric type index with [i] and round-trip values with gcc both ways",
  { skip: noCompiler },
  () => {
    const layouts = PACKED_ARRAY_LAYOUTS;
    const [[, packed]] = layouts;
    // Every array of elements wider than a byte starts at an offset their size does not divide: the DataView path.
    const names = Object.keys(PACKED_ELEMENTS) as (keyof typeof PACKED_ELEMENTS)[];
    const misaligned = names.filter((n) => packed.offsetOf(`a_${n}`) % PACKED_ELEMENTS[n].size !== 0);
    assert.deepEqual(misaligned, names.filter((n) => PACKED_ELEMENTS[n].size > 1));

    const seed = Math.floor(Math.random() * 2 ** 31);
    const fromC = valuesFor(layouts, seed);
    const toCValues = valuesFor(layouts, seed + layouts.length);
    using tmp = tempDir();
    const source = tmp.path("packed_arrays.c");
    writeFileSync(source, bitfieldProgram(layouts, fromC, toCValues));
    const binary = tmp.path("packed_arrays");
    // The _Static_asserts check sizeof, _Alignof and every offset.
    const compiled = spawnSync("gcc", ["-std=c11", "-Wall", "-Werror", "-o", binary, source], { encoding: "utf8" });
    assert.equal(compiled.status, 0, compiled.stderr);

    // C writes, views and read() read.
    const fromDir = tmp.path("from_c");
    mkdirSync(fromDir);
    const wrote = spawnSync(binary, ["write", fromDir], { encoding: "utf8" });
    assert.equal(wrote.status, 0, wrote.stderr);
    assert.deepEqual(misread(fromDir, layouts, fromC), [], `seed ${seed}`);

    // A view's [i] = v (one layout) and write() (the other) set values over noise, C checks them.
    const toDir = tmp.path("to_c");
    writeForC(toDir, layouts, toCValues);
    const checked = spawnSync(binary, ["check", toDir], { encoding: "utf8" });
    assert.equal(checked.stdout, "", `fields C read differently (seed ${seed})`);
    assert.equal(checked.status, 0, checked.stderr);
  },
);
