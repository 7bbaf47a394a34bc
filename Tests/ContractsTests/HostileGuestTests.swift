// Guests that try to run forever must stop on fuel; hostile guests must fail cleanly, with a typed
// reason, without crashing or stalling the host; and deploy-time validation refuses what a call
// could not survive.
import Contracts
import Foundation
import HanseCore
import HanseTesting
import Ledger
import WAT
import XCTest

final class HostileGuestTests: XCTestCase {
    private func run(_ code: [UInt8], _ method: String, gas: UInt64 = 5_000_000, limits: Limits = Limits()) throws -> (ExecutedTransaction, Duration) {
        let chain = try ContractHarness(runtime: ContractRuntime(limits: limits))
        let deploy = try chain.deploy("guest", code: code)
        XCTAssertEqual(deploy.receipt.status, .committed, deploy.receipt.error)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try chain.call("guest", method, gas: gas)
        return (result, clock.now - start)
    }

    func testGuestsThatRunForeverStopOnFuel() throws {
        let cases: [([UInt8], String)] = [
            (Guests.infiniteLoop, "spin"), (Guests.hostCallLoop, "ask"), (Guests.logLoop, "chatter"), (Guests.bulkMemory, "fill_forever"),
        ]
        for (code, method) in cases {
            let (result, elapsed) = try run(code, method)
            XCTAssertEqual(result.receipt.status, .failed, method)
            XCTAssertEqual(result.receipt.error, "out of fuel (budget 5000000)", method)
            XCTAssertEqual(result.receipt.gasUsed, 5_000_000, "\(method) burns its whole budget")
            // Generous bound (debug build, shared CI machine): a budget of 5M fuel is milliseconds.
            XCTAssertLessThan(elapsed, .seconds(10), method)
        }
    }

    func testStateReadLoopsStopOnTheReadLimitOrFuel() throws {
        let (result, _) = try run(Guests.stateLoop, "hammer", gas: 100_000_000)
        XCTAssertEqual(result.receipt.error, "host call state_get: more than 10000 state reads in one call")
        let (starved, _) = try run(Guests.stateLoop, "hammer", gas: 100_000)
        XCTAssertEqual(starved.receipt.error, "out of fuel (budget 100000)")
        XCTAssertEqual(starved.receipt.gasUsed, 100_000)
    }

    func testRecursionStopsOnTheStackOrFuel() throws {
        for (code, method) in [(Guests.recursion, "recurse"), (Guests.mutualRecursion, "pingpong")] {
            let (result, _) = try run(code, method, gas: 1_000_000_000)
            XCTAssertEqual(result.receipt.status, .failed)
            XCTAssertTrue(["trap: call stack exhausted", "out of fuel (budget 1000000000)"].contains(result.receipt.error), result.receipt.error)
        }
    }

    func testMemoryGrowthStopsAtTheDeclaredMaximum() throws {
        let (grown, _) = try run(Guests.memoryBomb, "grow")
        XCTAssertEqual(grown.receipt.status, .committed, "growing to the 256-page maximum is allowed; beyond it memory.grow returns -1")
        let (huge, _) = try run(Guests.memoryBomb, "grow_huge")
        XCTAssertEqual(huge.receipt.status, .committed, "a refused grow is not a trap")
    }

    func testOutOfRangePointersAreRefusedByTheHost() throws {
        let expected: [String: String] = [
            "get_far": "host call state_get: key [2147418112, 2147418120) is outside memory",
            "get_wrap": "host call state_get: key [4294967295, 4294967303) is outside memory",
            "set_edge": "host call state_set: key [65530, 65540) is outside memory",
            "set_huge_value": "host call state_set: value is 2147483647 bytes, limit 262144",
            "ret_far": "host call return_value: return value [65000, 66000) is outside memory",
            "out_far": "host call caller: output [65530, 65570) is outside memory",
            "revert_far": "host call revert: revert message [70000, 70004) is outside memory",
            "emit_far": "host call emit: event data [4294967280, 4294967312) is outside memory",
            "load_far": "trap: memory access out of bounds",
            "empty_key": "host call state_set: a key must not be empty",
            "bad_topic": "host call emit: a topic must be 1 or more printable ASCII characters without spaces",
        ]
        for (method, error) in expected.sorted(by: { $0.key < $1.key }) {
            let (result, _) = try run(Guests.outOfRangePointers, method)
            XCTAssertEqual(result.receipt.status, .failed, method)
            XCTAssertEqual(result.receipt.error, error, method)
        }
    }

    func testBulkMemoryOutOfRangeAndArithmeticTraps() throws {
        XCTAssertEqual(try run(Guests.bulkMemory, "copy_out").0.receipt.error, "trap: memory access out of bounds")
        XCTAssertEqual(try run(Guests.divideByZero, "divide").0.receipt.error, "trap: integer divide by zero")
    }

    func testPerCallLimitsOnWritesAndEvents() throws {
        var limits = Limits()
        limits.contractWritesMax = 50
        limits.contractEventsMax = 20
        XCTAssertEqual(try run(Guests.tooManyWrites, "flood", gas: 100_000_000, limits: limits).0.receipt.error,
                       "host call state_set: more than 50 state writes in one call")
        XCTAssertEqual(try run(Guests.tooManyWrites, "events", gas: 100_000_000, limits: limits).0.receipt.error,
                       "host call emit: more than 20 events in one call")
    }

    func testDeployTimeValidationRefusesWhatACallCouldNotSurvive() throws {
        let runtime = ContractRuntime()
        let method = #"(func (export "m"))"#
        let cases: [(String, String)] = [
            (#"(module (import "env" "abort" (func)) (memory (export "memory") 1 1) \#(method))"#,
             #"import env.abort is not part of the host API (module "hanse", see docs/contracts.md)"#),
            (#"(module (import "hanse" "state_get" (func (param i32) (result i32))) (memory (export "memory") 1 1) \#(method))"#,
             "import hanse.state_get has type (i32) -> (i32), the host API's is (i32, i32, i32, i32) -> (i32)"),
            (#"(module (import "hanse" "memory" (memory 1 1)) \#(method))"#,
             #"import hanse.memory is not part of the host API (module "hanse", see docs/contracts.md)"#),
            (#"(module (memory (export "memory") 1) \#(method))"#,
             "the memory must declare a maximum (at most 256 pages; wasm-ld: --max-memory=16777216)"),
            (#"(module (memory (export "memory") 1 65536) \#(method))"#, "the memory declares a maximum of 65536 pages, limit 256"),
            (#"(module (memory 1 1) \#(method))"#, #"the module must export its memory as "memory""#),
            (#"(module (memory (export "memory") 1 1) (func $s) (start $s) \#(method))"#,
             "a start function is not allowed: put one-time setup in an `init` export"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (drop (f64.add (f64.const 1) (f64.const 2)))))"#,
             "floating-point instruction f64.const is not allowed (contracts are integer-only for determinism)"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (local f32)))"#,
             "a local variable has floating-point type f32 (contracts are integer-only for determinism)"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (drop (i32.trunc_f32_s (f32.const 1)))))"#,
             "floating-point instruction f32.const is not allowed (contracts are integer-only for determinism)"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (param i32)))"#,
             "the module exports no method (a function taking no parameters and returning nothing, named with 1 to 64 printable ASCII characters)"),
            (#"(module (memory (export "memory") 1 1) (func (export "init") (param i32)) \#(method))"#,
             "export init must take no parameters and return nothing"),
            (#"(module (memory (export "memory") 1 1) (table 10 funcref) \#(method))"#,
             "a table must declare a maximum of at most 10000 elements"),
            (#"(module (memory (export "memory") 1 1) (data (i32.const 65535) "ab") \#(method))"#,
             "does not instantiate: trap: out of bounds memory access"),
            (#"(module (memory (export "memory") 1 1) (func $f) (func (export "m") (return_call $f)))"#,
             "tail or reference call returnCall(functionIndex: 0) is not allowed"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (drop (i32.atomic.load (i32.const 0)))))"#,
             "atomic i32AtomicLoad is not allowed"),
            (#"(module (memory (export "memory") 1 1) (func (export "m") (drop (i64.add (i32.const 1) (i32.const 2)))))"#,
             "does not instantiate: the body does not type-check"),
        ]
        for (text, error) in cases {
            let code = try wat2wasm(text, features: .all)
            XCTAssertThrowsError(try runtime.validate(code), text) {
                guard case .invalidModule(let reason) = $0 as? ContractError else { return XCTFail("\($0)") }
                if reason.hasPrefix("does not instantiate") {
                    XCTAssertTrue(reason.hasPrefix("does not instantiate:"), reason)
                } else {
                    XCTAssertEqual(reason, error, text)
                }
            }
        }
        // Proposals outside the allowed set: shared memory does not parse, SIMD is refused.
        XCTAssertThrowsError(try runtime.validate(try wat2wasm(#"(module (memory (export "memory") 1 1 shared) \#(method))"#, features: .all)))
        XCTAssertThrowsError(try runtime.validate(try wat2wasm(#"(module (memory (export "memory") 1 1) (func (export "m") (drop (v128.const i32x4 0 0 0 0))))"#, features: .all))) {
            XCTAssertEqual(($0 as? ContractError)?.description, "invalid module: SIMD instruction v128.const is not allowed")
        }
        XCTAssertThrowsError(try runtime.validate(Array("not wasm".utf8)))
        var small = Limits()
        small.contractCodeBytesMax = 100
        XCTAssertThrowsError(try ContractRuntime(limits: small).validate(Guests.counter)) {
            XCTAssertEqual(($0 as? ContractError)?.description, "invalid module: module is \(Guests.counter.count) bytes, limit 100")
        }
    }

    func testHugeDataSegmentsAreBoundedByTheCodeLimit() throws {
        let segment = String(repeating: "\\00", count: 600 * 1024)
        let code = try wat2wasm(#"(module (memory (export "memory") 16 16) (data (i32.const 0) "\#(segment)") (func (export "m")))"#)
        XCTAssertThrowsError(try ContractRuntime().validate(code)) {
            XCTAssertTrue(($0 as? ContractError)?.description.hasPrefix("invalid module: module is ") == true)
        }
    }
}
