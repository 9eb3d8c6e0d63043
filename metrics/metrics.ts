/**
 * {@linkcode Metrics}: this process's (or thread's) metrics, written to a file in a
 * metrics directory that any reader can merge.
 *
 * @module
 */

import { resolve } from "node:path";
import process from "node:process";
import { ensurePrivateDirectory } from "../mapped_file.ts";
import { Children } from "./_children.ts";
import { defaultDirectory, threadNumber } from "./_directory.ts";
import {
  declDifference,
  declProblem,
  DEFAULT_BUCKETS,
  type GaugeAggregate,
  makeDecl,
  type MetricDecl,
  type MetricType,
  slotWidth,
} from "./_names.ts";
import { type SlotRef, Writer, type WriterMetric } from "./_writer.ts";
import { compact } from "./compact.ts";
import { type Counter, type CounterConfig, newCounter } from "./counter.ts";
import { type Gauge, type GaugeConfig, newGauge } from "./gauge.ts";
import { type Histogram, type HistogramConfig, newHistogram } from "./histogram.ts";
import { describeValue } from "../ffi/describe_value.ts";

/**
 * The open handles of this worker thread (each thread has its own copy of this module),
 * closed when the thread ends: its lock's descriptor belongs to the process, so a thread
 * that ended with its file open would be judged running until the process exits.
 */
const threadHandles = new Set<Metrics>();
let threadHook = false;

function closeThreadHandles(): void {
  for (const metrics of [...threadHandles]) metrics.close();
}

/** Closes this thread's handles when it ends, by whatever hook the runtime runs then. */
function watchThread(metrics: Metrics): void {
  threadHandles.add(metrics);
  if (threadHook) return;
  threadHook = true;
  // Node worker_threads, Deno's and Bun's: on process.exit() and when the thread's work ends.
  process.on("exit", closeThreadHandles);
  // Deno's worker_threads run it too; harmless where it never fires.
  const scope = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
  scope.addEventListener?.("unload", closeThreadHandles);
}

/** Whether a failed compaction has been warned about (once per process). */
let warned = false;

/** Options for {@linkcode Metrics.create}. */
export interface MetricsOptions {
  /**
   * The application's name, the start of the file names (`[A-Za-z0-9_-]{1,64}`); readers
   * merge every file of a directory whatever its name.
   *
   * @default {"app"}
   */
  name?: string;
  /**
   * The default series cap of this handle's metrics (each metric's `maxSeries` overrides
   * it): label sets past it share one overflow series.
   *
   * @default {2000}
   */
  maxSeries?: number;
}

const WRITER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_SERIES_LIMIT = 1_000_000;

function validateMaxSeries(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_SERIES_LIMIT) {
    throw new RangeError(
      `${what}: maxSeries must be an integer from 1 to ${MAX_SERIES_LIMIT}, got ${JSON.stringify(value) ?? value}`,
    );
  }
  return value;
}

/** What a declaration made: the metric object and its declaration, to compare later ones against. */
interface Declared {
  readonly decl: MetricDecl;
  readonly metric: Counter | Gauge | Histogram;
}

/**
 * This process's metrics: counters, gauges and histograms whose values live in a
 * memory-mapped file in a metrics directory, where {@linkcode collect} (in any process)
 * merges them with those of every other process. Incrementing costs one store to memory;
 * no system call, no lock, no message to anyone.
 *
 * Each `Metrics` handle (one per process, or per worker thread) writes its own files and
 * holds a `flock` lock on them for its life, which tells readers exactly whether it is still
 * running. Counters and histograms of processes that have exited keep counting in the
 * totals (until {@linkcode compact} folds them into an archive, which it does on every
 * `Metrics.create`); their gauges are dropped. Put the directory on a tmpfs (the default
 * is one): on a disk, page write-back can stall the writer.
 *
 * @example Count, measure and read back
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * {
 *   using metrics = Metrics.create(dir, { name: "web" });
 *   const requests = metrics.counter({ name: "http_requests_total", help: "Requests", labelNames: ["code"] });
 *   const ok = requests.labels({ code: "200" });
 *   ok.inc();
 *   ok.inc();
 *   metrics.gauge({ name: "connections", help: "Open connections" }).set(3);
 *   const { families, writers } = collect(dir);
 *   assert.equal(writers.live, 1);
 *   const total = families.find((f) => f.name === "http_requests");
 *   assert.ok(total?.type === "counter");
 *   assert.equal(total.series[0].value, 2);
 * }
 * // The process is still counted once its handle is closed; its gauges are not.
 * const names = collect(dir, { meta: false }).families.map((f) => f.name);
 * assert.deepEqual(names, ["http_requests"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export class Metrics {
  readonly #writer: Writer;
  readonly #maxSeries: number;
  readonly #declared = new Map<string, Declared>();
  #nextId = 0;
  readonly #compactionError: Error | undefined;

  private constructor(writer: Writer, maxSeries: number, compactionError: Error | undefined) {
    this.#writer = writer;
    this.#maxSeries = maxSeries;
    this.#compactionError = compactionError;
  }

  /**
   * Creates this process's metrics file in `dir`. The directory is created (mode 0700,
   * with its parents) when missing, and refused when it is a symlink, another user's, or
   * writable by others (see {@linkcode ensurePrivateDirectory}). Then the files of writers
   * that have exited are compacted ({@linkcode compact}; skipped if another process is
   * compacting). A compaction that fails (a `.compact.lock` that is not a regular file, an
   * archive past its size caps, a full disk) never fails `create`: the handle keeps the
   * error ({@linkcode Metrics.prototype.compactionError}), the process gets one warning
   * (`process.emitWarning`, type `"MmstructCompactionWarning"`), and the files stay as they
   * were (readers still count them).
   *
   * Without `dir`: `$MMSTRUCT_METRICS_DIR`; else `$XDG_RUNTIME_DIR/mmstruct-metrics`; else
   * `/dev/shm/mmstruct-metrics-<uid>` (all on tmpfs on a usual Linux), so that an operator
   * points every process and every reader at one place with one environment variable.
   *
   * @param dir The metrics directory.
   * @param options The name of the files and the default series cap.
   * @returns The handle.
   * @throws {TypeError} If `name` is not 1 to 64 letters, digits, `_` or `-`.
   * @throws {RangeError} If `maxSeries` is not an integer from 1 to 1,000,000.
   * @throws {MmapError} If the directory is refused or the file cannot be created.
   *
   * @example The default directory, set by the environment
   * ```ts
   * import { Metrics } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   * import process from "node:process";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * process.env.MMSTRUCT_METRICS_DIR = dir;
   * using metrics = Metrics.create({ name: "worker" });
   * assert.equal(metrics.dir, dir);
   * delete process.env.MMSTRUCT_METRICS_DIR;
   * rmSync(dir, { recursive: true });
   * ```
   */
  static create(dir?: string | MetricsOptions, options: MetricsOptions = {}): Metrics {
    if (typeof dir === "object" && dir !== null) {
      options = dir;
      dir = undefined;
    }
    if (dir !== undefined && (typeof dir !== "string" || dir === "")) {
      throw new TypeError(`Cannot create metrics: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot create metrics: options must be an object, got ${describeValue(options)}`);
    }
    const name = options.name ?? "app";
    if (typeof name !== "string" || !WRITER_NAME.test(name)) {
      throw new TypeError(
        `Cannot create metrics: name must be 1 to 64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`,
      );
    }
    const maxSeries = validateMaxSeries(options.maxSeries ?? 2000, "Cannot create metrics");
    const where = resolve(dir ?? defaultDirectory());
    ensurePrivateDirectory(where);
    let compactionError: Error | undefined;
    try {
      compact(where);
    } catch (error) {
      compactionError = error instanceof Error ? error : new Error(String(error));
      if (!warned) {
        warned = true;
        process.emitWarning(`mmstruct: ${compactionError.message}`, { type: "MmstructCompactionWarning" });
      }
    }
    const metrics = new Metrics(new Writer(where, name), maxSeries, compactionError);
    if (threadNumber() !== 0) watchThread(metrics);
    return metrics;
  }

  /**
   * Why the compaction that {@linkcode Metrics.create} ran failed, or `undefined` when it
   * succeeded (or was skipped: another process was compacting).
   *
   * @example A directory whose compaction lock is not a file
   * ```ts
   * import { Metrics } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using ok = Metrics.create(dir);
   * assert.equal(ok.compactionError, undefined);
   * rmSync(join(dir, ".compact.lock"));
   * mkdirSync(join(dir, ".compact.lock"));
   * using metrics = Metrics.create(dir); // still works
   * assert.ok(metrics.compactionError instanceof Error);
   * rmSync(dir, { recursive: true });
   * ```
   */
  get compactionError(): Error | undefined {
    return this.#compactionError;
  }

  /** The metrics directory (absolute). */
  get dir(): string {
    return this.#writer.dir;
  }

  /** The files this handle writes (one more each time the current one fills up). */
  get paths(): readonly string[] {
    return this.#writer.paths;
  }

  /** Whether {@linkcode Metrics.prototype.close} has been called. */
  get closed(): boolean {
    return this.#writer.closed;
  }

  /** Checks a declaration and returns the existing metric of that family, or the new declaration. */
  #declare(
    type: MetricType,
    config: unknown,
    extra: { buckets: readonly number[]; aggregate: GaugeAggregate },
  ): Declared | { decl: MetricDecl; maxSeries: number } {
    const what = `Cannot declare ${type}`;
    if (typeof config !== "object" || config === null) {
      throw new TypeError(
        `${what}: the declaration must be an object with a name and help, got ${describeValue(config)}`,
      );
    }
    const c = config as Record<string, unknown>;
    const label = `${what} ${typeof c.name === "string" ? JSON.stringify(c.name) : ""}`.trimEnd();
    if (this.#writer.closed) throw new TypeError(`${label}: the metrics handle is closed`);
    const labelNames = c.labelNames ?? [];
    const fields = {
      name: c.name,
      type,
      help: c.help,
      unit: c.unit ?? "",
      labelNames: Array.isArray(labelNames) ? Object.freeze([...labelNames]) : labelNames,
      buckets: extra.buckets,
      aggregate: extra.aggregate,
    };
    const problem = declProblem(fields);
    if (problem !== undefined) throw new TypeError(`${label}: ${problem}`);
    const maxSeries = validateMaxSeries(c.maxSeries ?? this.#maxSeries, label);
    const decl = makeDecl({ ...fields, createdMs: Date.now() } as Omit<MetricDecl, "family" | "signature">);
    const existing = this.#declared.get(decl.family);
    if (existing !== undefined) {
      const difference = declDifference(decl, existing.decl);
      if (difference !== undefined) {
        throw new TypeError(
          `${label}: ${
            JSON.stringify(existing.decl.name)
          } is already declared, and this declaration differs: ${difference}`,
        );
      }
      return existing;
    }
    return { decl, maxSeries };
  }

  /** Records a new declaration and makes its children. */
  #children<C>(decl: MetricDecl, maxSeries: number): (make: (ref: SlotRef) => C) => Children<C> {
    const metric: WriterMetric = { id: this.#nextId++, decl, width: slotWidth(decl.type, decl.buckets) };
    this.#writer.declare(metric);
    return (make) => new Children(this.#writer, metric, maxSeries, make);
  }

  /**
   * Declares a counter (or returns the one already declared with this name and the same
   * help and labels).
   *
   * @param config Name, help, label names, unit, series cap.
   * @returns The counter.
   * @throws {TypeError} If a name is not valid, or the name is declared already with another
   * type, help, unit or labels, or the handle is closed.
   * @throws {RangeError} If `maxSeries` is not an integer from 1 to 1,000,000.
   *
   * @example Declare once, use anywhere
   * ```ts
   * import { Metrics } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using metrics = Metrics.create(dir);
   * const a = metrics.counter({ name: "hits_total", help: "Hits" });
   * assert.equal(metrics.counter({ name: "hits_total", help: "Hits" }), a);
   * assert.throws(() => metrics.counter({ name: "hits_total", help: "Other" }), TypeError);
   * assert.throws(() => metrics.counter({ name: "bad-name", help: "" }), TypeError);
   * rmSync(dir, { recursive: true });
   * ```
   */
  counter(config: CounterConfig): Counter {
    const found = this.#declare("counter", config, { buckets: [], aggregate: "sum" });
    if ("metric" in found) return this.#expect(found, "counter") as Counter;
    const { decl, maxSeries } = found;
    const counter = newCounter(decl, this.#children(decl, maxSeries));
    this.#declared.set(decl.family, { decl, metric: counter });
    return counter;
  }

  /**
   * Declares a gauge (or returns the one already declared with this name and the same
   * help, labels and aggregate).
   *
   * @param config Name, help, label names, unit, aggregate, series cap.
   * @returns The gauge.
   * @throws {TypeError} If a name or the aggregate is not valid, or the name is declared
   * already otherwise, or the handle is closed.
   * @throws {RangeError} If `maxSeries` is not an integer from 1 to 1,000,000.
   *
   * @example The highest value of any process
   * ```ts
   * import { collect, Metrics } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using a = Metrics.create(dir);
   * using b = Metrics.create(dir);
   * a.gauge({ name: "queue_depth", help: "Queue depth", aggregate: "max" }).set(4);
   * b.gauge({ name: "queue_depth", help: "Queue depth", aggregate: "max" }).set(9);
   * const [family] = collect(dir, { meta: false }).families;
   * assert.ok(family.type === "gauge");
   * assert.equal(family.series[0].value, 9);
   * rmSync(dir, { recursive: true });
   * ```
   */
  gauge(config: GaugeConfig): Gauge {
    const aggregate = (config as { aggregate?: unknown } | null)?.aggregate ?? "sum";
    const found = this.#declare("gauge", config, { buckets: [], aggregate: aggregate as GaugeAggregate });
    if ("metric" in found) return this.#expect(found, "gauge") as Gauge;
    const { decl, maxSeries } = found;
    const gauge = newGauge(decl, decl.aggregate, this.#children(decl, maxSeries));
    this.#declared.set(decl.family, { decl, metric: gauge });
    return gauge;
  }

  /**
   * Declares a histogram (or returns the one already declared with this name and the same
   * help, labels and buckets).
   *
   * @param config Name, help, label names, unit, buckets, series cap.
   * @returns The histogram.
   * @throws {TypeError} If a name or the buckets are not valid, or the name is declared
   * already otherwise, or the handle is closed.
   * @throws {RangeError} If `maxSeries` is not an integer from 1 to 1,000,000.
   *
   * @example Custom buckets
   * ```ts
   * import { Metrics } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   * import { mkdtempSync, rmSync } from "node:fs";
   * import { tmpdir } from "node:os";
   * import { join } from "node:path";
   *
   * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
   * using metrics = Metrics.create(dir);
   * const sizes = metrics.histogram({ name: "body_bytes", help: "Body sizes", unit: "bytes", buckets: [100, 1000] });
   * assert.deepEqual(sizes.buckets, [100, 1000]);
   * assert.throws(() => metrics.histogram({ name: "x", help: "", buckets: [2, 1] }), TypeError);
   * rmSync(dir, { recursive: true });
   * ```
   */
  histogram(config: HistogramConfig): Histogram {
    let buckets = (config as { buckets?: unknown } | null)?.buckets ?? DEFAULT_BUCKETS;
    if (Array.isArray(buckets)) {
      buckets = Object.freeze(buckets.at(-1) === Infinity ? buckets.slice(0, -1) : [...buckets]);
    }
    const found = this.#declare("histogram", config, { buckets: buckets as number[], aggregate: "sum" });
    if ("metric" in found) return this.#expect(found, "histogram") as Histogram;
    const { decl, maxSeries } = found;
    const histogram = newHistogram(decl, decl.buckets, this.#children(decl, maxSeries));
    this.#declared.set(decl.family, { decl, metric: histogram });
    return histogram;
  }

  #expect(found: Declared, type: MetricType): Counter | Gauge | Histogram {
    if (found.decl.type !== type) throw new TypeError(`"${found.decl.name}" is a ${found.decl.type}`);
    return found.metric;
  }

  /**
   * Closes the files and releases their locks: readers now take this writer as gone (its
   * counters and histograms still count; its gauges no longer do). Later increments,
   * observations and sets are not recorded, and do not throw. Calling it more than once is
   * a no-op.
   *
   * A worker thread should close its handle before it ends: the lock belongs to the
   * process, not the thread. A thread that ends by `process.exit()` or by running out of
   * work (a `node:worker_threads` worker, on Node, Deno and Bun; a Bun Web Worker) has its
   * handles closed for it; one stopped by `terminate()` (or a Deno Web Worker calling
   * `self.close()`) runs no code at its end, so its file counts as running until the
   * process exits.
   */
  close(): void {
    this.#writer.close();
    threadHandles.delete(this);
  }

  /** Same as {@linkcode Metrics.prototype.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
