// The fast reader of submission bodies against the general decoder: where it accepts a body it
// must give the same value; every other body must fall through to the general decoder, whose
// errors (unknown fields, nested ones included; missing fields; bad JSON) the client sees.
@testable import API
import XCTest

final class PlainJSONTests: XCTestCase {
    private func pairs(_ request: BatchSubmitRequest) -> [[String]] { request.transactions.map { [$0.signedBytes, $0.signature] } }

    func testPlainBodiesReadFastGiveTheGeneralDecodersValue() throws {
        let single = [
            #"{"signed_bytes":"AAEC+/8=","signature":"00ff"}"#,
            #" { "signature" : "ab" ,"signed_bytes":"" } "#,
            "{\n\t\"signed_bytes\": \"x/y\",\r\n \"signature\": \"\"\n}\n",
        ]
        for body in single {
            let fast = try XCTUnwrap(SubmitTransactionRequest.plain(Array(body.utf8)), body)
            let general = try RequestContext.decodeGeneral(SubmitTransactionRequest.self, from: Array(body.utf8))
            XCTAssertEqual([fast.signedBytes, fast.signature], [general.signedBytes, general.signature], body)
        }
        let batches = [
            #"{"transactions":[]}"#,
            #"{"transactions":[{"signed_bytes":"a","signature":"b"}]}"#,
            #"{ "transactions" : [ {"signed_bytes":"a","signature":"b"} , {"signature":"d","signed_bytes":"c"},{"signed_bytes":"e","signature":"f"} ] }"#,
        ]
        for body in batches {
            let fast = try XCTUnwrap(BatchSubmitRequest.plain(Array(body.utf8)), body)
            XCTAssertEqual(pairs(fast), pairs(try RequestContext.decodeGeneral(BatchSubmitRequest.self, from: Array(body.utf8))), body)
        }
        XCTAssertEqual(pairs(try RequestContext.decodeJSON(BatchSubmitRequest.self, from: Array(batches[2].utf8))), [["a", "b"], ["c", "d"], ["e", "f"]])
    }

    func testOtherBodiesFallThroughToTheGeneralDecoder() throws {
        // Valid JSON the fast reader leaves alone: the general decoder reads it.
        let escaped = #"{"signed_bytes":"AA\u0041","signature":"\/00"}"#
        XCTAssertNil(SubmitTransactionRequest.plain(Array(escaped.utf8)))
        let decoded = try RequestContext.decodeJSON(SubmitTransactionRequest.self, from: Array(escaped.utf8))
        XCTAssertEqual([decoded.signedBytes, decoded.signature], ["AAA", "/00"])
        let unicode = #"{"signed_bytes":"ü","signature":"00"}"#
        XCTAssertNil(SubmitTransactionRequest.plain(Array(unicode.utf8)))
        XCTAssertEqual(try RequestContext.decodeJSON(SubmitTransactionRequest.self, from: Array(unicode.utf8)).signedBytes, "ü")

        // Bodies that are wrong: the fast reader declines, the general decoder names the problem.
        let wrong: [(String, String)] = [
            (#"{"signed_bytes":"a","signature":"b","extra":"c"}"#, "unknown field extra"),
            (#"{"signed_bytes":"a"}"#, "missing field signature"),
            (#"{"signed_bytes":"a","signature":7}"#, "field signature: want"),
            (#"{"signed_bytes":"a","signature":"b"} x"#, "not valid JSON"),
            (#"{"signed_bytes":"a","signature":"b""#, "not valid JSON"),
            ("[]", "must be a JSON object"),
        ]
        for (body, message) in wrong {
            XCTAssertNil(SubmitTransactionRequest.plain(Array(body.utf8)), body)
            XCTAssertThrowsError(try RequestContext.decodeJSON(SubmitTransactionRequest.self, from: Array(body.utf8)), body) { error in
                XCTAssertTrue((error as? APIError)?.detail.contains(message) == true, "\(body): \(error)")
            }
        }
        // A field given twice is not plain (JSON leaves its meaning open); the general path decides.
        XCTAssertNil(SubmitTransactionRequest.plain(Array(#"{"signed_bytes":"a","signed_bytes":"b","signature":"c"}"#.utf8)))

        let wrongBatches: [(String, String)] = [
            (#"{"transactions":[{"signed_bytes":"a","signature":"b","nonce":"c"}]}"#, "unknown field transactions[0].nonce"),
            (#"{"transactions":[{"signed_bytes":"a","signature":"b"},{"signed_bytes":"a","signature":"b","x":1}]}"#, "unknown field transactions[1].x"),
            (#"{"transactions":[{"signed_bytes":"a"}]}"#, "missing field transactions[0].signature"),
            (#"{"transactions":{}}"#, "field transactions: want"),
            (#"{"transactions":[],"more":"x"}"#, "unknown field more"),
        ]
        for (body, message) in wrongBatches {
            XCTAssertNil(BatchSubmitRequest.plain(Array(body.utf8)), body)
            XCTAssertThrowsError(try RequestContext.decodeJSON(BatchSubmitRequest.self, from: Array(body.utf8)), body) { error in
                XCTAssertTrue((error as? APIError)?.detail.contains(message) == true, "\(body): \(error)")
            }
        }
    }
}
