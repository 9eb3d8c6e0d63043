/**
 * What `mmstruct top` shows: a scrape of a metrics directory, its series and the fields of
 * every other struct file in it, with rates since the previous scrape. Internal.
 *
 * @module
 */

import { basename } from "node:path";
import { collect, type Collected } from "../metrics/collect.ts";
import type { Labels } from "../metrics/families.ts";
import { histogramQuantile } from "../metrics/histogram_quantile.ts";
import { StructFile } from "../struct_file/struct_file.ts";
import { summary } from "../struct_file/_text.ts";
import { clean } from "./_screen.ts";

/** One row of the table. */
export interface TopRow {
  /** The series (`name{label="value"}`) or `file:field`. */
  readonly name: string;
  /** `counter`, `gauge`, `histogram`, a struct field's type, or `file`. */
  readonly type: string;
  /** What the VALUE column shows (a histogram's count). */
  readonly text: string;
  /** The number to sort by and to take the rate of, if it is one. */
  readonly value: number | undefined;
  /** Per second since the previous scrape (counters, histogram counts, numeric fields). */
  rate?: number;
  readonly quantiles?: readonly [number, number, number];
  /** Shown in red: a struct file whose writer has gone, or that cannot be read. */
  readonly alarm?: boolean;
  /** Whether the value can only grow, so that a rate makes sense: counters, histograms, struct fields. */
  readonly rated: boolean;
}

/** What a scrape shows above the table. */
export interface TopSnapshot {
  readonly rows: TopRow[];
  readonly writers: Collected["writers"];
  /** Files of the directory that could not be read (neither metrics nor struct files). */
  readonly skipped: number;
  readonly structFiles: number;
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** A number in at most about 7 characters' worth of precision: integers whole, others to 4 significant digits. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** The struct files of a directory, kept open between scrapes. */
class StructFiles {
  readonly #open = new Map<string, StructFile>();

  /** Rows for each file in `paths` (closing those no longer there). */
  rows(paths: readonly string[]): TopRow[] {
    const wanted = new Set(paths);
    for (const [path, file] of this.#open) {
      if (!wanted.has(path)) {
        file.close();
        this.#open.delete(path);
      }
    }
    const out: TopRow[] = [];
    for (const path of [...wanted].sort()) {
      const name = clean(basename(path));
      try {
        let file = this.#open.get(path);
        if (file !== undefined && file.check() === "replaced") {
          file.close();
          this.#open.delete(path);
          file = undefined;
        }
        if (file === undefined) {
          file = StructFile.open(path);
          this.#open.set(path, file);
        }
        const [fields] = summary(file);
        const writer = file.writer();
        out.push({
          name,
          type: "file",
          text: `pid ${writer.pid} ${writer.alive ? "live" : "gone"}`,
          value: undefined,
          alarm: !writer.alive,
          rated: false,
        });
        for (const [field, type, text] of fields) {
          const n = Number(text);
          out.push({
            name: `${name}:${field}`,
            type,
            text,
            value: text !== "" && Number.isFinite(n) ? n : undefined,
            rated: true,
          });
        }
      } catch (error) {
        this.#open.get(path)?.close();
        this.#open.delete(path);
        out.push({
          name,
          type: "file",
          text: clean((error as Error).message),
          value: undefined,
          alarm: true,
          rated: false,
        });
      }
    }
    return out;
  }

  close(): void {
    for (const file of this.#open.values()) file.close();
    this.#open.clear();
  }
}

/** Scrapes a directory, and works out rates from the previous scrape. */
export class TopSource {
  readonly #dir: string | undefined;
  readonly #files = new StructFiles();
  #previous = new Map<string, number>();
  #previousAt = 0;

  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  /** One scrape: every row, with its rate when there was a scrape before. */
  scrape(): TopSnapshot {
    const collected = collect(this.#dir, { meta: false });
    const rows: TopRow[] = [];
    for (const family of collected.families) {
      const sample = family.type === "counter" ? `${family.name}_total` : family.name;
      for (const series of family.series) {
        const name = clean(`${sample}${labelText(series.labels)}`);
        if ("buckets" in series) {
          const q = (p: number) => histogramQuantile(p, series.buckets);
          rows.push({
            name,
            type: family.type,
            text: formatNumber(series.count),
            value: series.count,
            quantiles: [q(0.5), q(0.9), q(0.99)],
            rated: true,
          });
        } else {
          rows.push({
            name,
            type: family.type,
            text: formatNumber(series.value),
            value: series.value,
            rated: family.type === "counter",
          });
        }
      }
    }
    // Struct files that are not metrics files are shown field by field.
    const structPaths = collected.errors.filter((e) => e.reason === "not-metrics").map((e) => e.path);
    rows.push(...this.#files.rows(structPaths));
    const now = performance.now();
    const seconds = (now - this.#previousAt) / 1000;
    const values = new Map<string, number>();
    for (const row of rows) {
      if (row.value === undefined || !row.rated) continue;
      values.set(row.name, row.value);
      const before = this.#previous.get(row.name);
      if (before !== undefined && seconds > 0) row.rate = (row.value - before) / seconds;
    }
    this.#previous = values;
    this.#previousAt = now;
    const skipped = collected.errors.length - structPaths.length;
    return { rows, writers: collected.writers, skipped, structFiles: structPaths.length };
  }

  close(): void {
    this.#files.close();
  }
}
