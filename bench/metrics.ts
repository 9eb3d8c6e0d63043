/**
 * Metrics benchmarks (issue 9): the writer's hot paths against prom-client's and against a
 * raw store to the same kind of mapping, in the same run; and scrapes (`collect` and the
 * Prometheus text) of directories of many writers, before and after 10,000 writers have
 * come and gone.
 *
 * The directory benchmarks create their writers in this process: each `Metrics.create` is
 * a writer with its own files and its own `flock`, and `close()` releases the lock exactly
 * as a process's exit does (flock locks belong to the open file, not the process, so a
 * probe from this process sees a live writer as live). For the reader the directory is the
 * same as one written by 1,000 processes; only the cost of starting processes is left out.
 *
 * @module
 */

import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { do_not_optimize } from "mitata";
import * as prom from "prom-client";
import { collect, MappedFile, Metrics, toPrometheus } from "../mod.ts";
import type { Collected, MetricFamily } from "../mod.ts";
import { compare, type Comparison, OPS, type Row } from "./_measure.ts";

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

const ROUTES = Array.from({ length: 10 }, (_, i) => `/api/v1/resource${i}`);

/** A writer like a web server's: one counter and one histogram, over 10 routes. */
function serverWriter(dir: string, n: number): Metrics {
  const metrics = Metrics.create(dir, { name: "server" });
  const requests = metrics.counter({ name: "http_requests_total", help: "Requests", labelNames: ["route"] });
  const latency = metrics.histogram({ name: "http_request_duration_seconds", help: "Latency", labelNames: ["route"] });
  for (const [r, route] of ROUTES.entries()) {
    requests.labels({ route }).inc(n + r);
    latency.labels({ route }).observe(0.001 * ((n + r) % 1000));
  }
  return metrics;
}

/** A writer with 1,000 series: 100 counters over 10 routes (client_python's benchmark shape). */
function wideWriter(dir: string, n: number): Metrics {
  const metrics = Metrics.create(dir, { name: "wide" });
  for (let c = 0; c < 100; c++) {
    const counter = metrics.counter({ name: `app_events${c}_total`, help: `Events ${c}`, labelNames: ["route"] });
    for (const route of ROUTES) counter.labels({ route }).inc(n + 1);
  }
  return metrics;
}

/** The sum of every sample of a counter family (a check that the scrape saw every writer). */
function counterTotal(families: readonly MetricFamily[], name: string): number {
  const family = families.find((f) => f.name === name);
  if (family?.type !== "counter") throw new Error(`The scrape has no counter ${JSON.stringify(name)}`);
  return family.series.reduce((sum, s) => sum + s.value, 0);
}

/** Milliseconds of one scrape: `collect` and the Prometheus text. */
function scrapeMs(dir: string): { ms: number; collected: Collected } {
  const started = performance.now();
  const collected = collect(dir);
  do_not_optimize(toPrometheus(collected.families));
  return { ms: performance.now() - started, collected };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** The first scrape (this reader has not seen the files), then the median of `n` more. */
function scrapes(dir: string, n: number): { cold: number; warm: number; collected: Collected } {
  const first = scrapeMs(dir);
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

function msRow(name: string, result: { cold: number; warm: number }, target: number): Row {
  return {
    name,
    value: result.warm,
    unit: "ms",
    detail: `first scrape ${result.cold.toFixed(0)} ms`,
    target: { value: target, better: "lower" },
  };
}

/** `collect` + text of directories of 1,000 writers. */
function directoryScrapes(): Row[] {
  const rows: Row[] = [];
  const WRITERS = 1000;
  for (
    const [name, make, series, target] of [
      ["scrape 1,000 writers × (1 counter + 1 histogram) × 10 label sets", serverWriter, 20, 30],
      ["scrape 1,000 writers × 1,000 series", wideWriter, 1000, 150],
    ] as const
  ) {
    const dir = tempDir();
    const writers: Metrics[] = [];
    try {
      progress(`${name}: creating the writers`);
      for (let n = 0; n < WRITERS; n++) writers.push(make(dir, n));
      const result = scrapes(dir, 15);
      const { families, writers: seen } = result.collected;
      check(seen.live === WRITERS, `${seen.live} live writers seen, ${WRITERS} expected`);
      const expected = make === serverWriter
        ? ROUTES.reduce((sum, _, r) => sum + WRITERS * r, 0) + 10 * (WRITERS * (WRITERS - 1) / 2)
        : 10 * (WRITERS * (WRITERS + 1) / 2);
      const counter = make === serverWriter ? "http_requests" : "app_events0";
      check(counterTotal(families, counter) === expected, `${counter} is not the sum over every writer`);
      rows.push({ ...msRow(name, result, target), detail: `${series} series each; ${msRow(name, result, 0).detail}` });
    } finally {
      for (const writer of writers) writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/**
 * Scrapes after 10,000 writers have started and exited (each start compacts, as in a real
 * process), against a directory holding the same live writers alone. The two directories
 * are scraped in turn, so that the JIT and the machine's load treat them alike.
 */
function churn(): Row[] {
  const LIVE = 100;
  const GONE = 10_000;
  const alone = tempDir();
  const churned = tempDir();
  const live: Metrics[] = [];
  try {
    for (let n = 0; n < LIVE; n++) live.push(serverWriter(alone, n), serverWriter(churned, n));
    const started = performance.now();
    for (let n = 0; n < GONE; n++) {
      serverWriter(churned, LIVE + n).close();
      // A reader scraping now and then, as a monitoring agent does, keeps its cache as it goes.
      if (n % 1000 === 999) {
        collect(churned);
        progress(`${n + 1} writers have come and gone`);
      }
    }
    const churnSeconds = (performance.now() - started) / 1000;
    scrapeMs(alone);
    scrapeMs(churned);
    const times: [number[], number[]] = [[], []];
    let last: Collected | undefined;
    for (let i = 0; i < 15; i++) {
      times[0].push(scrapeMs(alone).ms);
      const scrape = scrapeMs(churned);
      times[1].push(scrape.ms);
      last = scrape.collected;
    }
    const [before, after] = times.map(median);
    const { families, writers } = last!;
    const all = LIVE + GONE;
    const expected = ROUTES.reduce((sum, _, r) => sum + all * r, 0) + 10 * (all * (all - 1) / 2);
    check(writers.live === LIVE, `${writers.live} live writers seen, ${LIVE} expected`);
    check(counterTotal(families, "http_requests") === expected, "a gone writer's counts were lost or doubled");
    const livePaths = new Set(live.flatMap((m) => m.paths.filter((p) => p.startsWith(churned))));
    const others = readdirSync(churned).filter((name) => !livePaths.has(join(churned, name)));
    return [
      {
        name: `scrape after ${GONE.toLocaleString("en")} writers exited / ${LIVE} live writers alone`,
        value: after / before,
        unit: "x",
        detail: `${after.toFixed(1)} vs ${before.toFixed(1)} ms; starting and closing them took ${
          churnSeconds.toFixed(0)
        } s`,
        target: { value: 2, better: "lower" },
      },
      {
        name: `files besides the live writers' after ${GONE.toLocaleString("en")} exited`,
        value: others.length,
        unit: "files",
        detail: others.map((n) => n.replace(/^(\w+)\.\d+\.\d+\.[0-9a-f]{16}\./, "$1.<pid>.0.<id>.")).join(", "),
        target: { value: 5, better: "lower" },
      },
    ];
  } finally {
    for (const writer of live) writer.close();
    rmSync(alone, { recursive: true, force: true });
    rmSync(churned, { recursive: true, force: true });
  }
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

/** Runs the directory benchmarks (scrapes, compaction) in temporary directories, removed afterwards. */
export function scrapeBenchmarks(): Promise<Row[]> {
  return Promise.resolve([...directoryScrapes(), ...churn()]);
}
