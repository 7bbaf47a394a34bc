// Every request vector through a real socket to a running server: whole, and split in two at
// every byte (two writes), except llhttp_noScan cases. The verdict seen on the wire (an error
// status, all messages answered, or a connection left waiting) must be the vector's, and the
// server's echo of accepted requests must equal the vector's messages.
import Foundation
import Glibc
import HTTP1
import HTTPServer
import HanseCore
import HanseTesting
import XCTest

final class SocketVectorTests: XCTestCase {
    func testEveryVectorOverARealSocket() throws {
        let handler = EchoHandler()
        let server = try HTTPServer(address: "127.0.0.1", port: 0, handler: handler, loopCount: 2)
        defer { server.shutdown(grace: .seconds(1)) }
        var connectionsUsed = 0
        for file in ["requests.jsonl", "requests_host_injected.jsonl"] {
            for vector in try RequestVector.load(file) {
                let raw = vector.raw
                var splits = [raw.count]
                if vector.llhttp_noScan != true { splits += Array(1..<max(1, raw.count)) }
                // All splits of a vector run at once, then one quiet period decides "incomplete".
                let clients = try splits.map { _ in try TestClient(port: server.port) }
                connectionsUsed += clients.count
                for (client, split) in zip(clients, splits) { client.send(raw[..<split]) }
                for (client, split) in zip(clients, splits) where split < raw.count { client.send(raw[split...]) }
                usleep(150_000)
                for (client, split) in zip(clients, splits) {
                    var (bytes, closed) = client.receive(quiet: .zero)
                    var responses = TestResponse.parseAll(bytes).responses
                    var verdict = Self.verdict(responses: responses, closed: closed, vector: vector)
                    if verdict != vector.wanted {
                        // A loaded machine (CI runs other suites beside this one) may answer after
                        // the first quiet period: give the connection a longer one before judging.
                        let (more, closedLater) = client.receive(quiet: .seconds(2))
                        bytes += more
                        closed = closed || closedLater
                        responses = TestResponse.parseAll(bytes).responses
                        verdict = Self.verdict(responses: responses, closed: closed, vector: vector)
                    }
                    if verdict != vector.wanted {
                        XCTFail("\(vector.id) split at \(split): got \(verdict), want \(vector.wanted); statuses \(responses.map(\.status)), closed \(closed)")
                        break
                    }
                    if verdict == "accept", let messages = vector.messages {
                        for (response, message) in zip(responses, messages) { try Self.compare(response, message, vector.id) }
                    }
                }
            }
        }
        XCTAssertGreaterThan(connectionsUsed, 5000)
    }

    static func verdict(responses: [TestResponse], closed: Bool, vector: RequestVector) -> String {
        if responses.contains(where: { $0.status >= 400 }) { return "reject" }
        // Bytes after a request with `Connection: close` are refused; when they arrive in a later
        // write, the server has already answered and closed, so it never reads them.
        if vector.wanted == "reject", closed, responses.last?.headers["connection"] == "close" { return "reject" }
        let expected = vector.messages?.count ?? 0
        if !responses.isEmpty && responses.count == expected && (!closed || responses.last?.headers["connection"] == "close") {
            return vector.wanted == "incomplete" ? "accept (want incomplete)" : "accept"
        }
        if !closed && responses.count < max(1, expected) { return "incomplete" }
        return closed ? "closed without an error status" : "unexpected"
    }

    static func compare(_ response: TestResponse, _ message: RequestVector.Message, _ id: String) throws {
        let echo = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], id)
        if let method = message.method { XCTAssertEqual(echo["method"] as? String, method, id) }
        if let target = message.target { XCTAssertEqual(echo["target"] as? String, target, id) }
        if let headers = message.headers {
            XCTAssertEqual(echo["headers"] as? [[String]], headers.map { [$0[0], RequestVector.trimOWS($0[1])] }, id)
        }
        XCTAssertEqual(echo["body_b64"] as? String, message.body_b64 ?? "", id)
    }
}
