/**
 * {@linkcode toCtypes}: the Python `ctypes` declaration of a layout.
 *
 * @module
 */

import { dimensions, nameComposites, validateTypeName } from "./to_c.ts";
import {
  type BitsType,
  type CompositeType,
  type FieldInfo,
  type FieldType,
  isMadeType,
  type ScalarType,
} from "./types.ts";

const PYTHON_KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "),
);

const CTYPES_SCALAR: Record<string, string> = {
  i8: "ctypes.c_int8",
  u8: "ctypes.c_uint8",
  i16: "ctypes.c_int16",
  u16: "ctypes.c_uint16",
  i32: "ctypes.c_int32",
  u32: "ctypes.c_uint32",
  i64: "ctypes.c_int64",
  u64: "ctypes.c_uint64",
  f32: "ctypes.c_float",
  f64: "ctypes.c_double",
  bool: "ctypes.c_bool",
};

/** ctypes' integer types by size, for bitfield storage units. */
const CTYPES_UNIT: Record<number, [signed: string, unsigned: string]> = {
  1: ["ctypes.c_int8", "ctypes.c_uint8"],
  2: ["ctypes.c_int16", "ctypes.c_uint16"],
  4: ["ctypes.c_int32", "ctypes.c_uint32"],
  8: ["ctypes.c_int64", "ctypes.c_uint64"],
};

/** A ctypes storage unit for consecutive bitfields: `size` bytes from byte `start`. */
interface Unit {
  start: number;
  size: number;
  fields: FieldInfo[];
}

/**
 * Splits a run of consecutive bitfields into ctypes storage units that hold exactly the
 * bits gcc gives them: each unit is 1, 2, 4 or 8 bytes, lies between `from` (the end of
 * what comes before) and `limit` (the next non-bitfield field, or the end of the struct),
 * and starts at or before the byte of its first field's first bit. ctypes places each unit
 * at the current byte, since classes are declared `_pack_ = 1`.
 */
function bitfieldUnits(run: FieldInfo[], from: number, limit: number, what: string): Unit[] {
  const units: Unit[] = [];
  /** Where a unit holding bytes [first, end) can go, at or after `after`: the smallest that fits. */
  const place = (after: number, first: number, end: number) => {
    for (const size of [1, 2, 4, 8]) {
      const start = Math.max(after, end - size);
      if (start <= first && start + size >= end && start + size <= limit) return { start, size };
    }
    return undefined;
  };
  for (const field of run) {
    const [firstBit, width] = bitRange(field);
    const end = Math.ceil((firstBit + width) / 8);
    const unit = units.at(-1);
    if (unit !== undefined) {
      const before = units.length > 1 ? units[units.length - 2] : undefined;
      const grown = place(before === undefined ? from : before.start + before.size, unit.fields[0].offset, end);
      if (grown !== undefined) {
        Object.assign(unit, grown);
        unit.fields.push(field);
        continue;
      }
    }
    const placed = place(unit === undefined ? from : unit.start + unit.size, field.offset, end);
    if (placed === undefined) {
      throw new TypeError(
        `Cannot generate ctypes for "${what}": ctypes has no storage unit for bitfield "${field.name}" at bit ` +
          `${firstBit}: no 1, 2, 4 or 8-byte unit holds its bits without overlapping other fields`,
      );
    }
    units.push({ ...placed, fields: [field] });
  }
  return units;
}

/** The first bit and the width of a bitfield, or of an integer field taken into a unit. */
function bitRange(field: FieldInfo): [first: number, width: number] {
  const type = field.type as BitsType | ScalarType;
  return type.kind === "bits" ? [field.offset * 8 + field.bitOffset!, type.width] : [field.offset * 8, type.size * 8];
}

/**
 * The ctypes type of a field in a unit of `size` bytes: the unit's size, the field's
 * signedness. Never `c_bool`: ctypes reads a `c_bool` bitfield as its whole byte
 * (CPython 3.11: `True` for a byte of 2 in a `c_bool` field of 1 bit), so `bool` bitfields
 * are unsigned and read as 0 or 1.
 */
function bitfieldCtype(type: BitsType | ScalarType, size: number): string {
  return CTYPES_UNIT[size][type.name.startsWith("i") ? 0 : 1];
}

/**
 * Whether a field can be declared as a full-width bitfield of a unit: an integer of native
 * byte order (not a float, nor a `bool`, which would then read as its byte).
 */
const isInteger = (type: FieldType) =>
  type.kind === "scalar" && type.byteOrder === "native" && type.name !== "f32" && type.name !== "f64" &&
  type.name !== "bool";

/**
 * The `_fields_` lines of one struct or union, with bitfields grouped in units (see
 * {@linkcode toCtypes}); with `absorb`, the integer fields next to bitfields can share their
 * units (as full-width bitfields), and their names are added to `taken`.
 *
 * @throws {TypeError} If ctypes has no unit for a bitfield.
 */
function fieldLines(
  composite: CompositeType,
  className: string,
  names: Map<CompositeType, string>,
  absorb: boolean,
  taken: Set<string>,
): string[] {
  const out: string[] = [];
  let end = 0;
  let pads = 0;
  const fields = composite.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    // A run: consecutive bitfields, with the integer fields around them when `absorb`.
    const packable = (f: FieldInfo) => f.type.kind === "bits" || (absorb && isInteger(f.type));
    let j = i;
    if (composite.kind === "struct" && packable(field)) {
      while (j + 1 < fields.length && packable(fields[j + 1])) j++;
    }
    if (fields.slice(i, j + 1).some((f) => f.type.kind === "bits")) {
      const next = fields[j + 1];
      const limit = composite.kind === "union" || next === undefined ? composite.size : next.offset;
      for (
        const unit of bitfieldUnits(fields.slice(i, j + 1), composite.kind === "union" ? 0 : end, limit, className)
      ) {
        if (composite.kind === "struct" && unit.start > end) {
          out.push(`        ("_mmstruct_pad${pads++}", ctypes.c_uint8 * ${unit.start - end}),`);
        }
        const padType = CTYPES_UNIT[unit.size][1];
        let bit = unit.start * 8;
        for (const f of unit.fields) {
          const [first, width] = bitRange(f);
          if (first > bit) out.push(`        ("_mmstruct_pad${pads++}", ${padType}, ${first - bit}),`);
          out.push(`        ("${f.name}", ${bitfieldCtype(f.type as BitsType | ScalarType, unit.size)}, ${width}),`);
          if (f.type.kind !== "bits") taken.add(f.name);
          bit = first + width;
        }
        // Filled to its end, so that ctypes starts the next unit rather than continuing this one.
        if (bit < (unit.start + unit.size) * 8) {
          out.push(`        ("_mmstruct_pad${pads++}", ${padType}, ${(unit.start + unit.size) * 8 - bit}),`);
        }
        end = Math.max(end, unit.start + unit.size);
      }
      i = j;
      continue;
    }
    if (composite.kind === "struct" && field.offset > end) {
      out.push(`        ("_mmstruct_pad${pads++}", ctypes.c_uint8 * ${field.offset - end}),`);
    }
    const { element, lengths } = dimensions(field.type);
    let pyType: string;
    switch (element.kind) {
      case "scalar": {
        const plain = CTYPES_SCALAR[element.name];
        pyType = element.byteOrder === "big"
          ? `${plain}.__ctype_be__`
          : element.byteOrder === "little"
          ? `${plain}.__ctype_le__`
          : plain;
        break;
      }
      case "utf8":
        pyType = `ctypes.c_char * ${element.size}`;
        break;
      case "bytes":
        pyType = `ctypes.c_uint8 * ${element.size}`;
        break;
      default:
        pyType = names.get(element as CompositeType)!;
    }
    // ctypes array types nest from the innermost dimension out: (T * 3) * 2 is T[2][3].
    for (const n of [...lengths].reverse()) pyType = `(${pyType}) * ${n}`;
    out.push(`        ("${field.name}", ${pyType}),`);
    end = Math.max(end, field.offset + field.size);
  }
  if (composite.size > end) {
    const padding = composite.kind === "union"
      ? `ctypes.c_uint8 * ${composite.size}`
      : `ctypes.c_uint8 * ${composite.size - end}`;
    out.push(`        ("_mmstruct_pad${pads++}", ${padding}),`);
  }
  return out;
}

/**
 * Python source declaring a `ctypes.Structure` (or `ctypes.Union`) with the same layout as
 * `type`, to read or write the same memory from Python (`Name.from_buffer(mm)`).
 *
 * Every class is declared with `_pack_ = 1` and explicit padding fields
 * (`_mmstruct_pad0`, …), so offsets and sizes are exactly the library's whatever ctypes'
 * own alignment rules; `assert` lines check them on import. Fixed byte-order fields use
 * ctypes' `__ctype_be__`/`__ctype_le__` types; `utf8` fields are `c_char` arrays (their
 * `.value` is the bytes before the first NUL).
 *
 * Bitfields use ctypes' `("name", ctypes.c_uint32, 3)` form. So that ctypes puts each one
 * on the bits gcc gives it, they are grouped into storage units of ctypes' own choosing: a
 * unit is 1, 2, 4 or 8 bytes, in bytes no other field uses, and is filled up with padding
 * bitfields; each field is declared with the unit's integer type of its own
 * signedness (a `bool` bitfield reads as 0 or 1: ctypes' `c_bool` bitfields read the whole
 * byte). Where the bitfields need it, the integer fields next to them share their units
 * as full-width bitfields. A layout
 * where no such unit holds a bitfield without overlapping other fields (`int64_t a : 20;
 * bool b; uint32_t c : 4;`: `a` needs bytes 0 to 2, and a 4-byte unit there would hold
 * `b`, which only an integer field could share; or a packed 64-bit bitfield from
 * mid-byte, which needs 9 bytes) is refused with a `TypeError` that names the bitfield.
 *
 * @param type A struct or union type.
 * @param name The Python class name.
 * @returns Python 3 source (needs only the standard library).
 * @throws {TypeError} If `name` is not an identifier, `type` is not a struct or union, or
 * ctypes cannot express its bitfields (see above).
 *
 * @example The Python side of a layout
 * ```ts
 * import { struct, toCtypes, u32, utf8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const source = toCtypes(struct({ hits: u32, name: utf8(16) }), "Stats");
 * assert.match(source, /class Stats\(ctypes\.Structure\):/);
 * assert.match(source, /\("hits", ctypes\.c_uint32\)/);
 * assert.match(source, /assert Stats\.name\.offset == 4/);
 * ```
 */
export function toCtypes(type: CompositeType, name: string): string {
  validateTypeName(name, "generate ctypes");
  if (!isMadeType(type) || (type.kind !== "struct" && type.kind !== "union")) {
    throw new TypeError(
      `Cannot generate ctypes for "${name}": expected a struct or union type made by struct() or union()`,
    );
  }
  const names = nameComposites(type, name);
  const out = ["import ctypes", ""];
  for (const [composite, className] of names) {
    const base = composite.kind === "union" ? "ctypes.Union" : "ctypes.Structure";
    out.push(`class ${className}(${base}):`);
    out.push("    _pack_ = 1");
    out.push('    _layout_ = "ms"');
    out.push("    _fields_ = [");
    // Integer fields are taken into bitfield units only where the bitfields need it.
    let taken = new Set<string>();
    let lines: string[];
    try {
      lines = fieldLines(composite, className, names, false, taken);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      taken = new Set();
      try {
        lines = fieldLines(composite, className, names, true, taken);
      } catch (retry) {
        // The first error names a bitfield; the retry's may name an integer field it took into a unit.
        throw retry instanceof TypeError ? error : retry;
      }
    }
    out.push(...lines);
    out.push("    ]");
    out.push("");
    out.push(`assert ctypes.sizeof(${className}) == ${composite.size}`);
    for (const field of composite.fields) {
      // A bitfield's offset in ctypes is its unit's, which gcc does not have: the size and the
      // neighbours' offsets check its place.
      if (field.type.kind === "bits" || taken.has(field.name)) continue;
      const attribute = PYTHON_KEYWORDS.has(field.name)
        ? `getattr(${className}, "${field.name}")`
        : `${className}.${field.name}`;
      out.push(`assert ${attribute}.offset == ${field.offset}`);
    }
    out.push("");
  }
  return out.join("\n");
}
