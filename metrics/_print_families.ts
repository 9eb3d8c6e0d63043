/**
 * The one walk over checked metric families that both text formats print with
 * ({@linkcode toPrometheus} and {@linkcode toOpenMetrics}): what differs between them is
 * named in {@linkcode TextFormat}, everything else (the checks, the order of samples, label
 * and bound printing) is shared, so that a set of families prints in both formats or in
 * neither. Internal.
 *
 * @module
 */

import type { MetricFamily } from "./families.ts";
import {
  BoundPrinter,
  checkCounterValue,
  checkCreated,
  checkFamilies,
  checkGaugeValue,
  checkHistogram,
  checkSeries,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  LabelPrinter,
  TextBuilder,
} from "./_text.ts";

/** The two text formats. */
export type TextFormat = "prometheus" | "openmetrics";

/** How error messages name each format. */
const FORMAT_NAMES: Record<TextFormat, string> = {
  prometheus: "the Prometheus text format",
  openmetrics: "OpenMetrics",
};

/** Prints `families` in `format`; see the public functions for what each format prints. */
export function printFamilies(families: readonly MetricFamily[], format: TextFormat): string {
  const openMetrics = format === "openmetrics";
  const checked = checkFamilies(families, FORMAT_NAMES[format]);
  const labelPrinter = new LabelPrinter();
  const out = new TextBuilder();
  for (const { family, name, help, unit } of checked) {
    if (openMetrics) {
      out.add("# TYPE " + name + " " + family.type + "\n");
      if (unit !== "") out.add("# UNIT " + name + " " + unit + "\n");
      // The help is an escaped-string, like a label value: `"` is escaped too.
      if (help !== "") out.add("# HELP " + name + " " + escapeLabelValue(help) + "\n");
    } else {
      // The Prometheus format has no use for metadata without samples, and names a counter's family by its sample.
      if (family.series.length === 0) continue;
      const sampleName = family.type === "counter" ? name + "_total" : name;
      if (help !== "") out.add("# HELP " + sampleName + " " + escapeHelp(help) + "\n");
      out.add("# TYPE " + sampleName + " " + family.type + "\n");
    }
    if (family.type === "histogram") {
      const bounds = new BoundPrinter();
      const bucket = name + "_bucket{";
      for (const s of family.series) {
        checkSeries(s, family);
        checkHistogram(s, family);
        // Printed in OpenMetrics only, but checked in both: the same families must print in both formats.
        checkCreated(s.created, family);
        const pairs = labelPrinter.pairs(s.labels, family);
        const braces = pairs === "" ? " " : "{" + pairs + "} ";
        const prefix = pairs === "" ? bucket + 'le="' : bucket + pairs + ',le="';
        const buckets = s.buckets;
        for (let i = 0; i < buckets.length; i++) {
          out.add(prefix + bounds.text(i, buckets[i].le) + '"} ' + buckets[i].count + "\n");
        }
        const count = name + "_count" + braces + buckets[buckets.length - 1].count + "\n";
        const sum = name + "_sum" + braces + formatValue(s.sum) + "\n";
        if (!openMetrics) {
          out.add(sum);
          out.add(count);
        } else {
          // "Negative threshold buckets MAY be used, but then the Histogram MetricPoint MUST NOT contain a sum value"
          // and "Sum [...] MUST NOT be NaN or negative"; _count is present if and only if _sum is.
          if (s.sum >= 0 && buckets[0].le >= 0) {
            out.add(count);
            out.add(sum);
          }
          if (s.created !== undefined) out.add(name + "_created" + braces + formatValue(s.created) + "\n");
        }
      }
    } else if (family.type === "counter") {
      for (const s of family.series) {
        checkSeries(s, family);
        checkCounterValue(s.value, family);
        checkCreated(s.created, family);
        const pairs = labelPrinter.pairs(s.labels, family);
        const braces = pairs === "" ? " " : "{" + pairs + "} ";
        out.add(name + "_total" + braces + formatValue(s.value) + "\n");
        if (openMetrics && s.created !== undefined) {
          out.add(name + "_created" + braces + formatValue(s.created) + "\n");
        }
      }
    } else {
      for (const s of family.series) {
        checkSeries(s, family);
        checkGaugeValue(s.value, family);
        const pairs = labelPrinter.pairs(s.labels, family);
        out.add((pairs === "" ? name + " " : name + "{" + pairs + "} ") + formatValue(s.value) + "\n");
      }
    }
  }
  if (openMetrics) out.add("# EOF\n");
  return out.text();
}
