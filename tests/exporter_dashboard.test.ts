import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Browser, Page } from "playwright-core";
import { UPLOT_CSS, UPLOT_JS, UPLOT_VERSION } from "../exporters/_dashboard_assets.ts";
import { finish, lines, root, runtime, start, tempDir } from "./_helpers.ts";

/**
 * The little of the DOM that the functions run in the page use: the tests are type-checked
 * without the DOM library (it clashes with the runtimes' own types), and these names are
 * local to this module.
 */
interface PageElement {
  readonly textContent: string | null;
  readonly classList: { contains(name: string): boolean };
  readonly width: number;
  readonly height: number;
  getContext(type: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  readonly body: PageElement;
};

/** Debian's package; the test drives it with playwright-core, without a browser download. */
const CHROMIUM = "/usr/bin/chromium";

async function loadPlaywright(): Promise<typeof import("playwright-core") | undefined> {
  try {
    return await import("playwright-core");
  } catch {
    return undefined;
  }
}
const playwright = await loadPlaywright();
const noBrowser = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found (Debian: apt-get install -y chromium)`
  : playwright === undefined
  ? "playwright-core cannot be imported (npm install -D playwright-core)"
  : false;

/** A running `mmstruct serve` on this test's runtime, and its origin from its start line. */
async function serve(dir: string): Promise<{ child: ChildProcess; origin: string } & AsyncDisposable> {
  const child = start(runtime, "../cli", ["serve", dir, "--listen", "127.0.0.1:0", "--compact-interval", "0"]);
  const done = finish(child);
  const startLine = await lines(child).next();
  const match = /^mmstruct serve: listening on (http:\/\/[^/\s]+)\/metrics /.exec(startLine);
  assert.ok(match, startLine);
  return {
    child,
    origin: match[1],
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await done;
    },
  };
}

/** A `fixtures/dashboard_writer` child on this test's runtime, ready, with a way to send it commands. */
async function writer(
  dir: string,
  name: string,
  args: string[],
): Promise<{ child: ChildProcess; send(line: string): Promise<void> } & AsyncDisposable> {
  const child = start(runtime, "fixtures/dashboard_writer", [dir, name, ...args]);
  const done = finish(child);
  const out = lines(child);
  assert.equal(await out.next(), "ready");
  return {
    child,
    async send(line) {
      child.stdin!.write(`${line}\n`);
      assert.equal(await out.next(), "ok");
    },
    async [Symbol.asyncDispose]() {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Headless Chromium, closed on dispose. */
async function browser(): Promise<Browser & AsyncDisposable> {
  const launched = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  return Object.assign(launched, { [Symbol.asyncDispose]: () => launched.close() });
}

/**
 * A page of the dashboard at `origin` that may load nothing from anywhere else: every
 * request is recorded, and those to another origin are aborted. Scripts' errors and the
 * console's errors (where Chromium reports what the Content-Security-Policy blocked) too.
 */
async function openDashboard(
  chromium: Browser,
  origin: string,
): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const context = await chromium.newContext({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const problems: string[] = [];
  await context.route("**", (route) => {
    const url = route.request().url();
    return url.startsWith(`${origin}/`) ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  const response = await page.goto(`${origin}/`);
  assert.equal(response?.status(), 200);
  return { page, requests, problems };
}

/** The CSS selector of a table cell of the dashboard: a series' column in a family. */
function cell(family: string, labels: Record<string, string>, column: string): string {
  return `details[data-family="${family}"] [data-labels='${JSON.stringify(labels)}'] .col-${column}`;
}

/** Scrolls to the cell and waits (up to a minute: the machine is shared) until its text is `text`. */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  try {
    // As a reader would: the page writes the values of the rows on screen only.
    await page.locator(selector).scrollIntoViewIfNeeded({ timeout: 60_000 });
    await page.waitForFunction(
      ([selector, text]) => document.querySelector(selector)?.textContent === text,
      [selector, text] as const,
      { timeout: 60_000, polling: 100 },
    );
  } catch (error) {
    const shown = await page.evaluate((selector) => document.querySelector(selector)?.textContent, selector);
    assert.fail(`${selector} shows ${JSON.stringify(shown)}, not ${JSON.stringify(text)}: ${error}`);
  }
}

/**
 * Waits until the chart of `family` has pixels of the color of its first line (uPlot draws
 * axes and grid in grays: these can only be a drawn series).
 */
async function waitForLine(page: Page, family: string, color: readonly [number, number, number]): Promise<void> {
  const chart = `details[data-family="${family}"] .chart`;
  // Charts off screen are not redrawn: look at it, as a reader would.
  await page.locator(chart).scrollIntoViewIfNeeded({ timeout: 60_000 });
  /** Runs in the page: the number of pixels of that color, when at least `least`, else false. */
  const count = ([selector, color, least]: readonly [string, readonly number[], number]) => {
    const canvas = document.querySelector(`${selector} canvas`);
    if (canvas === null || canvas.width === 0) return least === 0 ? 0 : false;
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = Math.abs(data[i] - color[0]) + Math.abs(data[i + 1] - color[1]) + Math.abs(data[i + 2] - color[2]);
      if (data[i + 3] > 200 && near < 60) n++;
    }
    return n >= least ? n : false;
  };
  try {
    await page.waitForFunction(count, [chart, color, 20] as const, { timeout: 60_000, polling: 250 });
  } catch (error) {
    const n = await page.evaluate(count, [chart, color, 0] as const);
    assert.fail(`the chart of ${family} has ${n} pixels of its first line's color: ${error}`);
  }
}

/** The first line's color in the page's script, as RGB. */
function firstLineColor(): [number, number, number] {
  const hex = /#[0-9a-f]{6}/.exec(
    readFileSync(join(root, "exporters", "_dashboard_page.ts"), "utf8").split("COLORS")[1],
  )!;
  const n = parseInt(hex[0].slice(1), 16);
  return [n >> 16, (n >> 8) & 255, n & 255];
}

/**
 * The q-quantile of cumulative buckets as Prometheus' `histogram_quantile` estimates it:
 * linear within the bucket the rank falls in (written here from its documentation, not
 * taken from the page).
 */
function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number {
  const rank = q * buckets[buckets.length - 1].count;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) return lower + (le - lower) * (rank - below) / (count - below);
    [lower, below] = [le, count];
  }
  throw new RangeError("rank beyond the last bucket");
}

/** What the page's number format shows for these test values (integers, or a few digits). */
function shown(value: number): string {
  return String(Number(value.toPrecision(6)));
}

test("the dashboard's uPlot module is what the installed uplot package makes", () => {
  const installed = JSON.parse(readFileSync(join(root, "node_modules", "uplot", "package.json"), "utf8"));
  assert.equal(UPLOT_VERSION, installed.version, "run node tools/vendor-uplot.mjs");
  const dist = join(root, "node_modules", "uplot", "dist");
  assert.ok(UPLOT_JS.endsWith(readFileSync(join(dist, "uPlot.iife.min.js"), "utf8")));
  assert.ok(UPLOT_JS.startsWith(`/*! uPlot ${installed.version}`));
  assert.match(UPLOT_JS, /Copyright \(c\) \d{4} Leon Sorokin/);
  assert.equal(UPLOT_CSS, readFileSync(join(dist, "uPlot.min.css"), "utf8"));
  // And byte for byte what the generator writes now.
  const check = spawnSync("node", [join(root, "tools", "vendor-uplot.mjs"), "--check"], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
});

test("mmstruct serve serves the dashboard at / with every resource from itself, under default-src 'self'", async () => {
  using tmp = tempDir();
  await using server = await serve(tmp.dir);
  const page = await fetch(`${server.origin}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(page.headers.get("content-security-policy"), "default-src 'self'");
  const html = await page.text();
  assert.match(html, new RegExp(`<title>mmstruct: ${tmp.dir.replaceAll("/", "\\/")}</title>`));
  const links = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, svg: /^image\/svg\+xml/ };
  const own = links.filter((link) => link.startsWith("/dashboard/"));
  assert.deepEqual(own.map((link) => link.split(".").pop()).sort(), ["css", "css", "js", "js", "svg"]);
  for (const link of links) {
    assert.match(link, /^\/[^/]/, `${link} is not a path of this server`);
    const response = await fetch(new URL(link, server.origin), { headers: { "accept-encoding": "gzip" } });
    assert.equal(response.status, 200, link);
    const type = types[link.split(".").pop()!];
    if (type !== undefined) assert.match(response.headers.get("content-type")!, type, link);
    assert.notEqual((await response.text()).length, 0, link);
  }
  const head = await fetch(`${server.origin}/dashboard/uplot.min.js`, {
    method: "HEAD",
    headers: { "accept-encoding": "identity" },
  });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get("content-length")), new TextEncoder().encode(UPLOT_JS).length);
});

test("the dashboard shows live values, draws their history, marks a dead writer and a lost server", {
  skip: noBrowser,
}, async () => {
  using tmp = tempDir();
  await using a = await writer(tmp.dir, "writer-a", ["control"]);
  await using b = await writer(tmp.dir, "writer-b", ["control"]);
  // What the writers were told, from which every expected value follows.
  const jobs = new Map<string, number>();
  const temperatures = new Map<string, number>();
  const observed: number[] = [];
  const act = {
    inc: async (w: typeof a, kind: string, n: number) => {
      await w.send(`inc ${kind} ${n}`);
      jobs.set(kind, (jobs.get(kind) ?? 0) + n);
    },
    set: async (w: typeof a, room: string, v: number) => {
      await w.send(`set ${room} ${v}`);
      temperatures.set(room, v);
    },
    observe: async (w: typeof a, v: number, n: number) => {
      await w.send(`observe ${v} ${n}`);
      for (let i = 0; i < n; i++) observed.push(v);
    },
  };
  const buckets = () => [0.1, 1, Infinity].map((le) => ({ le, count: observed.filter((v) => v <= le).length }));
  const expectAll = async (page: Page) => {
    for (const [kind, n] of jobs) await waitForText(page, cell("dash_jobs", { kind }, "value"), String(n));
    for (const [room, v] of temperatures) {
      await waitForText(page, cell("dash_temperature_celsius", { room }, "value"), shown(v));
    }
    const h = cell.bind(null, "dash_latency_seconds", {});
    await waitForText(page, h("count"), String(observed.length));
    await waitForText(page, h("sum"), shown(observed.reduce((s, v) => s + v, 0)));
    await waitForText(page, h("p50"), shown(histogramQuantile(0.5, buckets())));
    await waitForText(page, h("p90"), shown(histogramQuantile(0.9, buckets())));
  };

  await act.inc(a, "read", 5);
  await act.inc(b, "read", 2);
  await act.inc(b, "write", 1);
  await act.set(a, "kitchen", 21);
  await act.observe(a, 0.5, 10);
  await using server = await serve(tmp.dir);
  await using chromium = await browser();
  const { page, requests, problems } = await openDashboard(chromium, server.origin);

  await expectAll(page);
  await waitForText(page, "#writers", "writers: 2 live, 0 dead, 0 archived");

  // The writers change their values: the page follows.
  await act.inc(a, "read", 3);
  await act.inc(b, "write", 4);
  await act.set(a, "kitchen", 23.5);
  await act.set(b, "hall", 19);
  await act.observe(b, 0.05, 30);
  await expectAll(page);

  // Charts: a line for the gauge's value, the counter's rate and the histogram's quantiles.
  const color = firstLineColor();
  await waitForLine(page, "dash_jobs", color);
  await waitForLine(page, "dash_temperature_celsius", color);
  // The histogram's chart is of recent observations: keep observing until it is drawn.
  let drawn = false;
  const observing = (async () => {
    while (!drawn) {
      await act.observe(a, 0.5, 1);
      await sleep(200);
    }
  })();
  try {
    await waitForLine(page, "dash_latency_seconds", color);
  } finally {
    drawn = true;
    await observing;
  }

  // A writer killed: counted as dead, its counts kept (a gauge's value goes with it).
  b.child.kill("SIGKILL");
  await waitForText(page, "#writers", "writers: 1 live, 1 dead (exited, not yet compacted), 0 archived");
  temperatures.delete("hall");
  await expectAll(page);
  await page.waitForFunction(() => document.querySelector("#writers")!.classList.contains("dead"));
  await page.waitForFunction(() => document.querySelector(`[data-labels='{"room":"hall"}']`) === null);

  // The server gone: the page says so instead of showing the last values as live.
  server.child.kill("SIGKILL");
  await page.waitForFunction(() => /^cannot read the metrics: /.test(document.querySelector("#status")!.textContent!));
  await page.waitForFunction(() => document.body.classList.contains("stale"), undefined, { timeout: 60_000 });

  assert.deepEqual(problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(p)), []);
  assert.deepEqual(requests.filter((url) => !url.startsWith(`${server.origin}/`)), []);
  assert.ok(requests.includes(`${server.origin}/dashboard/uplot.min.js`), requests.join(" "));
  assert.ok(requests.includes(`${server.origin}/metrics.json`), requests.join(" "));
});

test("the dashboard shows every one of a thousand series, also those scrolled into view", {
  skip: noBrowser,
}, async () => {
  using tmp = tempDir();
  await using load = await writer(tmp.dir, "load", ["load", "1000"]);
  await using server = await serve(tmp.dir);
  const collected = await (await fetch(`${server.origin}/metrics.json`)).json() as {
    families: { name: string; series: { labels: Record<string, string>; value?: number }[] }[];
  };
  const requests = collected.families.find((f) => f.name === "http_requests")!;
  assert.ok(requests.series.length > 500, `${requests.series.length} series`);
  await using chromium = await browser();
  const { page, problems } = await openDashboard(chromium, server.origin);
  await waitForText(page, `details[data-family="http_requests"] .count`, `${requests.series.length} series`);
  const rows = await page.evaluate(() => document.querySelectorAll("[data-labels]").length);
  const total = collected.families.reduce((n, f) => n + f.series.length, 0);
  assert.equal(rows, total);
  // The last row, far below the fold: its value is written once it is on screen, and it
  // counts up with the writer (a counter only grows).
  const last = cell("http_requests", requests.series.at(-1)!.labels, "value");
  await page.locator(last).scrollIntoViewIfNeeded();
  await page.waitForFunction((selector) => /^\d+$/.test(document.querySelector(selector)!.textContent!), last, {
    timeout: 60_000,
  });
  const first = Number(await page.locator(last).textContent());
  assert.ok(first >= requests.series.at(-1)!.value!);
  await page.waitForFunction(
    ([selector, first]) => Number(document.querySelector(selector)!.textContent) > first,
    [last, first] as const,
    { timeout: 60_000 },
  );
  assert.deepEqual(problems, []);
  load.child.stdin!.end();
});
