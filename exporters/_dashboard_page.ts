/**
 * The dashboard page of `mmstruct serve` (`GET /`): its HTML, style sheet and script, as
 * strings. The script polls `/metrics.json` once a second, keeps five minutes of history in
 * the browser and draws it with uPlot (served beside it, see `_dashboard_assets.ts`).
 * Nothing is inline, so that the page works under `Content-Security-Policy: default-src
 * 'self'`. Internal.
 *
 * @module
 */

import { defaultMetricsDirectory } from "../metrics/default_directory.ts";

/** Paths of the page's resources, all served by `mmstruct serve` itself. */
export const DASHBOARD_PATHS = {
  page: "/",
  script: "/dashboard/dashboard.js",
  style: "/dashboard/dashboard.css",
  uplotScript: "/dashboard/uplot.min.js",
  uplotStyle: "/dashboard/uplot.min.css",
  icon: "/dashboard/icon.svg",
} as const;

/** The page's icon (without one, a browser asks for `/favicon.ico` and logs the 404). */
export const DASHBOARD_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f77b4"/>' +
  '<path d="M2 12 6 7l3 3 5-6" stroke="#fff" stroke-width="2" fill="none"/></svg>\n';

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` as HTML text or attribute value. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/**
 * The page's HTML for the metrics directory `dir` (shown in its heading; undefined: the
 * default directory).
 */
export function dashboardHtml(dir: string | undefined): string {
  const where = dir ?? defaultMetricsDirectory();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mmstruct: ${escapeHtml(where)}</title>
<link rel="icon" href="${DASHBOARD_PATHS.icon}" type="image/svg+xml">
<link rel="stylesheet" href="${DASHBOARD_PATHS.uplotStyle}">
<link rel="stylesheet" href="${DASHBOARD_PATHS.style}">
<script src="${DASHBOARD_PATHS.uplotScript}" defer></script>
<script src="${DASHBOARD_PATHS.script}" defer></script>
</head>
<body>
<header>
<h1>mmstruct <span id="dir">${escapeHtml(where)}</span></h1>
<div id="summary">
<span id="writers" class="writers">writers: waiting for the first scrape</span>
<span id="status" class="status">connecting</span>
<input id="filter" type="search" placeholder="Filter by name" aria-label="Filter metrics by name">
</div>
</header>
<ul id="errors" hidden></ul>
<main id="families"></main>
<noscript>This page needs JavaScript; the same metrics are at <a href="/metrics">/metrics</a>.</noscript>
</body>
</html>
`;
}

/** The page's style sheet. */
export const DASHBOARD_CSS =
  `:root { color-scheme: light; --fg: #1b1f24; --muted: #5c6670; --line: #d8dee4; --dead: #b42318; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: #f6f8fa; }
header { position: sticky; top: 0; z-index: 2; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 16px; }
h1 { font-size: 16px; margin: 0 0 4px; }
#dir { font-weight: normal; color: var(--muted); font-family: ui-monospace, monospace; }
#summary { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
.writers.dead { color: var(--dead); font-weight: 600; }
.status.stale { color: var(--dead); font-weight: 600; }
.status.live { color: var(--ok); }
#filter { margin-left: auto; min-width: 240px; padding: 3px 6px; }
#errors { margin: 8px 16px; padding: 8px 24px; background: #fff5f5; border: 1px solid #f3c1c1; color: var(--dead); }
main { padding: 8px 16px; }
details.family { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.family > summary { cursor: pointer; padding: 6px 10px; display: flex; gap: 10px; align-items: baseline; }
.family .name { font-family: ui-monospace, monospace; font-weight: 600; }
.family .type { color: var(--muted); font-size: 12px; text-transform: uppercase; }
.family .help { color: var(--muted); flex: 1; }
.family .count { color: var(--muted); font-size: 12px; }
.family .body { padding: 0 10px 10px; }
.family .chart { min-height: 180px; }
.family .note { color: var(--muted); font-size: 12px; margin: 2px 0 6px; }
/* Rows are flex boxes, not a <table>: a table lays out all its rows again when one cell
   changes (90 ms a second at 1,000 rows); these rows are laid out alone, and skipped off screen. */
.rows { font-variant-numeric: tabular-nums; }
.row { display: flex; border-top: 1px solid var(--line); padding: 2px 0; contain: layout style; content-visibility: auto; contain-intrinsic-size: auto 21px; }
.row > span { flex: 1 1 0; min-width: 0; text-align: right; padding: 0 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row > span:first-child { flex: 4 1 0; text-align: left; font-family: ui-monospace, monospace; white-space: normal; overflow-wrap: anywhere; }
.row.head > span { color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.note .swatch { margin-left: 10px; }
body.stale .row { color: var(--muted); }
`;

/**
 * The page's script. Plain JavaScript for the browser (no build step, no module system),
 * written without template literals so that it can live in this one.
 */
export const DASHBOARD_JS = `"use strict";
(function () {
  var POLL_MS = 1000; // at least one update a second
  var HISTORY = 300; // points kept: five minutes at one a second
  var MAX_LINES = 8; // series drawn in one family's chart
  var QUANTILES = [0.5, 0.9, 0.99];
  var WINDOW_S = 30; // a histogram's chart: quantiles of the observations of the last 30 s
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

  var times = []; // seconds since the epoch of each poll kept, shared by every series
  var families = new Map(); // name -> family state
  var familiesEl = document.getElementById("families");
  var writersEl = document.getElementById("writers");
  var statusEl = document.getElementById("status");
  var errorsEl = document.getElementById("errors");
  var filterEl = document.getElementById("filter");
  var lastOk = 0;
  var visible = new Set(); // families whose chart is on screen
  var rowsOnScreen = new Map(); // row element -> series, for rows on screen: only those are rewritten
  var rowObserver = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var series = entry.target.mmstructSeries;
      if (entry.isIntersecting) {
        rowsOnScreen.set(entry.target, series);
        renderRow(series);
      } else rowsOnScreen.delete(entry.target);
    });
  });
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var name = entry.target.getAttribute("data-family");
      if (entry.isIntersecting) visible.add(name); else visible.delete(name);
      var family = families.get(name);
      if (family && entry.isIntersecting) drawChart(family);
    });
  });

  function num(value) {
    // JSON has no NaN or infinities: /metrics.json spells them as strings.
    if (value === "+Inf") return Infinity;
    if (value === "-Inf") return -Infinity;
    if (value === "NaN") return NaN;
    return value;
  }

  function format(value) {
    if (value === null || value === undefined) return "";
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    var abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e15)) return value.toExponential(3);
    return String(Number(value.toPrecision(6)));
  }

  function formatRate(value) {
    if (value === null || value === undefined) return "";
    return format(Math.abs(value) >= 100 ? Math.round(value) : Number(value.toFixed(2))) + "/s";
  }

  function labelText(labels) {
    var parts = Object.keys(labels).map(function (k) { return k + "=" + JSON.stringify(labels[k]); });
    return parts.length === 0 ? "(no labels)" : parts.join(" ");
  }

  /** The q-quantile of cumulative buckets, interpolated linearly as Prometheus' histogram_quantile does. */
  function quantile(q, buckets) {
    var total = buckets.length === 0 ? 0 : buckets[buckets.length - 1].count;
    if (!(total > 0)) return null;
    var rank = q * total;
    var lower = 0;
    var below = 0;
    for (var i = 0; i < buckets.length; i++) {
      var upper = buckets[i].le;
      var count = buckets[i].count;
      if (count >= rank) {
        // The +Inf bucket has no upper bound: the estimate is the highest finite one.
        if (upper === Infinity) return i === 0 ? null : buckets[i - 1].le;
        if (i === 0 && upper <= 0) return upper;
        return lower + (upper - lower) * (count === below ? 1 : (rank - below) / (count - below));
      }
      lower = upper;
      below = count;
    }
    return null;
  }

  function push(array, value) {
    array.push(value);
    if (array.length > HISTORY) array.shift();
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function columnsOf(type) {
    if (type === "counter") return ["value", "rate"];
    if (type === "histogram") return ["count", "rate", "sum", "p50", "p90", "p99"];
    return ["value"];
  }

  function newFamily(json) {
    var root = el("details", "family");
    root.setAttribute("data-family", json.name);
    root.setAttribute("data-type", json.type);
    root.open = true;
    var summary = el("summary");
    summary.append(el("span", "name", json.name), el("span", "type", json.type), el("span", "help", json.help));
    var countEl = el("span", "count");
    summary.append(countEl);
    var body = el("div", "body");
    var chartEl = el("div", "chart");
    var note = el("div", "note");
    var table = el("div", "rows");
    table.setAttribute("role", "table");
    var head = el("div", "row head");
    head.setAttribute("role", "row");
    ["labels"].concat(columnsOf(json.type)).forEach(function (c) {
      var cell = el("span", "", c);
      cell.setAttribute("role", "columnheader");
      head.append(cell);
    });
    var tbody = el("div", "series");
    tbody.setAttribute("role", "rowgroup");
    table.append(head, tbody);
    body.append(chartEl, note, table);
    root.append(summary, body);
    var family = {
      name: json.name, type: json.type, root: root, countEl: countEl, chartEl: chartEl, note: note, tbody: tbody,
      series: new Map(), order: [], chart: null, chartKeys: "", bucketHistory: [], quantiles: QUANTILES.map(function () { return []; }),
      seen: true,
    };
    root.addEventListener("toggle", function () { if (root.open) { render(family); drawChart(family); } });
    observer.observe(root);
    return family;
  }

  function newSeries(family, json, key) {
    var row = el("div", "row");
    row.setAttribute("role", "row");
    row.setAttribute("data-labels", key);
    var labelsCell = el("span", "labels");
    labelsCell.setAttribute("role", "cell");
    var swatch = el("span", "swatch");
    labelsCell.append(swatch, labelText(json.labels));
    row.append(labelsCell);
    var cells = {};
    columnsOf(family.type).forEach(function (c) {
      cells[c] = el("span", "col-" + c);
      cells[c].setAttribute("role", "cell");
      row.append(cells[c]);
    });
    // Rows created after the first poll start with gaps, so that every history lines up with the times.
    var history = [];
    for (var i = 0; i < times.length - 1; i++) history.push(null);
    var series = { key: key, labels: json.labels, row: row, swatch: swatch, cells: cells, history: history, last: null, lastTime: 0, current: {} };
    row.mmstructSeries = series;
    rowObserver.observe(row);
    return series;
  }

  function renderRow(series) {
    var current = series.current;
    Object.keys(series.cells).forEach(function (c) {
      setText(series.cells[c], c === "rate" ? formatRate(current.rate) : format(current[c]));
    });
  }

  /** Folds one poll into a family's state: the values now, and one more point of history. */
  function update(family, json, now) {
    var order = [];
    var summed = null; // the family's buckets, summed over its series, for its quantile chart
    json.series.forEach(function (s) {
      var key = JSON.stringify(s.labels);
      var series = family.series.get(key);
      if (!series) {
        series = newSeries(family, s, key);
        family.series.set(key, series);
      }
      order.push(series);
      var current = {};
      var dt = series.lastTime > 0 ? now - series.lastTime : 0;
      if (family.type === "histogram") {
        var buckets = s.buckets.map(function (b) { return { le: num(b.le), count: num(b.count) }; });
        current.count = num(s.count);
        current.sum = num(s.sum);
        current.rate = dt > 0 && series.last !== null && current.count >= series.last ? (current.count - series.last) / dt : null;
        QUANTILES.forEach(function (q, i) { current["p" + Math.round(q * 100)] = quantile(q, buckets); });
        series.last = current.count;
        push(series.history, current.rate);
        if (summed === null) summed = buckets.map(function (b) { return { le: b.le, count: 0 }; });
        if (summed.length === buckets.length) buckets.forEach(function (b, i) { summed[i].count += b.count; });
      } else {
        current.value = num(s.value);
        if (family.type === "counter") {
          current.rate = dt > 0 && series.last !== null && current.value >= series.last ? (current.value - series.last) / dt : null;
          push(series.history, current.rate);
        } else {
          push(series.history, current.value);
        }
        series.last = current.value;
      }
      series.lastTime = now;
      series.current = current;
      series.seen = true;
    });
    // Series gone from the merge (a dead writer's gauge) leave the table, and their history ends.
    family.series.forEach(function (series, key) {
      if (!series.seen) {
        family.series.delete(key);
        rowObserver.unobserve(series.row);
        rowsOnScreen.delete(series.row);
        series.row.remove();
      }
      series.seen = false;
    });
    family.order = order;
    if (family.type === "histogram") {
      // Quantiles of what was observed in the last WINDOW_S seconds, as Prometheus'
      // histogram_quantile over a rate: the chart shows the recent distribution, where the
      // lifetime quantiles of the table would barely move.
      var recent = family.bucketHistory;
      if (summed !== null) recent.push({ time: now, buckets: summed });
      while (recent.length > 1 && now - recent[0].time > WINDOW_S) recent.shift();
      var oldest = recent.length > 1 ? recent[0].buckets : null;
      QUANTILES.forEach(function (q, i) {
        var value = null;
        if (summed !== null && oldest !== null && oldest.length === summed.length) {
          var delta = summed.map(function (b, j) { return { le: b.le, count: b.count - oldest[j].count }; });
          if (delta.every(function (b) { return b.count >= 0; })) value = quantile(q, delta);
        }
        push(family.quantiles[i], value);
      });
    }
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  /**
   * The family's heading and the order of its rows. The rows' values are rewritten only for
   * rows on screen (and when a row comes into view): with a thousand series, rewriting every
   * cell each second would keep the browser busy laying out what nobody sees.
   */
  function render(family) {
    var n = family.order.length;
    setText(family.countEl, n === 1 ? "1 series" : n + " series");
    var expected = family.tbody.firstChild;
    family.order.forEach(function (series) {
      if (series.row !== expected) family.tbody.insertBefore(series.row, expected);
      else expected = expected.nextSibling;
    });
  }

  function chartData(family) {
    if (family.type === "histogram") {
      return {
        labels: QUANTILES.map(function (q) { return "p" + Math.round(q * 100); }),
        rows: [],
        data: [times].concat(family.quantiles),
        note: "quantiles of the observations of the last " + WINDOW_S + " s, all series together (estimated from the buckets):",
      };
    }
    var shown = family.order.slice(0, MAX_LINES);
    var what = family.type === "counter" ? "rate per second" : "value";
    return {
      labels: shown.map(function (s) { return labelText(s.labels); }),
      rows: shown,
      data: [times].concat(shown.map(function (s) { return s.history; })),
      note: what + (family.order.length > shown.length ? " of the first " + shown.length + " of " + family.order.length + " series" : ""),
    };
  }

  /** Draws the family's chart, if it is open and on screen: charts off screen are not redrawn. */
  function drawChart(family) {
    if (!family.root.open || !visible.has(family.name) || times.length === 0) return;
    var c = chartData(family);
    var keys = family.type + ":" + c.labels.join("\\u0000");
    var width = Math.max(200, family.chartEl.clientWidth);
    if (family.chart === null || family.chartKeys !== keys) {
      if (family.chart !== null) family.chart.destroy();
      family.chartKeys = keys;
      family.chart = new uPlot({
        width: width,
        height: 170,
        scales: { x: { time: true } },
        legend: { show: false }, // the rows' swatches (or the note's, for quantiles) say which line is which
        series: [{}].concat(c.labels.map(function (label, i) {
          return { label: label, stroke: COLORS[i % COLORS.length], width: 1.5, value: function (_u, v) { return format(v); } };
        })),
        axes: [{}, { size: 70, values: function (_u, ticks) { return ticks.map(format); } }],
      }, c.data, family.chartEl);
      // Each line's color beside what it draws: the rows charted, or the quantiles.
      family.order.forEach(function (series) { series.swatch.style.background = "transparent"; });
      c.rows.forEach(function (series, i) { series.swatch.style.background = COLORS[i % COLORS.length]; });
      family.note.replaceChildren(c.note);
      if (c.rows.length === 0) {
        c.labels.forEach(function (label, i) {
          var swatch = el("span", "swatch");
          swatch.style.background = COLORS[i % COLORS.length];
          family.note.append(swatch, label);
        });
      }
    } else {
      if (Math.abs(family.chart.width - width) > 1) family.chart.setSize({ width: width, height: 170 });
      family.chart.setData(c.data);
    }
  }

  function showWriters(writers) {
    var text = "writers: " + writers.live + " live, " + writers.dead + " dead" +
      (writers.dead > 0 ? " (exited, not yet compacted)" : "") + ", " + writers.archives + " archived";
    setText(writersEl, text);
    writersEl.classList.toggle("dead", writers.dead > 0);
  }

  function showErrors(errors) {
    errorsEl.hidden = errors.length === 0;
    var text = errors.map(function (e) { return e.message; }).join("\\n");
    if (errorsEl.getAttribute("data-text") === text) return;
    errorsEl.setAttribute("data-text", text);
    errorsEl.replaceChildren.apply(errorsEl, errors.map(function (e) { return el("li", "", e.message); }));
  }

  function applyFilter() {
    var needle = filterEl.value.trim().toLowerCase();
    families.forEach(function (family) {
      family.root.hidden = needle !== "" && family.name.toLowerCase().indexOf(needle) < 0;
    });
  }

  function showStatus() {
    var age = lastOk === 0 ? null : Math.round((Date.now() - lastOk) / 1000);
    var stale = age === null || age > 3;
    document.body.classList.toggle("stale", lastOk !== 0 && stale);
    statusEl.classList.toggle("stale", stale);
    statusEl.classList.toggle("live", !stale);
  }

  function apply(json, now) {
    performance.mark("mmstruct-update-start");
    push(times, now);
    json.families.forEach(function (f) {
      var family = families.get(f.name);
      if (!family || family.type !== f.type) {
        if (family) { family.root.remove(); if (family.chart) family.chart.destroy(); }
        family = newFamily(f);
        families.set(f.name, family);
      }
      family.seen = true;
      update(family, f, now);
    });
    // Families are sorted by name: keep the page in that order, dropping those gone.
    var expected = familiesEl.firstChild;
    json.families.forEach(function (f) {
      var family = families.get(f.name);
      if (family.root !== expected) familiesEl.insertBefore(family.root, expected);
      else expected = expected.nextSibling;
    });
    families.forEach(function (family, name) {
      if (!family.seen) {
        families.delete(name);
        family.root.remove();
        if (family.chart) family.chart.destroy();
      }
      family.seen = false;
    });
    families.forEach(function (family) { render(family); drawChart(family); });
    rowsOnScreen.forEach(renderRow);
    showWriters(json.writers);
    showErrors(json.errors);
    applyFilter();
    performance.measure("mmstruct-update", "mmstruct-update-start");
  }

  async function poll() {
    var started = Date.now();
    try {
      var response = await fetch("/metrics.json", { cache: "no-store", signal: AbortSignal.timeout(10000) });
      if (!response.ok) throw new Error("HTTP " + response.status + ": " + (await response.text()).trim());
      var json = await response.json();
      lastOk = Date.now();
      apply(json, lastOk / 1000);
      setText(statusEl, "updated " + new Date(lastOk).toLocaleTimeString());
    } catch (error) {
      var since = lastOk === 0 ? "" : " (values from " + Math.round((Date.now() - lastOk) / 1000) + " s ago)";
      setText(statusEl, "cannot read the metrics: " + (error && error.message ? error.message : String(error)) + since);
    }
    showStatus();
    setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
  }

  filterEl.addEventListener("input", applyFilter);
  addEventListener("resize", function () { families.forEach(drawChart); });
  poll();
})();
`;
