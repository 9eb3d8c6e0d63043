/**
 * One metrics file (a writer's segment or an archive) opened for reading: its header, and
 * its entry log parsed record by record as the writer publishes it. A file is hostile
 * input: every record is checked before it is used, and a bad one stops parsing there
 * (the records before it stay good). Shared by `collect` and `compact`. Internal.
 *
 * @module
 */

import { join } from "node:path";
import { atomic, type AtomicField } from "../layout/atomics.ts";
import { MappedFile } from "../mapped_file.ts";
import { formatError } from "../struct_file/format_error.ts";
import { StructFile } from "../struct_file/struct_file.ts";
import { declProblem, makeDecl, type MetricDecl, quote, slotWidth } from "./_names.ts";
import { FLAG_ARCHIVE, METRICS_FORMAT, type SegmentFields, segmentShape } from "./_segment.ts";

/** A file that is a valid struct file but not a metrics file (reason `"not-metrics"`). */
export class NotMetricsError extends Error {
  /** Always `"not-metrics"`. */
  readonly reason = "not-metrics";
  /** The file. */
  readonly path: string;

  /**
   * Makes the error.
   *
   * @param path The file.
   * @param detail Why it is not a metrics file.
   */
  constructor(path: string, detail: string) {
    super(`Cannot read metrics file ${JSON.stringify(path)}: ${detail}`);
    this.name = "NotMetricsError";
    this.path = path;
  }
}

/** A metric declared in one file. */
export interface FileMetric {
  /** Its id in this file. */
  readonly id: number;
  readonly decl: MetricDecl;
  /** Slots per series. */
  readonly width: number;
}

/** A series recorded in one file. */
export interface FileSeries {
  readonly metric: FileMetric;
  /** Values in the metric's label name order; `null` for the overflow series. */
  readonly labels: readonly string[] | null;
  /** The first of its `metric.width` slots. */
  readonly slot: number;
  readonly createdMs: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Where a struct file's header keeps `data_offset`, a u64 (docs/FORMAT.md). */
const DATA_OFFSET_FIELD = 32;
const HEADER_END = DATA_OFFSET_FIELD + 8;

/** Whether `value` is an integer in [0, limit). */
function index(value: unknown, limit: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < limit;
}

/** A metrics file open for reading. */
export class MetricsFile {
  readonly name: string;
  readonly path: string;
  readonly archive: boolean;
  /** The writer's 64-bit id, as 16 hex digits. */
  readonly writerId: string;
  readonly pid: number;
  readonly thread: number;
  readonly startedMs: number;
  readonly generation: number;
  /** The live slot values (a read-only mapping). */
  readonly slots: Float64Array;
  /** Metrics in the order declared; by id in `#byId`. */
  readonly metrics: FileMetric[] = [];
  /** Series in the order recorded. */
  readonly series: FileSeries[] = [];
  /** Archives: the files this one has folded in. */
  readonly subsumes: string[] = [];
  /** Why parsing stopped before the published end, when it did. */
  problem: string | undefined;
  readonly #file: StructFile<SegmentFields>;
  /** The same file mapped again: a read-only struct file's views copy arrays, and the slots must be live. */
  readonly #raw: MappedFile;
  readonly #entries: Uint8Array;
  /** The entry log as a DataView, for the records' lengths. */
  readonly #lengths: DataView;
  readonly #length: AtomicField<number>;
  readonly #byId = new Map<number, FileMetric>();
  /** Bytes of the entry log parsed so far. */
  #parsed = 0;
  /** Series must take increasing slots: the first slot after the last series. */
  #nextSlot = 0;

  private constructor(
    name: string,
    path: string,
    file: StructFile<SegmentFields>,
    raw: MappedFile,
    entries: Uint8Array,
    slots: Float64Array,
  ) {
    this.name = name;
    this.path = path;
    this.#file = file;
    this.#raw = raw;
    const view = file.view;
    this.archive = (view.flags & FLAG_ARCHIVE) !== 0;
    this.writerId = view.writer_id.toString(16).padStart(16, "0");
    this.pid = view.pid;
    this.thread = view.thread;
    this.startedMs = view.started_ms;
    this.generation = Number(view.generation);
    this.slots = slots;
    this.#entries = entries;
    this.#lengths = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
    this.#length = atomic(view, "entries_length");
  }

  /**
   * Opens `name` in `dir` read-only and checks that it is a metrics file.
   *
   * @throws {FormatError} If it is not a valid struct file.
   * @throws {MmapError} If it cannot be opened.
   * @throws {NotMetricsError} If it is a struct file of another layout or format.
   */
  static open(dir: string, name: string): MetricsFile {
    const path = join(dir, name);
    const file = StructFile.open(path);
    try {
      const shape = segmentShape(file.type);
      if (typeof shape === "string") throw new NotMetricsError(path, shape);
      const typed = file as unknown as StructFile<SegmentFields>;
      const format = typed.view.metrics_format;
      if (format !== METRICS_FORMAT) {
        throw new NotMetricsError(path, `metrics format ${format} is not supported (this library reads 1)`);
      }
      const raw = MappedFile.open(path);
      try {
        const size = raw.byteLength;
        const dataOffset = size < HEADER_END
          ? Infinity
          : Number(new DataView(raw.buffer).getBigUint64(DATA_OFFSET_FIELD, LITTLE));
        const entriesAt = dataOffset + file.type.offsetOf("entries");
        const slotsAt = dataOffset + file.type.offsetOf("slots");
        // The struct file checked all this, but through its own mapping: this one is checked
        // again, so that a file swapped in between cannot place a view out of bounds.
        if (!(slotsAt % 8 === 0 && entriesAt + shape.entries <= size && slotsAt + shape.slots * 8 <= size)) {
          throw formatError(path, "header", "the file changed while it was opened");
        }
        const entries = new Uint8Array(raw.buffer, entriesAt, shape.entries);
        const slots = new Float64Array(raw.buffer, slotsAt, shape.slots);
        return new MetricsFile(name, path, typed, raw, entries, slots);
      } catch (error) {
        raw.close();
        throw error;
      }
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** Bytes of the entry log parsed so far. */
  get parsed(): number {
    return this.#parsed;
  }

  /**
   * Parses the records published since the last call. Returns whether anything new was
   * parsed. A record that is not valid stops parsing there until a later call finds it
   * valid (a writer's record is always whole once published, so on a file whose writer is
   * dead a bad record is corruption, reported through `problem`).
   */
  /** The bytes mapped: a file now shorter than this would fault (SIGBUS) where it was cut. */
  get mappedBytes(): number {
    return this.#raw.byteLength;
  }

  refresh(): boolean {
    const entries = this.#entries;
    let published = this.#length.load();
    let clamped: string | undefined;
    if (published > entries.length) {
      clamped = `entries_length ${published} is past the end of the entry log (${entries.length} bytes)`;
      published = entries.length;
    }
    this.problem = undefined;
    const start = this.#parsed;
    let offset = start;
    while (offset + 4 <= published) {
      // In bounds: offset + 4 <= published <= entries.length. Native byte order.
      const n = this.#lengths.getUint32(offset, LITTLE);
      // Both terms are at most 2^32 and published <= entries.length: exact and in bounds.
      const end = offset + 4 + n;
      if (n === 0 || end > published) {
        this.problem = n === 0
          ? `the record at byte ${offset} is empty`
          : `the record at byte ${offset} (${n} bytes) goes past the published length ${published}`;
        break;
      }
      let record: unknown;
      try {
        record = JSON.parse(decoder.decode(entries.subarray(offset + 4, end)));
      } catch (error) {
        this.problem = `the record at byte ${offset} is not UTF-8 JSON: ${(error as Error).message}`;
        break;
      }
      const problem = this.#add(record);
      if (problem !== undefined) {
        this.problem = `the record at byte ${offset}: ${problem}`;
        break;
      }
      offset = end + ((4 - (n % 4)) % 4);
    }
    this.problem ??= clamped;
    this.#parsed = Math.min(offset, published);
    return this.#parsed !== start;
  }

  /** Adds one parsed record; returns what is wrong with it, if anything. */
  #add(record: unknown): string | undefined {
    if (typeof record !== "object" || record === null || Array.isArray(record)) return "not a JSON object";
    const r = record as Record<string, unknown>;
    if ("metric" in r) {
      if (!index(r.metric, 2 ** 31)) return `bad metric id ${quote(r.metric)}`;
      if (this.#byId.has(r.metric)) return `metric id ${r.metric} is declared twice`;
      const fields = {
        name: r.name,
        type: r.type,
        help: r.help,
        unit: r.unit ?? "",
        labelNames: r.labelNames,
        buckets: r.buckets ?? [],
        aggregate: r.aggregate ?? (r.type === "gauge" ? undefined : "sum"),
      };
      const problem = declProblem(fields);
      if (problem !== undefined) return problem;
      const createdMs = typeof r.created_ms === "number" && Number.isFinite(r.created_ms) ? r.created_ms : 0;
      const decl = makeDecl({ ...fields, createdMs } as Omit<MetricDecl, "family" | "signature">);
      const metric: FileMetric = { id: r.metric, decl, width: slotWidth(decl.type, decl.buckets) };
      this.#byId.set(metric.id, metric);
      this.metrics.push(metric);
      return undefined;
    }
    if ("series" in r) {
      const metric = typeof r.series === "number" ? this.#byId.get(r.series) : undefined;
      if (metric === undefined) return `series of an undeclared metric ${quote(r.series)}`;
      const labels = r.labels;
      if (labels !== null) {
        if (!Array.isArray(labels) || labels.length !== metric.decl.labelNames.length) {
          return `the labels of a series of ${
            quote(metric.decl.name)
          } are not ${metric.decl.labelNames.length} strings`;
        }
        for (let i = 0; i < labels.length; i++) {
          const value = labels[i];
          if (typeof value !== "string" || value.indexOf("\0") !== -1) {
            return `label value ${quote(value)} is not valid`;
          }
        }
      }
      const slot = r.slot;
      if (!index(slot, this.slots.length) || slot < this.#nextSlot || slot + metric.width > this.slots.length) {
        return `slot ${quote(slot)} is out of order or out of bounds`;
      }
      const createdMs = typeof r.created_ms === "number" && Number.isFinite(r.created_ms) ? r.created_ms : 0;
      this.#nextSlot = slot + metric.width;
      this.series.push({ metric, labels: labels as readonly string[] | null, slot, createdMs });
      return undefined;
    }
    if ("subsumes" in r) {
      if (!Array.isArray(r.subsumes) || !r.subsumes.every((s) => typeof s === "string")) return "bad subsumes list";
      this.subsumes.push(...(r.subsumes as string[]));
      return undefined;
    }
    return "unknown record kind";
  }

  /** The first slot past every series parsed so far. */
  get slotsEnd(): number {
    return this.#nextSlot;
  }

  /** Unmaps the file; calling it again is a no-op. */
  close(): void {
    this.#raw.close();
    this.#file.close();
  }
}
