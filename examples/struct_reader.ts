/**
 * Reads the statistics `struct_writer.ts` exposes: prints a consistent snapshot at start
 * and at every change (or once, with `--once`). It passes the layout it expects, so a file
 * with another layout is refused with a clear error; drop `type` to read any struct file.
 *
 *     deno run --allow-ffi --allow-read examples/struct_reader.ts [--path FILE] [--once]
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { StructFile, watch } from "../mod.ts";
import { Stats } from "./stats.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "stats.mms") },
    once: { type: "boolean", default: false },
    interval: { type: "string", default: "1000" },
  },
});

function print(stats: ReturnType<typeof Stats.read>): void {
  console.log(
    `requests=${stats.requests} errors=${stats.errors} load=${stats.load.toFixed(2)} ` +
      `latency=${stats.latency_ms.toFixed(1)}ms last=${stats.last_path}`,
  );
}

if (values.once) {
  using file = StructFile.open(values.path, { type: Stats });
  print(file.snapshot());
} else {
  for await (const { value } of watch(values.path, { type: Stats, interval: Number(values.interval) })) print(value);
}
