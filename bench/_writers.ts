/**
 * The writers of the directory benchmarks: their shapes, and the totals a scrape of them
 * must find. Shared by `metrics.ts` (the reader) and `metrics_writers.ts` (the process
 * that holds the writers).
 *
 * @module
 */

import { Metrics } from "../mod.ts";

/** The label values of every shape. */
export const ROUTES: readonly string[] = Array.from({ length: 10 }, (_, i) => `/api/v1/resource${i}`);

/** A writer like a web server's: one counter and one histogram, over 10 routes (20 series). */
export function serverWriter(dir: string, n: number): Metrics {
  const metrics = Metrics.create(dir, { name: "server" });
  const requests = metrics.counter({ name: "http_requests_total", help: "Requests", labelNames: ["route"] });
  const latency = metrics.histogram({ name: "http_request_duration_seconds", help: "Latency", labelNames: ["route"] });
  for (const [r, route] of ROUTES.entries()) {
    requests.labels({ route }).inc(n + r);
    latency.labels({ route }).observe(0.001 * ((n + r) % 1000));
  }
  return metrics;
}

/** What `http_requests_total` sums to over server writers 0 to `writers - 1`. */
export function serverTotal(writers: number): number {
  // Writer n adds n + r for each route r: 10n + 45.
  return 10 * (writers * (writers - 1) / 2) + 45 * writers;
}

/** A writer with 1,000 series: 100 counters over 10 routes (client_python's benchmark shape). */
export function wideWriter(dir: string, n: number): Metrics {
  const metrics = Metrics.create(dir, { name: "wide" });
  for (let c = 0; c < 100; c++) {
    const counter = metrics.counter({ name: `app_events${c}_total`, help: `Events ${c}`, labelNames: ["route"] });
    for (const route of ROUTES) counter.labels({ route }).inc(n + 1);
  }
  return metrics;
}

/** What each `app_events<c>_total` sums to over wide writers 0 to `writers - 1`. */
export function wideTotal(writers: number): number {
  // Writer n adds n + 1 to each of 10 routes.
  return 10 * (writers * (writers + 1) / 2);
}
