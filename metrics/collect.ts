/**
 * {@linkcode collect}: every metric of every process in a metrics directory, merged.
 *
 * @module
 */

import { lstatSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { MmapError } from "../ffi/mmap_error.ts";
import { FormatError } from "../struct_file/format_error.ts";
import { compactionMark, defaultDirectory, listDirectory } from "./_directory.ts";
import { closeProbe, openProbe, probe, probeDescriptor } from "./_lock.ts";
import { type Contribution, type MergeProblem, Registry } from "./_merge.ts";
import { MetricsFile, NotMetricsError } from "./_metrics_file.ts";
import { ARCHIVE_NAME, archiveGeneration, COMPACT_LOCK, SEGMENT_NAME } from "./_segment.ts";
import type { GaugeFamily, MetricFamily } from "./families.ts";
import { describeValue } from "../ffi/describe_value.ts";

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
   * an {@linkcode MmapError} code (`"EACCES"`, …) for one that cannot be opened (`"ELOOP"`:
   * a symlink, never followed); `"duplicate"` for a hard link or copy of a file counted
   * already (the same inode, or a segment name with the same writer id and segment number);
   * `"conflict"` for a metric declared differently than its earliest created declaration, or
   * one of whose sample names an earlier family (by name) has (a gauge `req_count` beside a
   * histogram `req`: the later family is dropped);
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
  /** A descriptor kept open to probe a live writer's lock, or -1. */
  probe: number;
  /** `<dev>:<inode>` when opened: a hard link of a file counted already is a duplicate. */
  node: string;
}

/** Closes what an entry holds. */
function release(entry: Entry): void {
  closeProbe(entry.probe);
  entry.probe = -1;
  entry.file.close();
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
      for (const entry of evicted.entries.values()) release(entry);
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
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return { path, reason: code, message };
  return { path, reason: "error", message };
}

/**
 * Opens the names of a listing that the cache does not hold. Returns whether one vanished
 * before it could be opened (compaction removed it: list again). A name that says ENOENT
 * but is still listed (a dangling symlink) is reported as an error for that name instead.
 */
function openAll(dir: string, names: readonly string[], cache: DirectoryCache, failed: Map<string, ScrapeError>) {
  const missing = new Map<string, ScrapeError>();
  for (const name of names) {
    const known = cache.entries.get(name);
    if (known !== undefined) {
      if (!known.file.archive || known.inode === inodeOf(known.file.path)) continue;
      release(known);
      cache.entries.delete(name);
    }
    try {
      // Symlinks are refused: a link to a file of the directory would count it twice.
      const link = lstatSync(join(dir, name));
      if (link.isSymbolicLink()) {
        failed.set(name, {
          path: resolve(dir, name),
          reason: "ELOOP",
          message: `Cannot read metrics file ${JSON.stringify(resolve(dir, name))}: it is a symlink`,
        });
        continue;
      }
      const file = MetricsFile.open(dir, name);
      const inode = file.archive ? inodeOf(file.path) : 0;
      const node = `${link.dev}:${link.ino}`;
      cache.entries.set(name, { file, live: false, dead: file.archive, inode, index: undefined, probe: -1, node });
      failed.delete(name);
    } catch (error) {
      if ((error instanceof MmapError || error instanceof Error) && (error as { code?: unknown }).code === "ENOENT") {
        missing.set(name, problemOf(resolve(dir, name), error));
      } else failed.set(name, problemOf(resolve(dir, name), error));
    }
  }
  if (missing.size === 0) return false;
  const again = new Set(list(dir));
  let vanished = false;
  for (const [name, problem] of missing) {
    if (again.has(name)) failed.set(name, problem);
    else vanished = true;
  }
  return vanished;
}

/** The sample names of a family besides its name, as the text formats print them. */
const SUFFIXES = {
  counter: ["_total", "_created"],
  gauge: [],
  histogram: ["_bucket", "_count", "_sum", "_created"],
} as const;

/**
 * Drops each family one of whose sample names an earlier one (by name) already has (a gauge
 * `req_count` beside a histogram `req`), which no text format could print, as a conflict.
 */
function dropClashes(families: MetricFamily[], dir: string, problems: MergeProblem[]): MetricFamily[] {
  const owners = new Map<string, string>();
  return families.filter((family) => {
    const samples = ["", ...SUFFIXES[family.type]].map((suffix) => family.name + suffix);
    const taken = samples.find((sample) => owners.has(sample));
    if (taken !== undefined) {
      problems.push({
        path: dir,
        reason: "conflict",
        message: `Cannot merge metric ${JSON.stringify(family.name)} (a ${family.type}) in ${JSON.stringify(dir)}: ` +
          `its sample name ${JSON.stringify(taken)} is also the family ${JSON.stringify(owners.get(taken))}'s`,
      });
      return false;
    }
    for (const sample of samples) owners.set(sample, family.name);
    return true;
  });
}

/**
 * The path of a file counted earlier in this scrape that `entry` duplicates (the same inode,
 * or the same writer and segment number), or undefined, and then notes `entry`'s keys.
 */
function duplicateOf(name: string, entry: Entry, nodes: Map<string, string>): string | undefined {
  const keys = [entry.node];
  const segment = SEGMENT_NAME.exec(name);
  if (segment !== null) keys.push(`${segment[4]}/${segment[5]}`); // as compact() tells them
  for (const key of keys) {
    const earlier = nodes.get(key);
    if (earlier !== undefined) return earlier;
  }
  for (const key of keys) nodes.set(key, entry.file.path);
  return undefined;
}

/**
 * Whether an entry's file was cut short since it was mapped (reading past its new end would
 * kill this process with SIGBUS): checked by its name, before each scrape reads it. A file
 * cut between this check and the read, or renamed away and then cut, is not caught.
 */
function shrunk(entry: Entry): boolean {
  let now;
  try {
    now = statSync(entry.file.path);
  } catch {
    return false; // removed: an unlinked file keeps its pages
  }
  return `${now.dev}:${now.ino}` === entry.node && now.size < entry.file.mappedBytes;
}

/** Whether an entry's writer runs, by a probe of its lock (false when it cannot be told). */
function runs(entry: Entry): boolean {
  if (entry.dead) return false;
  try {
    return probe(entry.file.path) === "live";
  } catch {
    return false;
  }
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
 * help, unit, labels, buckets or aggregate) is taken from the earliest created declaration
 * (then the first file by name), which compaction keeps, and the others are reported
 * (`"conflict"`). Names starting with `.` are not read.
 *
 * The open files are kept between calls (per directory, for up to 16 directories), so that
 * a scrape reads only what changed: new records, and the values. A scrape that meets a
 * compaction (the compaction mark in `.compact.lock` changed while it listed the
 * directory, or a file vanished) starts again, so it never counts a process twice or
 * misses one; after 5 tries it reports `"inconsistent"`. A fractional counter or histogram
 * sum never goes back for a long-lived reader: compaction regroups the floating-point sum
 * (which can change its last digits), so a total a hair below the last one reported is
 * reported as the last one.
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
    throw new TypeError(`Cannot collect metrics: options must be an object, got ${describeValue(options)}`);
  }
  const meta = options.meta ?? true;
  if (typeof meta !== "boolean") {
    throw new TypeError(`Cannot collect metrics: meta must be a boolean, got ${describeValue(meta)}`);
  }
  const where = resolve(dir ?? defaultDirectory());
  const cache = cacheFor(where);
  const errors: ScrapeError[] = [];
  const failed = new Map<string, ScrapeError>();

  // Compaction publishes an archive, then writes its mark, then removes what the archive
  // holds: a scrape that reads the same mark before listing and after opening saw no
  // removal, so its listing holds every file, or the archive that holds it. A reader that
  // cannot read the mark lists again, and trusts listings that agree on the archives (which
  // misses only two compactions within the two listings).
  const markPath = join(where, COMPACT_LOCK);
  let names: string[] = [];
  for (let attempt = 1;; attempt++) {
    failed.clear();
    const mark = compactionMark(markPath);
    names = list(where);
    const vanished = openAll(where, names, cache, failed);
    const settled = mark === undefined
      ? archiveNames(names) === archiveNames(list(where))
      : compactionMark(markPath) === mark;
    if (!vanished && settled) break;
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
      release(entry);
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
    if (shrunk(entry)) {
      errors.push({
        path: entry.file.path,
        reason: "truncated",
        message: `Cannot read metrics file ${JSON.stringify(entry.file.path)}: it was cut short while open`,
      });
      release(entry);
      cache.entries.delete(name);
      continue;
    }
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
  /** Inodes and writer segments counted: a hard link or copy of one is a duplicate. */
  const nodes = new Map<string, string>();
  for (const name of names) {
    const entry = cache.entries.get(name);
    if (entry === undefined || rejected.has(name)) continue;
    const duplicate = duplicateOf(name, entry, nodes);
    if (duplicate !== undefined) {
      errors.push({
        path: entry.file.path,
        reason: "duplicate",
        message: `Cannot count metrics file ${JSON.stringify(entry.file.path)}: it is the same file or writer ` +
          `segment as ${JSON.stringify(duplicate)}`,
      });
      continue;
    }
    // A file the archive holds, unless its writer runs (a corrupt or hostile archive).
    if (hidden.has(name) && (entry.file.archive || !runs(entry))) continue;
    if (entry.file.archive && entry !== newest) continue;
    if (!entry.dead) {
      let state: "live" | "dead" | "gone";
      try {
        // The first probe opens the file; later scrapes reuse the descriptor.
        if (entry.probe === -1) entry.probe = openProbe(entry.file.path);
        state = entry.probe === -1 ? probe(entry.file.path) : probeDescriptor(entry.probe, entry.file.path);
      } catch (error) {
        errors.push(problemOf(entry.file.path, error));
        continue;
      }
      // Gone since the listing: compaction removed a file of a writer that had exited.
      entry.dead = state !== "live";
      if (entry.dead) {
        closeProbe(entry.probe);
        entry.probe = -1;
      }
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
  const families = dropClashes(cache.registry.merge(counted, problems), where, problems);
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
