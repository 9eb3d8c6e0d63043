/**
 * The metrics file format (`docs/METRICS_FORMAT.md` is its specification): the struct
 * layout of a segment file, the file names of a metrics directory, and the entry log's
 * records. Internal.
 *
 * @module
 */

import { struct, type StructType } from "../layout/struct.ts";
import { array, bytes, f64, u32, u64 } from "../layout/types.ts";

/** The `metrics_format` this library writes and reads. */
export const METRICS_FORMAT = 1;
/** `flags` bit 0: the writer continued in the next segment. */
export const FLAG_FULL = 1;
/** `flags` bit 1: the file is an archive written by compaction. */
export const FLAG_ARCHIVE = 2;

/** Entry log bytes and slots of a writer's first segment; each next segment doubles both. */
export const FIRST_ENTRIES = 32 * 1024;
export const FIRST_SLOTS = 4096;
/** The most entry log bytes and slots of a writer's segment (a segment file of 16 MiB). */
export const MAX_ENTRIES = 8 << 20;
export const MAX_SLOTS = 1 << 20;
/**
 * The most entry log bytes and slots of an archive: what a struct file may hold (its
 * snapshot cost limits of 2^24 values and 1 GiB of bytes, less the header fields).
 */
export const MAX_ARCHIVE_ENTRIES = 1 << 29;
export const MAX_ARCHIVE_SLOTS = (1 << 24) - 16;

/** The fields of a segment, in order, as the reader checks them. */
const HEADER_FIELDS = [
  ["metrics_format", "u32"],
  ["entries_length", "u32"],
  ["slots_used", "u32"],
  ["flags", "u32"],
  ["writer_id", "u64"],
  ["pid", "u32"],
  ["thread", "u32"],
  ["started_ms", "f64"],
  ["generation", "u64"],
] as const;

/** The fields of a segment's layout, typed. */
export type SegmentFields = ReturnType<typeof segmentFields>;
/** A segment's layout, typed. */
export type SegmentType = StructType<SegmentFields>;

function segmentFields(entries: number, slots: number) {
  return {
    metrics_format: u32,
    entries_length: u32,
    slots_used: u32,
    flags: u32,
    writer_id: u64,
    pid: u32,
    thread: u32,
    started_ms: f64,
    generation: u64,
    entries: bytes(entries),
    slots: array(f64, slots),
  };
}

const layouts = new Map<string, SegmentType>();

/** The layout of a segment with `entries` bytes of entry log and `slots` slots (cached). */
export function segmentLayout(entries: number, slots: number): SegmentType {
  const key = `${entries},${slots}`;
  let layout = layouts.get(key);
  if (layout === undefined) {
    layout = struct(segmentFields(entries, slots));
    if (layouts.size >= 64) layouts.delete(layouts.keys().next().value!);
    layouts.set(key, layout);
  }
  return layout;
}

/**
 * The entry log size and slot count of a layout read from a file, or the reason it is not
 * a metrics segment: any field list other than the segment's is refused.
 */
export function segmentShape(type: StructType): { entries: number; slots: number } | string {
  const fields = type.fields;
  if (type.kind !== "struct" || fields.length !== HEADER_FIELDS.length + 2) {
    return "its layout is not the metrics segment layout";
  }
  for (let i = 0; i < HEADER_FIELDS.length; i++) {
    const [name, scalar] = HEADER_FIELDS[i];
    const t = fields[i].type;
    if (fields[i].name !== name || t.kind !== "scalar" || t.name !== scalar || t.byteOrder !== "native") {
      return `its field ${i} is not ${name}: ${scalar}`;
    }
  }
  const entries = fields[HEADER_FIELDS.length];
  const slots = fields[HEADER_FIELDS.length + 1];
  if (entries.name !== "entries" || entries.type.kind !== "bytes") return "it has no entries: bytes(n) field";
  const element = slots.type.kind === "array" ? slots.type.element : undefined;
  if (
    slots.name !== "slots" || slots.type.kind !== "array" || element?.kind !== "scalar" || element.name !== "f64" ||
    element.byteOrder !== "native"
  ) {
    return "it has no slots: array(f64, n) field";
  }
  return { entries: entries.type.size, slots: slots.type.length };
}

/** `<name>.<pid>.<thread>.<id>.<segment>.metrics.mms`: a writer's segment file. */
export const SEGMENT_NAME = /^([A-Za-z0-9_-]{1,64})\.(\d{1,10})\.(\d{1,10})\.([0-9a-f]{16})\.(\d{1,6})\.metrics\.mms$/;
/** `archive.<generation>.metrics.mms`: an archive written by compaction. */
export const ARCHIVE_NAME = /^archive\.(\d{1,15})\.metrics\.mms$/;
/** The file whose `flock` serializes compactors. */
export const COMPACT_LOCK = ".compact.lock";

/** The file name of a writer's segment. */
export function segmentFileName(name: string, pid: number, thread: number, id: string, segment: number): string {
  return `${name}.${pid}.${thread}.${id}.${segment}.metrics.mms`;
}

/** The file name of an archive. */
export function archiveFileName(generation: number): string {
  return `archive.${generation}.metrics.mms`;
}

/** The generation in an archive's file name, or `undefined` when it is not one. */
export function archiveGeneration(fileName: string): number | undefined {
  const match = ARCHIVE_NAME.exec(fileName);
  return match === null ? undefined : Number(match[1]);
}

const encoder = new TextEncoder();
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One entry log record: the u32 length (native byte order) of the UTF-8 JSON that follows,
 * the JSON, and zero padding to a multiple of 4 bytes.
 */
export function encodeRecord(record: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(record));
  const out = new Uint8Array(4 + Math.ceil(json.length / 4) * 4);
  new DataView(out.buffer).setUint32(0, json.length, LITTLE);
  out.set(json, 4);
  return out;
}
