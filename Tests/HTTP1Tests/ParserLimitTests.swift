// Limits and rules of the parser that the vectors do not pin down: each documented limit gives
// its status exactly at the boundary, keep-alive and Expect rules, and events across pipelined
// requests.
import HTTP1
import HanseCore
import XCTest

final class ParserLimitTests: XCTestCase {
    private func outcome(_ text: String, limits: Limits = Limits()) -> ParseOutcome {
        parse(chunks: [Array(text.utf8)[...]], limits: limits)
    }

    func testRequestLineLimitIs414() {
        let limits = Limits()
        let fits = "GET /" + String(repeating: "a", count: limits.httpRequestLineBytesMax - 17) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        XCTAssertEqual(outcome(fits).verdict, "accept")
        let long = "GET /" + String(repeating: "a", count: limits.httpRequestLineBytesMax) + " HTTP/1.1\r\n"
        XCTAssertEqual(outcome(long).status, 414)
        // Refused before the line ends: a client cannot make us buffer without bound.
        XCTAssertEqual(outcome(String(long.dropLast(2))).status, 414)
    }

    func testHeaderSectionSizeAndCountLimitsAre431() {
        let limits = Limits()
        let big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "v", count: limits.httpHeaderSectionBytesMax) + "\r\n\r\n"
        XCTAssertEqual(outcome(big).status, 431)
        let many = "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<limits.httpHeaderFieldsMax).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        XCTAssertEqual(outcome(many).status, 431)
        let enough = "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<limits.httpHeaderFieldsMax - 1).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        XCTAssertEqual(outcome(enough).verdict, "accept")
    }

    func testBodyLimitIs413ForBothFramings() {
        var limits = Limits()
        limits.httpRequestBodyBytesMax = 10
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", limits: limits).status, 413)
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits).verdict, "accept")
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n01234\r\n0\r\n\r\n"
        XCTAssertEqual(outcome(chunked, limits: limits).status, 413)
    }

    func testChunkSizeOverflowAndBadChunksAre400() {
        let head = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        XCTAssertEqual(outcome(head + "10000000000000000\r\n").status, 400)
        XCTAssertEqual(outcome(head + "-1\r\n").status, 400)
        XCTAssertEqual(outcome(head + "3\r\nabcX").status, 400)
        XCTAssertEqual(outcome(head + "3;x=\"unterminated\r\n").status, 400)
    }

    func testSmugglingShapesAreRefused() {
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status, 501)
        XCTAssertEqual(outcome("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("GET / HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("GET / HTTP/1.1\r\nHost : x\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("GET / HTTP/2.0\r\n\r\n").status, 505)
        XCTAssertEqual(outcome("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n").status, 400)
        XCTAssertEqual(outcome("GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n").status, 417)
    }

    func testKeepAliveRulesAndExpectContinue() throws {
        func head(_ text: String) throws -> HTTPRequestHead {
            var parser = HTTPRequestParser()
            parser.append(Array(text.utf8))
            guard case .head(let head)? = try parser.next() else { throw XCTSkip("no head") }
            return head
        }
        XCTAssertTrue(try head("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keepAlive)
        XCTAssertFalse(try head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keepAlive)
        XCTAssertFalse(try head("GET / HTTP/1.0\r\n\r\n").keepAlive)
        XCTAssertTrue(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
        let expect = try head("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        XCTAssertTrue(expect.expectContinue)
        XCTAssertEqual(expect.framing, .length(5))
        XCTAssertEqual(try head("GET /a/b?x=1#f HTTP/1.1\r\nHost: x\r\n\r\n").path, "/a/b")
        XCTAssertEqual(try head("GET http://h:1/p?q HTTP/1.1\r\nHost: x\r\n\r\n").path, "/p")
        XCTAssertEqual(try head("GET http://h:1/p?q HTTP/1.1\r\nHost: x\r\n\r\n").query, "q")
    }

    func testPipelinedRequestsComeOutInOrder() {
        let text = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
        let result = outcome(text)
        XCTAssertEqual(result.verdict, "accept")
        XCTAssertEqual(result.messages.map(\.target), ["/1", "/2", "/3"])
        XCTAssertEqual(result.messages[1].body, Array("hi".utf8))
    }

    func testHTTPDateFormatting() {
        XCTAssertEqual(httpDate(unixSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(httpDate(unixSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(httpDate(unixSeconds: 1_795_219_200), "Sat, 21 Nov 2026 00:00:00 GMT")
    }
}
