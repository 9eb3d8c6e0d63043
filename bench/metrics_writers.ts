/**
 * The process that holds the writers of a directory benchmark, so that the reader (the
 * benchmark's own process) carries none of their memory: in production they are other
 * processes. Each `Metrics.create` is a writer with its own files and `flock`, as a
 * process would be; `close()` releases the lock as a process's exit does.
 *
 *     <runtime> bench/metrics_writers.ts server|wide DIR N
 *     <runtime> bench/metrics_writers.ts churn ALONE CHURNED LIVE GONE
 *
 * `server` and `wide` start N live writers of that shape in DIR. `churn` starts LIVE
 * server writers in each of ALONE and CHURNED, then GONE more in CHURNED one after the
 * other, each closed before the next starts (and each start compacts, as a process's
 * does). It prints one JSON line, `{ seconds, live }` (how long that took, and the live
 * writers' files), then holds the live writers until its standard input closes.
 *
 * @module
 */

import process from "node:process";
import type { Metrics } from "../mod.ts";
import { serverWriter, wideWriter } from "./_writers.ts";

const [shape, ...args] = process.argv.slice(2);
const live: Metrics[] = [];
const started = performance.now();
if (shape === "server" || shape === "wide") {
  const [dir, count] = args;
  const make = shape === "server" ? serverWriter : wideWriter;
  for (let n = 0; n < Number(count); n++) live.push(make(dir, n));
} else if (shape === "churn") {
  const [alone, churned, liveCount, gone] = args;
  for (let n = 0; n < Number(liveCount); n++) live.push(serverWriter(alone, n), serverWriter(churned, n));
  for (let n = 0; n < Number(gone); n++) {
    serverWriter(churned, Number(liveCount) + n).close();
    if (n % 2000 === 1999) console.error(`  metrics: ${n + 1} writers have come and gone`);
  }
} else {
  console.error("Usage: metrics_writers server|wide DIR N | churn ALONE CHURNED LIVE GONE");
  process.exit(2);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, live: live.flatMap((m) => m.paths) }));
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  for (const writer of live) writer.close();
  process.exit(0);
});
