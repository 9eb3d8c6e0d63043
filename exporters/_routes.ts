/**
 * The HTTP plumbing the exporters share: a router by path that answers `HEAD` like `GET`
 * and everything else with `404`/`405`, and response bodies gzipped when the client asks.
 * Internal.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { acceptsGzip } from "./_negotiate.ts";

/** Answers a `GET` (or `HEAD`) of one path. */
export type Route = (request: Request) => Response;

/** The methods every route answers. */
export const ALLOW = "GET, HEAD";

const encoder = new TextEncoder();

/**
 * A response with a text body, gzipped when `gzip` is allowed and the request's
 * `Accept-Encoding` takes it. It has a `Content-Length`, so `HEAD` can send it too, and
 * `Vary` names the request headers `vary` lists (plus `Accept-Encoding` when gzip is
 * allowed), so that caches keep one copy per format.
 */
export function textResponse(
  request: Request,
  body: string,
  headers: { contentType: string; status?: number; gzip: boolean; vary?: string[] },
): Response {
  let bytes: Uint8Array<ArrayBuffer> = encoder.encode(body);
  const out = new Headers({ "content-type": headers.contentType });
  const vary = [...headers.vary ?? []];
  if (headers.gzip) {
    vary.push("Accept-Encoding");
    if (acceptsGzip(request.headers.get("accept-encoding"))) {
      // Synchronous, on purpose: the whole body is in memory already, and a scrape's text
      // (tens of KiB) compresses in well under a millisecond; node:zlib is the same on
      // the three runtimes.
      bytes = new Uint8Array(gzipSync(bytes));
      out.set("content-encoding", "gzip");
    }
  }
  if (vary.length > 0) out.set("vary", vary.join(", "));
  out.set("content-length", String(bytes.length));
  return new Response(bytes, { status: headers.status ?? 200, headers: out });
}

function plain(status: number, message: string, extra: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

/**
 * A fetch handler that sends each path to its route: `GET` and `HEAD` (the `GET`
 * response without its body, headers kept, also for a 404), `405 Method Not Allowed` with
 * `Allow` for other methods, `404 Not Found` naming the paths there are for other paths.
 * The query string is ignored.
 */
export function router(routes: ReadonlyMap<string, Route>): (request: Request) => Response {
  const known = [...routes.keys()].join(", ");
  const answer = (request: Request): Response => {
    const path = new URL(request.url).pathname;
    const route = routes.get(path);
    if (route === undefined) return plain(404, `Not found: ${JSON.stringify(path)}; this server has ${known}`);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, `Method not allowed: ${JSON.stringify(request.method)} on ${path}; use GET or HEAD`, {
        allow: ALLOW,
      });
    }
    return route(request);
  };
  return (request: Request): Response => {
    const response = answer(request);
    if (request.method !== "HEAD") return response;
    return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
