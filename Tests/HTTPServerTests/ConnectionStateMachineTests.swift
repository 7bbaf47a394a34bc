// The connection state machine on its own, driven by a manual clock: pipelined requests are
// answered in order, every timeout fires exactly at its limit, errors answer and close, and a
// shutdown finishes what was received.
import HTTP1
import HTTPServer
import HanseCore
import XCTest

final class ConnectionStateMachineTests: XCTestCase {
    private let limits = Limits()
    private var now = Duration.seconds(100)

    private func makeMachine() -> ConnectionStateMachine {
        ConnectionStateMachine(limits: limits, now: now, bodyLimit: { _ in 16 },
                               errorResponse: { status, detail in HTTPResponse(status: status, body: .bytes(Array(detail.utf8))) })
    }

    private func feed(_ machine: inout ConnectionStateMachine, _ text: String) -> [ConnectionStateMachine.Action] {
        machine.bytesReceived(Array(text.utf8)[...], now: now)
    }

    private func delivered(_ actions: [ConnectionStateMachine.Action]) -> [String] {
        actions.compactMap { if case .deliver(let head, _) = $0 { return head.target } else { return nil } }
    }

    private func statuses(_ actions: [ConnectionStateMachine.Action]) -> [Int] {
        actions.compactMap { action in
            guard case .write(let bytes) = action else { return nil }
            let line = String(decoding: bytes.prefix(12), as: UTF8.self)
            return Int(line.dropFirst(9).prefix(3))
        }
    }

    func testPipelinedRequestsAreDeliveredOneAtATimeInOrder() {
        var machine = makeMachine()
        let first = feed(&machine, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(delivered(first), ["/1"])
        let second = machine.respond(HTTPResponse(status: 200), date: "d", now: now)
        XCTAssertEqual(statuses(second), [200])
        XCTAssertEqual(delivered(second), ["/2"])
        let third = machine.respond(HTTPResponse(status: 201), date: "d", now: now)
        XCTAssertEqual(delivered(third), ["/3"])
        let last = machine.respond(HTTPResponse(status: 202), date: "d", now: now)
        XCTAssertEqual(statuses(last), [202])
        XCTAssertEqual(delivered(last), [])
        XCTAssertFalse(last.contains(.close), "keep-alive stays open")
    }

    func testHeaderTimeoutCutsOffASlowClientAtTheLimit() {
        var machine = makeMachine()
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n".utf8)
        var index = 0
        // One byte a second: the head never completes within the 10 s header timeout.
        while now < .seconds(100) + limits.httpHeaderTimeout - .seconds(1) {
            XCTAssertEqual(machine.bytesReceived(request[index...index], now: now), [])
            index += 1
            now += .seconds(1)
            XCTAssertEqual(machine.tick(now: now), [])
        }
        now += .seconds(1)
        let actions = machine.tick(now: now)
        XCTAssertEqual(statuses(actions), [408])
        XCTAssertEqual(actions.last, .close)
        XCTAssertFalse(machine.wantsToRead)
    }

    func testIdleKeepAliveConnectionClosesAfterIdleTimeout() {
        var machine = makeMachine()
        _ = feed(&machine, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = machine.respond(HTTPResponse(status: 200), date: "d", now: now)
        now += limits.httpIdleTimeout - .milliseconds(1)
        XCTAssertEqual(machine.tick(now: now), [])
        now += .milliseconds(1)
        XCTAssertEqual(machine.tick(now: now), [.close])
    }

    func testBodyTimeoutRestartsOnProgress() {
        var machine = makeMachine()
        _ = feed(&machine, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        now += limits.httpBodyTimeout - .seconds(1)
        _ = feed(&machine, "c")
        now += limits.httpBodyTimeout - .seconds(1)
        XCTAssertEqual(machine.tick(now: now), [], "progress restarted the body timeout")
        now += .seconds(1)
        XCTAssertEqual(statuses(machine.tick(now: now)), [408])
    }

    func testWriteTimeoutAbortsAClientThatStoppedReading() {
        var machine = makeMachine()
        machine.outputBlocked(now: now)
        now += limits.httpWriteTimeout
        XCTAssertEqual(machine.tick(now: now), [.abort])
    }

    func testParseErrorIsAnsweredAfterEarlierResponsesThenCloses() {
        var machine = makeMachine()
        let actions = feed(&machine, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n")
        XCTAssertEqual(delivered(actions), ["/ok"])
        let after = machine.respond(HTTPResponse(status: 200), date: "d", now: now)
        XCTAssertEqual(statuses(after), [200, 400])
        XCTAssertEqual(after.last, .close)
    }

    func testRouteBodyLimitGives413BeforeTheBodyIsRead() {
        var machine = makeMachine()
        let actions = feed(&machine, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n")
        XCTAssertEqual(statuses(actions), [413])
        XCTAssertEqual(actions.last, .close)
    }

    func testExpectContinueIsAnsweredOnlyWhenTheRequestIsNext() {
        var machine = makeMachine()
        let actions = feed(&machine, "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        XCTAssertEqual(statuses(actions), [100])
        XCTAssertEqual(delivered(feed(&machine, "abc")), ["/"])
    }

    func testShutdownFinishesTheRequestInFlightThenCloses() {
        var machine = makeMachine()
        XCTAssertEqual(delivered(feed(&machine, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")), ["/1"])
        XCTAssertEqual(machine.shutdown(now: now), [])
        let second = machine.respond(HTTPResponse(status: 200), date: "d", now: now)
        XCTAssertEqual(delivered(second), [], "a response during shutdown carries Connection: close")
        XCTAssertEqual(second.last, .close)
        var idle = makeMachine()
        XCTAssertEqual(idle.shutdown(now: now), [.close], "an idle connection closes at once")
    }

    func testHeadResponseHasNoBodyButKeepsContentLength() {
        var machine = makeMachine()
        _ = feed(&machine, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        let actions = machine.respond(HTTPResponse(status: 200, body: .bytes(Array("hello".utf8))), date: "d", now: now)
        guard case .write(let bytes) = actions.first else { return XCTFail("no write") }
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("Content-Length: 5\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"))
    }

    func testHTTP10ResponseClosesTheConnection() {
        var machine = makeMachine()
        _ = feed(&machine, "GET / HTTP/1.0\r\n\r\n")
        let actions = machine.respond(HTTPResponse(status: 200), date: "d", now: now)
        guard case .write(let bytes) = actions.first else { return XCTFail("no write") }
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).contains("Connection: close"))
        XCTAssertEqual(actions.last, .close)
    }
}
