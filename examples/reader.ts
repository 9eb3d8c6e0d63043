/**
 * The seed's `b.py`, done right: maps the writer's file read-only and prints `i` and `s`
 * each time they change.
 *
 *     deno run --allow-ffi --allow-read examples/reader.ts
 *
 * Flags: `--path FILE` (default: `mmaptest` in the temp directory), `--interval MS` (poll
 * period, default 100; waits for the file to appear), `--until N` (exit once `i` is N), `--timeout MS` (exit with status
 * 1 if that has not happened in time).
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { MappedFile, MmapError } from "../mod.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "mmaptest") },
    interval: { type: "string", default: "100" },
    until: { type: "string" },
    timeout: { type: "string" },
  },
});

const decoder = new TextDecoder();
const deadline = values.timeout === undefined ? Infinity : Date.now() + Number(values.timeout);

/** Maps the file, waiting for the writer to create it. */
async function openWhenReady(path: string): Promise<MappedFile> {
  while (true) {
    try {
      return MappedFile.open(path);
    } catch (error) {
      if (!(error instanceof MmapError && error.code === "ENOENT") || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

using file = await openWhenReady(values.path);
const i = new Int32Array(file.buffer, 0, 1);
const s = new Uint8Array(file.buffer, 4, 3);

const until = values.until === undefined ? undefined : Number(values.until);
let seenI: number | undefined;
let seenS: string | undefined;
while (true) {
  const newI = i[0];
  const newS = decoder.decode(s);
  if (newI !== seenI || newS !== seenS) {
    console.log(`i: ${seenI} => ${newI}`);
    console.log(`s: ${seenS} => ${newS}`);
    seenI = newI;
    seenS = newS;
  }
  if (newI === until) break;
  if (Date.now() > deadline) {
    console.error(`reader: i did not reach ${until} in ${values.timeout} ms`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, Number(values.interval)));
}
