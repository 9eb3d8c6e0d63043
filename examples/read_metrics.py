#!/usr/bin/env python3
"""Print the merged metrics of an mmstruct metrics directory, using only Python's standard library.

Written from docs/METRICS_FORMAT.md; each file is read as a struct file by read_struct.py
(docs/FORMAT.md). Usage:

    python3 examples/read_metrics.py DIR [--json]

Prints one line per sample (`name{label="value"} number`, histograms as cumulative
`_bucket` lines, `_count` and `_sum`), or with --json the merged families. Files that cannot
be read are reported on standard error and skipped. Exit status: 0 done, 2 usage, 3 the
directory cannot be read.
"""

import fcntl
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_struct import Array, Composite, FormatError, Raw, Scalar, StaleWriter, read  # noqa: E402

SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}\.\d{1,10}\.\d{1,10}\.[0-9a-f]{16}\.\d{1,6}\.metrics\.mms$")
ARCHIVE = re.compile(r"^archive\.(\d{1,15})\.metrics\.mms$")
HEADER_FIELDS = [("metrics_format", "u32"), ("entries_length", "u32"), ("slots_used", "u32"), ("flags", "u32"),
                 ("writer_id", "u64"), ("pid", "u32"), ("thread", "u32"), ("started_ms", "f64"),
                 ("generation", "u64")]
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
UNIT = re.compile(r"^[a-zA-Z0-9_]+$")
AGGREGATES = ("sum", "max", "min", "last", "each")
FLAG_ARCHIVE = 2


class NotMetrics(Exception):
    pass


def check_shape(layout):
    """Raises NotMetrics unless `layout` (read_struct.py's validated layout) is the metrics segment layout."""
    if not isinstance(layout, Composite) or layout.kind != "struct" or len(layout.fields) != len(HEADER_FIELDS) + 2:
        raise NotMetrics("its layout is not the metrics segment layout")
    for (field, _offset, t), (name, scalar) in zip(layout.fields, HEADER_FIELDS):
        if field != name or not isinstance(t, Scalar) or t.name != scalar or t.order != "native":
            raise NotMetrics("its field %s is not %s: %s" % (field, name, scalar))
    (entries, _, entries_type), (slots, _, slots_type) = layout.fields[-2], layout.fields[-1]
    if entries != "entries" or not isinstance(entries_type, Raw):
        raise NotMetrics("it has no entries: bytes(n) field")
    element = slots_type.element if isinstance(slots_type, Array) else None
    if (slots != "slots" or not isinstance(element, Scalar) or element.name != "f64" or element.order != "native"):
        raise NotMetrics("it has no slots: array(f64, n) field")


def family_name(kind, name):
    return name[:-6] if kind == "counter" and name.endswith("_total") and len(name) > 6 else name


def check_metric(r):
    """The declaration of a metric record, or a string saying what is wrong with it."""
    kind, name, labels = r.get("type"), r.get("name"), r.get("labelNames")
    unit, help_text = r.get("unit", ""), r.get("help")
    buckets = r.get("buckets", []) if kind == "histogram" else []
    aggregate = r.get("aggregate") if kind == "gauge" else "sum"
    if kind not in ("counter", "gauge", "histogram"):
        return "bad type"
    if not isinstance(name, str) or len(name) > 200 or not METRIC_NAME.match(name) or name.startswith("mmstruct_"):
        return "bad name"
    if not isinstance(help_text, str) or len(help_text) > 4096:
        return "bad help"
    if not isinstance(unit, str) or (unit and (not UNIT.match(unit) or not family_name(kind, name).endswith("_" + unit))):
        return "bad unit"
    if not isinstance(labels, list) or len(labels) > 64 or len(set(map(str, labels))) != len(labels):
        return "bad label names"
    for label in labels:
        if (not isinstance(label, str) or not LABEL_NAME.match(label) or label.startswith("__")
                or label == "mmstruct_overflow" or (kind == "histogram" and label == "le")
                or (kind == "gauge" and aggregate == "each" and label == "pid")):
            return "bad label name %r" % (label,)
    if (not isinstance(buckets, list) or len(buckets) > 1000
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in buckets)
            or any(b >= c for b, c in zip(buckets, buckets[1:]))):
        return "bad buckets"
    if aggregate not in AGGREGATES:
        return "bad aggregate"
    family = family_name(kind, name)
    return {"name": name, "type": kind, "help": help_text, "unit": unit, "labelNames": labels, "buckets": buckets,
            "aggregate": aggregate, "family": family,
            "signature": json.dumps([family, kind, help_text, unit, labels, buckets, aggregate]),
            "width": 1 if kind == "counter" else 2 if kind == "gauge" else len(buckets) + 2}


def parse_entries(log, slot_count):
    """Metrics and series of an entry log; stops at the first bad record. Returns (metrics, series, subsumes, problem)."""
    metrics, series, subsumes, offset, next_slot = {}, [], [], 0, 0
    order = []
    while offset + 4 <= len(log):
        n = int.from_bytes(log[offset:offset + 4], sys.byteorder)
        end = offset + 4 + n
        if n == 0 or end > len(log):
            return order, series, subsumes, "the record at byte %d is cut short" % offset
        try:
            r = json.loads(log[offset + 4:end].decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return order, series, subsumes, "the record at byte %d is not UTF-8 JSON" % offset
        if not isinstance(r, dict):
            return order, series, subsumes, "the record at byte %d is not an object" % offset
        if "metric" in r:
            decl = check_metric(r)
            mid = r["metric"]
            if isinstance(decl, str) or not isinstance(mid, int) or isinstance(mid, bool) or mid in metrics:
                return order, series, subsumes, "bad metric record at byte %d" % offset
            metrics[mid] = decl
            order.append(decl)
        elif "series" in r:
            decl = metrics.get(r["series"]) if isinstance(r["series"], int) else None
            labels, slot = r.get("labels"), r.get("slot")
            if (decl is None or not isinstance(slot, int) or isinstance(slot, bool) or slot < next_slot
                    or slot + decl["width"] > slot_count
                    or (labels is not None and (not isinstance(labels, list) or len(labels) != len(decl["labelNames"])
                                                or not all(isinstance(v, str) and "\0" not in v for v in labels)))):
                return order, series, subsumes, "bad series record at byte %d" % offset
            created = r.get("created_ms", 0)
            series.append((decl, labels, slot, created if isinstance(created, (int, float)) else 0))
            next_slot = slot + decl["width"]
        elif "subsumes" in r:
            if not isinstance(r["subsumes"], list) or not all(isinstance(s, str) for s in r["subsumes"]):
                return order, series, subsumes, "bad subsumes record at byte %d" % offset
            subsumes.extend(r["subsumes"])
        else:
            return order, series, subsumes, "unknown record at byte %d" % offset
        offset = end + (-n % 4)
    return order, series, subsumes, None


def open_metrics_file(path):
    """Everything a reader needs from one file, or raises FormatError/NotMetrics/OSError."""
    layout, _version, value = read(path)[:3]
    check_shape(layout)
    if value["metrics_format"] != 1:
        raise NotMetrics("metrics format %d is not supported" % value["metrics_format"])
    log = bytes.fromhex(value["entries"])
    published = min(value["entries_length"], len(log))
    metrics, series, subsumes, problem = parse_entries(log[:published], len(value["slots"]))
    return {"path": path, "archive": value["flags"] & FLAG_ARCHIVE != 0, "generation": value["generation"],
            "pid": value["pid"], "thread": value["thread"], "writer": value["writer_id"],
            "slots": value["slots"], "metrics": metrics, "series": series, "subsumes": subsumes, "problem": problem}


def alive(path):
    """Whether the writer of a segment file holds its lock (a gone file's writer is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also releases a lock this call took
    return False


def mark(directory):
    try:
        with open(os.path.join(directory, ".compact.lock"), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""
    except OSError:
        return None


def scan(directory, problems):
    """A consistent set of opened files (see "Reading a directory" in docs/METRICS_FORMAT.md)."""
    for _attempt in range(5):
        before = mark(directory)
        names = sorted(n for n in os.listdir(directory) if not n.startswith("."))
        files, failed, vanished = {}, [], False
        for name in names:
            path = os.path.join(directory, name)
            try:
                files[name] = open_metrics_file(path)
            except FileNotFoundError:
                vanished = True
            except (OSError, FormatError, NotMetrics, StaleWriter, ValueError, KeyError, TypeError) as error:
                failed.append((path, "%s: %s" % (type(error).__name__, error)))
        if before is None:
            again = sorted(n for n in os.listdir(directory) if ARCHIVE.match(n))
            settled = again == [n for n in names if ARCHIVE.match(n)]
        else:
            settled = mark(directory) == before
        if settled and not vanished:
            break
    else:
        problems.append((directory, "compaction kept changing the directory"))
    problems.extend(failed)
    return names, files


def collect(directory):
    problems = []
    names, files = scan(directory, problems)
    newest = None
    for name in names:
        f = files.get(name)
        if f is None:
            continue
        match = ARCHIVE.match(name)
        if (match is not None) != f["archive"] or (match and int(match.group(1)) != f["generation"]):
            problems.append((f["path"], "named like an archive but not one, or the other way round"))
            files.pop(name)
        elif f["archive"] and (newest is None or f["generation"] > newest["generation"]):
            newest = f
    hidden = set(newest["subsumes"]) if newest else set()

    winners = {}  # family name -> (signature, decl)
    merged = {}  # (family, label key) -> merged series
    for name in names:
        f = files.get(name)
        if f is None or name in hidden or (f["archive"] and f is not newest):
            continue
        live = not f["archive"] and alive(f["path"])
        if not live and f["problem"]:
            problems.append((f["path"], f["problem"]))
        skipped = set()
        for decl in f["metrics"]:
            if decl["type"] == "gauge" and not live:
                continue
            winner = winners.setdefault(decl["family"], (decl["signature"], decl))
            if winner[0] != decl["signature"] and decl["signature"] not in skipped:
                skipped.add(decl["signature"])
                problems.append((f["path"], "conflicting declaration of %s" % decl["name"]))
        for decl, labels, slot, created in f["series"]:
            if decl["signature"] in skipped or (decl["type"] == "gauge" and not live):
                continue
            values = f["slots"][slot:slot + decl["width"]]
            if labels is None:
                label_map = {"mmstruct_overflow": "true"}
            else:
                label_map = dict(zip(decl["labelNames"], labels))
            if decl["type"] == "gauge" and decl["aggregate"] == "each":
                label_map["pid"] = str(f["pid"]) if f["thread"] == 0 else "%d:%d" % (f["pid"], f["thread"])
            key = (decl["family"], json.dumps(label_map))
            s = merged.get(key)
            if s is None:
                merged[key] = {"decl": decl, "labels": label_map, "values": list(values), "time": values[-1]}
                continue
            if decl["type"] != "gauge" or decl["aggregate"] in ("sum", "each"):
                s["values"] = [a + b for a, b in zip(s["values"], values)]
            elif decl["aggregate"] == "max":
                s["values"][0] = max(s["values"][0], values[0])
            elif decl["aggregate"] == "min":
                s["values"][0] = min(s["values"][0], values[0])
            elif values[1] > s["time"]:  # "last"
                s["values"][0], s["time"] = values[0], values[1]

    families = []
    for family in sorted(winners):
        decl = winners[family][1]
        series = []
        for (fam, _key), s in merged.items():
            if fam != family or s["decl"]["signature"] != winners[family][0]:
                continue
            if decl["type"] == "histogram":
                counts, total = [], 0
                for count in s["values"][:-1]:
                    total += count
                    counts.append(total)
                bounds = decl["buckets"] + [math.inf]
                series.append({"labels": s["labels"], "buckets": list(zip(bounds, counts)), "count": total,
                               "sum": s["values"][-1]})
            else:
                series.append({"labels": s["labels"], "value": s["values"][0]})
        series.sort(key=lambda s: ("labels" in s and "mmstruct_overflow" in s["labels"],
                                   [s["labels"].get(n, "") for n in decl["labelNames"]]))
        families.append({"name": family, "type": decl["type"], "help": decl["help"], "unit": decl["unit"],
                         "series": series})
    return families, problems


def number(value):
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    return repr(int(value)) if float(value).is_integer() and abs(value) < 2 ** 53 else repr(value)


def labels_text(labels, extra=()):
    pairs = list(labels.items()) + list(extra)
    return "{%s}" % ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"'))
                             for k, v in pairs) if pairs else ""


def main(argv):
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[5].strip(), file=sys.stderr)
        return 2
    try:
        families, problems = collect(args[0])
    except OSError as error:
        print("read_metrics.py: %s" % error, file=sys.stderr)
        return 3
    for path, message in problems:
        print("read_metrics.py: skipped %s: %s" % (path, message), file=sys.stderr)
    if "--json" in argv:
        def plain(value):
            return "+Inf" if value == math.inf else value
        for f in families:
            for s in f["series"]:
                if "buckets" in s:
                    s["buckets"] = [{"le": plain(le), "count": count} for le, count in s["buckets"]]
        print(json.dumps(families))
        return 0
    for f in families:
        for s in f["series"]:
            if f["type"] == "histogram":
                for le, count in s["buckets"]:
                    print("%s_bucket%s %s" % (f["name"], labels_text(s["labels"], [("le", number(le))]), number(count)))
                print("%s_count%s %s" % (f["name"], labels_text(s["labels"]), number(s["count"])))
                print("%s_sum%s %s" % (f["name"], labels_text(s["labels"]), number(s["sum"])))
            else:
                name = f["name"] + "_total" if f["type"] == "counter" else f["name"]
                print("%s%s %s" % (name, labels_text(s["labels"]), number(s["value"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
