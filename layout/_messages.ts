/**
 * How error messages of views and `write()` show values and name fields. Internal.
 *
 * @module
 */

/** At most this many characters of a refused string are shown in an error message. */
const SHOWN_LENGTH = 40;

/** A value as an error message shows it: strings quoted (and cut when long), bigints with their `n`. */
export function show(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value);
    case "bigint":
      return `${value}n`;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "object":
      return value === null ? "null" : Array.isArray(value) ? "an array" : "an object";
    case "function":
      return "a function";
    case "symbol":
      return value.toString();
    default:
      return String(value);
  }
}

/** `show(value)` after its type, for type errors: `the string "5"`, `the number 5`. */
export function showTyped(value: unknown): string {
  const type = typeof value;
  return type === "string" || type === "number" || type === "bigint" || type === "boolean"
    ? `the ${type} ${show(value)}`
    : show(value);
}

/** "an i64", "an f32", "a u32", as the names are read aloud. */
export function article(scalar: string): string {
  return scalar.startsWith("i") || scalar.startsWith("f") ? "an" : "a";
}

/** How `write()` names a field in messages: `field "errors"`, `field "list[2].n"`, `struct` for the whole. */
export function fieldName(name: string): string {
  return name === "" ? "struct" : `field ${JSON.stringify(name)}`;
}

/** Throws the `TypeError` of a write through a read-only view. */
export function refuseReadOnly(name: string): never {
  throw new TypeError(`Cannot set ${name}: the view is read-only (the file was opened without write: true)`);
}
