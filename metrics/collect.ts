/**
 * {@linkcode collect}: every metric of every process in a metrics directory, merged.
 *
 * @module
 */

import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { MmapError } from "../mmap_error.ts";
import { FormatError } from "../struct_file/format_error.ts";
import { compactionMark, defaultDirectory, listDirectory } from "./_directory.ts";
import { probe } from "./_lock.ts";
import { type Contribution, type MergeProblem, Registry } from "./_merge.ts";
import { MetricsFile, NotMetricsError } from "./_metrics_file.ts";
import { ARCHIVE_NAME, archiveGeneration, COMPACT_LOCK } from "./_segment.ts";
import type { GaugeFamily, MetricFamily } from "./families.ts";

/** Options for {@linkcode collect}. */
export interface CollectOptions {
  /**
   * Add the library's own families: `mmstruct_scrape_errors` (a gauge: the problems in
   * `errors`) and `mmstruct_writers` (a gauge by `state`, `"live"` or `"dead"`).
   *
   * @default {true}
   */
  meta?: boolean;
}

/** A file of the directory that could not be read, or a part of it that could not be merged. */
export interface ScrapeError {
  /** The file (or the directory, for `"inconsistent"`). */
  readonly path: string;
  /**
   * Why: a {@linkcode FormatError} reason (`"truncated"`, `"magic"`, …) for a file that is
   * not a valid struct file; `"not-metrics"` for a struct file that is not a metrics file;
   * an {@linkcode MmapError} code (`"EACCES"`, …) for one that cannot be opened;
   * `"conflict"` for a metric declared differently than in an earlier file (by name);
   * `"entries"` for a corrupt record in a gone writer's file (the records before it are
   * merged); `"inconsistent"` when compaction kept changing the directory during the scrape.
   */
  readonly reason: string;
  /** What exactly is wrong, naming the file. */
  readonly message: string;
}

/** What {@linkcode collect} returns. */
export interface Collected {
  /** The merged families, sorted by name; their series sorted by labels. */
  readonly families: MetricFamily[];
  /** What could not be read or merged. Never fatal: everything else is in `families`. */
  readonly errors: ScrapeError[];
  /**
   * Writers (processes or threads) with files in the directory: running (`live`), gone
   * (`dead`, not yet compacted), and the archive files (normally 0 or 1).
   */
  readonly writers: { readonly live: number; readonly dead: number; readonly archives: number };
}

/** A file of the directory, open and kept between scrapes. */
interface Entry extends Contribution {
  live: boolean;
  /** A writer that is gone stays gone: its lock is never taken again. */
  dead: boolean;
  /** For archives, checked at each scrape: a new archive with an old name is another file. */
  inode: number;
}

/** What a directory's scrapes keep. */
interface DirectoryCache {
  readonly entries: Map<string, Entry>;
  registry: Registry;
}

/** Scrapes keep up to this many directories' files open. */
const MAX_DIRECTORIES = 16;
/** Listings tried before a scrape gives up waiting for compaction to settle. */
const MAX_ATTEMPTS = 5;

const caches = new Map<string, DirectoryCache>();

function cacheFor(dir: string): DirectoryCache {
  let cache = caches.get(dir);
  if (cache !== undefined) {
    caches.delete(dir); // re-inserted below: the map's order is the order of use
  } else {
    cache = { entries: new Map(), registry: new Registry() };
    if (caches.size >= MAX_DIRECTORIES) {
      const [oldest, evicted] = caches.entries().next().value!;
      for (const entry of evicted.entries.values()) entry.file.close();
      caches.delete(oldest);
    }
  }
  caches.set(dir, cache);
  return cache;
}

/** The names a scrape reads: every name not starting with `.`, sorted. */
function list(dir: string): string[] {
  return listDirectory(dir, "Cannot read the metrics directory").filter((name) => !name.startsWith(".")).sort();
}

function archiveNames(names: readonly string[]): string {
  return names.filter((name) => ARCHIVE_NAME.test(name)).join("/");
}

function inodeOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

function problemOf(path: string, error: unknown): ScrapeError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof FormatError) return { path, reason: error.reason, message };
  if (error instanceof NotMetricsError) return { path, reason: "not-metrics", message };
  if (error instanceof MmapError) return { path, reason: error.code, message };
  return { path, reason: "error", message };
}

/**
 * Opens the names of a listing that the cache does not hold. Returns whether one vanished
 * before it could be opened (compaction removed it: list again).
 */
function openAll(dir: string, names: readonly string[], cache: DirectoryCache, failed: Map<string, ScrapeError>) {
  let vanished = false;
  for (const name of names) {
    const known = cache.entries.get(name);
    if (known !== undefined) {
      if (!known.file.archive || known.inode === inodeOf(known.file.path)) continue;
      known.file.close();
      cache.entries.delete(name);
    }
    try {
      const file = MetricsFile.open(dir, name);
      const inode = file.archive ? inodeOf(file.path) : 0;
      cache.entries.set(name, { file, live: false, dead: file.archive, inode, index: undefined });
      failed.delete(name);
    } catch (error) {
      if (error instanceof MmapError && error.code === "ENOENT") vanished = true;
      else failed.set(name, problemOf(resolve(dir, name), error));
    }
  }
  return vanished;
}

/** Whether an entry named like an archive is one, and says so consistently. */
function archiveProblem(name: string, file: MetricsFile): string | undefined {
  const generation = archiveGeneration(name);
  if (generation === undefined) return file.archive ? "it is an archive, but not named like one" : undefined;
  if (!file.archive) return "it is named like an archive, but is a writer's file";
  if (file.generation !== generation) {
    return `it is named for generation ${generation}, but holds generation ${file.generation}`;
  }
  return undefined;
}

/**
 * Every metric of every writer file in a metrics directory, merged into families:
 * counters and histograms summed over every process (those that have exited included, so
 * a total never goes back when a process restarts, and the archive that compaction folded
 * earlier processes into), gauges merged over the running processes by their `aggregate`.
 *
 * Anything in the directory that is not a metrics file (another format, an empty or
 * truncated file, a hostile one) is skipped and reported in `errors`, never fatal: one bad
 * file does not hide the others. A metric declared differently in two files (another type,
 * help, unit, labels, buckets or aggregate) is taken from the first file by name, and the
 * others are reported (`"conflict"`). Names starting with `.` are not read.
 *
 * The open files are kept between calls (per directory, for up to 16 directories), so that
 * a scrape reads only what changed: new records, and the values. A scrape that meets a
 * compaction lists the directory again until two listings agree, so it never counts a
 * process twice or misses one.
 *
 * @param dir The metrics directory.
 * @param options Whether to add the library's own families.
 * @returns The families, the problems, and how many writers there are.
 * @throws {MmapError} If the directory cannot be read (`"ENOENT"`, `"EACCES"`, …).
 *
 * @example Merge two processes
 * ```ts
 * import { collect, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using a = Metrics.create(dir);
 * using b = Metrics.create(dir);
 * a.counter({ name: "jobs_total", help: "Jobs" }).inc(2);
 * b.counter({ name: "jobs_total", help: "Jobs" }).inc(3);
 * writeFileSync(join(dir, "notes.txt"), "not a metrics file");
 * const { families, errors, writers } = collect(dir, { meta: false });
 * const [jobs] = families;
 * assert.ok(families.length === 1 && jobs.type === "counter");
 * assert.equal(jobs.series[0].value, 5);
 * assert.deepEqual(errors.map((e) => e.reason), ["truncated"]);
 * assert.deepEqual(writers, { live: 2, dead: 0, archives: 0 });
 * rmSync(dir, { recursive: true });
 * ```
 */
export function collect(dir?: string, options: CollectOptions = {}): Collected {
  if (dir !== undefined && (typeof dir !== "string" || dir === "")) {
    throw new TypeError(`Cannot collect metrics: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot collect metrics: options must be an object");
  }
  const meta = options.meta ?? true;
  if (typeof meta !== "boolean") throw new TypeError(`Cannot collect metrics: meta must be a boolean`);
  const where = resolve(dir ?? defaultDirectory());
  const cache = cacheFor(where);
  const errors: ScrapeError[] = [];
  const failed = new Map<string, ScrapeError>();

  // Compaction publishes an archive, then writes its mark, then removes what the archive
  // holds: a scrape that reads the same mark before and after listing and opening saw no
  // removal, and a listing that agrees with the one after every file was opened saw no
  // archive published in between.
  const markPath = join(where, COMPACT_LOCK);
  let names: string[] = [];
  for (let attempt = 1;; attempt++) {
    const mark = compactionMark(markPath);
    names = list(where);
    const vanished = openAll(where, names, cache, failed);
    const again = list(where);
    if (!vanished && archiveNames(names) === archiveNames(again) && compactionMark(markPath) === mark) break;
    if (attempt === MAX_ATTEMPTS) {
      errors.push({
        path: where,
        reason: "inconsistent",
        message: `Cannot get a consistent listing of ${JSON.stringify(where)} in ${MAX_ATTEMPTS} tries: ` +
          `compaction kept changing it; some totals may be off in this scrape`,
      });
      break;
    }
  }
  const listed = new Set(names);
  for (const [name, entry] of cache.entries) {
    if (!listed.has(name)) {
      entry.file.close();
      cache.entries.delete(name);
    }
  }
  errors.push(...failed.values());

  // Only the newest archive counts; it hides every file it subsumes, and older archives.
  let newest: Entry | undefined;
  let archives = 0;
  const rejected = new Set<string>();
  for (const name of names) {
    const entry = cache.entries.get(name);
    if (entry === undefined) continue;
    const problem = archiveProblem(name, entry.file);
    if (problem !== undefined) {
      rejected.add(name);
      errors.push({
        path: entry.file.path,
        reason: "not-metrics",
        message: `Cannot read metrics file ${JSON.stringify(entry.file.path)}: ${problem}`,
      });
    } else if (entry.file.archive) {
      archives++;
      entry.file.refresh();
      if (newest === undefined || entry.file.generation > newest.file.generation) newest = entry;
    }
  }
  const hidden = new Set(newest?.file.subsumes ?? []);

  const counted: Entry[] = [];
  const live = new Set<string>();
  const dead = new Set<string>();
  for (const name of names) {
    const entry = cache.entries.get(name);
    if (entry === undefined || rejected.has(name) || hidden.has(name)) continue;
    if (entry.file.archive && entry !== newest) continue;
    if (!entry.dead) {
      let state: "live" | "dead" | "gone";
      try {
        state = probe(entry.file.path);
      } catch (error) {
        errors.push(problemOf(entry.file.path, error));
        continue;
      }
      // Gone since the listing: compaction removed a file of a writer that had exited.
      entry.dead = state !== "live";
    }
    entry.live = !entry.dead;
    entry.file.refresh();
    if (entry.dead && entry.file.problem !== undefined) {
      errors.push({
        path: entry.file.path,
        reason: "entries",
        message: `Cannot read all of metrics file ${JSON.stringify(entry.file.path)}: ${entry.file.problem}`,
      });
    }
    if (!entry.file.archive) (entry.live ? live : dead).add(entry.file.writerId);
    counted.push(entry);
  }
  for (const id of live) dead.delete(id);

  const problems: MergeProblem[] = [];
  const families = cache.registry.merge(counted, problems);
  errors.push(...problems);
  // Label sets come and go (gone gauges, compacted files): start afresh once most of the
  // registry is stale, so that a long-lived reader's memory stays bounded.
  const registry = cache.registry;
  if (registry.size > 4096 && registry.seenCount() * 2 < registry.size) cache.registry = new Registry();

  if (meta) {
    const gauge = (name: string, help: string, series: GaugeFamily["series"]): GaugeFamily => ({
      name,
      help,
      unit: "",
      type: "gauge",
      series,
    });
    families.push(
      gauge("mmstruct_scrape_errors", "Problems met reading the metrics directory in this scrape", [
        { labels: {}, value: errors.length },
      ]),
      gauge("mmstruct_writers", "Writers with files in the metrics directory, running or gone", [
        { labels: { state: "dead" }, value: dead.size },
        { labels: { state: "live" }, value: live.size },
      ]),
    );
    families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return { families, errors, writers: { live: live.size, dead: dead.size, archives } };
}
