/**
 * The seed's `a.py`, done right: creates a mapped file holding an int32 `i` at offset 0 and
 * a 3-byte string `s` at offset 4, then changes them when you press Enter.
 *
 *     deno run --allow-ffi --allow-read --allow-write examples/writer.ts
 *     deno run --allow-ffi --allow-read --allow-write examples/reader.ts   # in another terminal
 *
 * Flags: `--path FILE` (default: `mmaptest` in the temp directory), `--auto MS` (no
 * prompts: make each change after MS milliseconds), `--then N` (the last value of `i` in
 * `--auto` mode, default 42).
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { MappedFile } from "../mod.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "mmaptest") },
    auto: { type: "string" },
    then: { type: "string", default: "42" },
  },
});

const encoder = new TextEncoder();
// overwrite: a reader still mapping an older file keeps it; it never sees a truncation.
using file = MappedFile.create(values.path, { size: 4096, overwrite: true });
const i = new Int32Array(file.buffer, 0, 1);
const s = new Uint8Array(file.buffer, 4, 3);

i[0] = 10;
i[0] += 1;
s.set(encoder.encode("foo"));
console.log(`First 10 bytes of ${values.path}: ${[...new Uint8Array(file.buffer, 0, 10)].join(" ")}`);

const prompts = createInterface({ input: process.stdin, output: process.stdout });
async function step(question: string, fallback: string): Promise<string> {
  if (values.auto === undefined) return await prompts.question(question);
  await new Promise((resolve) => setTimeout(resolve, Number(values.auto)));
  return fallback;
}

try {
  await step("Now run the reader and press Enter ", "");
  console.log("Changing i and s");
  i[0] *= i[0];
  s.set(encoder.encode("bar"));
  const answer = await step("Enter a new value for i: ", values.then);
  const next = Number.parseInt(answer, 10);
  if (Number.isNaN(next)) throw new TypeError(`Cannot set i: ${JSON.stringify(answer)} is not an integer`);
  i[0] = next;
  console.log(`i is now ${i[0]}`);
} finally {
  prompts.close();
}
