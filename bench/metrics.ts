/**
 * Metrics benchmarks (issue 9): the writer's hot paths against prom-client's and against a
 * raw store to the same kind of mapping, in the same run; and scrapes (`collect` and the
 * Prometheus text) of directories of many writers, before and after 10,000 writers have
 * come and gone.
 *
 * The writers of the directory benchmarks live in one other process (`metrics_writers.ts`):
 * each `Metrics.create` there is a writer with its own files and its own `flock`, and
 * `close()` releases the lock exactly as a process's exit does. For the reader (this
 * process) the directory is the same as one written by 1,000 processes, and its heap holds
 * none of theirs; only the cost of starting 1,000 processes is left out. `npm run bench`
 * starts those writers once (in Node) for the readers of all three runtimes.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { do_not_optimize } from "mitata";
import * as prom from "prom-client";
import { listen } from "../exporters/_http_server.ts";
import { collect, MappedFile, Metrics, metricsHandler, toPrometheus } from "../mod.ts";
import type { Collected, MetricFamily } from "../mod.ts";
import { compare, type Comparison, OPS, type Row } from "./_measure.ts";
import { serverTotal, wideTotal } from "./_writers.ts";

/** Metrics files belong on tmpfs: so do the benchmark's (disk-backed `/tmp` adds write-back). */
function tempDir(): string {
  return mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "mmstruct-bench-"));
}

/** A candidate `times` faster than its baseline (baseline time over candidate time). */
function fasterRow(c: Comparison, target: number): Row {
  return {
    name: `${c.name}: ${c.candidate} vs ${c.baseline} (times faster)`,
    value: c.baselineNs / c.candidateNs,
    unit: "x",
    detail: `${c.candidateNs.toFixed(1)} vs ${c.baselineNs.toFixed(0)} ns`,
    target: { value: target, better: "higher" },
  };
}

/** A candidate over its baseline (lower is better). */
function ratioRow(c: Comparison, target: number): Row {
  return {
    name: `${c.name}: ${c.candidate} / ${c.baseline}`,
    value: c.ratio,
    unit: "x",
    detail: `${c.candidateNs.toFixed(2)} vs ${c.baselineNs.toFixed(2)} ns`,
    target: { value: target, better: "lower" },
  };
}

const METHODS = ["GET", "POST", "PUT", "DELETE"];
const CODES = ["200", "201", "404", "500"];

/** Deterministic observations spread over the default buckets (5 ms to 10 s), and past them. */
function observations(n: number): Float64Array {
  const values = new Float64Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = 0.001 * 2 ** ((seed >>> 8) / (1 << 24) * 14); // 1 ms to 16 s, log-uniform
  }
  return values;
}

/** The hot paths, each against prom-client's (or a raw store) in the same run. */
async function hotPaths(dir: string): Promise<Row[]> {
  progress("hot paths against prom-client");
  using metrics = Metrics.create(dir, { name: "bench" });
  const registry = new prom.Registry();
  const rows: Row[] = [];

  const labelNames = ["method", "code"];
  const ours = metrics.counter({ name: "http_requests_total", help: "Requests", labelNames });
  const theirs = new prom.Counter({ name: "http_requests_total", help: "Requests", labelNames, registers: [registry] });
  const child = ours.labels({ method: "GET", code: "200" });
  const theirChild = theirs.labels({ method: "GET", code: "200" });
  rows.push(fasterRow(
    await compare(
      "counter, bound child",
      ["prom-client child.inc()", () => {
        for (let i = 0; i < OPS; i++) theirChild.inc();
      }],
      ["child.inc()", () => {
        for (let i = 0; i < OPS; i++) child.inc();
      }],
    ),
    50,
  ));

  // The same kind of mapping: a MappedFile on the same file system, one f64 slot.
  using file = MappedFile.create(join(dir, "raw.mms"), { size: 4096 });
  const raw = new Float64Array(file.buffer);
  const k = 5;
  rows.push(ratioRow(
    await compare(
      "counter, bound child",
      ["f64[k] += 1", () => {
        for (let i = 0; i < OPS; i++) raw[k] += 1;
      }],
      ["child.inc()", () => {
        for (let i = 0; i < OPS; i++) child.inc();
      }],
    ),
    1.5,
  ));
  do_not_optimize(raw[k]);

  // The label values change at each call (16 label sets), as a server's do: with constant
  // ones Bun's JIT hoists the lookup out of the loop.
  rows.push(fasterRow(
    await compare(
      "counter, 2 labels",
      ["prom-client inc({ method, code })", () => {
        for (let i = 0; i < OPS; i++) theirs.inc({ method: METHODS[i & 3], code: CODES[(i >> 2) & 3] });
      }],
      ["inc({ method, code })", () => {
        for (let i = 0; i < OPS; i++) ours.inc({ method: METHODS[i & 3], code: CODES[(i >> 2) & 3] });
      }],
    ),
    3,
  ));

  // prom-client's fastest histogram path is observe() without labels (its bound children
  // hash their labels at every call): ours is held to that.
  const values = observations(1024);
  const histogram = metrics.histogram({
    name: "http_request_duration_seconds",
    help: "Latency",
    labelNames: ["route"],
  });
  const bound = histogram.labels({ route: "/" });
  const theirHistogram = new prom.Histogram({ name: "latency_seconds", help: "Latency", registers: [registry] });
  rows.push(fasterRow(
    await compare(
      "histogram, 11 buckets",
      ["prom-client observe(v)", () => {
        for (let i = 0; i < OPS; i++) theirHistogram.observe(values[i & 1023]);
      }],
      ["bound child.observe(v)", () => {
        for (let i = 0; i < OPS; i++) bound.observe(values[i & 1023]);
      }],
    ),
    20,
  ));
  registry.clear();
  return rows;
}

/** The sum of every sample of a counter family (a check that the scrape saw every writer). */
function counterTotal(families: readonly MetricFamily[], name: string): number {
  const family = families.find((f) => f.name === name);
  if (family?.type !== "counter") throw new Error(`The scrape has no counter ${JSON.stringify(name)}`);
  return family.series.reduce((sum, s) => sum + s.value, 0);
}

/**
 * Milliseconds of CPU time (user and system, all of this process's threads) of one scrape:
 * `collect` and the Prometheus text. Not wall time: on a shared 2-core machine a scrape of a
 * few milliseconds is often descheduled halfway, which says nothing about the scrape.
 */
function scrapeMs(dir: string): { ms: number; collected: Collected } {
  const started = process.cpuUsage();
  const collected = collect(dir);
  do_not_optimize(toPrometheus(collected.families));
  const { user, system } = process.cpuUsage(started);
  return { ms: (user + system) / 1000, collected };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** The first scrape (this reader has not seen the files), then the median of `n` more after 5 to warm up. */
function scrapes(dir: string, n: number): { cold: number; warm: number; collected: Collected } {
  const first = scrapeMs(dir);
  for (let i = 0; i < 5; i++) scrapeMs(dir);
  const times: number[] = [];
  let collected = first.collected;
  for (let i = 0; i < n; i++) {
    const scrape = scrapeMs(dir);
    times.push(scrape.ms);
    collected = scrape.collected;
  }
  return { cold: first.ms, warm: median(times), collected };
}

/** A line on standard error: the directory benchmarks take a while. */
function progress(message: string): void {
  console.error(`  metrics: ${message}`);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`Benchmark check failed: ${message}`);
}

/** What the writers' process reports once they are all there. */
interface Ready {
  /** How long starting them (and, for churn, the writers that came and went) took. */
  seconds: number;
  /** The live writers' files. */
  live: string[];
}

const extension = import.meta.url.endsWith(".js") ? ".js" : ".ts";
// The same runtime as this process; Deno needs --allow-all for directories under /dev/shm.
const runtimeArgs = "Deno" in globalThis ? ["run", "--allow-all"] : [];

/** Starts a process of `metrics_writers.ts` holding the writers that `args` ask for. */
async function startWriters(args: string[]): Promise<{ ready: Ready; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL(`./metrics_writers${extension}`, import.meta.url));
  const child = spawn(process.execPath, [...runtimeArgs, script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async () => {
    child.stdin!.end();
    await exited;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      exited.then((code) => reject(new Error(`The writers' process exited with status ${code}`)));
    });
    return { ready: JSON.parse(line) as Ready, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const WRITERS = 1000;
const LIVE = 100;
const GONE = 10_000;

/** The directories of the scrape benchmarks, with their writers running. */
export interface ScrapeDirectories {
  /** 1,000 server writers (1 counter + 1 histogram × 10 label sets). */
  server: { dir: string; seconds: number };
  /** 1,000 writers of 1,000 series. */
  wide: { dir: string; seconds: number };
  /** 100 live writers alone, and the same beside what 10,000 more left behind. */
  churn: { alone: string; churned: string; live: string[]; seconds: number };
}

/**
 * Starts the writers of the scrape benchmarks, each set in a process of its own (of this
 * runtime), in new temporary directories. `npm run bench` starts them once and lets each
 * runtime's reader scrape them (`MMSTRUCT_BENCH_WRITERS`): the files do not depend on the
 * writer's runtime, and starting a million series three times would take minutes.
 *
 * @returns The directories, and a function that stops the writers and removes them.
 */
export async function startScrapeWriters(): Promise<{ dirs: ScrapeDirectories; stop(): Promise<void> }> {
  const made: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const dir = () => {
    const d = tempDir();
    made.push(d);
    return d;
  };
  const stop = async () => {
    for (const s of stops) await s();
    for (const d of made) rmSync(d, { recursive: true, force: true });
  };
  try {
    const [alone, churned, server, wide] = [dir(), dir(), dir(), dir()];
    progress(`${GONE.toLocaleString("en")} writers coming and going beside ${LIVE} live ones`);
    const c = await startWriters(["churn", alone, churned, String(LIVE), String(GONE)]);
    stops.push(c.stop);
    progress(`1,000 writers × 20 series`);
    const s = await startWriters(["server", server, String(WRITERS)]);
    stops.push(s.stop);
    progress(`1,000 writers × 1,000 series`);
    const w = await startWriters(["wide", wide, String(WRITERS)]);
    stops.push(w.stop);
    const dirs = {
      server: { dir: server, seconds: s.ready.seconds },
      wide: { dir: wide, seconds: w.ready.seconds },
      churn: { alone, churned, live: c.ready.live.filter((p) => p.startsWith(churned)), seconds: c.ready.seconds },
    };
    return { dirs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `collect` + text of a directory of 1,000 writers of a shape. */
function directoryScrape(
  name: string,
  shape: "server" | "wide",
  { dir, seconds }: { dir: string; seconds: number },
  target: number,
): Row {
  progress(`${name}: scraping`);
  const result = scrapes(dir, 15);
  const { families, writers } = result.collected;
  check(writers.live === WRITERS, `${writers.live} live writers seen, ${WRITERS} expected`);
  const [counter, expected] = shape === "server"
    ? ["http_requests", serverTotal(WRITERS)]
    : ["app_events0", wideTotal(WRITERS)];
  check(counterTotal(families, counter) === expected, `${counter} is not the sum over every writer`);
  return {
    name,
    value: result.warm,
    unit: "ms",
    detail: `CPU time; first scrape ${result.cold.toFixed(0)} ms; starting the writers took ${seconds.toFixed(0)} s`,
    target: { value: target, better: "lower" },
  };
}

/**
 * What a Prometheus server waits for: `GET /metrics` of `metricsHandler(dir)` served by this
 * runtime's HTTP server on loopback (the server `mmstruct serve` runs), wall time from the
 * request to the last byte of the body, the median of 15 after 5 to warm up.
 */
async function httpScrape(
  name: string,
  { dir, seconds }: { dir: string; seconds: number },
  target: number,
): Promise<Row> {
  progress(`${name}: scraping over HTTP`);
  const server = await listen(metricsHandler(dir), {
    hostname: "127.0.0.1",
    port: 0,
    onError: (error) => console.error(error),
  });
  try {
    const url = `http://127.0.0.1:${server.port}/metrics`;
    const scrape = async () => {
      const started = performance.now();
      const response = await fetch(url, { headers: { "accept-encoding": "gzip" } });
      const text = await response.text();
      const ms = performance.now() - started;
      check(response.status === 200, `GET /metrics answered ${response.status}`);
      return { ms, text };
    };
    const cold = await scrape();
    for (let i = 0; i < 5; i++) await scrape();
    const times: number[] = [];
    let last = cold.text;
    for (let i = 0; i < 15; i++) {
      const { ms, text } = await scrape();
      times.push(ms);
      last = text;
    }
    check(last.includes("http_requests_total"), "the scrape does not hold the writers' counter");
    return {
      name,
      value: median(times),
      unit: "ms",
      detail: `wall time, gzip as Prometheus asks; first scrape ${cold.ms.toFixed(0)} ms; starting the writers took ${
        seconds.toFixed(0)
      } s`,
      target: { value: target, better: "lower" },
    };
  } finally {
    await server.close();
  }
}

/**
 * Scrapes after 10,000 writers have started and exited (each start compacts, as in a real
 * process), against a directory holding the same live writers alone. The two directories
 * are scraped in turn, so that the JIT and the machine's load treat them alike.
 */
function churn({ alone, churned, live, seconds }: ScrapeDirectories["churn"]): Row[] {
  progress("scraping after the writers that came and went");
  // The first scrape of each reads every file; the next ones warm the JIT up.
  for (let i = 0; i < 20; i++) {
    scrapeMs(alone);
    scrapeMs(churned);
  }
  const times: [number[], number[]] = [[], []];
  let last: Collected | undefined;
  for (let i = 0; i < 31; i++) {
    times[0].push(scrapeMs(alone).ms);
    const scrape = scrapeMs(churned);
    times[1].push(scrape.ms);
    last = scrape.collected;
  }
  const [before, after] = times.map(median);
  const { families, writers } = last!;
  check(writers.live === LIVE, `${writers.live} live writers seen, ${LIVE} expected`);
  check(
    counterTotal(families, "http_requests") === serverTotal(LIVE + GONE),
    "a gone writer's counts were lost or doubled",
  );
  const livePaths = new Set(live);
  const others = readdirSync(churned).filter((name) => !livePaths.has(join(churned, name)));
  return [
    {
      name: `scrape after ${GONE.toLocaleString("en")} writers exited / ${LIVE} live writers alone`,
      value: after / before,
      unit: "x",
      detail: `${after.toFixed(1)} vs ${before.toFixed(1)} ms of CPU; starting and closing them took ${
        seconds.toFixed(0)
      } s`,
      target: { value: 2, better: "lower" },
    },
    {
      name: `files besides the live writers' after ${GONE.toLocaleString("en")} exited`,
      value: others.length,
      unit: "files",
      detail: others.sort().map((n) => n.replace(/^(\w+)\.\d+\.\d+\.[0-9a-f]{16}\./, "$1.<pid>.0.<id>.")).join(", "),
      target: { value: 5, better: "lower" },
    },
  ];
}

/** Runs the hot-path benchmarks in a temporary directory, removed afterwards. */
export async function metricsBenchmarks(): Promise<Row[]> {
  const dir = tempDir();
  try {
    return await hotPaths(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the directory benchmarks (scrapes, compaction) on the directories named by
 * `$MMSTRUCT_BENCH_WRITERS` (set by `npm run bench`), or on writers it starts itself. The
 * smallest first: a reader keeps what it read of each directory, and the biggest would
 * weigh on the garbage collection of the others.
 */
export async function scrapeBenchmarks(): Promise<Row[]> {
  const given = process.env.MMSTRUCT_BENCH_WRITERS;
  const own = given === undefined ? await startScrapeWriters() : undefined;
  try {
    const dirs = own?.dirs ?? JSON.parse(given!) as ScrapeDirectories;
    const rows = churn(dirs.churn);
    rows.unshift(
      directoryScrape(
        "scrape 1,000 writers × (1 counter + 1 histogram) × 10 label sets",
        "server",
        dirs.server,
        30,
      ),
      await httpScrape("GET /metrics of the same 1,000 writers, over HTTP", dirs.server, 50),
      directoryScrape("scrape 1,000 writers × 1,000 series", "wide", dirs.wide, 150),
    );
    return rows;
  } finally {
    await own?.stop();
  }
}
