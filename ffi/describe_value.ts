/**
 * How an error message shows the bad value it refuses, the same in every layer (the
 * lowest folder holds it so that every other may import it): strings quoted as JSON,
 * `bigint`s with their `n`, arrays and objects by kind, the rest as `String` gives them.
 * Never throws, whatever the value (a `bigint`, a cyclic object, a revoked proxy).
 *
 * @module
 */

/** A bad value for an error message, e.g. `"abc"`, `5`, `5n`, `null`, `an array`, `an object`, `a function`. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    case "symbol":
      return value.toString();
    case "object":
      if (value === null) return "null";
      try {
        return Array.isArray(value) ? "an array" : "an object";
      } catch {
        return "an object"; // Array.isArray throws on a revoked proxy
      }
    default:
      return String(value);
  }
}
