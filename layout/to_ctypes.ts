/**
 * {@linkcode toCtypes}: the Python `ctypes` declaration of a layout.
 *
 * @module
 */

import { dimensions, nameComposites, validateTypeName } from "./to_c.ts";
import { type CompositeType, isMadeType } from "./types.ts";

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
 * @param type A struct or union type.
 * @param name The Python class name.
 * @returns Python 3 source (needs only the standard library).
 * @throws {TypeError} If `name` is not an identifier or `type` is not a struct or union.
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
    let end = 0;
    let pads = 0;
    for (const field of composite.fields) {
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
          pyType = names.get(element)!;
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
    out.push("    ]");
    out.push("");
    out.push(`assert ctypes.sizeof(${className}) == ${composite.size}`);
    for (const field of composite.fields) {
      const attribute = PYTHON_KEYWORDS.has(field.name)
        ? `getattr(${className}, "${field.name}")`
        : `${className}.${field.name}`;
      out.push(`assert ${attribute}.offset == ${field.offset}`);
    }
    out.push("");
  }
  return out.join("\n");
}
