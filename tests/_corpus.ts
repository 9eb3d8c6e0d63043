/**
 * A corpus of crafted struct files, for checking that every reader accepts and refuses the
 * same files for the same reasons (`read_struct_py.test.ts`): hand-made files, each named
 * for what it tests and with the outcome `docs/FORMAT.md` gives it, and seeded random
 * mutations of valid files. Built in memory, the same on every runtime and every run.
 *
 * @module
 */

import { array, bits, bool, bytes, f32, f32be, f64, f64be, f64le, i16, i16le, i32, i64, i64be, i8 } from "../mod.ts";
import { struct, type StructType, u16, u16be, u32, u32le, u64, u8, union, utf8 } from "../mod.ts";
import type { FormatErrorReason } from "../mod.ts";
import { fnv1a64, OFFSET, writeHeader } from "../struct_file/_format.ts";
import { formatVersionOf, toSchema } from "../struct_file/_schema.ts";
import { seededRandom } from "./_helpers.ts";

/** What a reader must make of a file: its value, a `FormatError` reason, or a dead writer. */
export type Expected = "ok" | Exclude<FormatErrorReason, "type-mismatch"> | "stale";

/** One crafted file. */
export interface CorpusFile {
  /** Unique, and says what the file tests. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The outcome the format gives it; unset for random mutations (only parity is checked). */
  readonly expected?: Expected;
}

const encoder = new TextEncoder();

function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** How to lay out a file around a schema text. */
interface Parts {
  /** The schema bytes, exactly (a string is UTF-8 encoded). */
  schema: string | Uint8Array;
  /** The data area's bytes, or its length (filled by a seeded generator). */
  data: Uint8Array | number;
  /** Where the schema starts (default 128, right after the header). */
  schemaOffset?: number;
  /** The data area starts at a multiple of this (default 64). */
  dataAlign?: number;
  /** Bytes of gap between the schema and the data, before rounding (default 0). */
  gap?: number;
  /** Bytes after the data (default 0). */
  trailing?: number;
  /** The format version (default 2). */
  version?: number;
}

/** A valid header, the schema and the data: the file a writer would make of them. */
function assemble(parts: Parts): Uint8Array {
  const schema = typeof parts.schema === "string" ? encoder.encode(parts.schema) : parts.schema;
  const schemaOffset = parts.schemaOffset ?? 128;
  const data = typeof parts.data === "number" ? noise(parts.data, parts.data * 7 + schema.length) : parts.data;
  const dataOffset = roundUp(schemaOffset + schema.length + (parts.gap ?? 0), parts.dataAlign ?? 64);
  const bytes = new Uint8Array(dataOffset + data.length + (parts.trailing ?? 0));
  writeHeader(bytes.buffer, {
    version: parts.version,
    schemaLength: schema.length,
    dataOffset,
    dataLength: data.length,
    writerPid: 0,
    writerStart: 0n,
    createdMs: 1_700_000_000_000,
    layoutHash: fnv1a64(schema),
  });
  new DataView(bytes.buffer).setBigUint64(OFFSET.schemaOffset, BigInt(schemaOffset), true);
  bytes.set(schema, schemaOffset);
  bytes.set(data, dataOffset);
  return bytes;
}

/** `length` seeded bytes: data whose floats, strings and booleans take odd values too. */
function noise(length: number, seed: number): Uint8Array {
  const next = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(next() * 256));
}

/** `text` encoded, with the first occurrence of the ASCII `find` replaced by `bytes`. */
function spliced(text: string, find: string, bytes: number[]): Uint8Array {
  const at = text.indexOf(find);
  return Uint8Array.of(...encoder.encode(text.slice(0, at)), ...bytes, ...encoder.encode(text.slice(at + find.length)));
}

/** A copy of `file` with header fields changed (little-endian x86_64/aarch64, as the tests run). */
function withHeader(file: Uint8Array, edit: (dv: DataView) => void): Uint8Array {
  const copy = file.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

const Everything = struct({
  id: i64,
  flags: array(bool, 2),
  name: utf8(10),
  raw: bytes(3),
  be: f64be,
  point: struct({ x: i16, y: u16 }, { packed: true }),
  grid: array(array(u8, 2), 2),
  items: array(struct({ k: u8, v: f32 }), 2),
  either: union({ n: u32, c: u8 }),
});
const Scalars = struct({
  a: i8,
  b: u8,
  c: i16le,
  d: u16be,
  e: i32,
  f: u32le,
  g: i64be,
  h: u64,
  i: f32,
  j: f32be,
  k: f64le,
  l: f64,
  m: bool,
});
const Aligned = struct({ a: u8, b: u32 }, { align: 128 });
const Overlay = union({ n: u32, c: array(u8, 4), s: utf8(4) });

/** Bitfields of every storage type, sharing units and starting new ones, between plain fields. */
const Bitfields = struct({
  a: bits(u8, 3),
  b: bits(i8, 5),
  c: bits(u16, 9),
  d: bits(i16, 9),
  n: u8,
  e: bits(u32, 17),
  f: bits(i32, 20),
  g: bits(u64, 33),
  h: bits(i64, 31),
  i: bits(bool, 1),
  j: bits(u64, 64),
  k: bits(i64, 64),
});
/** Packed: bitfields that straddle bytes and storage units. */
const PackedBitfields = struct({ a: u8, b: bits(i32, 31), c: bits(u64, 63), d: bits(bool, 1), e: u16 }, {
  packed: true,
});

/** A layout nested `levels` types deep below the top-level struct: arrays of one element, then a u8. */
function nested(levels: number): StructType {
  let type: Parameters<typeof array>[0] = u8;
  for (let i = 1; i < levels; i++) type = array(type, 1);
  return struct({ deep: type });
}

const schemaOf = (type: StructType) => JSON.stringify(toSchema(type));
const fileOf = (type: StructType, data: Uint8Array | number = type.size) =>
  assemble({ schema: schemaOf(type), data, dataAlign: Math.max(64, type.align), version: formatVersionOf(type) });

/** A file of `type` whose schema JSON `edit` changes (the hash follows). */
// deno-lint-ignore no-explicit-any -- edits reshape the schema freely, into invalid JSON shapes too
function edited(type: StructType, edit: (schema: Record<string, any>) => void, dataLength = type.size): Uint8Array {
  const schema = JSON.parse(schemaOf(type));
  edit(schema);
  return assemble({
    schema: JSON.stringify(schema),
    data: dataLength,
    dataAlign: Math.max(64, type.align),
    version: formatVersionOf(type),
  });
}

/** A file of `type` whose schema text `edit` rewrites (the hash follows). */
function rewritten(type: StructType, edit: (text: string) => string, dataLength = type.size): Uint8Array {
  const text = schemaOf(type);
  const changed = edit(text);
  if (changed === text) throw new Error(`the edit changed nothing in ${text}`);
  return assemble({
    schema: changed,
    data: dataLength,
    dataAlign: Math.max(64, type.align),
    version: formatVersionOf(type),
  });
}

const Pair = struct({ a: u32, b: u32 });
const pairSchema = schemaOf(Pair); // {"kind":"struct","packed":false,"align":4,"size":8,"fields":[...]}
/** Pair's schema with its first field renamed. */
const renamed = (name: string) => edited(Pair, (s) => s.fields[0].name = name);
/** Pair's schema with the JSON number token `from` (first occurrence) written as `to`. */
const number = (from: string, to: string) => rewritten(Pair, (t) => t.replace(from, to));

function handMade(): CorpusFile[] {
  const files: [string, Expected, Uint8Array][] = [];
  const add = (name: string, expected: Expected, bytes: Uint8Array) => files.push([name, expected, bytes]);
  const pair = fileOf(Pair);
  const deep = (depth: number) =>
    `{"kind":"struct","packed":false,"align":1,"size":1,"doc":${"[".repeat(depth - 1)}${
      "]".repeat(depth - 1)
    },"fields":[{"name":"a","offset":0,"type":{"kind":"scalar","name":"u8","byteOrder":"native"}}]}`;

  // Files a writer makes, and the freedoms the format leaves.
  add("valid-everything", "ok", fileOf(Everything));
  add("valid-every-scalar-and-byte-order", "ok", fileOf(Scalars));
  add("valid-align-128-data-at-a-multiple-of-128", "ok", fileOf(Aligned));
  add("valid-union-at-the-top", "ok", fileOf(Overlay));
  add("valid-types-32-deep", "ok", fileOf(nested(32)));
  add(
    "valid-header-length-256",
    "ok",
    withHeader(assemble({ schema: pairSchema, data: 8, schemaOffset: 256 }), (dv) => {
      dv.setUint32(OFFSET.headerLength, 256, true);
    }),
  );
  add(
    "valid-header-length-4096",
    "ok",
    withHeader(assemble({ schema: pairSchema, data: 8, schemaOffset: 4096 }), (dv) => {
      dv.setUint32(OFFSET.headerLength, 4096, true);
    }),
  );
  add("valid-schema-after-a-gap", "ok", assemble({ schema: pairSchema, data: 8, schemaOffset: 200 }));
  add("valid-gap-between-schema-and-data", "ok", assemble({ schema: pairSchema, data: 8, gap: 300 }));
  add("valid-bytes-after-the-data", "ok", assemble({ schema: pairSchema, data: 8, trailing: 100 }));
  add("valid-json-whitespace-around-the-schema", "ok", assemble({ schema: ` \n\t\r${pairSchema}\r\n `, data: 8 }));
  add(
    "valid-unknown-keys-everywhere",
    "ok",
    edited(Everything, (s) => {
      s.comment = { nested: [1, "two", null, true] };
      s.fields[0].note = "x";
      s.fields[0].type.unit = "ms";
      s.fields[1].type.element.extra = [];
    }),
  );
  add(
    "valid-duplicate-key-takes-the-last",
    "ok",
    rewritten(Pair, (t) => t.replace('"kind":"struct"', '"kind":"union","kind":"struct"')),
  );
  add("valid-json-nested-128-deep", "ok", assemble({ schema: deep(128), data: 1 }));
  add("valid-non-ascii-in-an-unknown-key", "ok", edited(Pair, (s) => s.doc = "héllo \u{1f600} \ufeff"));
  add("valid-bom-in-a-string-value", "ok", edited(Pair, (s) => s.fields[0].doc = "\ufeffx"));
  add("valid-utf8-value-starting-with-a-bom", "ok", fileOf(struct({ s: utf8(6) }), encoder.encode("\ufeffab\0")));
  add(
    "valid-utf8-value-invalid-utf8",
    "ok",
    fileOf(struct({ s: utf8(6) }), Uint8Array.of(0x61, 0xc3, 0x28, 0xed, 0xa0, 0x80)),
  );
  add("valid-bool-of-two-and-255", "ok", fileOf(struct({ a: bool, b: bool }), Uint8Array.of(2, 255)));
  add(
    "valid-float-nan-and-infinity",
    "ok",
    fileOf(struct({ n: f64, i: f32 }), Uint8Array.of(1, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0x80, 0xff, 0, 0, 0, 0)),
  );
  add(
    "valid-u64-max-and-i64-min",
    "ok",
    fileOf(
      struct({ u: u64, i: i64 }),
      Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0x80),
    ),
  );
  add("valid-sequence-even-and-large", "ok", withHeader(pair, (dv) => dv.setUint32(OFFSET.sequence, 0xfffffffe, true)));

  // Integers in JSON are numbers read as doubles: any spelling of an integer value is one.
  add("number-8e0-is-8", "ok", number('"size":8', '"size":8e0'));
  add("number-8.0-is-8", "ok", number('"size":8', '"size":8.0'));
  add("number-0.8e1-is-8", "ok", number('"size":8', '"size":0.8e1'));
  add("number-80E-1-is-8", "ok", number('"size":8', '"size":80E-1'));
  add("number-4e0-align", "ok", number('"align":4', '"align":4E+0'));
  add("number-minus-0-offset-is-0", "ok", number('"offset":0', '"offset":-0'));
  add("number-0e5-offset-is-0", "ok", number('"offset":0', '"offset":0e5'));
  add("number-minus-0.0-offset-is-0", "ok", number('"offset":0', '"offset":-0.0'));
  add("number-4.9e-325-offset-rounds-to-0", "ok", number('"offset":0', '"offset":4.9e-325'));
  add("number-8.0000000000000001-rounds-to-8", "ok", number('"size":8', '"size":8.0000000000000001'));
  add("number-8.000000000000002-is-not-8", "schema", number('"size":8', '"size":8.000000000000002'));
  add("number-8.5-not-an-integer", "schema", number('"size":8', '"size":8.5'));
  add("number-1e400-is-infinity", "schema", number('"size":8', '"size":1e400'));
  add("number-2-to-the-53-too-large", "schema", number('"size":8', '"size":9007199254740992'));
  add("number-2-to-the-53-plus-1-too-large", "schema", number('"size":8', '"size":9007199254740993'));
  add("number-5000-digits", "schema", number('"size":8', `"size":8${"0".repeat(5000)}`));
  add("number-negative-offset", "schema", number('"offset":4', '"offset":-4'));
  add("number-as-string", "schema", number('"offset":4', '"offset":"4"'));
  add("number-true-as-size", "schema", number('"size":8', '"size":true'));
  add("number-NaN-literal", "schema", number('"size":8', '"size":NaN'));
  add("number-Infinity-literal", "schema", number('"size":8', '"size":Infinity'));
  add("number-minus-Infinity-literal", "schema", number('"size":8', '"size":-Infinity'));
  add("number-leading-zero", "schema", number('"size":8', '"size":08'));
  add("number-leading-plus", "schema", number('"size":8', '"size":+8'));
  add("number-hex", "schema", number('"size":8', '"size":0x8'));

  // The schema is UTF-8 JSON text and nothing else: no byte order mark.
  add("bom-before-the-schema", "schema", assemble({ schema: `\ufeff${pairSchema}`, data: 8 }));
  add("bom-after-whitespace", "schema", assemble({ schema: ` \ufeff${pairSchema}`, data: 8 }));
  add(
    "bom-utf16-le",
    "schema",
    assemble({ schema: Uint8Array.of(0xff, 0xfe, ...encoder.encode(pairSchema)), data: 8 }),
  );
  add(
    "schema-invalid-utf8",
    "schema",
    assemble({ schema: spliced(pairSchema, '"a"', [0x22, 0xc3, 0x28, 0x22]), data: 8 }),
  );
  add(
    "schema-overlong-utf8",
    "schema",
    assemble({ schema: spliced(pairSchema, '"a"', [0x22, 0xc1, 0xa1, 0x22]), data: 8 }),
  );
  add(
    "schema-utf8-encoded-surrogate",
    "schema",
    assemble({ schema: spliced(pairSchema, '"a"', [0x22, 0xed, 0xa0, 0x80, 0x22]), data: 8 }),
  );
  add(
    "schema-utf8-beyond-u10ffff",
    "schema",
    assemble({ schema: spliced(pairSchema, '"a"', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), data: 8 }),
  );
  add("schema-not-json", "schema", assemble({ schema: "kind: struct", data: 8 }));
  add("schema-json-cut-short", "schema", assemble({ schema: pairSchema.slice(0, -1), data: 8 }));
  add("schema-trailing-comma", "schema", rewritten(Pair, (t) => t.replace("}]}", "},]}")));
  add("schema-single-quotes", "schema", rewritten(Pair, (t) => t.replace('"kind":"struct"', "'kind':'struct'")));
  add("schema-comment", "schema", assemble({ schema: `/* pair */${pairSchema}`, data: 8 }));
  add("schema-text-after-the-json", "schema", assemble({ schema: `${pairSchema}x`, data: 8 }));
  add("schema-two-json-values", "schema", assemble({ schema: `${pairSchema} {}`, data: 8 }));
  add("schema-control-character-in-a-string", "schema", rewritten(Pair, (t) => t.replace('"a"', '"a\u0001"')));
  add("schema-no-break-space-as-whitespace", "schema", assemble({ schema: `\u00a0${pairSchema}`, data: 8 }));
  add("schema-vertical-tab-as-whitespace", "schema", assemble({ schema: `\v${pairSchema}`, data: 8 }));
  add("schema-json-nested-129-deep", "schema", assemble({ schema: deep(129), data: 1 }));
  add("schema-json-nested-100000-deep", "schema", assemble({ schema: deep(100_000), data: 1 }));

  // The top level.
  add("top-level-array", "schema", assemble({ schema: "[]", data: 8 }));
  add("top-level-null", "schema", assemble({ schema: "null", data: 8 }));
  add("top-level-number", "schema", assemble({ schema: "16", data: 8 }));
  add("top-level-string", "schema", assemble({ schema: '"struct"', data: 8 }));
  add(
    "top-level-scalar",
    "schema",
    assemble({ schema: '{"kind":"scalar","name":"u64","byteOrder":"native"}', data: 8 }),
  );
  add("top-level-utf8", "schema", assemble({ schema: '{"kind":"utf8","size":8}', data: 8 }));
  add(
    "top-level-array-kind",
    "schema",
    assemble({ schema: JSON.stringify({ kind: "array", length: 2, element: toSchema(u32) }), data: 8 }),
  );

  // Field names: C identifiers, not C keywords, not reserved.
  for (const name of ["int", "struct", "_Bool", "_Static_assert", "bool", "true", "false"]) {
    add(`name-c-keyword-${name}`, "layout", renamed(name));
  }
  for (const name of ["constructor", "__proto__", "prototype", "toString", "valueOf", "hasOwnProperty"]) {
    add(`name-reserved-${name}`, "layout", renamed(name));
  }
  add("name-starts-with-a-digit", "layout", renamed("2x"));
  add("name-with-a-dash", "layout", renamed("a-b"));
  add("name-with-a-space", "layout", renamed("a b"));
  add("name-empty", "layout", renamed(""));
  add("name-non-ascii", "layout", renamed("café"));
  add("name-with-a-trailing-newline", "layout", renamed("a\n"));
  add("name-dollar", "layout", renamed("a$"));
  add("name-integer-like", "layout", renamed("0"));
  for (const name of ["A", "_", "_1", "Int", "__proto", "toString_", "constructor2", "x".repeat(300)]) {
    add(`name-valid-${name.length > 20 ? "300-characters" : name}`, "ok", renamed(name));
  }
  add("name-not-a-string", "schema", edited(Pair, (s) => s.fields[0].name = 1));
  add("name-missing", "schema", edited(Pair, (s) => delete s.fields[0].name));
  add("name-duplicate", "schema", edited(Pair, (s) => s.fields[1].name = "a"));

  // Scalars.
  add("scalar-name-in-an-array", "schema", edited(Pair, (s) => s.fields[0].type.name = ["u32"]));
  add("scalar-byte-order-in-an-array", "schema", edited(Pair, (s) => s.fields[0].type.byteOrder = [["native"]]));
  add("scalar-u8-little-endian", "schema", edited(struct({ a: u8 }), (s) => s.fields[0].type.byteOrder = "little"));
  add("scalar-i8-big-endian", "schema", edited(struct({ a: i8 }), (s) => s.fields[0].type.byteOrder = "big"));
  add("scalar-bool-big-endian", "schema", edited(struct({ a: bool }), (s) => s.fields[0].type.byteOrder = "big"));
  add("scalar-u32-big-endian", "ok", edited(Pair, (s) => s.fields[0].type.byteOrder = "big"));
  add("scalar-unknown-name", "schema", edited(Pair, (s) => s.fields[0].type.name = "u128"));
  add("scalar-unknown-byte-order", "schema", edited(Pair, (s) => s.fields[0].type.byteOrder = "middle"));
  add("scalar-name-missing", "schema", edited(Pair, (s) => delete s.fields[0].type.name));
  add("scalar-name-upper-case", "schema", edited(Pair, (s) => s.fields[0].type.name = "U32"));

  // Kinds, fields and their keys.
  add("kind-unknown", "schema", edited(Pair, (s) => s.fields[0].type.kind = "float"));
  add("kind-missing", "schema", edited(Pair, (s) => delete s.fields[0].type.kind));
  add("kind-a-number", "schema", edited(Pair, (s) => s.kind = 1));
  add("fields-empty", "schema", edited(Pair, (s) => s.fields = []));
  add("fields-an-object", "schema", edited(Pair, (s) => s.fields = { a: s.fields[0] }));
  add("fields-missing", "schema", edited(Pair, (s) => delete s.fields));
  add("field-not-an-object", "schema", edited(Pair, (s) => s.fields[1] = "b"));
  add("field-offset-missing", "schema", edited(Pair, (s) => delete s.fields[1].offset));
  add("field-type-missing", "schema", edited(Pair, (s) => delete s.fields[1].type));
  add("field-type-null", "schema", edited(Pair, (s) => s.fields[1].type = null));
  add("packed-a-string", "schema", edited(Pair, (s) => s.packed = "false"));
  add("packed-missing", "schema", edited(Pair, (s) => delete s.packed));
  add("packed-true-with-unpacked-offsets", "layout", edited(struct({ a: u8, b: u32 }), (s) => s.packed = true));
  add("align-0", "schema", edited(Pair, (s) => s.align = 0));
  add("align-missing", "schema", edited(Pair, (s) => delete s.align));
  add("align-3-not-a-power-of-two", "layout", edited(Pair, (s) => s.align = 3));
  add("align-8192-too-large", "layout", edited(Pair, (s) => (s.align = 8192, s.size = 8192)));
  add("align-below-the-natural-one", "layout", edited(Pair, (s) => s.align = 2));
  add("align-raised-to-8", "ok", edited(Pair, (s) => s.align = 8));
  add("align-raised-without-padding-the-size", "layout", edited(Pair, (s) => s.align = 16));
  add("size-0", "schema", edited(Pair, (s) => s.size = 0));
  add("size-wrong", "layout", edited(Pair, (s) => s.size = 12, 12));
  add("offset-wrong", "layout", edited(Pair, (s) => s.fields[1].offset = 5));
  add("offset-overlapping-fields", "layout", edited(Pair, (s) => s.fields[1].offset = 0));
  add("offset-past-the-struct", "layout", edited(Pair, (s) => s.fields[1].offset = 8));
  add("offset-misaligned-field", "layout", edited(struct({ a: u8, b: u32 }), (s) => s.fields[1].offset = 1));
  add("union-member-not-at-0", "layout", edited(Overlay, (s) => s.fields[1].offset = 1));
  add("union-size-of-the-smallest", "layout", edited(Overlay, (s) => s.size = 1, 1));
  add("utf8-size-0", "schema", edited(struct({ s: utf8(4) }), (s) => s.fields[0].type.size = 0));
  add("bytes-size-negative", "schema", edited(struct({ s: bytes(4) }), (s) => s.fields[0].type.size = -1));
  add("array-length-0", "schema", edited(struct({ a: array(u8, 4) }), (s) => s.fields[0].type.length = 0));
  add("array-element-missing", "schema", edited(struct({ a: array(u8, 4) }), (s) => delete s.fields[0].type.element));
  add(
    "array-of-2-to-the-50-u64-too-large",
    "layout",
    edited(struct({ a: array(u64, 1) }), (s) => {
      s.fields[0].type.length = 2 ** 50;
    }),
  );
  add(
    "array-error-inside-before-a-later-bad-field",
    "layout",
    edited(struct({ a: array(u64, 1), b: u8 }), (s) => {
      s.fields[0].type.length = 2 ** 50;
      s.fields[1].name = "int";
    }),
  );
  add(
    "layout-error-after-a-schema-error-in-a-later-field",
    "schema",
    edited(Pair, (s) => {
      s.fields[0].name = "int";
      s.fields[1].type.kind = "float";
    }),
  );
  add("types-33-deep", "schema", fileOf(nested(33)));
  add(
    "values-2-to-the-24-plus-1",
    "schema",
    edited(struct({ a: array(u8, 1) }), (s) => {
      s.fields[0].type.length = 2 ** 24 + 1;
      s.size = 2 ** 24 + 1;
    }, 1),
  );
  add(
    "values-2-to-the-24-accepted-then-wrong-size",
    "layout",
    edited(struct({ a: array(u8, 1) }), (s) => {
      s.fields[0].type.length = 2 ** 24;
      s.size = 2 ** 24;
    }, 1),
  );
  add(
    "bytes-over-1-gib",
    "schema",
    edited(struct({ a: bytes(1) }), (s) => {
      s.fields[0].type.size = 2 ** 30 + 1;
      s.size = 2 ** 30 + 1;
    }, 1),
  );
  add(
    // 2^23 values and 2^23 bytes are within the caps, but a copy would take about 2.3 GiB of objects and buffers.
    "snapshot-estimate-over-1-gib",
    "schema",
    edited(struct({ a: array(struct({ b: bytes(1) }), 1) }), (s) => {
      s.fields[0].type.length = 2 ** 23;
      s.size = 2 ** 23;
    }, 1),
  );
  add("data-length-not-the-layout-size", "layout", assemble({ schema: pairSchema, data: 12 }));

  // The header.
  add("file-empty", "truncated", new Uint8Array(0));
  add("file-of-1-byte", "truncated", pair.slice(0, 1));
  add("file-of-127-bytes", "truncated", pair.slice(0, 127));
  add("file-cut-after-the-header", "header", pair.slice(0, 128));
  add("file-cut-in-the-schema", "header", pair.slice(0, 150));
  add("file-cut-in-the-data", "truncated", pair.slice(0, pair.length - 1));
  add("magic-first-byte-zero", "magic", withHeader(pair, (dv) => dv.setUint8(0, 0)));
  add("magic-lower-case", "magic", pair.map((b, i) => i < 8 ? b | 0x20 : b));
  add("magic-all-zero-file", "magic", new Uint8Array(4096));
  add("magic-a-text-file", "magic", encoder.encode("hello, world: this is text, not a struct file at all, ".repeat(4)));
  add("byte-order-swapped", "byte-order", withHeader(pair, (dv) => dv.setUint16(OFFSET.byteOrder, 0x0201, true)));
  add("byte-order-mark-zero", "byte-order", withHeader(pair, (dv) => dv.setUint16(OFFSET.byteOrder, 0, true)));
  add(
    "byte-order-checked-before-the-version",
    "byte-order",
    withHeader(pair, (dv) => {
      dv.setUint16(OFFSET.byteOrder, 0x0201, true);
      dv.setUint16(OFFSET.version, 9, true);
    }),
  );
  // Bitfields: version 3 files only.
  const bitfields = fileOf(Bitfields);
  const oneBitfield = struct({ a: u8, b: bits(u16, 5), c: bits(u16, 12) });
  add("valid-bitfields-of-every-storage-type", "ok", bitfields);
  add("valid-bitfields-packed-straddling", "ok", fileOf(PackedBitfields));
  add("valid-bitfields-in-a-union", "ok", fileOf(union({ a: bits(u32, 3), b: bits(i8, 8), c: u16 })));
  add("valid-bitfields-nested", "ok", fileOf(struct({ x: u8, inner: oneBitfield, all: array(oneBitfield, 2) })));
  add("valid-version-3-without-bitfields", "ok", withHeader(pair, (dv) => dv.setUint16(OFFSET.version, 3, true)));
  add("bitfields-in-version-2", "schema", withHeader(bitfields, (dv) => dv.setUint16(OFFSET.version, 2, true)));
  add("bitfield-type-f32", "schema", edited(oneBitfield, (s) => s.fields[1].type.name = "f32"));
  add("bitfield-type-big-endian", "schema", edited(oneBitfield, (s) => s.fields[1].type.name = "u16be"));
  add("bitfield-type-missing", "schema", edited(oneBitfield, (s) => delete s.fields[1].type.name));
  add("bitfield-width-0", "schema", edited(oneBitfield, (s) => s.fields[1].type.width = 0));
  add("bitfield-width-not-an-integer", "schema", edited(oneBitfield, (s) => s.fields[1].type.width = 2.5));
  add("bitfield-width-a-string", "schema", edited(oneBitfield, (s) => s.fields[1].type.width = "5"));
  add("bitfield-wider-than-its-type", "layout", edited(oneBitfield, (s) => s.fields[1].type.width = 17));
  add(
    "bitfield-bool-of-2-bits",
    "layout",
    edited(oneBitfield, (s) => s.fields[1].type = { kind: "bits", name: "bool", width: 2 }),
  );
  add("bitfield-bit-offset-missing", "schema", edited(oneBitfield, (s) => delete s.fields[1].bitOffset));
  add("bitfield-bit-offset-8", "schema", edited(oneBitfield, (s) => s.fields[1].bitOffset = 8));
  add("bitfield-bit-offset-negative", "schema", edited(oneBitfield, (s) => s.fields[1].bitOffset = -1));
  add("bitfield-at-another-bit", "layout", edited(oneBitfield, (s) => s.fields[1].bitOffset = 1));
  add("bitfield-at-another-byte", "layout", edited(oneBitfield, (s) => s.fields[2].offset = 3));
  add(
    "bitfield-sharing-a-unit-it-cannot",
    "layout",
    edited(oneBitfield, (s) => {
      s.fields[2].offset = 1;
      s.fields[2].bitOffset = 5;
    }),
  );
  add(
    "bitfield-array-of",
    "layout",
    edited(oneBitfield, (s) => s.fields[1].type = { kind: "array", length: 2, element: s.fields[1].type }),
  );
  add(
    "bitfield-at-the-top",
    "schema",
    assemble({ schema: JSON.stringify({ kind: "bits", name: "u8", width: 3 }), data: 1, version: 3 }),
  );
  add("bitfield-size-too-small", "layout", edited(oneBitfield, (s) => s.size = 2, 2));
  add("version-1", "version", withHeader(pair, (dv) => dv.setUint16(OFFSET.version, 1, true)));
  add("version-4", "version", withHeader(pair, (dv) => dv.setUint16(OFFSET.version, 4, true)));
  add("version-65535", "version", withHeader(pair, (dv) => dv.setUint16(OFFSET.version, 0xffff, true)));
  add("header-length-0", "header", withHeader(pair, (dv) => dv.setUint32(OFFSET.headerLength, 0, true)));
  add("header-length-127", "header", withHeader(pair, (dv) => dv.setUint32(OFFSET.headerLength, 127, true)));
  add("header-length-4097", "header", withHeader(pair, (dv) => dv.setUint32(OFFSET.headerLength, 4097, true)));
  add(
    "header-length-past-the-schema-offset",
    "header",
    withHeader(pair, (dv) => dv.setUint32(OFFSET.headerLength, 200, true)),
  );
  add(
    "schema-offset-in-the-header",
    "header",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.schemaOffset, 64n, true)),
  );
  add(
    "schema-offset-2-to-the-64-minus-1",
    "header",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.schemaOffset, 2n ** 64n - 1n, true)),
  );
  add("schema-length-0", "header", withHeader(pair, (dv) => dv.setBigUint64(OFFSET.schemaLength, 0n, true)));
  add("schema-length-1", "header", withHeader(pair, (dv) => dv.setBigUint64(OFFSET.schemaLength, 1n, true)));
  add("schema-length-over-1-mib", "header", assemble({ schema: `${" ".repeat(2 ** 20)}${pairSchema}`, data: 8 }));
  add(
    "schema-length-1-mib-exactly",
    "ok",
    assemble({ schema: `${pairSchema}${" ".repeat(2 ** 20 - pairSchema.length)}`, data: 8 }),
  );
  add(
    "schema-overlaps-the-data",
    "header",
    withHeader(pair, (dv) => {
      dv.setBigUint64(OFFSET.schemaLength, dv.getBigUint64(OFFSET.dataOffset, true) - 127n, true);
    }),
  );
  add(
    "schema-length-larger-than-the-file",
    "header",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.schemaLength, 2n ** 40n, true)),
  );
  add(
    "data-offset-2-to-the-63",
    "header",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.dataOffset, 2n ** 63n, true)),
  );
  add(
    "data-offset-not-a-multiple-of-64",
    "header",
    withHeader(assemble({ schema: pairSchema, data: 8, trailing: 64 }), (dv) => {
      dv.setBigUint64(OFFSET.dataOffset, dv.getBigUint64(OFFSET.dataOffset, true) + 8n, true);
    }),
  );
  // At a multiple of 64 that is not one of 128.
  const at64 = roundUp(128 + schemaOf(Aligned).length, 64) % 128 === 0 ? 64 : 0;
  add(
    "data-offset-not-a-multiple-of-the-layout-align-128",
    "header",
    assemble({ schema: schemaOf(Aligned), data: 128, gap: at64 }),
  );
  add("data-length-0", "header", withHeader(pair, (dv) => dv.setBigUint64(OFFSET.dataLength, 0n, true)));
  add(
    "data-length-larger-than-the-file",
    "header",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.dataLength, 2n ** 33n, true)),
  );
  add(
    "data-length-past-the-end",
    "truncated",
    withHeader(pair, (dv) => dv.setBigUint64(OFFSET.dataLength, 100n, true)),
  );
  add("hash-zero", "hash", withHeader(pair, (dv) => dv.setBigUint64(OFFSET.layoutHash, 0n, true)));
  add(
    "hash-of-another-schema",
    "hash",
    withHeader(pair, (dv) => {
      dv.setBigUint64(OFFSET.layoutHash, fnv1a64(encoder.encode(schemaOf(Everything))), true);
    }),
  );
  add("hash-schema-byte-changed", "hash", pair.map((b, i) => i === 140 ? b ^ 1 : b));
  add("hash-checked-before-utf8", "hash", pair.map((b, i) => i === 140 ? 0xff : b));

  // The sequence word: a writer that died inside an update.
  add(
    "sequence-odd-dead-writer",
    "stale",
    withHeader(pair, (dv) => dv.setUint32(OFFSET.sequence, (0x3ffffffe << 1) | 1, true)),
  );
  add("sequence-odd-pid-0", "stale", withHeader(pair, (dv) => dv.setUint32(OFFSET.sequence, 1, true)));
  add(
    "sequence-odd-pid-2-to-the-31-minus-1",
    "stale",
    withHeader(pair, (dv) => dv.setUint32(OFFSET.sequence, 0xffffffff, true)),
  );
  return files.map(([name, expected, bytes]) => ({ name, expected, bytes }));
}

/** JSON tokens a mutation writes over another: numbers in every spelling, names, kinds and other types. */
const TOKENS = [
  "0",
  "1",
  "2",
  "3",
  "4",
  "8",
  "16",
  "64",
  "4096",
  "8192",
  "-0",
  "-1",
  "8e0",
  "1e2",
  "0.5",
  "1.5e1",
  "80E-1",
  "9007199254740991",
  "9007199254740992",
  "1e400",
  "08",
  "+1",
  ".5",
  "NaN",
  "true",
  "false",
  "null",
  "[]",
  "{}",
  '"8"',
  '"u8"',
  '"u64"',
  '"bool"',
  '"f64"',
  '"int"',
  '"constructor"',
  '"__proto__"',
  '"native"',
  '"little"',
  '"big"',
  '"struct"',
  '"union"',
  '"scalar"',
  '"array"',
  '"utf8"',
  '"bytes"',
  '"a"',
  '"\\ufeff"',
  '"2x"',
  '""',
];
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/g;
const SCHEMA_CHARACTERS = '{}[],:"0123456789eE.-+ \\u';
const HEADER_FIELDS = [
  [OFFSET.version, 2],
  [OFFSET.byteOrder, 2],
  [OFFSET.headerLength, 4],
  [OFFSET.schemaOffset, 8],
  [OFFSET.schemaLength, 8],
  [OFFSET.dataOffset, 8],
  [OFFSET.dataLength, 8],
  [OFFSET.layoutHash, 8],
] as const;

/** `count` seeded random mutations of valid files, named by number and kind of mutation. */
function mutations(count: number, seed: number): CorpusFile[] {
  const next = seededRandom(seed);
  const below = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[below(items.length)];
  const bases = [
    Everything,
    Scalars,
    Aligned,
    Overlay,
    Pair,
    struct({ s: utf8(5), b: bytes(2), t: bool }),
    Bitfields,
    PackedBitfields,
  ];
  const files: CorpusFile[] = [];
  for (let n = 0; n < count; n++) {
    const type = pick(bases);
    const text = schemaOf(type);
    const file = fileOf(type);
    const withSchema = (schema: string | Uint8Array) =>
      assemble({ schema, data: type.size, dataAlign: Math.max(64, type.align), version: formatVersionOf(type) });
    const roll = next();
    let kind: string;
    let bytes: Uint8Array;
    if (roll < 0.3) {
      kind = "schema-token";
      const tokens = [...text.matchAll(TOKEN)];
      const token = pick(tokens);
      const index = token.index!;
      bytes = withSchema(text.slice(0, index) + pick(TOKENS) + text.slice(index + token[0].length));
    } else if (roll < 0.5) {
      kind = "schema-byte";
      const schema = encoder.encode(text);
      schema[below(schema.length)] = next() < 0.7
        ? SCHEMA_CHARACTERS.charCodeAt(below(SCHEMA_CHARACTERS.length))
        : below(256);
      bytes = withSchema(schema);
    } else if (roll < 0.6) {
      kind = "schema-cut";
      const at = below(text.length);
      bytes = withSchema(text.slice(0, at) + text.slice(at + 1 + below(8)));
    } else if (roll < 0.65) {
      kind = "schema-repeat";
      const at = below(text.length);
      const piece = text.slice(at, at + 1 + below(24));
      const to = below(text.length);
      bytes = withSchema(text.slice(0, to) + piece + text.slice(to));
    } else if (roll < 0.77) {
      kind = "header-field";
      const [offset, width] = pick(HEADER_FIELDS);
      const dv = new DataView(file.buffer);
      const old = width === 2
        ? dv.getUint16(offset, true)
        : width === 4
        ? dv.getUint32(offset, true)
        : Number(dv.getBigUint64(offset, true));
      const size = file.length;
      const value = pick([
        0,
        1,
        2,
        64,
        127,
        128,
        129,
        4096,
        4097,
        size - 1,
        size,
        size + 1,
        old - 1,
        old + 1,
        old + 64,
        old - 64,
        2 ** 16 - 1,
        2 ** 32 - 1,
        2 ** 53,
      ]);
      const max = 2 ** (8 * width) - 1;
      const clamped = Math.min(Math.max(value, 0), max);
      bytes = withHeader(file, (view) => {
        if (width === 2) view.setUint16(offset, clamped, true);
        else if (width === 4) view.setUint32(offset, clamped, true);
        else view.setBigUint64(offset, BigInt(clamped), true);
      });
    } else if (roll < 0.82) {
      kind = "truncate";
      bytes = file.slice(0, below(file.length));
    } else if (roll < 0.85) {
      kind = "append";
      bytes = Uint8Array.of(...file, ...noise(1 + below(100), n));
    } else if (roll < 0.95) {
      kind = "data";
      bytes = fileOf(type, noise(type.size, seed + n));
    } else {
      kind = "flip";
      bytes = file.slice();
      let at = below(bytes.length);
      if (at >= OFFSET.sequence && at < OFFSET.sequence + 4) at += 4; // keep the sequence even: no 1 s waits
      bytes[at] ^= 1 + below(255);
    }
    files.push({ name: `random-${String(n).padStart(3, "0")}-${kind}`, bytes });
  }
  return files;
}

/** The whole corpus: the hand-made files and 120 random mutations. */
export function corpus(): CorpusFile[] {
  const files = [...handMade(), ...mutations(120, 20260401)];
  const names = new Set(files.map((f) => f.name));
  if (names.size !== files.length) throw new Error("two corpus files have the same name");
  return files;
}
