/**
 * {@linkcode compact}: fold the files of writers that have exited into one archive, so that
 * a metrics directory (and the time to scrape it) stays bounded.
 *
 * @module
 */

import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { MmapError } from "../ffi/mmap_error.ts";
import { StructFile } from "../struct_file/struct_file.ts";
import { defaultDirectory, listDirectory, readEnv, writeCompactionMark } from "./_directory.ts";
import { probe, tryLockFile, unlockFile } from "./_lock.ts";
import { MetricsFile } from "./_metrics_file.ts";
import type { MetricDecl } from "./_names.ts";
import {
  ARCHIVE_NAME,
  archiveFileName,
  archiveGeneration,
  COMPACT_LOCK,
  encodeRecord,
  FLAG_ARCHIVE,
  MAX_ARCHIVE_ENTRIES,
  MAX_ARCHIVE_SLOTS,
  METRICS_FORMAT,
  SEGMENT_NAME,
  segmentLayout,
} from "./_segment.ts";

/** What {@linkcode compact} did. */
export interface CompactResult {
  /** Files of exited writers folded into the new archive. */
  readonly compacted: number;
  /** Files removed: those folded, the previous archive, and leftovers of an interrupted compaction. */
  readonly removed: number;
  /** Whether another process was compacting the directory, so that nothing was done. */
  readonly skipped: boolean;
}

/** One merged series of the archive being built. */
interface ArchiveSeries {
  readonly labels: readonly string[] | null;
  readonly values: Float64Array;
  createdMs: number;
}

/** One declaration (by signature) of the archive being built. */
interface ArchiveMetric {
  decl: MetricDecl;
  readonly width: number;
  readonly series: Map<string, ArchiveSeries>;
}

/** Folds counters and histograms of metrics files into one set of series. */
class Archive {
  readonly metrics = new Map<string, ArchiveMetric>();
  slots = 0;
  /** Bytes of entry log of the files added (about what the archive's own records take). */
  bytes = 0;

  add(file: MetricsFile): void {
    this.bytes += file.parsed;
    for (const { decl, width } of file.metrics) {
      if (decl.type === "gauge") continue; // a gone process's gauges are never reported
      const known = this.metrics.get(decl.signature);
      if (known === undefined) this.metrics.set(decl.signature, { decl, width, series: new Map() });
      else if (decl.createdMs > 0 && decl.createdMs < known.decl.createdMs) known.decl = decl;
    }
    const slots = file.slots;
    for (const { metric, labels, slot, createdMs } of file.series) {
      const target = this.metrics.get(metric.decl.signature);
      if (target === undefined) continue;
      // Every label set's key starts with U+0001, so none is the overflow series' (label values may hold U+FFFF).
      const key = labels === null ? "\uffff" : `\u0001${labels.join("\u0000")}`;
      let series = target.series.get(key);
      if (series === undefined) {
        series = { labels, values: new Float64Array(metric.width), createdMs };
        target.series.set(key, series);
        this.slots += metric.width;
      } else if (createdMs > 0 && (createdMs < series.createdMs || series.createdMs === 0)) {
        series.createdMs = createdMs;
      }
      // In bounds: the file checked slot + width <= its slots when it parsed the record.
      for (let j = 0; j < metric.width; j++) series.values[j] += slots[slot + j];
    }
  }

  /** The entry log and slot values of the archive file. */
  encode(subsumes: readonly string[]): { entries: Uint8Array; slots: Float64Array } {
    const records: Uint8Array[] = [];
    const slots = new Float64Array(this.slots);
    let id = 0;
    let next = 0;
    for (const { decl, width, series } of this.metrics.values()) {
      const metric = id++;
      records.push(encodeRecord({
        metric,
        name: decl.name,
        type: decl.type,
        help: decl.help,
        unit: decl.unit,
        labelNames: decl.labelNames,
        ...(decl.type === "histogram" ? { buckets: decl.buckets } : {}),
        created_ms: decl.createdMs,
      }));
      for (const { labels, values, createdMs } of series.values()) {
        records.push(encodeRecord({ series: metric, labels, slot: next, created_ms: createdMs }));
        slots.set(values, next);
        next += width;
      }
    }
    records.push(encodeRecord({ subsumes }));
    const entries = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const record of records) {
      entries.set(record, at);
      at += record.length;
    }
    return { entries, slots };
  }
}

/** A power of two at least `n` and `min`: archives of similar sizes share one layout. */
function roundUp(n: number, min: number): number {
  let size = min;
  while (size < n) size *= 2;
  return size;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * For tests only, and documented as such: `MMSTRUCT_TEST_COMPACT_PAUSE=<point>[:<file>]`,
 * `<point>` being `before-publish` or `after-publish`, makes a compactor say
 * `mmstruct: compaction paused <point>` on standard error at that point and wait until
 * `<file>` exists (at most 60 seconds; without a file, the full 60), so that a test can
 * kill it there, or run other compactors, readers and writers meanwhile.
 */
function pauseForTests(point: "before-publish" | "after-publish"): void {
  const setting = readEnv("MMSTRUCT_TEST_COMPACT_PAUSE");
  if (setting === undefined || setting.split(":", 1)[0] !== point) return;
  const resume = setting.slice(point.length + 1);
  console.error(`mmstruct: compaction paused ${point}`);
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    if (resume !== "" && existsSync(resume)) return;
    Atomics.wait(sleeper, 0, 0, 10);
  }
}

function remove(dir: string, name: string): boolean {
  try {
    unlinkSync(join(dir, name));
    return true;
  } catch {
    // Already gone (another compactor cannot run: the lock; a person may have removed it),
    // or not removable: it stays subsumed by the archive, which readers honour, and the next
    // compaction tries again.
    return false;
  }
}

/**
 * Folds the files of writers that have exited into one archive file and removes them, so
 * that the directory, and the time to scrape it, stays bounded however many processes have
 * come and gone. Their counters and histograms are summed into the archive (the totals do
 * not change); their gauges, which no reader reports, are dropped. Files of running writers
 * are never touched.
 *
 * It never counts a sample twice or loses one, whatever happens: compactors take turns
 * (a `flock` on `.compact.lock`; a second one returns at once with `skipped`), the new
 * archive is written whole under a temporary name and then published (it names the files it
 * holds, and readers ignore those from then on), and only then are they removed. A
 * compactor killed at any point leaves a directory that reads the same, and the next
 * compactor finishes its work. {@linkcode Metrics.create} compacts first.
 *
 * @param dir The metrics directory.
 * @returns What was done.
 * @throws {MmapError} If the directory cannot be read, the lock file cannot be made, or the
 * archive cannot be written (a full disk: nothing is removed then).
 *
 * @example Fold the file of a writer that has exited
 * ```ts
 * import { collect, compact, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readdirSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * for (let i = 0; i < 3; i++) {
 *   using metrics = Metrics.create(dir, { name: "job" });
 *   metrics.counter({ name: "runs_total", help: "Runs" }).inc();
 * }
 * // Each Metrics.create compacted the files before it: two are in the archive already.
 * assert.deepEqual(compact(dir), { compacted: 1, removed: 2, skipped: false });
 * assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith(".")), ["archive.3.metrics.mms"]);
 * const [runs] = collect(dir, { meta: false }).families;
 * assert.ok(runs.type === "counter");
 * assert.equal(runs.series[0].value, 3);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function compact(dir?: string): CompactResult {
  if (dir !== undefined && (typeof dir !== "string" || dir === "")) {
    throw new TypeError(`Cannot compact metrics: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  }
  const where = resolve(dir ?? defaultDirectory());
  const lock = tryLockFile(join(where, COMPACT_LOCK));
  if (lock === undefined) return { compacted: 0, removed: 0, skipped: true };
  try {
    return compactLocked(where);
  } finally {
    unlockFile(lock);
  }
}

/** Whether a file's writer runs (or its state cannot be told: then it is left alone too). */
function isLive(dir: string, name: string): boolean {
  try {
    return probe(join(dir, name)) === "live";
  } catch {
    return true;
  }
}

function compactLocked(dir: string): CompactResult {
  const names = listDirectory(dir, "Cannot compact").sort();
  // Temporary files of earlier compactors (killed before publishing): none runs now.
  for (const name of names) {
    if (name.startsWith(".archive.") && name.endsWith(".tmp")) remove(dir, name);
  }

  // The newest valid archive holds everything it subsumes; older ones are held by it.
  const archive = new Archive();
  let highest = 0;
  let newest: MetricsFile | undefined;
  const archives: MetricsFile[] = [];
  try {
    for (const name of names) {
      const generation = archiveGeneration(name);
      if (generation === undefined) continue;
      highest = Math.max(highest, generation);
      let file: MetricsFile;
      try {
        file = MetricsFile.open(dir, name);
      } catch {
        continue; // not a valid archive: readers report it; it is not ours to remove
      }
      archives.push(file);
      if (!file.archive || file.generation !== generation) continue;
      if (newest === undefined || file.generation > newest.generation) newest = file;
    }
    newest?.refresh();
    const held = new Set(newest?.subsumes ?? []);
    const subsumes: string[] = [];
    if (newest !== undefined) {
      archive.add(newest);
      subsumes.push(newest.name);
      for (const file of archives) {
        if (file !== newest && file.archive && file.generation < newest.generation) subsumes.push(file.name);
      }
    }
    // What the archive holds, left by a compactor killed before removing it; never a running
    // writer's file, whatever the archive (corrupt or hostile) says.
    const leftovers = names.filter((name) => held.has(name) && !ARCHIVE_NAME.test(name) && !isLive(dir, name));
    subsumes.push(...leftovers);

    let compacted = 0;
    /** Inodes and writer segments (by name) met: a hard link or copy of one is a duplicate. */
    const nodes = new Set<string>();
    for (const name of names) {
      const segment = SEGMENT_NAME.exec(name);
      if (segment === null || held.has(name)) continue;
      let link;
      try {
        link = lstatSync(join(dir, name));
      } catch {
        continue;
      }
      if (!link.isFile()) continue; // a symlink: readers refuse it, and it is not ours to remove
      const keys = [`${link.dev}:${link.ino}`, `${segment[4]}/${segment[5]}`];
      if (keys.some((key) => nodes.has(key))) {
        // Counted already through its first name (readers skip it too): removed, not folded.
        if (!isLive(dir, name)) subsumes.push(name);
        continue;
      }
      for (const key of keys) nodes.add(key);
      let state;
      try {
        state = probe(join(dir, name));
      } catch {
        continue;
      }
      if (state !== "dead") continue; // running (or just removed by hand)
      let file: MetricsFile;
      try {
        file = MetricsFile.open(dir, name);
      } catch {
        continue; // not a valid metrics file: readers report it
      }
      try {
        if (file.archive) continue;
        file.refresh();
        // An archive holds at most what one struct file may: files that would not fit wait
        // (still counted by readers) for a later compaction.
        if (
          archive.slots + file.slotsEnd > MAX_ARCHIVE_SLOTS ||
          archive.bytes + 2 * file.parsed > MAX_ARCHIVE_ENTRIES
        ) continue;
        archive.add(file);
      } finally {
        file.close();
      }
      subsumes.push(name);
      compacted++;
    }

    if (compacted === 0) {
      // Nothing new to fold: only remove what the newest archive already holds.
      // Without an archive, no mark tells readers of a removal: duplicates wait for the next one.
      const leftover = newest === undefined ? [] : subsumes.filter((name) => name !== newest!.name);
      if (leftover.length > 0) writeCompactionMark(join(dir, COMPACT_LOCK), newest!.generation);
      let removed = 0;
      for (const name of leftover) if (remove(dir, name)) removed++;
      return { compacted: 0, removed, skipped: false };
    }

    const { entries, slots } = archive.encode(subsumes);
    if (entries.length > MAX_ARCHIVE_ENTRIES || slots.length > MAX_ARCHIVE_SLOTS) {
      throw new RangeError(
        `Cannot compact ${JSON.stringify(dir)}: the archive would need ${entries.length} bytes of records and ` +
          `${slots.length} slots, more than ${MAX_ARCHIVE_ENTRIES} and ${MAX_ARCHIVE_SLOTS}`,
      );
    }
    const layout = segmentLayout(roundUp(entries.length, 1024), roundUp(slots.length, 16));
    pauseForTests("before-publish");
    let generation = highest + 1;
    for (;; generation++) {
      try {
        StructFile.create(join(dir, archiveFileName(generation)), layout, {
          initial: {
            metrics_format: METRICS_FORMAT,
            entries_length: entries.length,
            slots_used: slots.length,
            flags: FLAG_ARCHIVE,
            writer_id: 0n,
            pid: process.pid,
            thread: 0,
            started_ms: Date.now(),
            generation: BigInt(generation),
            entries,
            slots,
          },
        }).close();
        break;
      } catch (error) {
        // Something took the name (a stray file): the next generation is as good.
        if (!(error instanceof MmapError && error.code === "EEXIST") || generation > highest + 100) throw error;
      }
    }
    // Before anything is removed: readers that see the mark unchanged saw no removal.
    writeCompactionMark(join(dir, COMPACT_LOCK), generation);
    pauseForTests("after-publish");
    let removed = 0;
    for (const name of subsumes) if (remove(dir, name)) removed++;
    return { compacted, removed, skipped: false };
  } finally {
    for (const file of archives) file.close();
  }
}
