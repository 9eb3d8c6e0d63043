/**
 * The merged metrics of a directory, as {@linkcode collect} returns them and the text
 * formats ({@linkcode toPrometheus}, {@linkcode toOpenMetrics}) print them.
 *
 * @module
 */

/** Label names to values, in the order the metric declared its label names. */
export type Labels = Readonly<Record<string, string>>;

/** Fields every metric family has. */
export interface FamilyBase {
  /**
   * The family name. A counter declared as `foo_total` is the family `foo`, whose samples
   * are `foo_total` in both text formats (never `foo_total_total`).
   */
  readonly name: string;
  /** The help text, as declared (unescaped). */
  readonly help: string;
  /** The unit (`"seconds"`, `"bytes"`, …), `""` when none; when set, `name` ends with `_<unit>`. */
  readonly unit: string;
}

/** One labelled series of a counter. */
export interface CounterSeries {
  /** The series' labels (`{}` for a metric without label names). */
  readonly labels: Labels;
  /** The total, summed over every writer that ever counted it. */
  readonly value: number;
  /** When the series was first created by any writer, in seconds since 1970-01-01 UTC. */
  readonly created: number | undefined;
}

/** One labelled series of a gauge. */
export interface GaugeSeries {
  /** The series' labels (`{}` for a metric without label names; `pid` added by the `"each"` aggregate). */
  readonly labels: Labels;
  /** The value, merged over the live writers by the gauge's aggregate. */
  readonly value: number;
}

/** One cumulative histogram bucket: observations less than or equal to `le`. */
export interface HistogramBucket {
  /** The upper bound; the last bucket's is `Infinity`. */
  readonly le: number;
  /** Observations `<= le`; the last bucket's count equals the series' `count`. */
  readonly count: number;
}

/** One labelled series of a histogram. */
export interface HistogramSeries {
  /** The series' labels (`{}` for a metric without label names); never `le`, which the text formats add. */
  readonly labels: Labels;
  /** Cumulative buckets, ascending, ending with `le: Infinity`. */
  readonly buckets: readonly HistogramBucket[];
  /** The number of observations (the last bucket's count). */
  readonly count: number;
  /** The sum of the observed values. */
  readonly sum: number;
  /** When the series was first created by any writer, in seconds since 1970-01-01 UTC. */
  readonly created: number | undefined;
}

/** A counter family: monotonically increasing totals. */
export interface CounterFamily extends FamilyBase {
  /** The metric type. */
  readonly type: "counter";
  /** The family's series, sorted by labels. */
  readonly series: readonly CounterSeries[];
}

/** A gauge family: values that go up and down. */
export interface GaugeFamily extends FamilyBase {
  /** The metric type. */
  readonly type: "gauge";
  /** The family's series, sorted by labels. */
  readonly series: readonly GaugeSeries[];
}

/** A histogram family: observations counted in buckets. */
export interface HistogramFamily extends FamilyBase {
  /** The metric type. */
  readonly type: "histogram";
  /** The family's series, sorted by labels. */
  readonly series: readonly HistogramSeries[];
}

/** A metric family: a name, its metadata, and its series. */
export type MetricFamily = CounterFamily | GaugeFamily | HistogramFamily;
