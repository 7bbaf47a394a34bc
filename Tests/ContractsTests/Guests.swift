// Contracts written in WebAssembly text for the runtime's tests: a well-behaved counter, and the
// catalogue of guests that try to run forever or to hurt the host.
import WAT

enum Guests {
    static func wasm(_ text: String) -> [UInt8] {
        do { return try wat2wasm(text) } catch { fatalError("test guest does not assemble: \(error)\n\(text)") }
    }

    /// The host imports a guest may use, by name.
    static let imports = """
      (import "hanse" "args" (func $args (param i32 i32) (result i32)))
      (import "hanse" "state_get" (func $get (param i32 i32 i32 i32) (result i32)))
      (import "hanse" "state_set" (func $set (param i32 i32 i32 i32)))
      (import "hanse" "state_delete" (func $delete (param i32 i32)))
      (import "hanse" "state_scan" (func $scan (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "hanse" "emit" (func $emit (param i32 i32 i32 i32)))
      (import "hanse" "caller" (func $caller (param i32 i32) (result i32)))
      (import "hanse" "block_height" (func $height (result i64)))
      (import "hanse" "sha256" (func $sha256 (param i32 i32 i32)))
      (import "hanse" "return_value" (func $ret (param i32 i32)))
      (import "hanse" "revert" (func $revert (param i32 i32)))
      (import "hanse" "log" (func $log (param i32 i32)))
    """

    /// A module with the host imports, one page of memory (max 2) and `body` inside.
    static func module(_ body: String, memory: String = "1 2") -> [UInt8] {
        wasm("(module\n\(imports)\n(memory (export \"memory\") \(memory))\n\(body)\n)")
    }

    /// A counter: `increment` adds the u64 in args bytes 0..8 (or 1) to the value under "count",
    /// emits "bumped" and returns the new value; `get` returns it; `fail` increments and reverts;
    /// `echo` returns its args; `whoami` returns the caller; `write_then_trap` writes and traps.
    static let counter = module("""
      (data (i32.const 0) "count")
      (data (i32.const 16) "bumped")
      (data (i32.const 32) "counter says no")
      (func $load (result i64)
        (if (result i64) (i32.eq (call $get (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 8)) (i32.const 8))
          (then (i64.load (i32.const 100))) (else (i64.const 0))))
      (func $add (param $n i64)
        (i64.store (i32.const 100) (i64.add (call $load) (local.get $n)))
        (call $set (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 8))
        (call $emit (i32.const 16) (i32.const 6) (i32.const 100) (i32.const 8))
        (call $ret (i32.const 100) (i32.const 8)))
      (func (export "increment") (call $add (i64.const 1)))
      (func (export "get")
        (i64.store (i32.const 100) (call $load))
        (call $ret (i32.const 100) (i32.const 8)))
      (func (export "fail")
        (call $add (i64.const 1))
        (call $revert (i32.const 32) (i32.const 15)))
      (func (export "write_then_trap")
        (call $add (i64.const 1))
        unreachable)
      (func (export "echo")
        (call $ret (i32.const 200) (call $args (i32.const 200) (i32.const 1000))))
      (func (export "whoami")
        (call $ret (i32.const 200) (call $caller (i32.const 200) (i32.const 64))))
      (func (export "hash_args")
        (call $sha256 (i32.const 200) (call $args (i32.const 200) (i32.const 1000)) (i32.const 1300))
        (call $ret (i32.const 1300) (i32.const 32)))
      (func (export "init")
        (call $add (i64.const 100)))
      (func (export "busy") (param i32)) ;; not a method: it takes a parameter
    """)

    /// The counter's next version: `increment` adds 10, and `migrate` sets the count to 1000 plus
    /// what it was.
    static let counterV2 = module("""
      (data (i32.const 0) "count")
      (data (i32.const 16) "bumped")
      (func $load (result i64)
        (if (result i64) (i32.eq (call $get (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 8)) (i32.const 8))
          (then (i64.load (i32.const 100))) (else (i64.const 0))))
      (func $add (param $n i64)
        (i64.store (i32.const 100) (i64.add (call $load) (local.get $n)))
        (call $set (i32.const 0) (i32.const 5) (i32.const 100) (i32.const 8))
        (call $ret (i32.const 100) (i32.const 8)))
      (func (export "increment") (call $add (i64.const 10)))
      (func (export "get")
        (i64.store (i32.const 100) (call $load))
        (call $ret (i32.const 100) (i32.const 8)))
      (func (export "migrate") (call $add (i64.const 1000)))
    """)

    /// Keys "k/0" .. "k/9" for scans: `fill` writes ten keys, `scan` returns a scan of prefix "k/"
    /// after the args bytes, limit 4, `drop5` deletes "k/5".
    static let scanner = module("""
      (data (i32.const 0) "k/0k/1k/2k/3k/4k/5k/6k/7k/8k/9")
      (func (export "fill")
        (local $i i32)
        (loop $next
          (call $set (i32.mul (local.get $i) (i32.const 3)) (i32.const 3) (i32.mul (local.get $i) (i32.const 3)) (i32.const 3))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (i32.const 10)))))
      (func (export "drop5") (call $delete (i32.const 15) (i32.const 3)))
      (func (export "scan")
        (local $after i32)
        (local.set $after (call $args (i32.const 100) (i32.const 64)))
        (call $ret (i32.const 1000)
          (call $scan (i32.const 0) (i32.const 2) (i32.const 100) (local.get $after) (i32.const 4) (i32.const 1000) (i32.const 4000))))
    """)

    // MARK: Guests that try to run forever

    static let infiniteLoop = module("""
      (func (export "spin") (loop $forever (br $forever)))
    """)

    static let recursion = module("""
      (func $down (param i64) (result i64) (call $down (i64.add (local.get 0) (i64.const 1))))
      (func (export "recurse") (drop (call $down (i64.const 0))))
    """)

    static let mutualRecursion = module("""
      (func $ping (param i32) (call $pong (local.get 0)))
      (func $pong (param i32) (call $ping (i32.add (local.get 0) (i32.const 1))))
      (func (export "pingpong") (call $ping (i32.const 0)))
    """)

    static let hostCallLoop = module("""
      (func (export "ask") (loop $forever (drop (call $height)) (br $forever)))
    """)

    static let stateLoop = module("""
      (data (i32.const 0) "key")
      (func (export "hammer") (loop $forever (drop (call $get (i32.const 0) (i32.const 3) (i32.const 100) (i32.const 8))) (br $forever)))
    """)

    static let logLoop = module("""
      (data (i32.const 0) "hello")
      (func (export "chatter") (loop $forever (call $log (i32.const 0) (i32.const 5)) (br $forever)))
    """)

    // MARK: Hostile guests

    /// Grows memory until the grow fails, then keeps touching the last page.
    static let memoryBomb = module("""
      (func (export "grow")
        (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 7)))
      (func (export "grow_huge") (drop (memory.grow (i32.const 65535))))
    """, memory: "1 256")

    static let outOfRangePointers = module("""
      (func (export "get_far") (drop (call $get (i32.const 0x7fff0000) (i32.const 8) (i32.const 0) (i32.const 8))))
      (func (export "get_wrap") (drop (call $get (i32.const -1) (i32.const 8) (i32.const 0) (i32.const 8))))
      (func (export "set_edge") (call $set (i32.const 65530) (i32.const 10) (i32.const 0) (i32.const 1)))
      (func (export "set_huge_value") (call $set (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0x7fffffff)))
      (func (export "ret_far") (call $ret (i32.const 65000) (i32.const 1000)))
      (func (export "out_far") (drop (call $caller (i32.const 65530) (i32.const 100))))
      (func (export "revert_far") (call $revert (i32.const 70000) (i32.const 4)))
      (func (export "emit_far") (call $emit (i32.const 0) (i32.const 1) (i32.const -16) (i32.const 32)))
      (func (export "load_far") (drop (i32.load (i32.const 65535))))
      (func (export "empty_key") (call $set (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))
      (func (export "bad_topic") (call $emit (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 1)))
    """)

    /// Bulk memory: fills and copies the whole memory over and over, and copies out of range.
    static let bulkMemory = module("""
      (func (export "fill_forever")
        (loop $again
          (memory.fill (i32.const 0) (i32.const 1) (i32.const 65536))
          (memory.copy (i32.const 0) (i32.const 32768) (i32.const 32768))
          (br $again)))
      (func (export "copy_out") (memory.copy (i32.const 60000) (i32.const 0) (i32.const 10000)))
    """, memory: "1 1")

    static let divideByZero = module("""
      (func (export "divide") (drop (i32.div_u (i32.const 1) (i32.const 0))))
    """)

    static let tooManyWrites = module("""
      (data (i32.const 8) "e")
      (func (export "flood")
        (local $i i32)
        (loop $next
          (i32.store (i32.const 0) (local.get $i))
          (call $set (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (func (export "events")
        (loop $next (call $emit (i32.const 8) (i32.const 1) (i32.const 0) (i32.const 4)) (br $next)))
    """)
}
