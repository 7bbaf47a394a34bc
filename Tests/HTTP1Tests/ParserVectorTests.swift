// Every request vector in ../shared/vectors/http through the pure parser: whole, split in two at
// every byte, and one byte at a time. The verdict must be the vector's and identical for every
// split; accepted input must parse exactly to the vector's messages.
import Foundation
import HTTP1
import HanseTesting
import XCTest

final class ParserVectorTests: XCTestCase {
    func testEveryVectorWholeAndSplitAtEveryByte() throws {
        for file in ["requests.jsonl", "requests_host_injected.jsonl"] {
            let vectors = try RequestVector.load(file)
            XCTAssertGreaterThan(vectors.count, 30)
            for vector in vectors {
                let raw = vector.raw
                let whole = parse(chunks: [raw[...]])
                XCTAssertEqual(whole.verdict, vector.wanted, "\(vector.id): \(whole)")
                if whole.verdict == "accept", let expected = vector.messages {
                    XCTAssertEqual(whole.messages.count, expected.count, vector.id)
                    for (got, want) in zip(whole.messages, expected) {
                        if let method = want.method { XCTAssertEqual(got.method, method, vector.id) }
                        if let target = want.target { XCTAssertEqual(got.target, target, vector.id) }
                        // RFC 9110 5.5: a field value excludes surrounding whitespace (one pico
                        // vector keeps trailing whitespace in the value).
                        if let headers = want.headers {
                            XCTAssertEqual(got.headers, headers.map { [$0[0], RequestVector.trimOWS($0[1])] }, vector.id)
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
