/**
 * {@linkcode NagiosRange}: the threshold ranges of Nagios and Icinga plugins.
 *
 * @module
 */

import { plainNumber } from "./_format.ts";

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumber(text: string, range: string): number {
  const value = NUMBER.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    throw new TypeError(`Invalid range ${JSON.stringify(range)}: ${JSON.stringify(text)} is not a number`);
  }
  return value;
}

/**
 * A threshold range in the syntax of the Nagios plugin development guidelines,
 * `[@]start:end`: an alert is raised when the value is outside `start .. end`, endpoints
 * included, or inside it with `@`. `start` and the colon may be left out when `start` is 0
 * (`10` is `0:10`), an empty `end` is +∞ (`10:`), and `~` as `start` is −∞ (`~:10`).
 *
 * | range    | alert when the value is   |
 * | -------- | ------------------------- |
 * | `10`     | < 0 or > 10               |
 * | `10:`    | < 10                      |
 * | `~:10`   | > 10                      |
 * | `10:20`  | < 10 or > 20              |
 * | `@10:20` | ≥ 10 and ≤ 20             |
 *
 * @example Parse and test values
 * ```ts
 * import { NagiosRange } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 *
 * const range = NagiosRange.parse("10:20");
 * assert.deepEqual([9, 10, 20, 21].map((v) => range.alerts(v)), [true, false, false, true]);
 * assert.equal(NagiosRange.parse("@10:20").alerts(10), true);
 * assert.equal(NagiosRange.parse("~:10").alerts(-1e9), false);
 * assert.equal(String(NagiosRange.parse("0:")), "0:");
 * ```
 */
export class NagiosRange {
  /** The lower end, included; `-Infinity` for `~`. */
  readonly start: number;
  /** The upper end, included; `Infinity` when left empty. */
  readonly end: number;
  /** Whether the alert is for values inside the range (`@`) rather than outside. */
  readonly inside: boolean;

  private constructor(start: number, end: number, inside: boolean) {
    this.start = start;
    this.end = end;
    this.inside = inside;
    Object.freeze(this);
  }

  /**
   * Parses a range. Leading and trailing white space is ignored; numbers are decimal,
   * optionally signed, with an optional exponent (`-5`, `0.5`, `1e3`).
   *
   * @param text The range, such as `10`, `10:`, `~:10`, `10:20` or `@10:20`.
   * @returns The range.
   * @throws {TypeError} If `text` is not a string, is empty, or is not in the range syntax.
   * @throws {RangeError} If `start` is greater than `end`.
   *
   * @example A range without a start
   * ```ts
   * import { NagiosRange } from "@mmstruct/mmstruct";
   * import assert from "node:assert/strict";
   *
   * const { start, end, inside } = NagiosRange.parse("10");
   * assert.deepEqual({ start, end, inside }, { start: 0, end: 10, inside: false });
   * assert.throws(() => NagiosRange.parse("20:10"), RangeError);
   * ```
   */
  static parse(text: string): NagiosRange {
    if (typeof text !== "string") throw new TypeError(`Invalid range: expected a string, got ${typeof text}`);
    let rest = text.trim();
    const inside = rest.startsWith("@");
    if (inside) rest = rest.slice(1);
    if (rest === "") throw new TypeError(`Invalid range ${JSON.stringify(text)}: it is empty`);
    const colon = rest.indexOf(":");
    let start = 0;
    let end: number;
    if (colon < 0) {
      end = parseNumber(rest, text);
    } else {
      const startText = rest.slice(0, colon);
      const endText = rest.slice(colon + 1);
      if (startText === "~") start = -Infinity;
      else if (startText !== "") start = parseNumber(startText, text);
      end = endText === "" ? Infinity : parseNumber(endText, text);
    }
    if (start > end) {
      throw new RangeError(`Invalid range ${JSON.stringify(text)}: the start ${start} is greater than the end ${end}`);
    }
    return new NagiosRange(start, end, inside);
  }

  /**
   * Whether `value` raises the alert: outside the range (or inside, for `@`), endpoints
   * belonging to the range. NaN never does.
   *
   * @param value The value to test.
   * @returns `true` if the value is in the alerting part.
   */
  alerts(value: number): boolean {
    if (Number.isNaN(value)) return false;
    const within = value >= this.start && value <= this.end;
    return this.inside ? within : !within;
  }

  /**
   * The range in the plugin syntax, as performance data carries it: `start:` left out
   * when `start` is 0 and `end` is finite, numbers in plain decimal notation.
   *
   * @returns The range, such as `10`, `10:`, `~:10` or `@10:20`.
   */
  toString(): string {
    const end = this.end === Infinity ? "" : plainNumber(this.end)!;
    const start = this.start === 0 && end !== "" ? "" : `${this.start === -Infinity ? "~" : plainNumber(this.start)}:`;
    return `${this.inside ? "@" : ""}${start}${end}`;
  }
}
