/**
 * {@linkcode metricsHandler}: a metrics directory over HTTP, for Prometheus and anything
 * that scrapes like it, as a Web-standard fetch handler.
 *
 * @module
 */

import { metricsRoutes } from "./_metrics_routes.ts";
import { router } from "./_routes.ts";
import { describeValue } from "../ffi/describe_value.ts";

/** Options for {@linkcode metricsHandler}. */
export interface MetricsHandlerOptions {
  /**
   * The path of the metrics; the JSON is at this path plus `.json`. Starts with `/`, and
   * does not end with one.
   *
   * @default {"/metrics"}
   */
  path?: string;
  /**
   * Send OpenMetrics 1.0 to clients whose `Accept` header prefers it (Prometheus does).
   * With `false`, every client gets the Prometheus text format 0.0.4 (for a scraper whose
   * OpenMetrics parser is broken, or to keep its series as the text format names them).
   *
   * @default {true}
   */
  openMetrics?: boolean;
  /**
   * Gzip the body for clients whose `Accept-Encoding` takes gzip (Prometheus' does).
   *
   * @default {true}
   */
  gzip?: boolean;
  /**
   * Add the library's own families (`mmstruct_scrape_errors`, `mmstruct_writers`), as
   * {@linkcode CollectOptions.meta} does.
   *
   * @default {true}
   */
  meta?: boolean;
  /**
   * Called with the error when a scrape fails (the client gets a 503 or 500 with the
   * error's message), for logging. What it throws is ignored.
   *
   * @default {undefined}
   */
  onError?: (error: unknown) => void;
}

/**
 * A Web-standard fetch handler: takes a `Request`, returns a `Response` (the shape
 * `Deno.serve`, `Bun.serve` and Hono take).
 */
export type MetricsHandler = (request: Request) => Response | Promise<Response>;

function checkOption(options: MetricsHandlerOptions, name: "openMetrics" | "gzip" | "meta"): boolean {
  const value = options[name] === undefined ? true : options[name];
  if (typeof value !== "boolean") {
    throw new TypeError(`Cannot make a metrics handler: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A fetch handler that serves the merged metrics of a metrics directory (what
 * {@linkcode collect} returns for `dir`) at each request:
 *
 * - `GET /metrics`: the Prometheus text format 0.0.4 (`Content-Type: text/plain;
 *   version=0.0.4; charset=utf-8`), or OpenMetrics 1.0 (`application/openmetrics-text;
 *   version=1.0.0; charset=utf-8`) when the `Accept` header prefers it. The media ranges
 *   are weighed by their q-values, and a range that names a `version` matches only that
 *   version, so Prometheus 2 and 3 get OpenMetrics and a client asking for `text/plain` or
 *   nothing in particular (any media type, or no header) gets the text format. A header that accepts
 *   neither also gets the text format (as from Prometheus' own client libraries), never a
 *   `406`.
 * - `GET /metrics.json`: the same metrics as JSON ({@linkcode toMetricsJson}: non-finite
 *   numbers as the strings `"NaN"`, `"+Inf"`, `"-Inf"`), followed by a line feed.
 * - Bodies are gzipped when `Accept-Encoding` takes gzip; `Vary` says so.
 * - `HEAD` of either: the headers of the `GET`, `Content-Length` included, without body.
 * - Any other method: `405 Method Not Allowed` with `Allow: GET, HEAD`; any other path:
 *   `404 Not Found`. The query string is ignored.
 * - When the directory cannot be read (it does not exist yet: no writer has started),
 *   `503 Service Unavailable` with the reason as text (Prometheus then reports the target
 *   down with that status); when the metrics cannot be printed, `500`. Files of the
 *   directory that cannot be read are not failures: they are skipped, and counted in
 *   `mmstruct_scrape_errors`.
 *
 * A request reads the writers' mapped memory and nothing else: it never takes a lock a
 * writer holds and never waits for a writer, and a writer never waits for it. The handler
 * answers synchronously (the returned value is a `Response`, not a promise), so a scrape
 * is one turn of the event loop. Files stay open between requests (see
 * {@linkcode collect}), so that a scrape costs what changed since the last one.
 *
 * @param dir The metrics directory (default: {@linkcode Metrics.create}'s default).
 * @param options The path, the formats offered, gzip, and an error callback.
 * @returns The handler.
 * @throws {TypeError} If `dir` is not a non-empty string, or an option has the wrong type
 * or `path` is not an absolute path without a trailing `/`, `?` or `#`.
 *
 * @example Serve a directory with Deno.serve, Bun.serve or Hono
 * ```ts ignore
 * import { metricsHandler } from "@mmstruct/mmstruct";
 *
 * Deno.serve({ hostname: "127.0.0.1", port: 9464 }, metricsHandler("/run/user/1000/mmstruct-metrics"));
 * // Bun.serve({ hostname: "127.0.0.1", port: 9464, fetch: metricsHandler(dir) });
 * // Hono: const metrics = metricsHandler(dir); app.get("/metrics", (c) => metrics(c.req.raw));
 * ```
 *
 * @example What a scrape gets
 * ```ts
 * import { metricsHandler, Metrics } from "@mmstruct/mmstruct";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "mmstruct-"));
 * using metrics = Metrics.create(dir);
 * metrics.counter({ name: "jobs_total", help: "Jobs done" }).inc(3);
 * const handler = metricsHandler(dir, { meta: false });
 *
 * const text = await handler(new Request("http://localhost/metrics"));
 * assert.equal(text.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
 * assert.match(await text.text(), /^jobs_total 3$/m);
 *
 * const accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1";
 * const open = await handler(new Request("http://localhost/metrics", { headers: { accept } }));
 * assert.equal(open.headers.get("content-type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
 * assert.match(await open.text(), /^# EOF$/m);
 *
 * const post = await handler(new Request("http://localhost/metrics", { method: "POST" }));
 * assert.equal(post.status, 405);
 * assert.equal(post.headers.get("allow"), "GET, HEAD");
 * rmSync(dir, { recursive: true });
 * ```
 */
export function metricsHandler(dir?: string, options: MetricsHandlerOptions = {}): MetricsHandler {
  if (dir !== undefined && (typeof dir !== "string" || dir === "")) {
    throw new TypeError(`Cannot make a metrics handler: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot make a metrics handler: options must be an object, got ${describeValue(options)}`);
  }
  const path = options.path ?? "/metrics";
  if (typeof path !== "string" || !/^\/[^?#]*$/.test(path) || (path.length > 1 && path.endsWith("/"))) {
    throw new TypeError(
      `Cannot make a metrics handler: path must start with "/" and have no trailing "/", "?" or "#", got ${
        JSON.stringify(path)
      }`,
    );
  }
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot make a metrics handler: onError must be a function, got ${describeValue(onError)}`);
  }
  return router(metricsRoutes(dir, {
    path,
    openMetrics: checkOption(options, "openMetrics"),
    gzip: checkOption(options, "gzip"),
    meta: checkOption(options, "meta"),
    onError,
  }));
}
