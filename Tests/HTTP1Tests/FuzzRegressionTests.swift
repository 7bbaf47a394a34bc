// Replays the fuzzer's corpus and every kept crasher (Fuzz/) through the parser: no crash, and the
// same result whole, split in two, and byte by byte, the property the fuzz target checks.
import Foundation
import HTTP1
import XCTest

final class FuzzRegressionTests: XCTestCase {
    func testCorpusAndCrashersParseTheSameHoweverSplit() throws {
        let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz")
        var replayed = 0
        for folder in ["corpus/http-parser", "crashers/http-parser"] {
            let directory = fuzz.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where !name.hasPrefix(".") {
                let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
                let whole = parse(chunks: [bytes[...]])
                let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
                XCTAssertEqual(parse(chunks: [bytes[..<split], bytes[split...]]), whole, "\(folder)/\(name)")
                XCTAssertEqual(parse(chunks: bytes.indices.map { bytes[$0...$0] }), whole, "\(folder)/\(name)")
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, 150)
    }
}
