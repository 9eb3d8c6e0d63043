/**
 * Exposes a server's statistics through a mapped file, as a C struct (`stats.ts`): a
 * simulated request loop updates the fields; any reader (`struct_reader.ts`, C, Python)
 * maps the file and reads them.
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
import { atomic, MappedFile } from "../mod.ts";
import { Stats } from "./stats.ts";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: join(tmpdir(), "stats.mms") },
    requests: { type: "string" },
    interval: { type: "string", default: "10" },
  },
});

using file = MappedFile.create(values.path, { size: Stats.size, overwrite: true });
const stats = Stats.view(file);
// Counters other processes may also bump are updated atomically.
const requests = atomic(stats, "requests");
const paths = ["/", "/api/users", "/api/orders", "/health"];
const limit = values.requests === undefined ? Infinity : Number(values.requests);
console.log(`writing statistics to ${values.path} (${Stats.size} bytes)`);

for (let n = 1; n <= limit; n++) {
  const path = paths[n % paths.length];
  requests.add(1n);
  if (n % 7 === 0) stats.errors += 1;
  stats.latency_ms = 5 + Math.random() * 20;
  stats.load = n % 100 / 100;
  stats.last_path = path;
  await new Promise((resolve) => setTimeout(resolve, Number(values.interval)));
}
console.log(`done: ${stats.requests} requests, ${stats.errors} errors`);
