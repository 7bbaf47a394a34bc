// Every request vector in ../shared/vectors/http through the pure parser: whole, split in two at
// every byte, and one byte at a time. The verdict must be the vector's and identical for every
// split; accepted input must parse exactly to the vector's messages.
import Foundation
import HTTP1
import XCTest

final class ParserVectorTests: XCTestCase {
    /// Cases where Hanse's verdict differs from `baas_server_expected`, with the reason.
    /// pipelining.md:7 pipelines three HTTP/1.1 requests without Host, the last one incomplete;
    /// the vector says "incomplete", but a strict server answers the first complete request
    /// without Host with 400, the verdict the vectors give for every other request without Host.
    static let deviations = ["llhttp:test/request/pipelining.md:7": "reject"]

    static func trimOWS(_ value: String) -> String {
        var scalars = Substring(value)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    func testEveryVectorWholeAndSplitAtEveryByte() throws {
        for file in ["requests.jsonl", "requests_host_injected.jsonl"] {
            let vectors = try RequestVector.load(file)
            XCTAssertGreaterThan(vectors.count, 30)
            for vector in vectors {
                let raw = vector.raw
                let whole = parse(chunks: [raw[...]])
                XCTAssertEqual(whole.verdict, Self.deviations[vector.id] ?? vector.wanted, "\(vector.id): \(whole)")
                if whole.verdict == "accept", let expected = vector.messages {
                    XCTAssertEqual(whole.messages.count, expected.count, vector.id)
                    for (got, want) in zip(whole.messages, expected) {
                        if let method = want.method { XCTAssertEqual(got.method, method, vector.id) }
                        if let target = want.target { XCTAssertEqual(got.target, target, vector.id) }
                        // RFC 9110 5.5: a field value excludes surrounding whitespace (one pico
                        // vector keeps trailing whitespace in the value).
                        if let headers = want.headers {
                            XCTAssertEqual(got.headers, headers.map { [$0[0], Self.trimOWS($0[1])] }, vector.id)
                        }
                        XCTAssertEqual(got.body, [UInt8](Data(base64Encoded: want.body_b64 ?? "") ?? Data()), vector.id)
                    }
                }
                let bytewise = parse(chunks: raw.indices.map { raw[$0...$0] })
                XCTAssertEqual(bytewise, whole, "\(vector.id) byte by byte")
                if vector.llhttp_noScan == true { continue }
                for split in 1..<max(1, raw.count) {
                    let outcome = parse(chunks: [raw[..<split], raw[split...]])
                    if outcome != whole {
                        XCTFail("\(vector.id) split at \(split): \(outcome) != \(whole)")
                        break
                    }
                }
            }
        }
    }
}
