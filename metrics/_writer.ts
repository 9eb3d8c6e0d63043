/**
 * The writer side of a metrics file: a writer owns its segment files (one after the other
 * as they fill up), appends declaration and series records to their entry logs and hands
 * out the slots that the metrics' hot paths write. Internal.
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { atomic, type AtomicField } from "../layout/atomics.ts";
import { StructFile } from "../struct_file/struct_file.ts";
import { threadNumber } from "./_directory.ts";
import type { MetricDecl } from "./_names.ts";
import {
  encodeRecord,
  FIRST_ENTRIES,
  FIRST_SLOTS,
  FLAG_FULL,
  MAX_ENTRIES,
  MAX_SLOTS,
  METRICS_FORMAT,
  type SegmentFields,
  segmentFileName,
  segmentLayout,
} from "./_segment.ts";

/** A metric as its writer knows it. */
export interface WriterMetric {
  /** Its id in this writer's files. */
  readonly id: number;
  readonly decl: MetricDecl;
  /** Slots per series. */
  readonly width: number;
}

/** Where a series' values are: `slots[index]` onwards. */
export interface SlotRef {
  readonly slots: Float64Array;
  readonly index: number;
}

/** A slot array that no file backs: what series made after `close()` write to. */
const NOWHERE: SlotRef = Object.freeze({ slots: new Float64Array(0), index: 0 });

class Segment {
  readonly file: StructFile<SegmentFields>;
  readonly entries: Uint8Array;
  readonly slots: Float64Array;
  readonly length: AtomicField<number>;
  entriesUsed = 0;
  slotsUsed = 0;
  /** Ids of the metrics whose declaration is in this segment. */
  readonly declared = new Set<number>();

  constructor(file: StructFile<SegmentFields>) {
    this.file = file;
    const view = file.view;
    this.entries = view.entries;
    this.slots = view.slots;
    this.length = atomic(view, "entries_length");
  }

  /** Whether `bytes` more of entry log and `slots` more slots fit. */
  fits(bytes: number, slots: number): boolean {
    return this.entriesUsed + bytes <= this.entries.length && this.slotsUsed + slots <= this.slots.length;
  }

  /**
   * Appends records and publishes them at once: the bytes first, then the new length
   * (a sequentially consistent store, so a reader that loads the length sees the bytes).
   */
  append(records: readonly Uint8Array[], slots: number): void {
    let at = this.entriesUsed;
    for (const record of records) {
      // In bounds: fits() was checked for the records' total length.
      this.entries.set(record, at);
      at += record.length;
    }
    this.entriesUsed = at;
    this.slotsUsed += slots;
    this.file.view.slots_used = this.slotsUsed;
    this.length.store(at);
  }
}

function metricRecord(metric: WriterMetric): Record<string, unknown> {
  const d = metric.decl;
  return {
    metric: metric.id,
    name: d.name,
    type: d.type,
    help: d.help,
    unit: d.unit,
    labelNames: d.labelNames,
    ...(d.type === "histogram" ? { buckets: d.buckets } : {}),
    ...(d.type === "gauge" ? { aggregate: d.aggregate } : {}),
    created_ms: d.createdMs,
  };
}

/** A writer: one process or thread's metrics files in a directory. */
export class Writer {
  readonly dir: string;
  readonly name: string;
  /** 16 random hex digits, the same in every segment of this writer. */
  readonly id: string;
  readonly pid: number = process.pid;
  readonly thread: number = threadNumber();
  readonly startedMs: number = Date.now();
  readonly #segments: Segment[] = [];
  #closed = false;

  /**
   * Creates the writer's first segment.
   *
   * @throws {MmapError} If the file cannot be created.
   */
  constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    const random = crypto.getRandomValues(new Uint8Array(8));
    this.id = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
    this.#segments.push(this.#create(FIRST_ENTRIES, FIRST_SLOTS));
  }

  /** The paths of this writer's segment files, first to last. */
  get paths(): string[] {
    return this.#segments.map((s) => s.file.path);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #create(entries: number, slots: number): Segment {
    const path = join(
      this.dir,
      segmentFileName(this.name, this.pid, this.thread, this.id, this.#segments.length),
    );
    const file = StructFile.create(path, segmentLayout(entries, slots), {
      // Held for the writer's life, and taken before the file appears: "the lock is free"
      // means exactly "the writer is gone".
      lock: "exclusive",
      initial: {
        metrics_format: METRICS_FORMAT,
        writer_id: BigInt(`0x${this.id}`),
        pid: this.pid,
        thread: this.thread,
        started_ms: this.startedMs,
        generation: 0n,
      },
    });
    return new Segment(file);
  }

  /** The current segment, or a new one (big enough) when `bytes` of records and `slots` do not fit in it. */
  #segmentFor(bytes: number, slots: number): Segment {
    const current = this.#segments[this.#segments.length - 1];
    if (current.fits(bytes, slots)) return current;
    let entries = Math.min(current.entries.length * 2, MAX_ENTRIES);
    let count = Math.min(current.slots.length * 2, MAX_SLOTS);
    while (entries < bytes && entries < MAX_ENTRIES) entries *= 2;
    while (count < slots && count < MAX_SLOTS) count *= 2;
    if (bytes > entries || slots > count) {
      throw new RangeError(
        `Cannot record a series in ${JSON.stringify(this.dir)}: its ${bytes}-byte record does not fit in a segment ` +
          `(at most ${MAX_ENTRIES} bytes): its label values are too long`,
      );
    }
    const next = this.#create(entries, count);
    this.#segments.push(next);
    current.file.view.flags |= FLAG_FULL;
    return next;
  }

  /** Records a metric's declaration, so that readers see the family before it has series. */
  declare(metric: WriterMetric): void {
    if (this.#closed) return;
    const record = encodeRecord(metricRecord(metric));
    const segment = this.#segments[this.#segments.length - 1];
    if (segment.declared.has(metric.id)) return;
    const target = this.#segmentFor(record.length, 0);
    target.declared.add(metric.id);
    target.append([record], 0);
  }

  /**
   * Allocates the slots of a new series (labels in label name order, or `null` for the
   * overflow series) and records it. After `close()` the series writes nowhere.
   *
   * @throws {MmapError} If a new segment file is needed and cannot be created.
   * @throws {RangeError} If the series' record cannot fit in any segment.
   */
  allocate(metric: WriterMetric, labels: readonly string[] | null): SlotRef {
    if (this.#closed) return NOWHERE;
    const createdMs = Date.now();
    const records = (segment: Segment): Uint8Array[] => {
      const series = encodeRecord({ series: metric.id, labels, slot: segment.slotsUsed, created_ms: createdMs });
      return segment.declared.has(metric.id) ? [series] : [encodeRecord(metricRecord(metric)), series];
    };
    const total = (list: Uint8Array[]) => list.reduce((n, r) => n + r.length, 0);
    const current = this.#segments[this.#segments.length - 1];
    let list = records(current);
    // A new segment must also hold the metric's declaration, and its slot numbers are
    // smaller: the current list plus a declaration bounds what it needs.
    const bound = total(list) + (list.length === 1 ? encodeRecord(metricRecord(metric)).length : 0);
    const segment = current.fits(total(list), metric.width) ? current : this.#segmentFor(bound, metric.width);
    if (segment !== current) list = records(segment);
    const index = segment.slotsUsed;
    segment.declared.add(metric.id);
    segment.append(list, metric.width);
    return { slots: segment.slots, index };
  }

  /** Closes every segment, releasing their locks. Calling it again is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const segment of this.#segments) segment.file.close();
  }
}
