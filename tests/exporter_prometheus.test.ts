/**
 * The interop test with a real Prometheus server (Debian's package `prometheus`, 2.42):
 * it scrapes two `mmstruct serve` processes every second, one negotiating OpenMetrics
 * (Prometheus asks for it first) and one started with `--no-openmetrics` (so the text
 * format), while writers on Deno, Node and Bun count into the directory; the totals it
 * stores must be exact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Runtime } from "../ffi/runtime.ts";
import { finish, lines, runtime, start, tempDir } from "./_helpers.ts";
import { JOBS, SECONDS, type Totals, totals } from "./_exporter_workload.ts";
import { skip } from "./_prometheus_tools.ts";

const PROMETHEUS = "/usr/bin/prometheus";
/** How long Prometheus gets to show the exact totals once every writer is done. */
const DEADLINE_MS = 60_000;

/**
 * Why the test cannot run (`false` when it can): Debian's package `prometheus` (the server
 * and promtool) is missing and could not be installed (see `_prometheus_tools.ts`).
 */
const prometheusMissing = (): string | false =>
  skip.promtool && `the Prometheus server is not available: ${skip.promtool}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Children the test started, stopped at the end whatever happened. */
class Children {
  readonly #all: { child: ChildProcess; done: Promise<unknown> }[] = [];

  add(child: ChildProcess): ChildProcess {
    this.#all.push({ child, done: new Promise((resolve) => child.once("close", resolve)) });
    return child;
  }

  /** SIGTERM to each that still runs, SIGKILL after 10 s; resolves when all have exited. */
  async stop(): Promise<void> {
    await Promise.all(this.#all.map(async ({ child, done }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      child.kill("SIGTERM");
      const late = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await done;
      clearTimeout(late);
    }));
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Prometheus' answer to an instant query. */
async function query(base: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await response.json() as { status: string; data?: { result: Sample[] }; error?: string };
  if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
  return body.data!.result;
}

/** The samples a scrape of `url` gives (`# EOF` and comments excluded), asked as Prometheus asks. */
async function sampleCount(url: URL): Promise<number> {
  const accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  const text = await (await fetch(url, { headers: { accept } })).text();
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length;
}

const JOB_NAMES = ["openmetrics", "text"] as const;
const WRITERS: readonly { runtime: Runtime; count: number; mode: "exit" | "stay" }[] = [
  { runtime: "deno", count: 6000, mode: "stay" },
  { runtime: "node", count: 8000, mode: "exit" },
  { runtime: "bun", count: 10_000, mode: "stay" },
];

/** What Prometheus should hold for every job: the series as `name{labels}` keys, sorted, with values. */
function expected(): Map<string, number> {
  const out = new Map<string, number>();
  for (const job of JOB_NAMES) {
    for (const w of WRITERS) {
      const t: Totals = totals(w.count);
      for (const [kind, n] of t.jobs) out.set(`${job} ${JOBS.name} runtime=${w.runtime} kind=${kind}`, n);
      for (const [le, n] of t.buckets) out.set(`${job} ${SECONDS.name}_bucket runtime=${w.runtime} le=${le}`, n);
      out.set(`${job} ${SECONDS.name}_count runtime=${w.runtime}`, t.count);
      out.set(`${job} ${SECONDS.name}_sum runtime=${w.runtime}`, t.sum);
    }
  }
  return out;
}

/** What Prometheus holds now for the same keys. */
async function observed(base: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of [JOBS.name, `${SECONDS.name}_bucket`, `${SECONDS.name}_count`, `${SECONDS.name}_sum`]) {
    for (const { metric, value } of await query(base, name)) {
      const labels = [`runtime=${metric.runtime}`];
      if (metric.kind !== undefined) labels.push(`kind=${metric.kind}`);
      if (metric.le !== undefined) labels.push(`le=${metric.le === "+Inf" ? Infinity : Number(metric.le)}`); // "1.0"
      out.set(`${metric.job} ${name} ${labels.join(" ")}`, Number(value[1]));
    }
  }
  return out;
}

function difference(want: Map<string, number>, got: Map<string, number>): string[] {
  const keys = new Set([...want.keys(), ...got.keys()]);
  return [...keys].sort().filter((k) => want.get(k) !== got.get(k)).map((k) =>
    `${k}: want ${want.get(k)}, got ${got.get(k)}`
  );
}

test("Prometheus scrapes mmstruct serve in OpenMetrics and in text and stores the exact totals", async (t) => {
  const missing = prometheusMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  using tmp = tempDir();
  const dir = tmp.path("metrics");
  mkdirSync(dir, { mode: 0o700 });
  const children = new Children();
  let prometheusLog = "";
  try {
    // Two servers on the same directory, each compacting every second: the compactions
    // (of the writers that exit) race each other and the scrapes.
    const servers = new Map<string, URL>();
    for (const [job, extra] of [["openmetrics", []], ["text", ["--no-openmetrics"]]] as const) {
      const child = children.add(
        start(runtime, "../cli", ["serve", dir, "--listen", "127.0.0.1:0", "--compact-interval", "1", ...extra]),
      );
      const line = await lines(child).next();
      const url = /listening on (http:\/\/\S+\/metrics) /.exec(line)?.[1];
      assert.ok(url, line);
      servers.set(job, new URL(url));
    }

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = tmp.path("prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        ...JOB_NAMES.flatMap((job) => [
          `  - job_name: ${job}`,
          "    static_configs:",
          `      - targets: ["${servers.get(job)!.host}"]`,
        ]),
        "",
      ].join("\n"),
    );
    const prometheus = children.add(
      spawn(PROMETHEUS, [
        `--config.file=${config}`,
        `--storage.tsdb.path=${tmp.path("tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    prometheus.stdout!.on("data", (chunk) => prometheusLog += chunk);
    prometheus.stderr!.on("data", (chunk) => prometheusLog += chunk);
    const ready = Date.now() + DEADLINE_MS;
    for (;;) {
      assert.equal(prometheus.exitCode, null, `Prometheus exited:\n${prometheusLog}`);
      const ok = await fetch(`${base}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      assert.ok(Date.now() < ready, `Prometheus not ready in ${DEADLINE_MS} ms:\n${prometheusLog}`);
      await sleep(200);
    }

    // The writers count while Prometheus scrapes; each says "done" when it has counted all.
    const writers = WRITERS.map((w) => {
      const child = children.add(
        start(w.runtime, "fixtures/exporter_writer", [dir, w.runtime, String(w.count), w.mode]),
      );
      const exited = finish(child);
      return { ...w, child, exited, done: lines(child).next() };
    });
    for (const w of writers) assert.equal(await w.done, "done");
    for (const w of writers.filter((w) => w.mode === "exit")) {
      const { code, stderr } = await w.exited;
      assert.equal(code, 0, stderr);
    }

    const want = expected();
    const deadline = Date.now() + DEADLINE_MS;
    let diff: string[] = [];
    for (;;) {
      diff = difference(want, await observed(base));
      if (diff.length === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    assert.deepEqual(diff, [], `Prometheus' totals differ after ${DEADLINE_MS} ms:\n${diff.join("\n")}`);

    for (const job of JOB_NAMES) {
      const up = await query(base, `up{job="${job}"}`);
      assert.deepEqual(up.map((s) => s.value[1]), ["1"], job);
      const errors = await query(base, `mmstruct_scrape_errors{job="${job}"}`);
      assert.deepEqual(errors.map((s) => s.value[1]), ["0"], job);
      // Every sample of the latest scrape reached Prometheus: none was dropped by its parser.
      const scraped = await query(base, `scrape_samples_scraped{job="${job}"}`);
      assert.deepEqual(scraped.map((s) => Number(s.value[1])), [await sampleCount(servers.get(job)!)], job);
      // No counter ever went back, whatever compaction did between scrapes.
      const resets = await query(base, `resets(${JOBS.name}{job="${job}"}[10m]) > 0`);
      assert.deepEqual(resets, [], job);
    }
    const targets = await (await fetch(`${base}/api/v1/targets`)).json() as {
      data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] };
    };
    assert.deepEqual(
      targets.data.activeTargets.map((target) => [target.labels.job, target.health, target.lastError]).sort(),
      [["openmetrics", "up", ""], ["text", "up", ""]],
    );
    // Which parser read each job: Prometheus 2 stores OpenMetrics' `_created` samples as
    // series of their own, and the text format has none.
    const created = await query(base, `count by (job) (${JOBS.name.replace(/_total$/, "_created")})`);
    assert.deepEqual(
      created.map((s) => [s.metric.job, Number(s.value[1])]),
      [["openmetrics", [...want.keys()].filter((k) => k.startsWith(`openmetrics ${JOBS.name} `)).length]],
    );
  } catch (error) {
    t.diagnostic(`Prometheus' log:\n${prometheusLog.slice(-4000)}`);
    throw error;
  } finally {
    await children.stop();
  }
});
