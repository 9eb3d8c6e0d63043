/**
 * Text shared by the plugin outputs (munin, Nagios): numbers in plain decimal notation,
 * series written as Prometheus selectors on one line, and a short stable hash. Internal.
 *
 * @module
 */

import type { Labels } from "../metrics/families.ts";

/**
 * A finite number in plain decimal notation, never with an exponent (munin's and Nagios'
 * parsers read `[-0-9.]` only), with the digits of its shortest representation
 * (`1e21` is `1000000000000000000000`, `1e-7` is `0.0000001`); `undefined` for NaN and the
 * infinities.
 */
export function plainNumber(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const text = String(value);
  const parts = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (parts === null) return text === "-0" ? "0" : text;
  const [, sign, first, rest = "", exponentText] = parts;
  const digits = first + rest;
  const exponent = Number(exponentText);
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  // String() uses an exponent from 1e21 up, where every double is an integer.
  return `${sign}${digits.padEnd(exponent + 1, "0")}`;
}

/** A number for people: integers exactly, others to 6 significant digits; `NaN`, `+Inf`, `-Inf`. */
export function shortNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return plainNumber(Number.isInteger(value) ? value : Number(value.toPrecision(6)))!;
}

// Control characters on purpose: they are what must not reach a line-based output.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;

function escapeControl(char: string): string {
  if (char === "\n") return "\\n";
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Text on one line: line breaks and other control characters become escapes (`\n`, `\x09`). */
export function oneLine(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/**
 * A series as a Prometheus selector, on one line: `name{a="x",b="y"}`, or `name` without
 * labels. Label values escape `\`, `"` and line breaks as Prometheus' text format does, and
 * other control characters as `\xNN`.
 */
export function selector(name: string, labels: Labels): string {
  const pairs = Object.entries(labels).map(([key, value]) =>
    `${key}="${oneLine(value.replaceAll("\\", "\\\\").replaceAll('"', '\\"'))}"`
  );
  return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}

/** A key that identifies a label set exactly (names and values, in order). */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels));
}

/** FNV-1a (32 bits) of the UTF-16 code units of `text`, as 8 hexadecimal digits: short and stable. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
