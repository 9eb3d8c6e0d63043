/**
 * Merging the series of many metrics files into families, fast enough to run at every
 * scrape: what does not change between scrapes (the families, the label sets, where each
 * file's slots go) is kept in a registry, so that a scrape adds up slot values
 * (`acc[target[k]] += slots[k]`) and builds the result. Internal.
 *
 * @module
 */

import type { CounterSeries, GaugeSeries, HistogramSeries, Labels, MetricFamily } from "./families.ts";
import type { FileSeries, MetricsFile } from "./_metrics_file.ts";
import { declDifference, type MetricDecl } from "./_names.ts";

/** One merged series. */
interface SeriesReg {
  readonly id: number;
  readonly key: string;
  readonly labels: Labels;
  /** Its first slot in the accumulators. */
  readonly base: number;
  readonly width: number;
  /** The earliest `created_ms` of any file's copy of it. */
  createdMs: number;
  /** The highest total (a counter's value, a histogram's sum) reported so far, or -Infinity. */
  high: number;
  /** For an `"each"` gauge: the writer id, and the key without it (the series of its `pid` label). */
  writer?: string;
  pidKey?: string;
}

/**
 * How far below its high-water mark a total may fall and still be taken for rounding: the
 * files' values are summed in another grouping once compaction folds some into an archive
 * (`(a + b) + c` vs `a + (b + c)`), which differs by a few ulps per file. A larger drop is
 * a real reset (files removed by hand) and is reported as is.
 */
const ROUNDING = 1e-9;

/** A total that never goes back for rounding alone: max(high-water mark, value). */
function monotonic(reg: SeriesReg, value: number): number {
  const high = reg.high;
  if (value < high && high - value <= Math.abs(high) * ROUNDING) return high;
  reg.high = value;
  return value;
}

/** The merged series of one declaration (family name and signature). */
interface SignatureReg {
  readonly decl: MetricDecl;
  readonly series: Map<string, SeriesReg>;
  /** `series` sorted by labels (the overflow series last); undefined when stale. */
  sorted: SeriesReg[] | undefined;
}

/** What a scrape of one file contributes, worked out once per file and registry. */
interface FileIndex {
  readonly registry: Registry;
  /** How many of the file's metrics and series are indexed. */
  metrics: number;
  series: number;
  /** Per slot: the accumulator it adds to, or -1 (gauge slots, gaps). */
  targets: Int32Array;
  /** Slots covered by `targets`. */
  end: number;
  /** The counter and histogram series ids, to mark as seen. */
  summed: Int32Array;
  summedCount: number;
  /** Per file series (same order): its merged series (undefined for gauges: see `gauges`). */
  readonly regs: (SeriesReg | undefined)[];
  readonly gauges: { readonly source: FileSeries; readonly reg: SeriesReg }[];
  /** The families this file declares, with their signatures and types. */
  readonly families: { readonly decl: MetricDecl }[];
}

const SEPARATOR = "\u0000";
/**
 * The key of the overflow series: after every label set, and never one, since every label
 * set's key starts with {@linkcode LABELS_PREFIX} (label values may hold U+FFFF).
 */
const OVERFLOW_KEY = "\uffff";
const LABELS_PREFIX = "\u0001";
const OVERFLOW_LABELS: Labels = Object.freeze({ mmstruct_overflow: "true" });

function compareKeys(a: SeriesReg, b: SeriesReg): number {
  if (a.key === b.key) return 0;
  if (a.key === OVERFLOW_KEY) return 1;
  if (b.key === OVERFLOW_KEY) return -1;
  return a.key < b.key ? -1 : 1;
}

/** A problem found while merging, for `Collected.errors`. */
export interface MergeProblem {
  readonly path: string;
  readonly reason: string;
  readonly message: string;
}

/** A file taking part in a scrape. */
export interface Contribution {
  readonly file: MetricsFile;
  /** Whether its writer runs: only then do its gauges count. */
  readonly live: boolean;
  /** The file's index slot, kept by the caller between scrapes. */
  index: FileIndex | undefined;
}

/** Every family and series seen in a directory, and the accumulators a scrape adds into. */
export class Registry {
  readonly #families = new Map<string, Map<string, SignatureReg>>();
  #sortedNames: string[] | undefined;
  readonly #series: SeriesReg[] = [];
  #acc = new Float64Array(1024);
  #used = 0;
  #seen = new Int32Array(1024);
  #stamp = 0;

  /** How many merged series it holds (seen in this scrape or not). */
  get size(): number {
    return this.#series.length;
  }

  #signature(decl: MetricDecl): SignatureReg {
    let sigs = this.#families.get(decl.family);
    if (sigs === undefined) {
      sigs = new Map();
      this.#families.set(decl.family, sigs);
      this.#sortedNames = undefined;
    }
    let reg = sigs.get(decl.signature);
    if (reg === undefined) {
      reg = { decl, series: new Map(), sorted: undefined };
      sigs.set(decl.signature, reg);
    }
    return reg;
  }

  #seriesReg(sig: SignatureReg, key: string, labels: () => Labels, width: number): SeriesReg {
    let reg = sig.series.get(key);
    if (reg !== undefined) return reg;
    if (this.#used + width > this.#acc.length) {
      const acc = new Float64Array(Math.max(this.#acc.length * 2, this.#used + width));
      acc.set(this.#acc.subarray(0, this.#used));
      this.#acc = acc;
    }
    const id = this.#series.length;
    if (id >= this.#seen.length) {
      const seen = new Int32Array(this.#seen.length * 2);
      seen.set(this.#seen);
      this.#seen = seen;
    }
    reg = { id, key, labels: labels(), base: this.#used, width, createdMs: Infinity, high: -Infinity };
    this.#used += width;
    this.#series.push(reg);
    sig.series.set(key, reg);
    sig.sorted = undefined;
    return reg;
  }

  /** Indexes what the file has parsed since the last call. */
  index(c: Contribution): FileIndex {
    const file = c.file;
    let index = c.index;
    if (index === undefined || index.registry !== this) {
      index = {
        registry: this,
        metrics: 0,
        series: 0,
        targets: new Int32Array(0),
        end: 0,
        summed: new Int32Array(16),
        summedCount: 0,
        regs: [],
        gauges: [],
        families: [],
      };
      c.index = index;
    }
    for (; index.metrics < file.metrics.length; index.metrics++) {
      const decl = file.metrics[index.metrics].decl;
      this.#signature(decl);
      index.families.push({ decl });
    }
    if (index.series === file.series.length) return index;
    const end = file.slotsEnd;
    if (end > index.targets.length) {
      const targets = new Int32Array(Math.max(end, index.targets.length * 2)).fill(-1);
      targets.set(index.targets.subarray(0, index.end));
      index.targets = targets;
    }
    for (; index.series < file.series.length; index.series++) {
      const source = file.series[index.series];
      const decl = source.metric.decl;
      const sig = this.#signature(decl);
      const width = source.metric.width;
      const values = source.labels;
      let key = values === null ? OVERFLOW_KEY : LABELS_PREFIX + values.join(SEPARATOR);
      let each: string | undefined;
      if (decl.type === "gauge" && decl.aggregate === "each") {
        each = file.thread === 0 ? `${file.pid}` : `${file.pid}:${file.thread}`;
        key = `${key}${SEPARATOR}${SEPARATOR}${each}`;
      }
      const pidKey = key;
      // Two writers with one pid and thread (pid namespaces, two handles in a thread) stay apart.
      if (each !== undefined) key = `${key}${SEPARATOR}${file.writerId}`;
      const reg = this.#seriesReg(sig, key, () => {
        if (values === null && each === undefined) return OVERFLOW_LABELS;
        const labels: Record<string, string> = {};
        if (values === null) labels.mmstruct_overflow = "true";
        else decl.labelNames.forEach((name, i) => labels[name] = values[i]);
        if (each !== undefined) labels.pid = each;
        return Object.freeze(labels);
      }, width);
      if (each !== undefined) {
        reg.writer = file.writerId;
        reg.pidKey = pidKey;
      }
      if (source.createdMs > 0 && source.createdMs < reg.createdMs) reg.createdMs = source.createdMs;
      if (decl.type === "gauge") {
        index.regs.push(undefined);
        index.gauges.push({ source, reg });
        continue;
      }
      index.regs.push(reg);
      // In bounds: the file checked slot + width <= its slots, and targets has slotsEnd of them.
      for (let j = 0; j < width; j++) index.targets[source.slot + j] = reg.base + j;
      if (index.summedCount === index.summed.length) {
        const summed = new Int32Array(index.summed.length * 2);
        summed.set(index.summed);
        index.summed = summed;
      }
      index.summed[index.summedCount++] = reg.id;
    }
    index.end = Math.max(index.end, end);
    return index;
  }

  /**
   * Merges the files (for a family declared differently in two files, the earliest created
   * declaration wins, then the first file's by name; the others are reported) and returns
   * the families.
   */
  merge(contributions: readonly Contribution[], problems: MergeProblem[]): MetricFamily[] {
    const indexes = contributions.map((c) => this.index(c));
    const stamp = ++this.#stamp;
    const acc = this.#acc;
    const seen = this.#seen;
    acc.fill(0, 0, this.#used);
    /**
     * Family name to the winning declaration and the file it came from: the earliest created
     * (then the first file by name), which compaction keeps, so the winner stays the same.
     */
    const winners = new Map<string, { decl: MetricDecl; path: string }>();
    const time = (decl: MetricDecl) => (decl.createdMs > 0 ? decl.createdMs : Infinity);
    for (let f = 0; f < contributions.length; f++) {
      const { file, live } = contributions[f];
      for (const { decl } of indexes[f].families) {
        if (decl.type === "gauge" && !live) continue; // a gone process's gauges do not count
        const winner = winners.get(decl.family);
        if (winner === undefined || time(decl) < time(winner.decl)) winners.set(decl.family, { decl, path: file.path });
      }
    }
    const gaugeTime = new Map<number, number>();
    for (let f = 0; f < contributions.length; f++) {
      const { file, live } = contributions[f];
      const index = indexes[f];
      let conflicts: Set<string> | undefined;
      for (const { decl } of index.families) {
        if (decl.type === "gauge" && !live) continue; // a gone process's gauges do not count
        const winner = winners.get(decl.family)!;
        if (winner.decl.signature !== decl.signature && !conflicts?.has(decl.signature)) {
          (conflicts ??= new Set()).add(decl.signature);
          problems.push({
            path: file.path,
            reason: "conflict",
            message: `Cannot merge metric ${JSON.stringify(decl.name)} of ${JSON.stringify(file.path)}: it differs ` +
              `from its declaration in ${JSON.stringify(winner.path)}: ${declDifference(decl, winner.decl)}`,
          });
        }
      }
      const slots = file.slots;
      if (conflicts === undefined) {
        const targets = index.targets;
        const end = index.end;
        for (let k = 0; k < end; k++) {
          const t = targets[k];
          if (t >= 0) acc[t] += slots[k];
        }
        const summed = index.summed;
        for (let i = 0; i < index.summedCount; i++) seen[summed[i]] = stamp;
      } else {
        for (let i = 0; i < index.series; i++) {
          const reg = index.regs[i];
          const source = file.series[i];
          if (reg === undefined || conflicts.has(source.metric.decl.signature)) continue;
          for (let j = 0; j < reg.width; j++) acc[reg.base + j] += slots[source.slot + j];
          seen[reg.id] = stamp;
        }
      }
      if (!live) continue;
      for (const { source, reg } of index.gauges) {
        const decl = source.metric.decl;
        if (conflicts?.has(decl.signature)) continue;
        const value = slots[source.slot];
        const first = seen[reg.id] !== stamp;
        seen[reg.id] = stamp;
        switch (decl.aggregate) {
          case "sum":
          case "each":
            acc[reg.base] += value;
            break;
          case "max":
            acc[reg.base] = first ? value : Math.max(acc[reg.base], value);
            break;
          case "min":
            acc[reg.base] = first ? value : Math.min(acc[reg.base], value);
            break;
          case "last": {
            const time = slots[source.slot + 1];
            if (first || time > gaugeTime.get(reg.id)!) {
              acc[reg.base] = value;
              gaugeTime.set(reg.id, time);
            }
          }
        }
      }
    }
    return this.#build(winners, stamp);
  }

  #build(winners: Map<string, { decl: MetricDecl }>, stamp: number): MetricFamily[] {
    const acc = this.#acc;
    const seen = this.#seen;
    this.#sortedNames ??= [...this.#families.keys()].sort();
    const out: MetricFamily[] = [];
    for (const name of this.#sortedNames) {
      const winner = winners.get(name);
      if (winner === undefined) continue;
      const sig = this.#families.get(name)!.get(winner.decl.signature)!;
      sig.sorted ??= [...sig.series.values()].sort(compareKeys);
      const { decl } = sig;
      const base = { name: decl.family, help: decl.help, unit: decl.unit };
      if (decl.type === "counter") {
        const series: CounterSeries[] = [];
        for (const reg of sig.sorted) {
          if (seen[reg.id] !== stamp) continue;
          series.push({ labels: reg.labels, value: monotonic(reg, acc[reg.base]), created: created(reg) });
        }
        out.push({ ...base, type: "counter", series });
      } else if (decl.type === "gauge") {
        const series: GaugeSeries[] = [];
        let clashes: Map<string, number> | undefined;
        if (decl.aggregate === "each") {
          clashes = new Map();
          for (const reg of sig.sorted) {
            if (seen[reg.id] === stamp) clashes.set(reg.pidKey!, (clashes.get(reg.pidKey!) ?? 0) + 1);
          }
        }
        for (const reg of sig.sorted) {
          if (seen[reg.id] !== stamp) continue;
          // Writers sharing a pid label: each series also says which writer it is.
          const labels = clashes !== undefined && clashes.get(reg.pidKey!)! > 1
            ? Object.freeze({ ...reg.labels, mmstruct_writer: reg.writer! })
            : reg.labels;
          series.push({ labels, value: acc[reg.base] });
        }
        out.push({ ...base, type: "gauge", series });
      } else {
        const series: HistogramSeries[] = [];
        const bounds = decl.buckets;
        for (const reg of sig.sorted) {
          if (seen[reg.id] !== stamp) continue;
          const buckets = [];
          let count = 0;
          for (let b = 0; b <= bounds.length; b++) {
            count += acc[reg.base + b];
            buckets.push({ le: b < bounds.length ? bounds[b] : Infinity, count });
          }
          series.push({
            labels: reg.labels,
            buckets,
            count,
            sum: monotonic(reg, acc[reg.base + bounds.length + 1]),
            created: created(reg),
          });
        }
        out.push({ ...base, type: "histogram", series });
      }
    }
    return out;
  }

  /** How many merged series the last scrape saw. */
  seenCount(): number {
    let n = 0;
    for (const reg of this.#series) if (this.#seen[reg.id] === this.#stamp) n++;
    return n;
  }
}

function created(reg: SeriesReg): number | undefined {
  return reg.createdMs === Infinity ? undefined : reg.createdMs / 1000;
}
