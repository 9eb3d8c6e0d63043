/**
 * Sends requests to `metrics_server.ts`, kills one of its workers with SIGKILL halfway
 * through, and checks that the merged metrics count every answered request exactly once,
 * the killed worker's included.
 *
 *     deno run --allow-all examples/metrics_client.ts --url http://127.0.0.1:8080 --dir DIR [--kill PID]
 *
 * Flags: `--url` (the server), `--dir` (its metrics directory), `--kill PID` (the worker to
 * kill), `--requests N` (default 400), `--concurrency N` (default 8). It prints what it
 * sent and what the metrics say, and exits with status 1 if they differ.
 *
 * A worker counts a request before it answers, so a request whose answer has arrived has
 * been counted. The other way round is not so: had the worker died after counting a
 * request but before its answer left, the client would retry, and the request would be
 * counted twice for one answer. So that the check can be exact, the worker is killed
 * between two bursts, once every answer of the first has arrived; requests of the second
 * that reach it before the server notices it is gone get no answer and are sent again.
 *
 * @module
 */

import { request } from "node:http";
import process from "node:process";
import { parseArgs } from "node:util";
import { collect, type MetricFamily } from "../mod.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    dir: { type: "string" },
    kill: { type: "string" },
    requests: { type: "string", default: "400" },
    concurrency: { type: "string", default: "8" },
  },
});
if (values.url === undefined || values.dir === undefined) {
  console.error("Usage: metrics_client --url URL --dir DIR [--kill PID] [--requests N] [--concurrency N]");
  process.exit(2);
}
const url = values.url;
const dir = values.dir;

interface Planned {
  method: string;
  path: string;
  /** The route label the server should count it under. */
  route: string;
}

/** The requests, in turn: a mix of routes, methods and status codes. */
const MIX: Planned[] = [
  { method: "GET", path: "/", route: "/" },
  { method: "GET", path: "/items", route: "/items" },
  { method: "GET", path: "/items/3", route: "/items/:id" },
  { method: "GET", path: "/items/7", route: "/items/:id" },
  { method: "GET", path: "/items/42", route: "/items/:id" },
  { method: "POST", path: "/items", route: "/items" },
  { method: "GET", path: "/nowhere", route: "other" },
];

/** One request on a connection of its own (so that the server spreads them over its workers). */
function send(planned: Planned): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(planned.path, url), {
      method: planned.method,
      agent: false,
      headers: { connection: "close" },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(planned.method === "POST" ? '{"name":"new"}' : undefined);
  });
}

const answers = new Map<string, number>();
const latencies = new Map<string, number>();
let answered = 0;
let retried = 0;
let failed = 0;

/** Sends one request until it gets an answer (at most 20 tries), and tallies the answer. */
async function one(planned: Planned): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      const code = await send(planned);
      answered++;
      const key = `${planned.method} ${planned.route} ${code}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      const timed = `${planned.method} ${planned.route}`;
      latencies.set(timed, (latencies.get(timed) ?? 0) + 1);
      return;
    } catch (error) {
      // No answer: the connection was refused or closed, so the request was not counted.
      if (attempt === 20) {
        failed++;
        console.error(`metrics_client: ${planned.method} ${planned.path}: ${(error as Error).message}`);
        return;
      }
      retried++;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}

async function burst(list: readonly Planned[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < list.length) await one(list[next++]);
  }));
}

const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const plan = Array.from({ length: total }, (_, i) => MIX[i % MIX.length]);
const half = Math.floor(total / 2);
await burst(plan.slice(0, half), concurrency);
if (values.kill !== undefined) {
  // Once kill() has returned, the worker runs no more code: it cannot count anything more.
  process.kill(Number(values.kill), "SIGKILL");
  console.log(`killed worker ${values.kill} with SIGKILL after ${answered} answers`);
}
await burst(plan.slice(half), concurrency);

/** The merged value of each series of a family, by its label values joined with spaces. */
function byLabels(families: readonly MetricFamily[], name: string, labels: readonly string[]): Map<string, number> {
  const values = new Map<string, number>();
  const family = families.find((f) => f.name === name);
  for (const series of family?.series ?? []) {
    const key = labels.map((label) => series.labels[label]).join(" ");
    values.set(key, "count" in series ? series.count : series.value);
  }
  return values;
}

function sum(map: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const value of map.values()) n += value;
  return n;
}

function same(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);
}

const { families, errors } = collect(dir, { meta: false });
const counted = byLabels(families, "http_requests", ["method", "route", "code"]);
const observed = byLabels(families, "http_request_duration_seconds", ["method", "route"]);
const exact = failed === 0 && errors.length === 0 && same(counted, answers) && same(observed, latencies);
console.log(
  `answered ${answered} of ${total} requests (${retried} retries); merged metrics: ${sum(counted)} requests ` +
    `counted, ${sum(observed)} latencies observed: ${exact ? "exact" : "MISMATCH"}`,
);
if (!exact) {
  for (const [key, value] of answers) console.error(`  answered ${key}: ${value}, counted ${counted.get(key) ?? 0}`);
  for (const error of errors) console.error(`  ${error.message}`);
  process.exitCode = 1;
}
