/**
 * The struct file header: its layout, how it is written, and how an untrusted one is read
 * and validated. `docs/FORMAT.md` is the specification; this file follows it. Internal.
 *
 * @module
 */

import { formatError } from "./format_error.ts";

/** `"MMSTRUCT"` in ASCII. */
export const MAGIC: Uint8Array = new TextEncoder().encode("MMSTRUCT");
/** The format version this library writes for files without bitfields, and the lowest it reads. */
export const FORMAT_VERSION = 2;
/** The highest format version this library reads: 3 is 2 with bitfields in the schema (`docs/FORMAT.md`). */
export const MAX_FORMAT_VERSION = 3;
/** Written as a native u16: reads as 0x0102 in the writer's byte order. */
export const BYTE_ORDER_MARK = 0x0102;
/** Length of the version 2 header. */
export const HEADER_LENGTH = 128;
/** The largest header a reader accepts (later versions may grow it). */
export const MAX_HEADER_LENGTH = 4096;
/** The largest schema a reader accepts. */
export const MAX_SCHEMA_LENGTH = 1 << 20;
/** The data area starts at a multiple of this (and of the layout's alignment). */
export const DATA_ALIGN = 64;

/** Byte offsets of the header fields. */
export const OFFSET = {
  magic: 0, // u8[8]
  version: 8, // u16
  byteOrder: 10, // u16
  headerLength: 12, // u32
  schemaOffset: 16, // u64
  schemaLength: 24, // u64
  dataOffset: 32, // u64
  dataLength: 40, // u64
  sequence: 48, // u32, the seqlock word: even when stable, (pid << 1) | 1 while that process updates
  lastEven: 52, // u32, the sequence's even value before the update under way (equal to it when stable)
  writerPid: 56, // u32, the last process to update the data (u32 at 60 reserved)
  writerStart: 64, // u64, the writer's start time in clock ticks since boot (Linux), 0 if unknown
  createdMs: 72, // u64, milliseconds since the Unix epoch
  layoutHash: 80, // u64, FNV-1a 64 of the schema bytes
} as const;

/** The validated header of a struct file. */
export interface Header {
  /** The format version: 2, or 3 when the schema may hold bitfields. */
  readonly version: number;
  readonly headerLength: number;
  readonly schemaOffset: number;
  readonly schemaLength: number;
  readonly dataOffset: number;
  readonly dataLength: number;
  readonly writerPid: number;
  readonly writerStart: bigint;
  readonly createdMs: number;
  readonly layoutHash: bigint;
}

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * FNV-1a, 64-bit, in four 16-bit limbs (BigInt arithmetic per byte would be 50x slower).
 * Multiplying by the prime 2^40 + 0x1b3 modulo 2^64 is `h * 0x1b3 + (h << 40)`: each
 * limb times 0x1b3 plus the carry from the one below, with limb 0 shifted by 8 into limb 2
 * and limb 1 into limb 3 (`<< 40` is two limbs and 8 bits). Every intermediate is below
 * 2^27, so the loop stays in small integers: 1.5 to 3x faster than two 32-bit halves whose
 * low product needs a double and a division (measured on V8 and JavaScriptCore, 3 KB
 * schemas), and it runs on every open.
 */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i];
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
    h3 = (h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16)) & 0xffff;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
  }
  return (BigInt(((h3 << 16) | h2) >>> 0) << 32n) | BigInt(((h1 << 16) | h0) >>> 0);
}

/** Writes a version 2 (or `fields.version`) header into `buffer` (the sequence and lastEven start at 0). */
export function writeHeader(
  buffer: ArrayBuffer,
  fields: Omit<Header, "headerLength" | "schemaOffset" | "version"> & { version?: number },
): void {
  const dv = new DataView(buffer);
  new Uint8Array(buffer).set(MAGIC, OFFSET.magic);
  dv.setUint16(OFFSET.version, fields.version ?? FORMAT_VERSION, LITTLE);
  dv.setUint16(OFFSET.byteOrder, BYTE_ORDER_MARK, LITTLE);
  dv.setUint32(OFFSET.headerLength, HEADER_LENGTH, LITTLE);
  dv.setBigUint64(OFFSET.schemaOffset, BigInt(HEADER_LENGTH), LITTLE);
  dv.setBigUint64(OFFSET.schemaLength, BigInt(fields.schemaLength), LITTLE);
  dv.setBigUint64(OFFSET.dataOffset, BigInt(fields.dataOffset), LITTLE);
  dv.setBigUint64(OFFSET.dataLength, BigInt(fields.dataLength), LITTLE);
  dv.setUint32(OFFSET.sequence, 0, LITTLE);
  dv.setUint32(OFFSET.lastEven, 0, LITTLE);
  dv.setUint32(OFFSET.writerPid, fields.writerPid, LITTLE);
  dv.setBigUint64(OFFSET.writerStart, fields.writerStart, LITTLE);
  dv.setBigUint64(OFFSET.createdMs, BigInt(fields.createdMs), LITTLE);
  dv.setBigUint64(OFFSET.layoutHash, fields.layoutHash, LITTLE);
}

/**
 * Reads and validates a header from memory another process may be writing: each field is
 * read exactly once into a local and only the locals are used (no double fetch), and every
 * offset and length is bounded by `buffer.byteLength` before it is returned.
 */
export function readHeader(buffer: ArrayBuffer, path: string): Header {
  const size = buffer.byteLength;
  if (size < HEADER_LENGTH) {
    throw formatError(path, "truncated", `the file has ${size} bytes, fewer than the ${HEADER_LENGTH}-byte header`);
  }
  const bytes = new Uint8Array(buffer, 0, HEADER_LENGTH).slice(); // one copy: every field below is read from it once
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw formatError(path, "magic", "it does not start with the magic MMSTRUCT");
  }
  const mark = dv.getUint16(OFFSET.byteOrder, LITTLE);
  if (mark !== BYTE_ORDER_MARK) {
    throw formatError(
      path,
      "byte-order",
      mark === 0x0201
        ? "it was written on a machine of the other byte order"
        : `bad byte order mark 0x${mark.toString(16)}`,
    );
  }
  const version = dv.getUint16(OFFSET.version, LITTLE);
  if (version < FORMAT_VERSION || version > MAX_FORMAT_VERSION) {
    throw formatError(
      path,
      "version",
      `format version ${version} is not supported (this library reads ${FORMAT_VERSION} to ${MAX_FORMAT_VERSION})`,
    );
  }
  const u64 = (offset: number, name: string): number => {
    const value = dv.getBigUint64(offset, LITTLE);
    if (value > BigInt(size)) {
      throw formatError(path, "header", `${name} ${value} is larger than the file (${size} bytes)`);
    }
    return Number(value);
  };
  const headerLength = dv.getUint32(OFFSET.headerLength, LITTLE);
  const schemaOffset = u64(OFFSET.schemaOffset, "schema offset");
  const schemaLength = u64(OFFSET.schemaLength, "schema length");
  const dataOffset = u64(OFFSET.dataOffset, "data offset");
  const dataLength = u64(OFFSET.dataLength, "data length");
  const header: Header = {
    version,
    headerLength,
    schemaOffset,
    schemaLength,
    dataOffset,
    dataLength,
    writerPid: dv.getUint32(OFFSET.writerPid, LITTLE),
    writerStart: dv.getBigUint64(OFFSET.writerStart, LITTLE),
    createdMs: Number(dv.getBigUint64(OFFSET.createdMs, LITTLE)),
    layoutHash: dv.getBigUint64(OFFSET.layoutHash, LITTLE),
  };
  const bad = (detail: string) => formatError(path, "header", detail);
  if (headerLength < HEADER_LENGTH || headerLength > MAX_HEADER_LENGTH) {
    throw bad(`header length ${headerLength} is not between ${HEADER_LENGTH} and ${MAX_HEADER_LENGTH}`);
  }
  if (schemaOffset < headerLength) throw bad(`the schema (offset ${schemaOffset}) overlaps the header`);
  if (schemaLength < 2 || schemaLength > MAX_SCHEMA_LENGTH) {
    throw bad(`schema length ${schemaLength} is not between 2 and ${MAX_SCHEMA_LENGTH}`);
  }
  // Each sum below is of values no larger than the file size, so it is exact.
  if (schemaOffset + schemaLength > dataOffset) throw bad(`the schema overlaps the data (offset ${dataOffset})`);
  if (dataOffset % DATA_ALIGN !== 0) throw bad(`data offset ${dataOffset} is not a multiple of ${DATA_ALIGN}`);
  if (dataLength < 1) throw bad("the data area is empty");
  if (dataOffset + dataLength > size) {
    throw formatError(
      path,
      "truncated",
      `the data (${dataLength} bytes at offset ${dataOffset}) goes past the end of the file (${size} bytes)`,
    );
  }
  return header;
}
