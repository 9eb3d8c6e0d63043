/**
 * Layouts as JSON schemas (the self-description stored in a struct file) and back, with
 * every limit a hostile file could push: depth, node count, sizes, names, and offsets that
 * must be exactly the ones the layout rules give. Internal.
 *
 * @module
 */

import { compositeOf, type StructType } from "../layout/struct.ts";
import {
  array,
  bits,
  type BitsStorage,
  type ByteOrder,
  bytes,
  type CompositeType,
  type FieldType,
  type ScalarName,
  type ScalarType,
  utf8,
} from "../layout/types.ts";
import * as scalars from "../layout/types.ts";
import { FormatError, formatError } from "./format_error.ts";

/** The JSON form of a field type. */
export type Schema =
  | { kind: "scalar"; name: ScalarName; byteOrder: ByteOrder }
  | { kind: "bits"; name: Exclude<ScalarName, "f32" | "f64">; width: number }
  | { kind: "utf8" | "bytes"; size: number }
  | { kind: "array"; length: number; element: Schema }
  | {
    kind: "struct" | "union";
    packed: boolean;
    align: number;
    size: number;
    fields: { name: string; offset: number; bitOffset?: number; type: Schema }[];
  };

/** The format version of files whose schema has no bitfield. */
export const PLAIN_VERSION = 2;
/**
 * The format version of files whose schema has a bitfield: such a file is written as
 * version 3 so that a version 2 reader, which knows no bitfields, refuses it by its
 * version rather than misreading it; every other file stays version 2, readable by both.
 */
export const BITFIELD_VERSION = 3;

/** Whether any field of `type`, at any depth, is a bitfield. */
export function hasBitfields(type: FieldType): boolean {
  switch (type.kind) {
    case "bits":
      return true;
    case "array":
      return hasBitfields(type.element);
    case "struct":
    case "union":
      return type.fields.some((f) => hasBitfields(f.type));
    default:
      return false;
  }
}

/** The format version a struct file holding `type` is written with. */
export function formatVersionOf(type: FieldType): number {
  return hasBitfields(type) ? BITFIELD_VERSION : PLAIN_VERSION;
}

/** Deepest nesting a schema may have. */
export const MAX_DEPTH = 32;
/** Most type nodes a schema may have. */
export const MAX_NODES = 100_000;
/**
 * Most values (scalars, strings and byte fields, counting every array element) a layout
 * read from a file may have: a snapshot makes one JavaScript value of each, so a small
 * sparse file must not make a reader allocate without bound.
 */
export const MAX_VALUES = 1 << 24;
/** Most bytes of `bytes` and `utf8` fields a layout read from a file may have (a snapshot copies them). */
export const MAX_BYTES = 1 << 30;
/**
 * Deepest nesting of arrays and objects the schema's JSON may have, the top level being 1
 * (a layout 32 types deep needs 97): within what a recursive JSON parser (Python's, most C
 * ones) reads, so that every reader can tell a too-deep schema from one it cannot parse.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether parsed JSON nests arrays and objects deeper than `limit`. Recursive but never
 * deeper than `limit` + 1 calls, so any input is safe, and allocates only each object's key
 * list (a walk with a stack of [value, depth] pairs took 12 to 30 µs of a 32-field schema's
 * open).
 */
function nestsDeeper(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestsDeeper(value[i], limit - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (nestsDeeper(record[key], limit - 1)) return true;
  return false;
}

/** How many values a snapshot of `type` makes, and how many bytes it copies for `bytes` and `utf8` fields. */
function snapshotCost(type: FieldType): { values: number; bytes: number } {
  switch (type.kind) {
    case "array": {
      const { values, bytes } = snapshotCost(type.element);
      return { values: type.length * values, bytes: type.length * bytes };
    }
    case "struct":
    case "union": {
      const total = { values: 0, bytes: 0 };
      for (const field of type.fields) {
        const cost = snapshotCost(field.type);
        total.values += cost.values;
        total.bytes += cost.bytes;
      }
      return total;
    }
    case "utf8":
    case "bytes":
      return { values: 1, bytes: type.size };
    default:
      return { values: 1, bytes: 0 };
  }
}

/**
 * The most memory a snapshot of a layout read from a file may take, as
 * {@linkcode snapshotBytes} estimates it. The caps on values and bytes above bound what a
 * copy holds, not what it costs: 2^24 byte fields are 2^24 `Uint8Array`s (some 7 GB on
 * Deno), 2^24 structs 2^24 objects. An array of 2^24 one-byte structs estimates at 640 MiB.
 */
export const MAX_SNAPSHOT_BYTES = 1 << 30;

/**
 * What each kind of value of a snapshot takes in memory, in bytes, its place in the object
 * or array holding it included: the largest of Deno, Node and Bun, measured as the heap
 * retained by copies of 2^20 values of each kind (x86_64, 2026).
 */
const COST = {
  /** A boolean or an integer of up to 16 bits (a small integer in its slot). */
  small: 8,
  /** A 32-bit integer or a float (a heap number where it is not a small integer). */
  number: 24,
  /** A 64-bit integer outside a numeric array (a BigInt). */
  bigint: 40,
  /** A struct or union (an object; its fields are counted apart). */
  object: 32,
  /** An array other than a numeric one (its elements are counted apart). */
  array: 32,
  /** A string (`utf8`), besides one byte per byte of the field. */
  string: 32,
  /** A `bytes` field or an array of native-order numbers (a typed array and its buffer), besides its bytes. */
  buffer: 256,
} as const;

/**
 * An estimate of the memory a snapshot of `type` takes, in bytes (see {@linkcode COST}).
 * Arrays of native-order numbers are copied as typed arrays; every other array holds one
 * value per element.
 */
export function snapshotBytes(type: FieldType): number {
  switch (type.kind) {
    case "scalar":
    case "bits":
      if (type.name === "i64" || type.name === "u64") return COST.bigint;
      return type.size <= 2 ? COST.small : COST.number;
    case "utf8":
      return COST.string + type.size;
    case "bytes":
      return COST.buffer + type.size;
    case "array": {
      const element = type.element;
      if (element.kind === "scalar" && element.name !== "bool" && element.byteOrder === "native") {
        return COST.buffer + type.size;
      }
      return COST.array + type.length * snapshotBytes(element);
    }
    case "struct":
    case "union": {
      let total = COST.object;
      for (const field of type.fields) total += snapshotBytes(field.type);
      return total;
    }
  }
}

/** The canonical schema of a type (keys in a fixed order, so equal layouts give equal JSON). */
export function toSchema(type: FieldType): Schema {
  switch (type.kind) {
    case "scalar":
      return { kind: "scalar", name: type.name, byteOrder: type.byteOrder };
    case "bits":
      return { kind: "bits", name: type.name, width: type.width };
    case "utf8":
    case "bytes":
      return { kind: type.kind, size: type.size };
    case "array":
      return { kind: "array", length: type.length, element: toSchema(type.element) };
    case "struct":
    case "union":
      return {
        kind: type.kind,
        packed: type.packed,
        align: type.align,
        size: type.size,
        fields: type.fields.map((f) =>
          f.bitOffset === undefined
            ? { name: f.name, offset: f.offset, type: toSchema(f.type) }
            : { name: f.name, offset: f.offset, bitOffset: f.bitOffset, type: toSchema(f.type) }
        ),
      };
  }
}

/** The scalar types by byte order, then name: looked up without making a key string for each field. */
const SCALARS = new Map<string, Map<string, ScalarType>>();
for (const value of Object.values(scalars)) {
  const type = value as ScalarType;
  if (typeof type === "object" && type !== null && type.kind === "scalar") {
    let named = SCALARS.get(type.byteOrder);
    if (named === undefined) SCALARS.set(type.byteOrder, named = new Map());
    named.set(type.name, type);
  }
}

/** The scalar type called `name` in `byteOrder`, if both are strings that name one. */
function scalarNamed(name: unknown, byteOrder: unknown): ScalarType | undefined {
  // Strings only: String(["u8"]) is "u8" too.
  return typeof name === "string" && typeof byteOrder === "string" ? SCALARS.get(byteOrder)?.get(name) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Rebuilds a layout from untrusted schema JSON, or throws a {@linkcode FormatError}. A
 * file of format `version` 2 has no bitfields: there `"bits"` is an unknown kind.
 */
export function fromSchemaText(text: string, path: string, version: number = BITFIELD_VERSION): StructType {
  if (text.startsWith("\ufeff")) {
    throw formatError(path, "schema", "the schema starts with a byte order mark, which the format does not allow");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw formatError(path, "schema", "the schema is not valid JSON", { cause: error });
  }
  if (nestsDeeper(parsed, MAX_JSON_DEPTH)) {
    throw formatError(path, "schema", `the schema's JSON nests deeper than ${MAX_JSON_DEPTH}`);
  }
  let nodes = 0;
  const fail = (where: string, detail: string): never => {
    throw formatError(path, "schema", `schema${where}: ${detail}`);
  };
  const integer = (value: unknown, where: string, min: number): number => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
      fail(where, `expected an integer of at least ${min}, got ${JSON.stringify(value)}`);
    }
    return value as number;
  };

  const build = (node: unknown, where: string, depth: number): FieldType => {
    if (++nodes > MAX_NODES) fail(where, `more than ${MAX_NODES} types`);
    if (depth > MAX_DEPTH) fail(where, `nested deeper than ${MAX_DEPTH}`);
    if (!isRecord(node)) return fail(where, "expected an object");
    try {
      switch (node.kind) {
        case "scalar": {
          return scalarNamed(node.name, node.byteOrder) ??
            fail(where, `unknown scalar ${JSON.stringify(node.name)} (${JSON.stringify(node.byteOrder)})`);
        }
        case "bits": {
          if (version < BITFIELD_VERSION) return fail(where, `unknown kind "bits" (bitfields need format version 3)`);
          const storage = scalarNamed(node.name, "native");
          if (storage === undefined || storage.name === "f32" || storage.name === "f64") {
            return fail(where, `unknown bitfield type ${JSON.stringify(node.name)}`);
          }
          return bits(storage as BitsStorage, integer(node.width, `${where}.width`, 1));
        }
        case "utf8":
          return utf8(integer(node.size, `${where}.size`, 1));
        case "bytes":
          return bytes(integer(node.size, `${where}.size`, 1));
        case "array":
          return array(build(node.element, `${where}.element`, depth + 1), integer(node.length, `${where}.length`, 1));
        case "struct":
        case "union":
          return buildComposite(node, where, depth);
        default:
          return fail(where, `unknown kind ${JSON.stringify(node.kind)}`);
      }
    } catch (error) {
      if (error instanceof FormatError) throw error;
      // The layout constructors refuse bad names, sizes and alignments with TypeError/RangeError.
      throw formatError(path, "layout", `schema${where}: ${(error as Error).message}`, { cause: error });
    }
  };

  const buildComposite = (node: Record<string, unknown>, where: string, depth: number): CompositeType => {
    const fields = node.fields;
    if (!Array.isArray(fields) || fields.length === 0) fail(`${where}.fields`, "expected a non-empty array");
    // Pairs, not an object: a field named "__proto__" is a field (refused by name), and
    // compositeOf() walks pairs faster than struct() walks an Object.create(null) object of
    // new names (a dictionary), or than a fast object of them takes to make.
    const names = new Set<string>();
    const declarations: [string, FieldType][] = [];
    const offsets: number[] = [];
    const bitOffsets: (unknown)[] = [];
    for (let i = 0; i < (fields as unknown[]).length; i++) {
      const field = (fields as unknown[])[i];
      const at = `${where}.fields[${i}]`;
      if (!isRecord(field) || typeof field.name !== "string") return fail(at, "expected { name, offset, type }");
      if (names.has(field.name)) fail(at, `duplicate field ${JSON.stringify(field.name)}`);
      names.add(field.name);
      offsets.push(integer(field.offset, `${at}.offset`, 0));
      bitOffsets.push(field.bitOffset);
      const type = build(field.type, `${at}.type`, depth + 1);
      declarations.push([field.name, type]);
      if (type.kind === "bits") {
        const bit = integer(field.bitOffset, `${at}.bitOffset`, 0);
        if (bit > 7) fail(`${at}.bitOffset`, `expected an integer from 0 to 7, got ${bit}`);
      }
    }
    if (typeof node.packed !== "boolean") fail(`${where}.packed`, "expected a boolean");
    const align = integer(node.align, `${where}.align`, 1);
    const size = integer(node.size, `${where}.size`, 1);
    const type = compositeOf(node.kind as "struct" | "union", declarations, { packed: node.packed as boolean, align });
    if (type.fields.length !== offsets.length) fail(`${where}.fields`, "a field was lost: bad field names");
    // The stored offsets, size and alignment must be exactly what the layout rules give:
    // this refuses overlapping, misaligned and out-of-bounds fields.
    for (const [i, field] of type.fields.entries()) {
      if (field.bitOffset !== undefined && field.bitOffset !== bitOffsets[i]) {
        throw formatError(
          path,
          "layout",
          `schema${where}.fields[${i}] ("${field.name}") is at bit ${bitOffsets[i]} of byte ${
            offsets[i]
          }, the layout rules put it at bit ${field.bitOffset} of byte ${field.offset}`,
        );
      }
      if (field.offset !== offsets[i]) {
        throw formatError(
          path,
          "layout",
          `schema${where}.fields[${i}] ("${field.name}") is at offset ${
            offsets[i]
          }, the layout rules put it at ${field.offset}`,
        );
      }
    }
    if (type.size !== size || type.align !== align) {
      throw formatError(
        path,
        "layout",
        `schema${where} says size ${size} and alignment ${align}, the layout rules give ${type.size} and ${type.align}`,
      );
    }
    return type;
  };

  const root = build(parsed, "", 0);
  if (root.kind !== "struct" && root.kind !== "union") fail("", "the top level must be a struct or union");
  const { values, bytes: copied } = snapshotCost(root);
  if (values > MAX_VALUES) fail("", `the layout has ${values} values, more than the ${MAX_VALUES} a reader accepts`);
  if (copied > MAX_BYTES) {
    fail("", `the layout has ${copied} bytes of strings and byte arrays, more than the ${MAX_BYTES} a reader accepts`);
  }
  const estimate = snapshotBytes(root);
  if (estimate > MAX_SNAPSHOT_BYTES) {
    const mib = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MiB`;
    fail(
      "",
      `a snapshot of the layout would take about ${mib(estimate)}, more than the ${
        mib(MAX_SNAPSHOT_BYTES)
      } a reader accepts`,
    );
  }
  return root as StructType;
}

/** The first difference between two schemas, as a sentence, or undefined if they are equal. */
export function firstDifference(expected: Schema, actual: Schema): string | undefined {
  const join = (where: string, key: string) => (where === "" ? key : `${where}.${key}`);
  const walk = (a: unknown, b: unknown, where: string): string | undefined => {
    if (Array.isArray(a) && Array.isArray(b)) {
      // Only `fields` arrays occur: name each entry by its field name.
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (i >= a.length) return `the file has an extra field ${describe(b[i])} after ${describe(a[i - 1])}`;
        if (i >= b.length) return `the file lacks field ${describe(a[i])}`;
        const name = isRecord(a[i]) && typeof a[i].name === "string" ? a[i].name : `[${i}]`;
        const d = walk(a[i], b[i], join(where, name));
        if (d !== undefined) return d;
      }
      return undefined;
    }
    if (isRecord(a) && isRecord(b)) {
      // Fields first, so that a difference is reported where it starts, not as a size change.
      const keys = Object.keys(a).sort((x, y) => Number(y === "fields") - Number(x === "fields"));
      for (const key of keys) {
        const d = walk(a[key], b[key], key === "type" || key === "fields" ? where : join(where, key));
        if (d !== undefined) return d;
      }
      return undefined;
    }
    return a === b
      ? undefined
      : `${where || "the layout"}: expected ${JSON.stringify(a)}, the file has ${JSON.stringify(b)}`;
  };
  return walk(expected, actual, "");
}

function describe(value: unknown): string {
  return isRecord(value) && typeof value.name === "string" ? `"${value.name}"` : "(none)";
}
