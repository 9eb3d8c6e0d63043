/**
 * `mmstruct serve`: a metrics directory over HTTP until SIGINT or SIGTERM, compacting the
 * files of writers that have exited. Internal (the CLI's).
 *
 * @module
 */

import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import type { Collected } from "../metrics/collect.ts";
import { compact } from "../metrics/compact.ts";
import { defaultMetricsDirectory } from "../metrics/default_directory.ts";
import { MmapError } from "../ffi/mmap_error.ts";
import { dashboardRoutes } from "./_dashboard_routes.ts";
import { listen } from "./_http_server.ts";
import { metricsRoutes } from "./_metrics_routes.ts";
import { router } from "./_routes.ts";

/** What `mmstruct serve` was asked for. */
export interface ServeOptions {
  /** The metrics directory; undefined for the default one. */
  readonly dir: string | undefined;
  readonly hostname: string;
  readonly port: number;
  /** Seconds between compactions; 0 for none. */
  readonly compactInterval: number;
  readonly openMetrics: boolean;
}

/** Where the command's lines go. */
export interface ServeOutput {
  /** The start and stop lines. */
  info(line: string): void;
  /** One line per problem. */
  error(line: string): void;
}

/** The largest interval `setInterval` takes (2^31 - 1 ms). */
export const MAX_COMPACT_INTERVAL = 2_147_483;

/**
 * `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every IPv4 interface) as a hostname and port.
 *
 * @throws {RangeError} If the text is not one of those, or the port is not 0 to 65535.
 */
export function parseListen(text: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]*)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) {
    throw new RangeError(`--listen must be HOST:PORT, [IPv6]:PORT or :PORT with a port from 0 to 65535, got "${text}"`);
  }
  return { hostname: match[1] ?? (match[2] === "" ? "0.0.0.0" : match[2]), port };
}

/**
 * Logs each problem once while it lasts: a message is printed when it differs from the
 * one before on the same topic, and forgotten when the topic recovers. So a directory
 * that stays unreadable logs one line, not one per scrape.
 */
class Problems {
  readonly #last = new Map<string, string>();
  readonly #out: ServeOutput;

  constructor(out: ServeOutput) {
    this.#out = out;
  }

  report(topic: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.#last.get(topic) === message) return;
    this.#last.set(topic, message);
    this.#out.error(`mmstruct: ${message}`);
  }

  ok(topic: string): void {
    this.#last.delete(topic);
  }

  /** Logs the scrape's file problems that the previous scrape did not have. */
  files(collected: Collected): void {
    const seen = new Set<string>();
    for (const problem of collected.errors) {
      const topic = `file ${problem.reason} ${problem.path}`;
      seen.add(topic);
      if (!this.#last.has(topic)) {
        this.#last.set(topic, problem.message);
        this.#out.error(`mmstruct: skipped: ${problem.message}`);
      }
    }
    for (const topic of this.#last.keys()) if (topic.startsWith("file ") && !seen.has(topic)) this.#last.delete(topic);
  }
}

/** Whether this process may create files in `dir` (a missing directory: not yet). */
function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Serves until SIGINT or SIGTERM, then closes the server and resolves with the exit
 * status (0). Rejects if the server cannot listen.
 */
export async function serve(options: ServeOptions, out: ServeOutput): Promise<number> {
  const dir = options.dir === undefined ? undefined : resolve(options.dir);
  const problems = new Problems(out);
  const routes = metricsRoutes(dir, {
    path: "/metrics",
    openMetrics: options.openMetrics,
    gzip: true,
    meta: true,
    onError: (error) => problems.report("scrape", error),
    onCollect: (collected) => {
      problems.ok("scrape");
      problems.files(collected);
    },
  });
  routes.set("/healthz", () =>
    new Response("ok\n", {
      headers: { "content-type": "text/plain; charset=utf-8", "content-length": "3" },
    }));
  for (const [path, route] of dashboardRoutes(dir)) routes.set(path, route);

  const server = await listen(router(routes), {
    hostname: options.hostname,
    port: options.port,
    onError: (error) => problems.report("http", error),
  });

  // Compaction folds exited writers' files into one archive, so the directory, and the
  // scrape time, stay bounded. It needs to write there; a read-only view is still served.
  const compactNow = () => {
    if (dir !== undefined && !writable(dir)) return;
    try {
      compact(dir);
      problems.ok("compact");
    } catch (error) {
      // No directory yet (no writer has started): nothing to compact.
      if (error instanceof MmapError && error.code === "ENOENT") problems.ok("compact");
      else problems.report("compact", error);
    }
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (options.compactInterval > 0) {
    compactNow();
    timer = setInterval(compactNow, options.compactInterval * 1000);
  }

  const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
  const formats = options.openMetrics ? "OpenMetrics or Prometheus text" : "Prometheus text only";
  const compaction = options.compactInterval > 0
    ? `compacting every ${options.compactInterval} s${dir !== undefined && !writable(dir) ? " when writable" : ""}`
    : "not compacting";
  out.info(
    `mmstruct serve: listening on http://${host}:${server.port}/metrics for ${
      JSON.stringify(dir ?? defaultMetricsDirectory())
    } (${formats}; ${compaction})`,
  );

  const signal = await new Promise<string>((resolve) => {
    const names = ["SIGINT", "SIGTERM"] as const;
    const handlers = names.map((name) => () => {
      names.forEach((other, i) => process.off(other, handlers[i]));
      resolve(name);
    });
    names.forEach((name, i) => process.once(name, handlers[i]));
  });
  clearInterval(timer);
  await server.close();
  out.info(`mmstruct serve: stopped on ${signal}`);
  return 0;
}
