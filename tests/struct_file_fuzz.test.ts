import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import {
  array,
  bool,
  bytes,
  f32,
  FormatError,
  StaleWriterError,
  struct,
  StructFile,
  type StructType,
  u16,
  u32,
  u64,
  u8,
  union,
  utf8,
} from "../mod.ts";
import { OFFSET } from "../struct_file/_format.ts";
import { Pair } from "./fixtures/pair.ts";
import { rewriteSchema } from "./_struct_files.ts";
import { tempDir } from "./_helpers.ts";

const RUNS = 100_000;

const LAYOUTS: StructType[] = [
  Pair,
  struct({
    n: u8,
    p: struct({ x: f32, y: u16 }),
    tags: array(utf8(3), 2),
    u: union({ a: u32, b: bytes(6) }),
    ok: bool,
  }),
  struct({ a: u8, b: u64, c: array(u16, 3) }, { packed: true }),
];

type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "u64"; offset: number; value: bigint }
  | { kind: "u32"; offset: number; value: number }
  | { kind: "schema"; at: number; action: "set" | "delete" | "nest"; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    kind: fc.constant("u64" as const),
    offset: fc.constantFrom(...[
      OFFSET.schemaOffset,
      OFFSET.schemaLength,
      OFFSET.dataOffset,
      OFFSET.dataLength,
      OFFSET.writerStart,
    ]),
    value: fc.oneof(fc.bigInt({ min: 0n, max: 4096n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  }),
  fc.record({
    kind: fc.constant("u32" as const),
    offset: fc.constantFrom(OFFSET.version, OFFSET.headerLength, OFFSET.sequence, OFFSET.writerPid),
    value: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  }),
  fc.record({
    kind: fc.constant("schema" as const),
    at: fc.nat(),
    action: fc.constantFrom("set" as const, "delete" as const, "nest" as const),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.integer({ min: -2, max: 70 }),
      fc.constantFrom(
        "u8",
        "u64",
        "f64",
        "bool",
        "struct",
        "union",
        "array",
        "utf8",
        "bytes",
        "scalar",
        "native",
        "big",
      ),
    ),
  }),
);

/** Every [container, key] in a JSON tree, so that a random one can be edited. */
function places(node: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      out.push([node, i]);
      places(child, out);
    });
  } else if (typeof node === "object" && node !== null) {
    for (const [key, child] of Object.entries(node)) {
      out.push([node as Record<string, unknown>, key]);
      places(child, out);
    }
  }
  return out;
}

/** Applies a schema edit to a valid file (lengths and hash made to match). */
function editSchema(file: Uint8Array, edit: Extract<Mutation, { kind: "schema" }>): Uint8Array {
  return rewriteSchema(file, (schema) => {
    const all = places(schema);
    const [container, key] = all[edit.at % all.length];
    const target = container as Record<string | number, unknown>;
    if (edit.action === "set") target[key] = edit.value;
    else if (edit.action === "delete") delete target[key];
    else target[key] = { kind: "array", length: 1, element: target[key] };
  });
}

function mutate(base: Uint8Array, mutations: Mutation[]): Uint8Array {
  let file: Uint8Array = base.slice();
  for (const m of mutations) {
    const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
    switch (m.kind) {
      case "flip":
        if (file.length > 0) file[m.at % file.length] = m.value;
        break;
      case "truncate":
        file = file.slice(0, m.at % (file.length + 1));
        break;
      case "append": {
        const longer = new Uint8Array(file.length + m.bytes.length);
        longer.set(file);
        longer.set(m.bytes, file.length);
        file = longer;
        break;
      }
      case "u64":
        if (file.length >= 128) dv.setBigUint64(m.offset, m.value, true);
        break;
      case "u32":
        if (file.length >= 128) dv.setUint32(m.offset, m.value, true);
        break;
      case "schema":
        try {
          file = editSchema(file, m);
        } catch {
          // The schema was already broken by an earlier mutation: leave the file as it is.
        }
        break;
    }
  }
  return file;
}

/** Reads every property of a view, nested ones included. */
function touch(value: unknown, depth = 0): number {
  if (depth > 40 || typeof value !== "object" || value === null) return 1;
  let n = 0;
  if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const item of value as Iterable<unknown>) n += touch(item, depth + 1);
    return n;
  }
  for (const key of Object.keys(Object.getPrototypeOf(value) === Object.prototype ? value : {})) {
    n += touch((value as Record<string, unknown>)[key], depth + 1);
  }
  return n;
}

test(`StructFile.open() survives ${RUNS} mutated and truncated files: only typed errors, no crash or hang`, () => {
  using tmp = tempDir();
  const bases = LAYOUTS.map((type, i) => {
    const path = tmp.path(`base${i}.mms`);
    StructFile.create(path, type).close();
    return new Uint8Array(readFileSync(path));
  });
  const path = tmp.path("fuzz.mms");
  const outcomes = { opened: 0, format: 0, stale: 0 };
  const reasons = new Set<string>();
  fc.assert(
    fc.property(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, mutations) => {
      writeFileSync(path, mutate(bases[base], mutations));
      try {
        // timeout 0: a file claiming a live writer mid-update fails at once instead of waiting.
        using file = StructFile.open(path, { timeout: 0 });
        outcomes.opened++;
        touch(file.snapshot());
        for (const field of file.type.fields) {
          try {
            touch((file.view as Record<string, unknown>)[field.name]);
          } catch (error) {
            // Documented: a misaligned numeric array of a packed layout has no typed-array view.
            if (!(error instanceof TypeError && /not aligned/.test(error.message))) throw error;
          }
        }
      } catch (error) {
        if (error instanceof FormatError) {
          outcomes.format++;
          reasons.add(error.reason);
        } else if (error instanceof StaleWriterError) {
          outcomes.stale++;
        } else {
          throw error;
        }
      }
    }),
    { numRuns: RUNS },
  );
  // The mutations reached every layer: files that open, and each kind of refusal.
  assert.ok(outcomes.opened > 100, JSON.stringify(outcomes));
  for (const reason of ["truncated", "magic", "version", "header", "schema", "layout", "hash"]) {
    assert.ok(reasons.has(reason), `no file was refused for "${reason}": ${[...reasons]}`);
  }
});
