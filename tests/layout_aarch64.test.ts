/**
 * The layouts checked against the host's gcc (`layout_gcc.test.ts`), checked against gcc for
 * aarch64 (Linux, LP64, AAPCS64) too. mmstruct has one set of layout rules, not one per
 * architecture: the sizes and alignments of its scalars and the way gcc places bitfields
 * (in units of their declared type, a new unit when one does not fit, bit by bit when
 * packed, little-endian bit order) are the same on x86_64 and aarch64, so the layout
 * computed here, on either, must be what aarch64 gcc compiles. One program, cross-compiled
 * with `aarch64-linux-gnu-gcc -static` and run under `qemu-aarch64` on an x86_64 host
 * (with the native gcc on an aarch64 one), checks the sizes and offsets at compile time and
 * writes and checks values at run time: of the bitfield layouts, and of the packed struct
 * with arrays of every numeric type that `layout_packed_arrays_gcc.test.ts` checks with the
 * host's gcc.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { toC } from "../mod.ts";
import { BIT_LAYOUTS, randomBitLayouts } from "./fixtures/bit_layouts.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
import { PACKED_ARRAY_LAYOUTS } from "./fixtures/packed_arrays.ts";
import { bitfieldProgram, misread, valuesFor, writeForC } from "./_bitfield_program.ts";
import { tempDir } from "./_helpers.ts";

const PACKAGES = "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user";
const works = (command: string) => spawnSync(command, ["--version"]).status === 0;

/** The compiler for aarch64 and the command that runs what it builds, or why there are none. */
function toolchain(): { gcc: string; run: string[] } | string {
  if (process.platform !== "linux") return `aarch64 Linux gcc is compared on Linux only, not on ${process.platform}`;
  if (process.arch === "arm64") {
    return works("gcc") ? { gcc: "gcc", run: [] } : "no C compiler (gcc) on this machine";
  }
  const gcc = "aarch64-linux-gnu-gcc";
  const qemu = ["qemu-aarch64", "qemu-aarch64-static"].find(works);
  if (!works(gcc) || qemu === undefined) {
    return `no aarch64 cross compiler (${gcc}) or qemu-aarch64 on this machine: Debian's ${PACKAGES} provide them`;
  }
  return { gcc, run: [qemu] };
}

const tools = toolchain();
/** Seeds of the random layouts: a fixed list, and one new each run (printed when it fails). */
const SEEDS = [1, 2, 3, 20261201, Date.now() % 2 ** 31];

test(
  "struct() lays out every gcc-checked definition as aarch64 gcc does: sizes, offsets, bitfield and packed array values both ways",
  { skip: typeof tools === "string" ? tools : false },
  () => {
    const { gcc, run } = tools as Exclude<typeof tools, string>;
    const layouts = [...BIT_LAYOUTS, ...SEEDS.flatMap((seed) => randomBitLayouts(seed, 12)), ...PACKED_ARRAY_LAYOUTS];
    const context = `random layouts from seeds ${SEEDS.join(", ")}`;
    const fromC = valuesFor(layouts, 1000);
    const toCValues = valuesFor(layouts, 5000);
    using tmp = tempDir();
    const source = tmp.path("aarch64.c");
    // The general layouts' _Static_asserts check sizeof, _Alignof and every offset; the bitfield layouts' check the
    // fields around the bitfields, and the program checks the bitfields' values (and the packed arrays' elements).
    const prefix = [
      "#if !defined(__aarch64__) || !defined(__LP64__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__",
      '#error "not a little-endian LP64 aarch64 compiler"',
      "#endif",
      ...LAYOUTS.map(([name, type]) => toC(type, name)),
    ].join("\n");
    writeFileSync(source, bitfieldProgram(layouts, fromC, toCValues, prefix));
    const binary = tmp.path("aarch64");
    // Static: qemu then needs no aarch64 sysroot to run it.
    const compiled = spawnSync(gcc, ["-std=c11", "-Wall", "-Werror", "-O1", "-static", "-o", binary, source], {
      encoding: "utf8",
    });
    assert.equal(compiled.status, 0, `${context}\n${compiled.stderr}`);
    const [file, ...argv] = [...run, binary];
    const execute = (...args: string[]) => spawnSync(file, [...argv, ...args], { encoding: "utf8", timeout: 120_000 });

    // aarch64 C writes, views read.
    const fromDir = tmp.path("from_c");
    mkdirSync(fromDir);
    const wrote = execute("write", fromDir);
    assert.equal(wrote.status, 0, wrote.stderr || String(wrote.error));
    assert.deepEqual(misread(fromDir, layouts, fromC), [], context);

    // Views and write() set values over noise, aarch64 C checks them.
    const toDir = tmp.path("to_c");
    writeForC(toDir, layouts, toCValues);
    const checked = execute("check", toDir);
    assert.equal(checked.stdout, "", `fields aarch64 C read differently (${context})`);
    assert.equal(checked.status, 0, checked.stderr || String(checked.error));
  },
);
