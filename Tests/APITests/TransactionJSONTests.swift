// The hand-written answers of the transaction routes against Foundation's JSONEncoder (what
// every other route uses): the same bytes for random values, control characters and all.
@testable import API
import Foundation
import HTTPServer
import XCTest

final class TransactionJSONTests: XCTestCase {
    private var generator = SystemRandomNumberGenerator()

    private func text() -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}",
                      "é", "漢", "😀", "{", "}", ":", ",", "put", "revert: no"]
        return (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    private func maybe<T>(_ make: () -> T) -> T? { Bool.random(using: &generator) ? make() : nil }

    private func event() -> EventView {
        let block = Int.random(in: 0..<4, using: &generator) == 0
        var bytes = Array(text().utf8)
        if Bool.random(using: &generator) { bytes.append(0xff) }
        return EventView(chain: maybe { self.text() }, seq: maybe { Int64.random(in: 0...Int64.max, using: &generator) },
                         height: maybe { UInt64.random(in: 0...UInt64.max, using: &generator) }, txIndex: block ? -1 : maybe { Int.random(in: 0...5000, using: &generator) },
                         eventIndex: Int.random(in: 0...100, using: &generator), contract: text(), topic: text(), bytes: bytes)
    }

    private func view() -> TransactionStatusView {
        var view = TransactionStatusView(txId: text(), status: ["accepted", "committed", "failed", "expired"].randomElement(using: &generator)!)
        view.height = maybe { UInt64.random(in: 0...UInt64.max, using: &generator) }
        view.indexInBlock = maybe { Int.random(in: 0...5000, using: &generator) }
        view.contract = maybe { self.text() }
        view.method = maybe { self.text() }
        view.signer = maybe { self.text() }
        view.gasUsed = maybe { UInt64.random(in: 0...UInt64.max, using: &generator) }
        view.result = maybe { self.text() }
        view.resultBase64 = maybe { self.text() }
        view.error = maybe { self.text() }
        view.events = maybe { (0..<Int.random(in: 0...3, using: &generator)).map { _ in self.event() } }
        return view
    }

    private func body(_ response: HTTPResponse) -> String {
        guard case .bytes(let bytes) = response.body else { return "not bytes" }
        return String(decoding: bytes, as: UTF8.self)
    }

    func testStatusAnswersMatchJSONEncoder() throws {
        for _ in 0..<2_000 {
            let view = view()
            let fast = PlatformRoutes.transactionResponse(view)
            let reference = try jsonResponse(view, status: view.status == "accepted" ? 202 : 200)
            XCTAssertEqual(body(fast), body(reference))
            XCTAssertEqual(fast.status, reference.status)
            XCTAssertEqual(fast.headers["content-type"], "application/json")
        }
    }

    func testBatchAnswersMatchJSONEncoder() throws {
        for _ in 0..<300 {
            let items = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                Bool.random(using: &generator)
                    ? PlatformRoutes.BatchItem(status: 200, transaction: view(), problem: nil)
                    : PlatformRoutes.BatchItem(status: 422, transaction: nil, problem: PlatformRoutes.BatchProblem(type: text(), detail: text()))
            }
            let fast = PlatformRoutes.batchResponse(items)
            XCTAssertEqual(body(fast), body(try jsonResponse(["results": items], status: 207)))
            XCTAssertEqual(fast.status, 207)
        }
    }
}
