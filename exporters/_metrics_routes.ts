/**
 * The routes of {@linkcode metricsHandler} (`/metrics`, `/metrics.json`), for it and for
 * `mmstruct serve`, which adds its own. Internal.
 *
 * @module
 */

import { collect, type Collected } from "../metrics/collect.ts";
import { OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from "../metrics/openmetrics_text.ts";
import { PROMETHEUS_CONTENT_TYPE, toPrometheus } from "../metrics/prometheus_text.ts";
import { MmapError } from "../ffi/mmap_error.ts";
import { negotiate, type Offer } from "./_negotiate.ts";
import { type Route, textResponse } from "./_routes.ts";
import { toMetricsJson } from "./metrics_json.ts";

/** What {@linkcode metricsRoutes} takes: {@linkcode MetricsHandlerOptions}, checked. */
export interface RouteOptions {
  readonly path: string;
  readonly openMetrics: boolean;
  readonly gzip: boolean;
  readonly meta: boolean;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly onCollect?: (collected: Collected) => void;
}

/** The formats `/metrics` sends, the default first (what a client that asks for neither gets). */
const FORMATS: readonly (Offer & { contentType: string; print: typeof toPrometheus })[] = [
  { type: "text", subtype: "plain", version: "0.0.4", contentType: PROMETHEUS_CONTENT_TYPE, print: toPrometheus },
  {
    type: "application",
    subtype: "openmetrics-text",
    version: "1.0.0",
    contentType: OPENMETRICS_CONTENT_TYPE,
    print: toOpenMetrics,
  },
];

function failure(request: Request, error: unknown, options: RouteOptions): Response {
  try {
    options.onError?.(error);
  } catch {
    // A logger that throws must not turn a 503 into a crash of the server.
  }
  const message = error instanceof Error ? error.message : String(error);
  // The directory cannot be read (yet): the service is unavailable, not broken.
  const status = error instanceof MmapError ? 503 : 500;
  return textResponse(request, `Cannot scrape the metrics directory: ${message}\n`, {
    contentType: "text/plain; charset=utf-8",
    status,
    gzip: false,
  });
}

/**
 * The routes for `dir`: each request collects the directory once (reading memory only:
 * it never waits for a writer) and prints what was asked for.
 */
export function metricsRoutes(dir: string | undefined, options: RouteOptions): Map<string, Route> {
  const offers = options.openMetrics ? FORMATS : FORMATS.slice(0, 1);
  const vary = options.openMetrics ? ["Accept"] : [];
  const scrape = (): Collected => {
    const collected = collect(dir, { meta: options.meta });
    options.onCollect?.(collected);
    return collected;
  };
  const text: Route = (request) => {
    const format = offers[negotiate(request.headers.get("accept"), offers)];
    let body: string;
    try {
      body = format.print(scrape().families);
    } catch (error) {
      return failure(request, error, options);
    }
    return textResponse(request, body, { contentType: format.contentType, gzip: options.gzip, vary });
  };
  const json: Route = (request) => {
    let body: string;
    try {
      body = `${toMetricsJson(scrape())}\n`;
    } catch (error) {
      return failure(request, error, options);
    }
    return textResponse(request, body, { contentType: "application/json; charset=utf-8", gzip: options.gzip });
  };
  return new Map([[options.path, text], [`${options.path}.json`, json]]);
}
