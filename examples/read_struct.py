#!/usr/bin/env python3
"""Print the fields of an mmstruct struct file, using only Python's standard library.

Usage: python3 examples/read_struct.py FILE [--json]

Written from docs/FORMAT.md: it accepts exactly the files the format (and the mmstruct
library) accepts, and refuses the others for the same reason.

Exit status: 0 done, 2 usage, 3 cannot open, 4 not a valid struct file, 5 no consistent
copy (the writer died or is stuck inside an update). A failure is one line on standard
error; for an invalid file it ends with the reason, as in "(reason: hash)", one of
truncated, magic, version, byte-order, header, schema, layout, hash (the library's
FormatError reasons). With --json, standard output gets the value as JSON, or the failure
as a JSON object: {"error": "FormatError", "reason": "hash", "message": "..."},
{"error": "StaleWriterError", "alive": false, "message": "..."} or
{"error": "OSError", "code": "ENOENT", "message": "..."}.
"""

import errno
import json
import math
import mmap
import os
import re
import struct
import sys
import time
from collections import namedtuple

HEADER = struct.Struct("=8sHHIQQQQIIIIQQQ")  # native byte order, no padding: 88 bytes
HEADER_LENGTH = 128
MAX_HEADER_LENGTH = 4096
MAX_SCHEMA_LENGTH = 1 << 20
DATA_ALIGN = 64
MAX_DEPTH = 32  # of types
MAX_NODES = 100000  # types
MAX_JSON_DEPTH = 128  # of JSON arrays and objects, the top level being 1
MAX_VALUES = 1 << 24
MAX_BYTES = 1 << 30
MAX_SNAPSHOT_BYTES = 1 << 30
MAX_SAFE_INTEGER = (1 << 53) - 1
MAX_ALIGN = 4096

SCALARS = {  # name: (struct format, size)
    "i8": ("b", 1), "u8": ("B", 1), "i16": ("h", 2), "u16": ("H", 2),
    "i32": ("i", 4), "u32": ("I", 4), "i64": ("q", 8), "u64": ("Q", 8),
    "f32": ("f", 4), "f64": ("d", 8), "bool": ("B", 1),
}
ORDER = {"native": "=", "little": "<", "big": ">"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
C_KEYWORDS = frozenset((
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local bool true false"
).split())
RESERVED = frozenset(("constructor", "__proto__", "prototype", "toString", "valueOf", "hasOwnProperty"))

# A validated layout: plain ints, every size and offset checked.
Scalar = namedtuple("Scalar", "name order size align")
Text = namedtuple("Text", "size align")  # utf8
Raw = namedtuple("Raw", "size align")  # bytes
Array = namedtuple("Array", "element length size align")
Composite = namedtuple("Composite", "kind fields size align")  # fields: ((name, offset, type), ...)
# A bitfield (format version 3): `width` bits from bit `bit` (0-7) of its field's offset.
# `bit` is the field's place, set when its struct is laid out; size and align are the storage type's.
Bits = namedtuple("Bits", "name width bit size align signed")
BIT_TYPES = ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "bool")


class FormatError(Exception):
    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


class StaleWriter(Exception):
    def __init__(self, alive, message):
        super().__init__(message)
        self.alive = alive


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def round_up(value, align):
    return (value + align - 1) // align * align


def refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def parse_json(text):
    """JSON as JavaScript's JSON.parse reads it: every number a double, no NaN or Infinity."""
    return json.loads(text, parse_int=float, parse_float=float, parse_constant=refuse_constant)


def nests_deeper(value, limit):
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def schema_error(where, detail):
    return FormatError("schema", "schema%s: %s" % (where, detail))


def layout_error(where, detail):
    return FormatError("layout", "schema%s: %s" % (where, detail))


def integer(value, where, minimum):
    """A JSON number whose value is an integer from `minimum` to 2^53 - 1 (8, 8.0 and 8e0 alike)."""
    if not isinstance(value, float) or not value.is_integer() or abs(value) > MAX_SAFE_INTEGER or value < minimum:
        raise schema_error(where, "expected an integer of at least %d, got %s" % (minimum, json.dumps(value)))
    return int(value)


def bitfield_start(bit_end, type_, packed):
    """gcc's rule (x86_64, aarch64): packed, right there; else there if the field fits in the
    aligned storage unit of its type holding that bit, else at the next unit."""
    if packed:
        return bit_end
    unit = type_.size * 8
    return bit_end if bit_end // unit == (bit_end + type_.width - 1) // unit else round_up(bit_end, unit)


def build(schema, version=3):
    """Validates parsed schema JSON in the order the library does; returns the layout or raises FormatError.
    Version 2 schemas have no bitfields."""
    nodes = [0]

    def node_of(node, where, depth):
        nodes[0] += 1
        if nodes[0] > MAX_NODES:
            raise schema_error(where, "more than %d types" % MAX_NODES)
        if depth > MAX_DEPTH:
            raise schema_error(where, "nested deeper than %d" % MAX_DEPTH)
        if not isinstance(node, dict):
            raise schema_error(where, "expected an object")
        kind = node.get("kind")
        if kind == "scalar":
            name, order = node.get("name"), node.get("byteOrder")
            # 8-bit types and bool have no byte order but "native".
            if (not isinstance(name, str) or not isinstance(order, str) or name not in SCALARS or order not in ORDER
                    or (order != "native" and SCALARS[name][1] == 1)):
                raise schema_error(where, "unknown scalar %s (%s)" % (json.dumps(name), json.dumps(order)))
            size = SCALARS[name][1]
            return Scalar(name, order, size, size)
        if kind == "bits" and version >= 3:
            name = node.get("name")
            if not isinstance(name, str) or name not in BIT_TYPES:
                raise schema_error(where, "unknown bitfield type %s" % json.dumps(name))
            width = integer(node.get("width"), where + ".width", 1)
            size = SCALARS[name][1]
            most = 1 if name == "bool" else size * 8
            if width > most:
                raise layout_error(where, "width %d is not from 1 to %d" % (width, most))
            return Bits(name, width, 0, size, size, name.startswith("i"))
        if kind in ("utf8", "bytes"):
            size = integer(node.get("size"), where + ".size", 1)
            return Text(size, 1) if kind == "utf8" else Raw(size, 1)
        if kind == "array":
            element = node_of(node.get("element"), where + ".element", depth + 1)
            length = integer(node.get("length"), where + ".length", 1)
            if isinstance(element, Bits):
                raise layout_error(where, "C has no arrays of bitfields")
            if element.size * length > MAX_SAFE_INTEGER:
                raise layout_error(where, "%d elements are too many" % length)
            return Array(element, length, element.size * length, element.align)
        if kind in ("struct", "union"):
            return composite(node, kind, where, depth)
        raise schema_error(where, "unknown kind %s" % json.dumps(kind))

    def composite(node, kind, where, depth):
        fields = node.get("fields")
        if not isinstance(fields, list) or not fields:
            raise schema_error(where + ".fields", "expected a non-empty array")
        declared, names = [], set()
        for i, field in enumerate(fields):
            at = "%s.fields[%d]" % (where, i)
            if not isinstance(field, dict) or not isinstance(field.get("name"), str):
                raise schema_error(at, "expected { name, offset, type }")
            name = field["name"]
            if name in names:
                raise schema_error(at, "duplicate field %s" % json.dumps(name))
            names.add(name)
            offset = integer(field.get("offset"), at + ".offset", 0)
            type_ = node_of(field.get("type"), at + ".type", depth + 1)
            bit = None
            if isinstance(type_, Bits):
                bit = integer(field.get("bitOffset"), at + ".bitOffset", 0)
                if bit > 7:
                    raise schema_error(at + ".bitOffset", "expected an integer from 0 to 7, got %d" % bit)
            declared.append((name, offset, bit, type_))
        packed = node.get("packed")
        if not isinstance(packed, bool):
            raise schema_error(where + ".packed", "expected a boolean")
        align = integer(node.get("align"), where + ".align", 1)
        size = integer(node.get("size"), where + ".size", 1)
        # The C layout rules, as struct() and union() apply them.
        if align & (align - 1) or align > MAX_ALIGN:
            raise layout_error(where, "align %d is not a power of two from 1 to %d" % (align, MAX_ALIGN))
        end, bit_end, natural, laid = 0, 0, 1, []
        for name, _, _, type_ in declared:
            if not IDENTIFIER.fullmatch(name):
                raise layout_error(where, "field name %s is not a C identifier" % json.dumps(name))
            if name in C_KEYWORDS:
                raise layout_error(where, "field name \"%s\" is a C keyword" % name)
            if name in RESERVED:
                raise layout_error(where, "field name \"%s\" is reserved" % name)
            field_align = 1 if packed else type_.align
            if isinstance(type_, Bits):
                start = 0 if kind == "union" else bitfield_start(bit_end, type_, packed)
                laid.append((name, start // 8, type_._replace(bit=start % 8)))
                bit_end = max(bit_end, start + type_.width)
                end = max(end, -(-bit_end // 8))
            else:
                offset = 0 if kind == "union" else round_up(end, field_align)
                laid.append((name, offset, type_))
                end = max(end, offset + type_.size)
                bit_end = end * 8
            natural = max(natural, field_align)
        natural = max(natural, align)
        expected_size = round_up(end, natural)
        if expected_size > MAX_SAFE_INTEGER:
            raise layout_error(where, "the %s is too large" % kind)
        for i, ((name, stored, stored_bit, _), (_, offset, type_)) in enumerate(zip(declared, laid)):
            if isinstance(type_, Bits) and stored_bit != type_.bit:
                raise layout_error("%s.fields[%d]" % (where, i),
                                   "(\"%s\") is at bit %d of byte %d, the layout rules put it at bit %d of byte %d"
                                   % (name, stored_bit, stored, type_.bit, offset))
            if stored != offset:
                raise layout_error("%s.fields[%d]" % (where, i),
                                   "(\"%s\") is at offset %d, the layout rules put it at %d" % (name, stored, offset))
        if expected_size != size or natural != align:
            raise layout_error(where, "says size %d and alignment %d, the layout rules give %d and %d"
                               % (size, align, expected_size, natural))
        return Composite(kind, tuple(laid), size, align)

    root = node_of(schema, "", 0)
    if not isinstance(root, Composite):
        raise schema_error("", "the top level must be a struct or union")
    values, copied = copy_cost(root)
    if values > MAX_VALUES:
        raise schema_error("", "the layout has %d values, more than the %d a reader accepts" % (values, MAX_VALUES))
    if copied > MAX_BYTES:
        raise schema_error("", "the layout has %d bytes of strings and byte arrays, more than the %d a reader accepts"
                           % (copied, MAX_BYTES))
    estimate = snapshot_bytes(root)
    if estimate > MAX_SNAPSHOT_BYTES:
        raise schema_error("", "a snapshot of the layout would take about %d MiB, more than the %d MiB a reader accepts"
                           % (-(-estimate // 2 ** 20), MAX_SNAPSHOT_BYTES // 2 ** 20))
    return root


def copy_cost(layout):
    """(values, bytes) a copy makes: every scalar, string and byte field, every array element."""
    if isinstance(layout, Array):
        values, size = copy_cost(layout.element)
        return layout.length * values, layout.length * size
    if isinstance(layout, Composite):
        costs = [copy_cost(t) for _, _, t in layout.fields]
        return sum(c[0] for c in costs), sum(c[1] for c in costs)
    return 1, layout.size if isinstance(layout, (Text, Raw)) else 0


def snapshot_bytes(layout):
    """The memory a copy is estimated to take, by the rule of docs/FORMAT.md (the library's snapshotBytes)."""
    if isinstance(layout, (Scalar, Bits)):
        return 40 if layout.name in ("i64", "u64") else 8 if layout.size <= 2 else 24
    if isinstance(layout, Text):
        return 32 + layout.size
    if isinstance(layout, Raw):
        return 256 + layout.size
    if isinstance(layout, Array):
        element = layout.element
        if isinstance(element, Scalar) and element.name != "bool" and element.order == "native":
            return 256 + layout.size
        return 32 + layout.length * snapshot_bytes(element)
    return 32 + sum(snapshot_bytes(t) for _, _, t in layout.fields)


def decode(layout, data, offset):
    """The value of a validated layout at `offset` in `data` (a bytes copy)."""
    if isinstance(layout, Scalar):
        fmt = SCALARS[layout.name][0]
        value = struct.unpack_from(ORDER[layout.order] + fmt, data, offset)[0]
        return value != 0 if layout.name == "bool" else value
    if isinstance(layout, Bits):
        # The bit order of a little-endian machine: bit i of the field is bit (bit + i) % 8
        # of byte (bit + i) // 8.
        span = (layout.bit + layout.width + 7) // 8
        value = int.from_bytes(data[offset:offset + span], sys.byteorder) >> layout.bit & ((1 << layout.width) - 1)
        if layout.signed and value >> (layout.width - 1):
            value -= 1 << layout.width
        return value != 0 if layout.name == "bool" else value
    if isinstance(layout, Text):
        raw = data[offset:offset + layout.size].split(b"\0", 1)[0]
        return raw.decode("utf-8", errors="replace")
    if isinstance(layout, Raw):
        return data[offset:offset + layout.size].hex()
    if isinstance(layout, Array):
        step = layout.element.size
        return [decode(layout.element, data, offset + i * step) for i in range(layout.length)]
    return {name: decode(t, data, offset + at) for name, at, t in layout.fields}


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
    """(layout, version, value) of the struct file at `path`; raises FormatError, StaleWriter or OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        size = os.fstat(fd).st_size
        if size < HEADER_LENGTH:
            raise FormatError("truncated", "the file has %d bytes, fewer than the %d-byte header" % (size, HEADER_LENGTH))
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
    finally:
        os.close(fd)
    with mm:
        # Each header field is read once, from this copy.
        (magic, version, mark, header_length, schema_offset, schema_length, data_offset, data_length,
         _sequence, _last_even, _writer_pid, _reserved, _writer_start, _created_ms, layout_hash) = HEADER.unpack(
            mm[0:HEADER.size])
        if magic != b"MMSTRUCT":
            raise FormatError("magic", "it does not start with the magic MMSTRUCT")
        if mark != 0x0102:
            raise FormatError("byte-order", "it was written on a machine of the other byte order" if mark == 0x0201
                              else "bad byte order mark 0x%x" % mark)
        # Version 3 is version 2 with bitfields in the schema (written only for layouts that have them).
        if version not in (2, 3):
            raise FormatError("version", "format version %d is not supported (this reader reads 2 and 3)" % version)
        for name, value in (("schema offset", schema_offset), ("schema length", schema_length),
                            ("data offset", data_offset), ("data length", data_length)):
            if value > size:
                raise FormatError("header", "%s %d is larger than the file (%d bytes)" % (name, value, size))
        if not HEADER_LENGTH <= header_length <= MAX_HEADER_LENGTH:
            raise FormatError("header", "header length %d is not between %d and %d"
                              % (header_length, HEADER_LENGTH, MAX_HEADER_LENGTH))
        if schema_offset < header_length:
            raise FormatError("header", "the schema (offset %d) overlaps the header" % schema_offset)
        if not 2 <= schema_length <= MAX_SCHEMA_LENGTH:
            raise FormatError("header", "schema length %d is not between 2 and %d" % (schema_length, MAX_SCHEMA_LENGTH))
        if schema_offset + schema_length > data_offset:
            raise FormatError("header", "the schema overlaps the data (offset %d)" % data_offset)
        if data_offset % DATA_ALIGN != 0:
            raise FormatError("header", "data offset %d is not a multiple of %d" % (data_offset, DATA_ALIGN))
        if data_length < 1:
            raise FormatError("header", "the data area is empty")
        if data_offset + data_length > size:
            raise FormatError("truncated", "the data (%d bytes at offset %d) goes past the end of the file (%d bytes)"
                              % (data_length, data_offset, size))
        schema_bytes = mm[schema_offset:schema_offset + schema_length]
        if fnv1a64(schema_bytes) != layout_hash:
            raise FormatError("hash", "the schema does not match the layout hash in the header")
        try:
            text = schema_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("schema", "the schema is not valid UTF-8")
        if text.startswith("\ufeff"):
            raise FormatError("schema", "the schema starts with a byte order mark, which the format does not allow")
        try:
            schema = parse_json(text)
        except (ValueError, RecursionError):  # json.JSONDecodeError is a ValueError
            raise FormatError("schema", "the schema is not valid JSON")
        if nests_deeper(schema, MAX_JSON_DEPTH):
            raise FormatError("schema", "the schema's JSON nests deeper than %d" % MAX_JSON_DEPTH)
        layout = build(schema, version)
        if layout.size != data_length:
            raise FormatError("layout", "the data area has %d bytes, the layout %d" % (data_length, layout.size))
        if data_offset % layout.align != 0:
            raise FormatError("header", "data offset %d is not aligned to the layout's %d" % (data_offset, layout.align))

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
                        return layout, before, decode(layout, data, 0)
                else:
                    # An odd sequence names the process inside the update: (pid << 1) | 1.
                    # The header's start time is that process's only if the header names
                    # it before and after the start time is read.
                    pid = before >> 1
                    recorded = writer_pid_word[0]
                    start = struct.unpack_from("=Q", mm, 64)[0]
                    known = recorded == pid and writer_pid_word[0] == pid
                    if not alive(pid, start if known else 0) and sequence[0] == before:
                        raise StaleWriter(False, "writer process %d died inside an update" % pid)
                if time.monotonic() > deadline:
                    raise StaleWriter(True, "no consistent copy within %.1f s: the writer is stuck" % timeout)
                time.sleep(0.0005)
        finally:
            sequence.release()
            writer_pid_word.release()


def finite(value):
    """JSON has no NaN or infinity: those print as null, as `mmstruct show --json` prints them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2

    def fail(status, line, details):
        print("read_struct.py: %s" % line, file=sys.stderr)
        if as_json:
            print(json.dumps(details))
        return status

    try:
        layout, version, value = read(args[0])
    except OSError as error:
        code = errno.errorcode.get(error.errno, "EIO") if error.errno is not None else "EIO"
        return fail(3, str(error), {"error": "OSError", "code": code, "message": str(error)})
    except FormatError as error:
        return fail(4, "not a valid struct file: %s (reason: %s)" % (error, error.reason),
                    {"error": "FormatError", "reason": error.reason, "message": str(error)})
    except StaleWriter as error:
        return fail(5, str(error), {"error": "StaleWriterError", "alive": error.alive, "message": str(error)})
    if as_json:
        print(json.dumps(finite(value)))
    else:
        def show(layout, val, name):
            if isinstance(layout, Composite):
                for field, _, t in layout.fields:
                    show(t, val[field], name + "." + field if name else field)
            else:
                print("%s = %r" % (name, val))
        print("# version %d" % version)
        show(layout, value, "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
