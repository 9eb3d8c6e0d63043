/**
 * Struct file data as text, for the `mmstruct` command: table rows and JSON, made straight
 * from the mapped (or copied) bytes, a piece at a time, so that no file the library accepts
 * makes the command hold more than a bounded summary, or its output, in memory. Internal.
 *
 * @module
 */

import { type Arrays, arraysFor, bitsGet, readInterpreted } from "../layout/reader.ts";
import type { ArrayType, CompositeType, FieldInfo, FieldType } from "../layout/types.ts";
import { readConsistently, type StructFile } from "./struct_file.ts";

/** Elements of a long array that a summary shows. */
export const SHOWN_ELEMENTS = 16;
/** Bytes of a long string, or of a byte field, that a summary shows. */
const SHOWN_TEXT = 256;
const SHOWN_BYTES = 32;
/** Rows a summary shows at most, however the arrays nest. */
export const SHOWN_ROWS = 10_000;
/** Data areas up to this size are copied once for a full listing; larger ones are read in place. */
const COPY_LIMIT = 64 << 20;
/** Elements formatted into one piece of a long array's text. */
const PIECE = 4096;

/** One row of a table: a scalar, string, byte field or array of such, with its path. */
export interface Row {
  readonly field: string;
  readonly type: string;
  /** The value's text, or its pieces (a long array listed in full). */
  readonly value: string | Iterable<string>;
}

const typeNames = new WeakMap<FieldType, string>();

/** The name of a type, as a table shows it (`u32`, `utf8(16)`, `u8[3]`). */
export function typeName(type: FieldType): string {
  let name = typeNames.get(type);
  if (name === undefined) typeNames.set(type, name = nameOf(type));
  return name;
}

function nameOf(type: FieldType): string {
  switch (type.kind) {
    case "scalar":
      return type.byteOrder === "native" ? type.name : `${type.name}${type.byteOrder === "big" ? "be" : "le"}`;
    case "utf8":
    case "bytes":
      return `${type.kind}(${type.size})`;
    case "array":
      return `${typeName(type.element)}[${type.length}]`;
    case "bits":
      return `bits(${type.name}, ${type.width})`;
    default:
      return type.kind;
  }
}

/** The value of a bitfield of the struct at byte `at`: read from its bit, which its type alone does not give. */
function bitfieldValue(field: FieldInfo, arrays: Arrays, at: number): number | bigint | boolean {
  return bitsGet(
    arrays.u8,
    at + field.offset,
    field.bitOffset ?? 0,
    field.type as Extract<FieldType, { kind: "bits" }>,
  );
}

/** A bitfield's row. */
const bitfieldRow = (field: FieldInfo, arrays: Arrays, at: number, path: string): Row => ({
  field: join(path, field.name),
  type: typeName(field.type),
  value: String(bitfieldValue(field, arrays, at)),
});

/** A bitfield's JSON: 64-bit integers exact, as {@linkcode leafJson} writes them. */
function bitfieldJson(field: FieldInfo, arrays: Arrays, at: number): string {
  const value = bitfieldValue(field, arrays, at);
  return typeof value === "bigint" ? value.toString() : JSON.stringify(value);
}

const isLeaf = (type: FieldType) => type.kind === "scalar" || type.kind === "utf8" || type.kind === "bytes";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");

/** The bytes of a string field up to its terminator, searched within the field only. */
function stringBytes(arrays: Arrays, at: number, size: number): Uint8Array {
  const field = arrays.u8.subarray(at, at + size);
  const end = field.indexOf(0);
  return end < 0 ? field : field.subarray(0, end);
}

/** A scalar, string or byte field as a table shows it; `full` or shortened past a few hundred bytes. */
function leafText(type: FieldType, arrays: Arrays, at: number, full: boolean): string {
  if (type.kind === "utf8") {
    const length = stringBytes(arrays, at, type.size).length;
    // Decoded as a snapshot decodes it (readInterpreted), or only its start.
    if (full || length <= SHOWN_TEXT) return JSON.stringify(readInterpreted(type, arrays, at));
    // `stream`: a character cut at the end is left out rather than shown as U+FFFD.
    const start = new TextDecoder("utf-8", { ignoreBOM: true }).decode(
      arrays.u8.subarray(at, at + SHOWN_TEXT),
      { stream: true },
    );
    return `${JSON.stringify(start)}… (${length} bytes)`;
  }
  if (type.kind === "bytes") {
    if (full || type.size <= SHOWN_BYTES) return hex(arrays.u8.subarray(at, at + type.size));
    return `${hex(arrays.u8.subarray(at, at + SHOWN_BYTES))} … (${type.size} bytes)`;
  }
  return String(readInterpreted(type, arrays, at));
}

/** An array of leaves on one row: every element, in pieces, or the first few and the count. */
function* leafArrayText(element: FieldType, length: number, arrays: Arrays, at: number, full: boolean) {
  const shown = full ? length : Math.min(length, SHOWN_ELEMENTS);
  yield "[";
  for (let from = 0; from < shown; from += PIECE) {
    const parts: string[] = [];
    for (let i = from; i < Math.min(shown, from + PIECE); i++) {
      parts.push(leafText(element, arrays, at + i * element.size, full));
    }
    yield (from === 0 ? "" : ", ") + parts.join(", ");
  }
  yield shown < length ? `, … (${length} elements)]` : "]";
}

/**
 * The rows of the value of `type` at byte `at`: every row with `full`, or a summary (the
 * first elements of long arrays and their count, the start of long strings and byte
 * fields). A summary has at most {@linkcode SHOWN_ELEMENTS} elements of each array; the
 * caller bounds the number of rows. Made in batches: a few thousand elements of a large
 * array at a time.
 */
export function* rows(type: FieldType, arrays: Arrays, at: number, path: string, full: boolean): Generator<Row[]> {
  if (type.size <= SMALL) {
    yield collectRows(type, arrays, at, path, full, []);
  } else if (type.kind === "struct" || type.kind === "union") {
    for (const field of type.fields) {
      if (field.type.kind === "bits") yield [bitfieldRow(field, arrays, at, path)];
      else yield* rows(field.type, arrays, at + field.offset, join(path, field.name), full);
    }
  } else if (type.kind === "array" && !isLeaf(type.element)) {
    const { element, length } = type;
    const shown = full ? length : Math.min(length, SHOWN_ELEMENTS);
    if (element.size <= SMALL) {
      // Small elements: the rows of a batch of them at once.
      for (let from = 0; from < shown; from += PIECE) {
        const batch: Row[] = [];
        for (let i = from; i < Math.min(shown, from + PIECE); i++) {
          collectRows(element, arrays, at + i * element.size, `${path}[${i}]`, full, batch);
        }
        yield batch;
      }
    } else {
      for (let i = 0; i < shown; i++) yield* rows(element, arrays, at + i * element.size, `${path}[${i}]`, full);
    }
    if (shown < length) yield [moreElements(type, path, shown)];
  } else {
    yield collectRows(type, arrays, at, path, full, []);
  }
}

/** Aggregates up to this size are made into rows, or JSON, at once rather than a piece at a time. */
const SMALL = 4096;

const join = (path: string, name: string) => path ? `${path}.${name}` : name;

function moreElements(type: ArrayType, path: string, shown: number): Row {
  const { length } = type;
  return {
    field: `${path}[${shown}…${length - 1}]`,
    type: typeName(type),
    value: `… ${length - shown} more of ${length} elements (--all shows every one)`,
  };
}

/** {@linkcode rows}, all at once, into `out`. */
function collectRows(type: FieldType, arrays: Arrays, at: number, path: string, full: boolean, out: Row[]): Row[] {
  switch (type.kind) {
    case "struct":
    case "union":
      for (const field of type.fields) {
        if (field.type.kind === "bits") out.push(bitfieldRow(field, arrays, at, path));
        else collectRows(field.type, arrays, at + field.offset, join(path, field.name), full, out);
      }
      break;
    case "array": {
      const { element, length } = type;
      if (isLeaf(element)) {
        out.push({ field: path, type: typeName(type), value: leafArrayText(element, length, arrays, at, full) });
        break;
      }
      const shown = full ? length : Math.min(length, SHOWN_ELEMENTS);
      for (let i = 0; i < shown; i++) collectRows(element, arrays, at + i * element.size, `${path}[${i}]`, full, out);
      if (shown < length) out.push(moreElements(type, path, shown));
      break;
    }
    default:
      out.push({ field: path, type: typeName(type), value: leafText(type, arrays, at, full) });
  }
  return out;
}

/** The widest field path and type name the full rows of `type` have: what a streamed table pads to. */
export function columnWidths(type: FieldType, path = ""): [number, number] {
  switch (type.kind) {
    case "struct":
    case "union": {
      let widths: [number, number] = [0, 0];
      for (const field of type.fields) {
        const [f, t] = columnWidths(field.type, path ? `${path}.${field.name}` : field.name);
        widths = [Math.max(widths[0], f), Math.max(widths[1], t)];
      }
      return widths;
    }
    case "array":
      // Only the last element's index is the longest; every element has the same rows.
      if (!isLeaf(type.element)) return columnWidths(type.element, `${path}[${type.length - 1}]`);
      return [path.length, typeName(type).length];
    default:
      return [path.length, typeName(type).length];
  }
}

/** Bytes as a JSON array of numbers. */
function* bytesJson(u8: Uint8Array) {
  yield "[";
  for (let from = 0; from < u8.length; from += PIECE) {
    yield (from === 0 ? "" : ",") + u8.subarray(from, from + PIECE).join(",");
  }
  yield "]";
}

/** A scalar or string as JSON: 64-bit integers exact (written as plain numbers). */
function leafJson(type: FieldType, arrays: Arrays, at: number): string {
  const value = readInterpreted(type, arrays, at);
  return typeof value === "bigint" ? value.toString() : JSON.stringify(value);
}

/** The value of `type` at byte `at` as JSON, a piece at a time; byte fields as arrays of numbers. */
export function* json(type: FieldType, arrays: Arrays, at: number): Generator<string> {
  if (type.size <= SMALL) {
    yield jsonText(type, arrays, at);
    return;
  }
  switch (type.kind) {
    case "bytes":
      yield* bytesJson(arrays.u8.subarray(at, at + type.size));
      return;
    case "array": {
      const { element, length } = type;
      yield "[";
      if (element.size <= SMALL) {
        for (let from = 0; from < length; from += PIECE) {
          const parts: string[] = [];
          for (let i = from; i < Math.min(length, from + PIECE); i++) {
            parts.push(jsonText(element, arrays, at + i * element.size));
          }
          yield (from === 0 ? "" : ",") + parts.join(",");
        }
      } else {
        for (let i = 0; i < length; i++) {
          if (i > 0) yield ",";
          yield* json(element, arrays, at + i * element.size);
        }
      }
      yield "]";
      return;
    }
    case "struct":
    case "union": {
      const keys = keysOf(type);
      for (let i = 0; i < keys.length; i++) {
        yield keys[i];
        const field = type.fields[i];
        if (field.type.kind === "bits") yield bitfieldJson(field, arrays, at);
        else yield* json(field.type, arrays, at + field.offset);
      }
      yield "}";
      return;
    }
    default:
      yield leafJson(type, arrays, at);
  }
}

const keys = new WeakMap<CompositeType, string[]>();

/** What precedes each field's value in a struct's JSON: `{"a":`, `,"b":`, … */
function keysOf(type: CompositeType): string[] {
  let made = keys.get(type);
  if (made === undefined) {
    keys.set(type, made = type.fields.map((f, i) => `${i === 0 ? "{" : ","}${JSON.stringify(f.name)}:`));
  }
  return made;
}

/** {@linkcode json}, all at once. */
function jsonText(type: FieldType, arrays: Arrays, at: number): string {
  switch (type.kind) {
    case "bytes":
      return `[${arrays.u8.subarray(at, at + type.size).join(",")}]`;
    case "array": {
      const parts: string[] = [];
      for (let i = 0; i < type.length; i++) parts.push(jsonText(type.element, arrays, at + i * type.element.size));
      return `[${parts.join(",")}]`;
    }
    case "struct":
    case "union": {
      const keys = keysOf(type);
      let text = "";
      for (let i = 0; i < keys.length; i++) {
        const field = type.fields[i];
        text += keys[i] +
          (field.type.kind === "bits"
            ? bitfieldJson(field, arrays, at)
            : jsonText(field.type, arrays, at + field.offset));
      }
      return text + "}";
    }
    default:
      return leafJson(type, arrays, at);
  }
}

/** The data of a file to list in full, and how to tell afterwards that it was consistent. */
export interface FullData {
  readonly arrays: Arrays;
  /** Where the data starts in `arrays`. */
  readonly at: number;
  /** The version the data is of. */
  readonly version: number;
  /**
   * Whether the data is still of `version` (always, for a private copy). A listing read in
   * place calls it when done: an update during the listing means it may mix two updates.
   */
  unchanged(): boolean;
}

/**
 * The data of `file`, consistent, for a full listing: a private copy, taken under the
 * sequence lock, up to 64 MiB; larger data areas (a copy could take as much memory as the
 * file) are read in place, and `unchanged()` tells whether an update came in between.
 */
export function fullData(file: StructFile): FullData {
  const size = file.type.size;
  if (size <= COPY_LIMIT) {
    const [copy, version] = readConsistently(file, (arrays, at) => arrays.u8.slice(at, at + size));
    // The data offset is a multiple of 64: offsets in the copy keep their alignment.
    return { arrays: arraysFor(copy.buffer), at: 0, version, unchanged: () => true };
  }
  const [[arrays, at], version] = readConsistently(file, (arrays, at) => [arrays, at] as const);
  return { arrays, at, version, unchanged: () => readConsistently(file, () => 0)[1] === version };
}

/** A summary of `file` (at most {@linkcode SHOWN_ROWS} rows), consistent, and its version. */
export function summary(file: StructFile): [rows: [string, string, string][], version: number] {
  return readConsistently(file, (arrays, at) => {
    const out: [string, string, string][] = [];
    rows: for (const batch of rows(file.type, arrays, at, "", false)) {
      for (const row of batch) {
        if (out.length === SHOWN_ROWS) {
          out.push(["…", "", "more rows (--all shows every one)"]);
          break rows;
        }
        out.push([row.field, row.type, typeof row.value === "string" ? row.value : [...row.value].join("")]);
      }
    }
    return out;
  });
}
