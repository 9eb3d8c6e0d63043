import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { toC } from "../mod.ts";
import { LAYOUTS } from "./fixtures/layouts.ts";
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
