/**
 * Exposes a server's statistics through a struct file (`stats.ts` is the layout, the same
 * as a C struct): a simulated request loop updates the fields, each request's changes in
 * one `update()`, so that readers never see half of one. Any reader can open the file
 * without knowing the layout: `struct_reader.ts`, `mmstruct show`, `read_struct.py`.
 *
 *     deno run --allow-ffi --allow-read --allow-write examples/struct_writer.ts [--path FILE] [--requests N]
 *
 * Flags: `--path` (default `stats.mms` in the temp directory), `--requests N` (stop after N
 * requests; default: run until interrupted), `--interval MS` (between requests, default 10).
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { StructFile } from "../mod.ts";
import { Stats } from "./stats.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "stats.mms") },
    requests: { type: "string" },
    interval: { type: "string", default: "10" },
  },
});

// overwrite: readers still mapping a previous file keep it; it is never truncated under them.
using file = StructFile.create(values.path, Stats, { overwrite: true });
const paths = ["/", "/api/users", "/api/orders", "/health"];
const limit = values.requests === undefined ? Infinity : Number(values.requests);
console.log(`writing statistics to ${values.path} (${Stats.size} bytes of data)`);

for (let n = 1; n <= limit; n++) {
  const latency = 5 + Math.random() * 20;
  file.update((stats) => {
    stats.requests += 1n;
    if (n % 7 === 0) stats.errors += 1;
    stats.latency_ms = latency;
    stats.load = n % 100 / 100;
    stats.last_path = paths[n % paths.length];
  });
  await new Promise((resolve) => setTimeout(resolve, Number(values.interval)));
}
const { requests, errors } = file.snapshot();
console.log(`done: ${requests} requests, ${errors} errors`);
