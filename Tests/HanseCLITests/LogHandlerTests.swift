// Rendering of log lines: logfmt quoting and JSON escaping of awkward values.
@testable import HanseCLI
import XCTest

final class LogHandlerTests: XCTestCase {
    func testLogfmtQuotesOnlyWhatNeedsIt() {
        let line = HanseLogHandler.render([("msg", "ready"), ("path", "/a b"), ("empty", ""), ("q", "say \"hi\"")], format: .logfmt)
        XCTAssertEqual(line, #"msg=ready path="/a b" empty="" q="say \"hi\"""#)
    }

    func testJSONEscapesControlCharacters() throws {
        let line = HanseLogHandler.render([("msg", "line\nbreak\u{1}"), ("k", "\\")], format: .json)
        XCTAssertEqual(line, #"{"msg":"line\nbreak\u0001","k":"\\"}"#)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        XCTAssertEqual(object?["msg"], "line\nbreak\u{1}")
    }
}
