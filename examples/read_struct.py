#!/usr/bin/env python3
"""Print the fields of an mmstruct struct file, using only Python's standard library.

Written from docs/FORMAT.md. Usage:

    python3 examples/read_struct.py FILE [--json]

Exit status: 0 done, 2 usage, 3 cannot open, 4 not a valid struct file, 5 no consistent
copy (the writer died or is stuck inside an update).
"""

import json
import mmap
import os
import struct
import sys
import time

HEADER = struct.Struct("=8sHHIQQQQIIIIQQQ")  # native byte order, no padding: 88 bytes
SCALARS = {  # name: (struct format, size)
    "i8": ("b", 1), "u8": ("B", 1), "i16": ("h", 2), "u16": ("H", 2),
    "i32": ("i", 4), "u32": ("I", 4), "i64": ("q", 8), "u64": ("Q", 8),
    "f32": ("f", 4), "f64": ("d", 8), "bool": ("B", 1),
}
ORDER = {"native": "=", "little": "<", "big": ">"}


class FormatError(Exception):
    pass


class StaleWriter(Exception):
    pass


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def round_up(value, align):
    return (value + align - 1) // align * align


def check_layout(node, depth=0, counter=None):
    """Validate a schema node; return (size, align). Offsets must follow the C rules."""
    counter = counter if counter is not None else [0]
    counter[0] += 1
    if depth > 32 or counter[0] > 100000 or not isinstance(node, dict):
        raise FormatError("schema too deep, too large or malformed")
    kind = node.get("kind")

    def positive(key):
        value = node.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise FormatError("bad %s %r in %s" % (key, value, kind))
        return value

    if kind == "scalar":
        if node.get("name") not in SCALARS or node.get("byteOrder") not in ORDER:
            raise FormatError("bad scalar %r" % node)
        size = SCALARS[node["name"]][1]
        return size, size
    if kind in ("utf8", "bytes"):
        return positive("size"), 1
    if kind == "array":
        size, align = check_layout(node.get("element"), depth + 1, counter)
        return size * positive("length"), align
    if kind in ("struct", "union"):
        fields = node.get("fields")
        if not isinstance(fields, list) or not fields or not isinstance(node.get("packed"), bool):
            raise FormatError("bad %s" % kind)
        end, natural, names = 0, 1, set()
        for field in fields:
            if not isinstance(field, dict) or not isinstance(field.get("name"), str) or field["name"] in names:
                raise FormatError("bad field %r" % field)
            names.add(field["name"])
            size, align = check_layout(field.get("type"), depth + 1, counter)
            align = 1 if node["packed"] else align
            offset = 0 if kind == "union" else round_up(end, align)
            if field.get("offset") != offset:
                raise FormatError("field %s at offset %r, the layout rules say %d" % (field["name"], field.get("offset"), offset))
            end = max(end, offset + size)
            natural = max(natural, align)
        align = max(natural, positive("align"))
        if node["align"] != align or node.get("size") != round_up(end, align):
            raise FormatError("%s size or alignment does not follow the layout rules" % kind)
        return node["size"], align
    raise FormatError("unknown kind %r" % kind)


def copy_cost(node):
    """(values, bytes) a copy makes: every scalar, string and byte field, every array element."""
    if node["kind"] == "array":
        values, size = copy_cost(node["element"])
        return node["length"] * values, node["length"] * size
    if node["kind"] in ("struct", "union"):
        costs = [copy_cost(f["type"]) for f in node["fields"]]
        return sum(c[0] for c in costs), sum(c[1] for c in costs)
    return 1, node["size"] if node["kind"] in ("utf8", "bytes") else 0


def decode(node, data, offset):
    """The value of a schema node at `offset` in `data` (a bytes copy)."""
    kind = node["kind"]
    if kind == "scalar":
        fmt, _ = SCALARS[node["name"]]
        value = struct.unpack_from(ORDER[node["byteOrder"]] + fmt, data, offset)[0]
        return value != 0 if node["name"] == "bool" else value
    if kind == "utf8":
        raw = data[offset:offset + node["size"]].split(b"\0", 1)[0]
        return raw.decode("utf-8", errors="replace")
    if kind == "bytes":
        return data[offset:offset + node["size"]].hex()
    if kind == "array":
        element = node["element"]
        step = check_layout(element)[0]
        return [decode(element, data, offset + i * step) for i in range(node["length"])]
    return {f["name"]: decode(f["type"], data, offset + f["offset"]) for f in node["fields"]}


def alive(pid, start):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0] not in ("Z", "X") and (start == 0 or int(fields[19]) == start)
    except (OSError, IndexError, ValueError):
        return True


def read(path, timeout=1.0):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        size = os.fstat(fd).st_size
        if size < 128:
            raise FormatError("shorter than the 128-byte header")
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
    finally:
        os.close(fd)
    with mm:
        (magic, version, mark, header_length, schema_offset, schema_length, data_offset, data_length,
         _sequence, _r1, writer_pid, _r2, writer_start, _created_ms, layout_hash) = HEADER.unpack_from(mm, 0)
        if magic != b"MMSTRUCT":
            raise FormatError("bad magic")
        if mark != 0x0102:
            raise FormatError("foreign byte order")
        if version != 2:
            raise FormatError("unknown format version %d" % version)
        if any(v > size for v in (schema_offset, schema_length, data_offset, data_length)):
            raise FormatError("an offset or length is past the end of the file")
        if not (128 <= header_length <= 4096 and header_length <= schema_offset and 2 <= schema_length <= 1 << 20
                and schema_offset + schema_length <= data_offset and data_offset % 64 == 0
                and data_length >= 1 and data_offset + data_length <= size):
            raise FormatError("inconsistent header")
        schema_bytes = mm[schema_offset:schema_offset + schema_length]
        if fnv1a64(schema_bytes) != layout_hash:
            raise FormatError("the schema does not match the layout hash")
        try:
            schema = json.loads(schema_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise FormatError("bad schema: %s" % error)
        if not isinstance(schema, dict) or schema.get("kind") not in ("struct", "union"):
            raise FormatError("the schema's top level is not a struct or union")
        layout_size, layout_align = check_layout(schema)
        values, string_bytes = copy_cost(schema)
        if values > 1 << 24 or string_bytes > 1 << 30:
            raise FormatError("the layout has more than 16777216 values or 1 GiB of strings and bytes")
        if layout_size != data_length or data_offset % layout_align != 0:
            raise FormatError("the data area does not match the layout")

        # The sequence lock: a 4-byte aligned read of the sequence word is atomic on
        # x86_64 and aarch64; memoryview.cast reads it with one load.
        sequence = memoryview(mm)[48:52].cast("I")
        writer_pid_word = memoryview(mm)[56:60].cast("I")
        deadline = time.monotonic() + timeout
        try:
            while True:
                before = sequence[0]
                if before % 2 == 0:
                    data = mm[data_offset:data_offset + data_length]
                    if sequence[0] == before:
                        return schema, before, decode(schema, data, 0)
                else:
                    # An odd sequence names the process inside the update: (pid << 1) | 1.
                    # The header's start time is that process's only if the header names
                    # it before and after the start time is read.
                    pid = before >> 1
                    recorded = writer_pid_word[0]
                    start = struct.unpack_from("=Q", mm, 64)[0]
                    known = recorded == pid and writer_pid_word[0] == pid
                    if not alive(pid, start if known else 0) and sequence[0] == before:
                        raise StaleWriter("writer process %d died inside an update" % pid)
                if time.monotonic() > deadline:
                    raise StaleWriter("no consistent copy within %.1f s: the writer is stuck" % timeout)
                time.sleep(0.0005)
        finally:
            sequence.release()
            writer_pid_word.release()


def main(argv):
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        schema, version, value = read(args[0])
    except OSError as error:
        print("read_struct.py: %s" % error, file=sys.stderr)
        return 3
    except FormatError as error:
        print("read_struct.py: not a valid struct file: %s" % error, file=sys.stderr)
        return 4
    except StaleWriter as error:
        print("read_struct.py: %s" % error, file=sys.stderr)
        return 5
    if "--json" in argv:
        print(json.dumps(value))
    else:
        def show(node, val, name):
            if node["kind"] in ("struct", "union"):
                for f in node["fields"]:
                    show(f["type"], val[f["name"]], name + "." + f["name"] if name else f["name"])
            else:
                print("%s = %r" % (name, val))
        print("# version %d" % version)
        show(schema, value, "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
