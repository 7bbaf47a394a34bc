// The host API table in docs/contracts.md is the contract developer's reference: it must list
// exactly the host functions the runtime provides, with their signatures' arity and base fuel.
@testable import Contracts
import Foundation
import HanseTesting
import XCTest

final class HostAPIDocumentTests: XCTestCase {
    func testTheDocumentedTableMatchesTheRuntime() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/contracts.md"), encoding: .utf8)
        guard let start = document.range(of: "## Host API"), let end = document.range(of: "## Deploy-time validation") else {
            return XCTFail("docs/contracts.md lost its Host API section")
        }
        var documented: [String: (parameters: Int, fuel: UInt64, perByte: UInt64)] = [:]
        for line in document[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let signature = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let parameters = signature.hasPrefix("()") ? 0 : signature.prefix { $0 != ")" }.split(separator: ",").count
            let fuel = UInt64(cells[2].prefix { $0.isNumber || $0 == "," }.replacingOccurrences(of: ",", with: "")) ?? 0
            let perByte = cells[2].range(of: "+ ").map { UInt64(cells[2][$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
            documented[name] = (parameters, fuel, perByte)
        }
        XCTAssertEqual(Set(documented.keys), Set(HostAPI.functions.map(\.name)))
        for function in HostAPI.functions {
            XCTAssertEqual(documented[function.name]?.parameters, function.parameters.count, "\(function.name): parameters")
            XCTAssertEqual(documented[function.name]?.fuel, function.baseFuel, "\(function.name): base fuel")
            XCTAssertEqual(documented[function.name]?.perByte, function.fuelPerByte, "\(function.name): fuel per byte")
        }
    }
}

final class RuntimeMemoryTests: XCTestCase {
    /// Each call's store, host functions and call state form a cycle the runtime must break: a
    /// leaked store keeps its linear memory (and, with guard-page bounds checks, 4 GiB of address
    /// space) forever.
    func testEveryCallFreesItsStore() throws {
        let chain = try HanseTesting.ContractHarness()
        try chain.deploy("counter", code: Guests.counter)
        for _ in 0..<50 { try chain.call("counter", "increment") }
        _ = try chain.query("counter", "get")
        _ = try chain.call("counter", "fail")
        XCTAssertEqual(HostCall.live.load(ordering: .relaxed), 0)
    }
}
