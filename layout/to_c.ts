/**
 * {@linkcode toC}: the C declaration of a layout, with compile-time checks of its layout.
 *
 * @module
 */

import { type CompositeType, type FieldType, isMadeType } from "./types.ts";

const C_SCALAR: Record<string, string> = {
  i8: "int8_t",
  u8: "uint8_t",
  i16: "int16_t",
  u16: "uint16_t",
  i32: "int32_t",
  u32: "uint32_t",
  i64: "int64_t",
  u64: "uint64_t",
  f32: "float",
  f64: "double",
  bool: "bool",
};

/** Throws a `TypeError` unless `name` can name a C type. */
export function validateTypeName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new TypeError(`Cannot ${what}: ${JSON.stringify(name)} is not a C identifier`);
  }
}

/**
 * Names every struct and union reachable from `root`, the root itself as `name` and the
 * others after the field that first holds them (`name_field`), in dependency order
 * (a type before any type that contains it).
 */
export function nameComposites(root: CompositeType, name: string): Map<CompositeType, string> {
  const names = new Map<CompositeType, string>();
  const visit = (type: CompositeType, typeName: string) => {
    if (names.has(type)) return;
    for (const field of type.fields) {
      let inner: FieldType = field.type;
      while (inner.kind === "array") inner = inner.element;
      if (inner.kind === "struct" || inner.kind === "union") visit(inner, `${typeName}_${field.name}`);
    }
    names.set(type, typeName);
  };
  visit(root, name);
  return names;
}

/** Splits an array type into its innermost element and its dimensions (`[2][3]`). */
export function dimensions(type: FieldType): { element: Exclude<FieldType, { kind: "array" }>; lengths: number[] } {
  const lengths: number[] = [];
  let inner = type;
  while (inner.kind === "array") {
    lengths.push(inner.length);
    inner = inner.element;
  }
  return { element: inner, lengths };
}

function attributes(type: CompositeType, naturalAlign: number): string {
  const parts: string[] = [];
  if (type.packed) parts.push("packed");
  if (type.align !== naturalAlign) parts.push(`aligned(${type.align})`);
  return parts.length === 0 ? "" : ` __attribute__((${parts.join(", ")}))`;
}

function naturalAlignment(type: CompositeType): number {
  return type.packed ? 1 : Math.max(...type.fields.map((f) => f.type.align));
}

/**
 * The C declaration of a struct or union type, with `_Static_assert`s that check its size,
 * alignment and every field offset when compiled (C11; gcc or clang). Nested structs and
 * unions are declared first, named after the field holding them. Fixed byte-order fields
 * are declared with the plain integer type and a comment: C has no byte-order types.
 * Bitfields are declared as such (`uint32_t mode : 3;`); C has no `offsetof` of a bitfield,
 * so their places are checked through the offsets of the fields around them and the size.
 *
 * @param type A struct or union type.
 * @param name The C tag (`struct name`).
 * @returns C source, including the `#include`s it needs.
 * @throws {TypeError} If `name` is not a C identifier or `type` is not a struct or union.
 *
 * @example The C side of a layout
 * ```ts
 * import { struct, toC, u32, utf8 } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const source = toC(struct({ hits: u32, name: utf8(16) }), "stats");
 * assert.ok(source.includes("struct stats {\n  uint32_t hits;\n  char name[16];"));
 * assert.match(source, /_Static_assert\(offsetof\(struct stats, name\) == 4/);
 * ```
 */
export function toC(type: CompositeType, name: string): string {
  validateTypeName(name, "generate C");
  if (!isMadeType(type) || (type.kind !== "struct" && type.kind !== "union")) {
    throw new TypeError(`Cannot generate C for "${name}": expected a struct or union type made by struct() or union()`);
  }
  const names = nameComposites(type, name);
  const out = ["#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>", ""];
  for (const [composite, typeName] of names) {
    const tag = `${composite.kind} ${typeName}`;
    out.push(`${tag} {`);
    for (const field of composite.fields) {
      const { element, lengths } = dimensions(field.type);
      const suffix = lengths.map((n) => `[${n}]`).join("");
      let cType: string;
      let comment = "";
      let width = "";
      switch (element.kind) {
        case "scalar":
          cType = C_SCALAR[element.name];
          if (element.byteOrder !== "native") comment = ` /* ${element.byteOrder}-endian */`;
          break;
        case "bits":
          cType = C_SCALAR[element.name];
          width = ` : ${element.width}`;
          break;
        case "utf8":
          cType = "char";
          comment = " /* UTF-8, NUL-padded */";
          break;
        case "bytes":
          cType = "uint8_t";
          break;
        default:
          cType = `${element.kind} ${names.get(element as CompositeType)}`;
      }
      const arrayOf = element.kind === "utf8" || element.kind === "bytes" ? `[${element.size}]` : "";
      out.push(`  ${cType} ${field.name}${suffix}${arrayOf}${width};${comment}`);
    }
    out.push(`}${attributes(composite, naturalAlignment(composite))};`);
    out.push(`_Static_assert(sizeof(${tag}) == ${composite.size}, "sizeof(${tag})");`);
    out.push(`_Static_assert(_Alignof(${tag}) == ${composite.align}, "_Alignof(${tag})");`);
    for (const field of composite.fields) {
      // C has no offsetof of a bitfield: the offsets of its neighbours and the size check its place.
      if (field.type.kind === "bits") continue;
      out.push(
        `_Static_assert(offsetof(${tag}, ${field.name}) == ${field.offset}, "offsetof(${tag}, ${field.name})");`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}
