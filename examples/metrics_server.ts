/**
 * An HTTP server with several worker processes that count their requests and latencies
 * into a metrics directory. Nobody collects anything from the workers: each writes its
 * own memory-mapped file, and any process reads them all, merged, whenever it likes.
 *
 *     deno run --allow-all examples/metrics_server.ts [--dir DIR] [--port 8080] [--workers 3]
 *     node dist/examples/metrics_server.js …      bun examples/metrics_server.ts …
 *
 * Then read the merged metrics with `mmstruct metrics DIR` (or `curl
 * http://127.0.0.1:8080/metrics`, which any worker answers from the same files). Kill a
 * worker, even with `kill -9`: the primary starts another one, and the totals never go
 * back, because the killed worker's counts stay in its file (and `Metrics.create`, in the
 * new worker, folds them into the directory's archive).
 *
 * The primary process starts the workers (this file again, with `--worker`) and hands
 * each connection to the next worker in turn, as `node:cluster`'s primary does (that
 * module exists on Node only; this runs on Deno, Node and Bun). The workers count
 * `http_requests_total{method,route,code}`, `http_request_duration_seconds{method,route}`
 * (a histogram) and `http_requests_in_flight` (a gauge), before each response is sent, so
 * that a request whose answer has arrived has been counted.
 *
 * Flags: `--dir` (default: the library's default directory, `$MMSTRUCT_METRICS_DIR` or a
 * per-user tmpfs directory), `--port` (default 8080; 0 picks a free one), `--workers`
 * (default 3), `--host` (default 127.0.0.1). The primary prints one line when it is
 * ready: `listening on http://HOST:PORT, workers PID PID PID, metrics in DIR`, then one
 * line per worker it replaces. SIGTERM or SIGINT stops everything.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { resolve } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { collect, ensurePrivateDirectory, Metrics, PROMETHEUS_CONTENT_TYPE, toPrometheus } from "../mod.ts";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    port: { type: "string", default: "8080" },
    host: { type: "string", default: "127.0.0.1" },
    workers: { type: "string", default: "3" },
    worker: { type: "boolean", default: false },
  },
});

/** The metrics directory: the one given, or the library's default (the same for every process). */
const dir = values.dir === undefined ? undefined : resolve(values.dir);

/** Label values must have few distinct values: anything else is `"other"`. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE"]);
const ITEMS = new Map(Array.from({ length: 10 }, (_, i) => [String(i + 1), { id: i + 1, name: `item ${i + 1}` }]));

interface Answer {
  /** The route template, never the path itself (a label per path would be unbounded). */
  route: string;
  code: number;
  body: string;
}

/** The application: a few routes over an in-memory list. */
function route(method: string, path: string): Answer {
  if (path === "/") return { route: "/", code: 200, body: "hello\n" };
  if (path === "/items") {
    return method === "POST"
      ? { route: "/items", code: 201, body: '{"created":true}\n' }
      : { route: "/items", code: 200, body: `${JSON.stringify([...ITEMS.values()])}\n` };
  }
  const match = /^\/items\/([^/]+)$/.exec(path);
  if (match !== null) {
    const item = ITEMS.get(match[1]);
    return item === undefined
      ? { route: "/items/:id", code: 404, body: '{"error":"no such item"}\n' }
      : { route: "/items/:id", code: 200, body: `${JSON.stringify(item)}\n` };
  }
  return { route: "other", code: 404, body: "not found\n" };
}

function worker(): void {
  const metrics = Metrics.create(dir, { name: "http" });
  const requests = metrics.counter({
    name: "http_requests_total",
    help: "HTTP requests answered",
    labelNames: ["method", "route", "code"],
  });
  const latency = metrics.histogram({
    name: "http_request_duration_seconds",
    help: "Time from a request's arrival to its answer",
    unit: "seconds",
    labelNames: ["method", "route"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  const inFlight = metrics.gauge({
    name: "http_requests_in_flight",
    help: "Requests being handled",
    aggregate: "sum",
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const done = latency.startTimer();
    inFlight.inc();
    req.resume(); // the body (of a POST) is not used, but must be read
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/metrics") {
        // The merged metrics of every worker, read from their files; not counted itself.
        inFlight.dec();
        res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
        res.end(toPrometheus(collect(metrics.dir).families));
        return;
      }
      const method = METHODS.has(req.method ?? "") ? req.method! : "other";
      const answer = route(method, path);
      // Counted before the answer leaves: a client that has its answer has been counted.
      done({ method, route: answer.route });
      requests.inc({ method, route: answer.route, code: answer.code });
      inFlight.dec();
      res.writeHead(answer.code, { "content-type": "text/plain; charset=utf-8" });
      res.end(answer.body);
    });
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    metrics.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", () => {}); // the primary forwards Ctrl-C as SIGTERM
  // The primary holds our standard input: when it is gone, so are we.
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(`listening ${typeof address === "object" && address !== null ? address.port : 0} ${metrics.dir}`);
  });
}

interface Worker {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Its metrics directory (absolute). */
  dir: string;
}

/**
 * Deno needs its permission flags; Node and Bun run the script as it is. All of them: a
 * directory under `/dev/shm` (the default one where `$XDG_RUNTIME_DIR` is not set) needs
 * `--allow-all` on Deno (denoland/deno#30979), and `--allow-ffi` grants as much anyway.
 */
const runtimeArgs = "Deno" in globalThis ? ["run", "--allow-all"] : [];

function startWorker(): Promise<Worker> {
  const args = [...runtimeArgs, fileURLToPath(import.meta.url), "--worker"];
  if (dir !== undefined) args.push("--dir", dir);
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const failed = (code: number | null, signal: string | null) =>
      reject(new Error(`A worker exited before listening (status ${code}, signal ${signal})`));
    child.once("exit", failed);
    lines.once("line", (line) => {
      child.off("exit", failed);
      const [, port, where] = /^listening (\d+) (.+)$/.exec(line) ?? [];
      if (port === undefined) reject(new Error(`A worker said ${JSON.stringify(line)} instead of its port`));
      else resolve({ child, pid: child.pid!, port: Number(port), dir: where });
      lines.on("line", (more) => console.log(`worker ${child.pid}: ${more}`));
    });
  });
}

async function primary(): Promise<void> {
  const count = Number(values.workers);
  const port = Number(values.port);
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new RangeError(`--workers must be an integer from 1 to 64, got ${JSON.stringify(values.workers)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  }
  if (dir !== undefined) ensurePrivateDirectory(dir);
  const workers: Worker[] = [];
  let stopping = false;
  let next = 0;

  const watch = (w: Worker) => {
    w.child.once("exit", (code, signal) => {
      workers.splice(workers.indexOf(w), 1);
      if (stopping) {
        if (workers.length === 0) process.exit(0);
        return;
      }
      startWorker().then((replacement) => {
        if (stopping) {
          replacement.child.kill("SIGTERM");
          return;
        }
        workers.push(replacement);
        watch(replacement);
        console.log(
          `worker ${w.pid} exited (${signal ?? `status ${code}`}); started worker ${replacement.pid} in its place`,
        );
      }, (error) => console.error(`metrics_server: ${(error as Error).message}`));
    });
  };

  for (const w of await Promise.all(Array.from({ length: count }, startWorker))) {
    workers.push(w);
    watch(w);
  }

  // Each connection goes to the next worker, byte for byte; a worker that has just died
  // refuses it, and the client sees its connection closed (and may try again).
  const balancer = createTcpServer((client: Socket) => {
    const w = workers[next++ % Math.max(workers.length, 1)];
    if (w === undefined) {
      client.destroy();
      return;
    }
    const upstream = connect(w.port, "127.0.0.1");
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", drop);
    client.on("error", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  balancer.on("error", (error) => {
    console.error(`metrics_server: ${error.message}`);
    process.exit(1);
  });
  balancer.listen(port, values.host, () => {
    const address = balancer.address();
    const actual = typeof address === "object" && address !== null ? address.port : port;
    console.log(
      `listening on http://${values.host}:${actual}, workers ${workers.map((w) => w.pid).join(" ")}, ` +
        `metrics in ${workers[0].dir}`,
    );
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    balancer.close();
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w.child.kill("SIGTERM");
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (values.worker) {
  worker();
} else {
  await primary();
}
