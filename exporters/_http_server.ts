/**
 * A fetch handler as an HTTP server on whichever runtime this is: `Deno.serve` on Deno,
 * `Bun.serve` on Bun, and `node:http` on Node, which has no server for Web-standard
 * handlers (its `Request`/`Response` come from undici, but `node:http` speaks
 * `IncomingMessage`/`ServerResponse`): a small adapter turns one into the other. The one
 * module that knows which runtime serves, and how. Internal.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errnoNumber } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";
import { detectRuntime } from "../ffi/runtime.ts";
import { MmapError } from "../ffi/mmap_error.ts";

/** A fetch handler. */
export type Handler = (request: Request) => Response | Promise<Response>;

/** A running server. */
export interface HttpServer {
  /** The address it listens on (an IPv6 address without brackets). */
  readonly hostname: string;
  /** The port it listens on (the one the system chose, when asked for 0). */
  readonly port: number;
  /**
   * Stops accepting connections, lets requests in progress finish (for at most a second),
   * closes idle keep-alive connections, and resolves when the port is free.
   */
  close(): Promise<void>;
}

/** What each runtime's server needs to know besides the handler. */
export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
  /** Called when the handler throws or rejects; the client gets a 500. */
  readonly onError: (error: unknown) => void;
}

/** How long `close()` waits for requests in progress before it drops their connections. */
const GRACE_MS = 1000;

function internalError(): Response {
  return new Response("Internal server error\n", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** The handler, with its failures reported and answered with a 500 instead of reaching the server. */
function guarded(handler: Handler, onError: (error: unknown) => void): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await handler(request);
    } catch (error) {
      onError(error);
      return internalError();
    }
  };
}

/** The part of Deno's API used here (typed by hand: the Node build has no Deno types at run time). */
interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen(addr: unknown): void; onError(error: unknown): Response },
    handler: (request: Request) => Promise<Response>,
  ): { addr: { hostname: string; port: number }; shutdown(): Promise<void>; finished: Promise<void> };
}

/** The part of Bun's API used here. */
interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request): Promise<Response>;
    error(error: unknown): Response;
  }): { hostname?: string; port?: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
}

function withTimeout(done: Promise<void>, ms: number, onTimeout: () => void | Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

function listenDeno(deno: DenoServe, handler: Handler, options: ListenOptions): HttpServer {
  const serve = guarded(handler, options.onError);
  const server = deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen() {}, // instead of Deno's own "Listening on" line: the caller logs its own
    onError(error) {
      options.onError(error);
      return internalError();
    },
  }, serve);
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    // shutdown() waits for requests in progress and closes idle connections.
    close: () => server.shutdown(),
  };
}

function listenBun(bun: BunServe, handler: Handler, options: ListenOptions): HttpServer {
  const server = bun.serve({
    hostname: options.hostname,
    port: options.port,
    fetch: guarded(handler, options.onError),
    error(error) {
      options.onError(error);
      return internalError();
    },
  });
  return {
    hostname: server.hostname ?? options.hostname,
    port: server.port ?? options.port,
    close: async () => {
      // stop(false) lets requests in progress finish; stop(true) then drops what is left.
      await withTimeout(Promise.resolve(server.stop(false)), GRACE_MS, () => server.stop(true));
    },
  };
}

/** The `Request` a Node request stands for. Bodies are not passed on: the exporters read none. */
function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  // The server's own address, not the Host header, is the origin: a client cannot make the
  // URL unparsable with a strange Host.
  return new Request(new URL(req.url ?? "/", origin), { method: req.method, headers });
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  res.writeHead(response.status, response.statusText || undefined, headers.flat());
  res.end(body);
}

async function listenNode(handler: Handler, options: ListenOptions): Promise<HttpServer> {
  const serve = guarded(handler, options.onError);
  let origin = "";
  const server = createServer((req, res) => {
    req.resume(); // read and drop any body, so the connection can be reused
    let request: Request;
    try {
      request = toRequest(req, origin);
    } catch {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("Bad request\n");
      return;
    }
    serve(request).then((response) => send(response, res)).catch((error) => {
      options.onError(error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", options.onError);
  const address = server.address() as AddressInfo;
  origin = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    hostname: address.address,
    port: address.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await withTimeout(closed, GRACE_MS, async () => {
        server.closeAllConnections();
        await closed;
      });
    },
  };
}

/** Deno's names for the errors of `bind`, and the errno names the other runtimes give. */
const DENO_ERRORS: Readonly<Record<string, string>> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  PermissionDenied: "EACCES",
  NotCapable: "EACCES", // no --allow-net
};

/** A failure to listen as the project's error for failed system calls, the same on every runtime. */
function listenError(error: unknown, options: ListenOptions): MmapError {
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) ? e.code : DENO_ERRORS[String(e.name)] ?? "EIO";
  const errno = errnoNumber(code);
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const reason = errno === 0 ? String(e.message) : libc().strerror(errno);
  return new MmapError(`Cannot listen on ${host}:${options.port}: ${reason}`, {
    syscall: "bind",
    code,
    cause: error,
  });
}

/**
 * Serves `handler` on `hostname:port` with this runtime's HTTP server. Resolves once it
 * listens.
 *
 * @throws {MmapError} If it cannot listen (`"EADDRINUSE"`: the port is taken;
 * `"EADDRNOTAVAIL"`: no such local address; `"EACCES"`: a privileged port, or no
 * `--allow-net` on Deno).
 */
export async function listen(handler: Handler, options: ListenOptions): Promise<HttpServer> {
  const g = globalThis as { Deno?: DenoServe; Bun?: BunServe };
  try {
    switch (detectRuntime()) {
      case "deno":
        return listenDeno(g.Deno!, handler, options);
      case "bun":
        return listenBun(g.Bun!, handler, options);
      case "node":
        return await listenNode(handler, options);
    }
  } catch (error) {
    throw listenError(error, options);
  }
}
