#!/usr/bin/env python3
"""Lists what a Hanse contract module imports and exports, and checks it against the deploy rules.

    contracts/inspect.py module.wasm [more.wasm ...]

Prints the size, the memory's limits, every import and export with its signature, and the methods a
transaction may call. Then checks what Sources/Contracts/ModuleValidator.swift checks at deploy, so
a problem shows up before a deploy transaction is spent on it:

  - imports only from module "hanse", each with the host API's exact signature;
  - exactly one memory, defined (not imported), exported as "memory", with a maximum <= 256 pages;
  - no start function, no floating point anywhere (types, locals, globals, instructions; the
    function bodies are decoded instruction by instruction), no SIMD, threads, tail calls or
    exception handling;
  - `init` and `migrate`, when exported, take and return nothing; at least one method.

Exits 1 when a check fails. Standard library only.
"""
import sys

# The host API (Sources/Contracts/HostAPI.swift): name -> (parameters, results).
I32, I64, F32, F64, V128, FUNCREF, EXTERNREF = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F
HOST = {
    "args": ((I32, I32), (I32,)),
    "state_get": ((I32,) * 4, (I32,)),
    "state_set": ((I32,) * 4, ()),
    "state_delete": ((I32, I32), ()),
    "state_scan": ((I32,) * 7, (I32,)),
    "emit": ((I32,) * 4, ()),
    "caller": ((I32, I32), (I32,)),
    "tx_id": ((I32, I32), (I32,)),
    "block_height": ((), (I64,)),
    "block_time": ((), (I64,)),
    "sha256": ((I32,) * 3, ()),
    "verify_signature": ((I32,) * 7, (I32,)),
    "return_value": ((I32, I32), ()),
    "revert": ((I32, I32), ()),
    "log": ((I32, I32), ()),
}
MEMORY_PAGES_MAX = 256
VALTYPES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128", FUNCREF: "funcref", EXTERNREF: "externref"}

# Opcodes that operate on f32/f64 (MVP numeric ranges).
FLOAT_OPCODES = set([0x2A, 0x2B, 0x38, 0x39, 0x43, 0x44]) | set(range(0x5B, 0x67)) | set(range(0x8B, 0xA7)) \
    | {0xA8, 0xA9, 0xAA, 0xAB, 0xAE, 0xAF, 0xB0, 0xB1} | set(range(0xB2, 0xC0))
MEMARG_OPCODES = set(range(0x28, 0x3F))


class Malformed(Exception):
    pass


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self):
        if self.pos >= self.end:
            raise Malformed("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def bytes(self, n):
        if self.pos + n > self.end:
            raise Malformed("unexpected end of data")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uleb(self, bits=32):
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result
            if shift >= bits + 7:
                raise Malformed("LEB128 too long")

    def sleb(self, bits=64):
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
            if shift >= bits + 7:
                raise Malformed("LEB128 too long")

    def name(self):
        return self.bytes(self.uleb()).decode("utf-8", "replace")

    def limits(self):
        flags = self.byte()
        minimum = self.uleb(64)
        maximum = self.uleb(64) if flags & 1 else None
        return flags, minimum, maximum

    def done(self):
        return self.pos >= self.end


def signature(params, results):
    def names(types):
        return ", ".join(VALTYPES.get(t, hex(t)) for t in types)
    return "(%s) -> (%s)" % (names(params), names(results))


def scan_expression(r, problems, where):
    """Decodes instructions until the `end` that closes the expression; records float/SIMD use."""
    depth = 1
    while depth:
        op = r.byte()
        if op in FLOAT_OPCODES:
            problems.add("floating-point instruction 0x%02x in %s" % (op, where))
        if op in (0x02, 0x03, 0x04):  # block, loop, if: block type
            b = r.data[r.pos] if r.pos < r.end else None
            if b == 0x40 or b in VALTYPES:
                r.byte()
                if b in (F32, F64):
                    problems.add("floating-point block type in %s" % where)
            else:
                r.sleb(33)
            depth += 1
        elif op == 0x0B:
            depth -= 1
        elif op in (0x00, 0x01, 0x05, 0x0F, 0x1A, 0x1B, 0xD1) or 0x45 <= op <= 0xC4:
            pass
        elif op in (0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2):
            r.uleb()
        elif op == 0x0E:  # br_table
            for _ in range(r.uleb()):
                r.uleb()
            r.uleb()
        elif op == 0x11:  # call_indirect type table
            r.uleb()
            r.uleb()
        elif op in (0x12, 0x13):
            problems.add("tail call in %s" % where)
            r.uleb()
            if op == 0x13:
                r.uleb()
        elif op == 0x1C:  # typed select
            for _ in range(r.uleb()):
                t = r.byte()
                if t in (F32, F64):
                    problems.add("floating-point select in %s" % where)
        elif op in MEMARG_OPCODES:
            r.uleb()
            r.uleb(64)
        elif op in (0x3F, 0x40):
            r.uleb()
        elif op == 0x41:
            r.sleb(32)
        elif op == 0x42:
            r.sleb(64)
        elif op == 0x43:
            r.bytes(4)
        elif op == 0x44:
            r.bytes(8)
        elif op == 0xD0:
            r.byte()
        elif op == 0xFC:
            sub = r.uleb()
            if sub <= 7:
                problems.add("floating-point instruction (saturating truncation 0xfc %d) in %s" % (sub, where))
            elif sub == 8:  # memory.init
                r.uleb()
                r.uleb()
            elif sub in (9, 13, 15, 16, 17):
                r.uleb()
            elif sub in (10, 12, 14):
                r.uleb()
                r.uleb()
            elif sub == 11:
                r.uleb()
            else:
                raise Malformed("unknown instruction 0xfc %d in %s" % (sub, where))
        elif op == 0xFD:
            problems.add("SIMD instruction in %s" % where)
            return False
        elif op == 0xFE:
            problems.add("atomic instruction in %s" % where)
            return False
        elif op in (0x06, 0x07, 0x08, 0x09, 0x18, 0x19, 0x1F):
            problems.add("exception-handling instruction in %s" % where)
            return False
        else:
            raise Malformed("unknown opcode 0x%02x in %s" % (op, where))
    return True


def inspect(path):
    data = open(path, "rb").read()
    problems = set()
    if data[:4] != b"\0asm" or data[4:8] != b"\x01\0\0\0":
        return {"path": path, "size": len(data)}, ["not a WebAssembly binary module (version 1)"]
    types, imports, functions, memories, exports, globals_ = [], [], [], [], [], []
    code_bodies, has_start = 0, False
    r = Reader(data, 8)
    while not r.done():
        section = r.byte()
        size = r.uleb()
        s = Reader(data, r.pos, r.pos + size)
        r.pos += size
        if section == 0:
            continue
        if section == 1:
            for _ in range(s.uleb()):
                form = s.byte()
                if form != 0x60:
                    problems.add("type section entry 0x%02x is not a plain function type" % form)
                    break
                params = tuple(s.byte() for _ in range(s.uleb()))
                results = tuple(s.byte() for _ in range(s.uleb()))
                types.append((params, results))
        elif section == 2:
            for _ in range(s.uleb()):
                module, field, kind = s.name(), s.name(), s.byte()
                if kind == 0:
                    t = types[s.uleb()]
                    imports.append((module, field, "func", t))
                    functions.append(t)
                elif kind == 1:
                    s.byte()
                    s.limits()
                    imports.append((module, field, "table", None))
                elif kind == 2:
                    s.limits()
                    imports.append((module, field, "memory", None))
                elif kind == 3:
                    s.byte()
                    s.byte()
                    imports.append((module, field, "global", None))
                else:
                    imports.append((module, field, "kind %d" % kind, None))
                    break
        elif section == 3:
            for _ in range(s.uleb()):
                t = types[s.uleb()]
                functions.append(t)
                if any(v in (F32, F64) for v in t[0] + t[1]):
                    problems.add("a function signature has a floating-point type: %s" % signature(*t))
        elif section == 5:
            for _ in range(s.uleb()):
                memories.append(s.limits())
        elif section == 6:
            for i in range(s.uleb()):
                valtype, mutable = s.byte(), s.byte()
                globals_.append((valtype, mutable))
                if valtype in (F32, F64):
                    problems.add("global %d has a floating-point type" % i)
                scan_expression(s, problems, "global %d" % i)
        elif section == 7:
            for _ in range(s.uleb()):
                exports.append((s.name(), s.byte(), s.uleb()))
        elif section == 8:
            has_start = True
        elif section == 10:
            imported = sum(1 for i in imports if i[2] == "func")
            count = s.uleb()
            code_bodies = count
            for index in range(count):
                body_size = s.uleb()
                body = Reader(data, s.pos, s.pos + body_size)
                s.pos += body_size
                where = "function %d" % (imported + index)
                for _ in range(body.uleb()):
                    body.uleb()
                    t = body.byte()
                    if t in (F32, F64):
                        problems.add("a local variable of %s has a floating-point type" % where)
                try:
                    if scan_expression(body, problems, where) and body.pos != body.end:
                        raise Malformed("%s: the instructions end before its body does" % where)
                except Malformed as error:
                    problems.add(str(error))
        elif section == 13:
            problems.add("exception handling (tag section) is not allowed")

    info = {"path": path, "size": len(data), "imports": imports, "exports": [], "memories": memories, "methods": []}
    for module, field, kind, t in imports:
        if module != "hanse" or field not in HOST:
            problems.add("import %s.%s is not part of the host API" % (module, field))
        elif kind != "func":
            problems.add("import %s.%s must be a function" % (module, field))
        elif t != HOST[field]:
            problems.add("import hanse.%s has type %s, the host API's is %s" % (field, signature(*t), signature(*HOST[field])))
    if len(memories) != 1:
        problems.add("a module must define exactly one memory (it defines %d)" % len(memories))
    else:
        flags, minimum, maximum = memories[0]
        if flags & 2 or flags & 4:
            problems.add("shared and 64-bit memories are not allowed")
        if maximum is None:
            problems.add("the memory must declare a maximum (wasm-ld --max-memory=%d)" % (MEMORY_PAGES_MAX * 65536))
        elif maximum > MEMORY_PAGES_MAX:
            problems.add("the memory declares a maximum of %d pages, limit %d" % (maximum, MEMORY_PAGES_MAX))
    if has_start:
        problems.add("a start function is not allowed")
    if not any(name == "memory" and kind == 2 and index == 0 for name, kind, index in exports):
        problems.add('the module must export its memory as "memory"')
    unit = ((), ())
    for name, kind, index in exports:
        kinds = {0: "func", 1: "table", 2: "memory", 3: "global"}
        t = functions[index] if kind == 0 and index < len(functions) else None
        info["exports"].append((name, kinds.get(kind, str(kind)), t))
        if kind != 0:
            continue
        if name in ("init", "migrate"):
            if t != unit:
                problems.add("export %s must take no parameters and return nothing" % name)
        elif t == unit and not name.startswith("_") and name != "memory" and 1 <= len(name.encode()) <= 64 \
                and all(32 < c < 127 for c in name.encode()):
            info["methods"].append(name)
        else:
            problems.add("export %s %s is not callable as a method (methods are () -> (), named without a leading _)"
                         % (name, signature(*t) if t else "?"))
    if not info["methods"]:
        problems.add("the module exports no method")
    info["functions"] = code_bodies
    return info, sorted(problems)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    failed = False
    for path in argv[1:]:
        try:
            info, problems = inspect(path)
        except (OSError, Malformed, IndexError) as error:
            print("%s: cannot read: %s" % (path, error))
            failed = True
            continue
        print("%s: %d bytes, %d functions" % (path, info["size"], info.get("functions", 0)))
        for flags, minimum, maximum in info.get("memories", []):
            print("  memory: %d pages initial, %s maximum" % (minimum, "no" if maximum is None else "%d pages" % maximum))
        for module, field, kind, t in info.get("imports", []):
            print("  import %s.%s %s" % (module, field, signature(*t) if t else kind))
        for name, kind, t in info.get("exports", []):
            print("  export %s %s" % (name, signature(*t) if t else kind))
        print("  methods: %s" % (", ".join(info.get("methods", [])) or "none"))
        if problems:
            failed = True
            for problem in problems:
                print("  PROBLEM: %s" % problem)
        else:
            print("  ok: passes the deploy checks (imports, memory, exports, no floating point)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
