/**
 * Reads the statistics `struct_writer.ts` exposes: maps the file read-only and prints the
 * struct once a second (or once, with `--once`).
 *
 *     deno run --allow-ffi --allow-read examples/struct_reader.ts [--path FILE] [--once]
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MappedFile } from "../mod.ts";
import { Stats } from "./stats.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "stats.mms") },
    once: { type: "boolean", default: false },
    interval: { type: "string", default: "1000" },
  },
});

using file = MappedFile.open(values.path);
// A read-only view: it reads the live memory, and assigning a field throws a TypeError.
const stats = Stats.view(file);
while (true) {
  console.log(
    `requests=${stats.requests} errors=${stats.errors} load=${stats.load.toFixed(2)} ` +
      `latency=${stats.latency_ms.toFixed(1)}ms last=${stats.last_path}`,
  );
  if (values.once) break;
  await new Promise((resolve) => setTimeout(resolve, Number(values.interval)));
}
