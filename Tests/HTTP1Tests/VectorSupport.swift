// Loads the HTTP request vectors from ../shared/vectors/http and runs bytes through the parser,
// returning a verdict comparable with the vectors' `baas_server_expected`.
import Foundation
import HTTP1
import HanseCore
import HanseTesting

/// A parsed message in the vectors' shape.
struct ParsedMessage: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var headers: [[String]]
    var body: [UInt8]
    var description: String { "\(method) \(target) \(headers) body=\(body.count)B" }
}

/// The outcome of parsing some input: the messages completed and the verdict.
struct ParseOutcome: Equatable {
    var verdict: String
    var messages: [ParsedMessage]
    var status: Int?
    /// The refusal's reason: it too must not depend on how the input was split.
    var reason: String? = nil
}

/// Feeds `chunks` one after another and pulls every event after each.
func parse(chunks: [ArraySlice<UInt8>], limits: Limits = Limits()) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var messages: [ParsedMessage] = []
    var current: ParsedMessage?
    do {
        for chunk in chunks {
            parser.append(chunk)
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    try parser.checkDeclaredLength(head)
                    current = ParsedMessage(method: head.method, target: head.target,
                                            headers: head.headers.fields.map { [$0.name, $0.value] }, body: [])
                case .body(let bytes):
                    current!.body += bytes
                case .end:
                    messages.append(current!)
                    current = nil
                }
            }
        }
    } catch {
        return ParseOutcome(verdict: "reject", messages: messages, status: error.status, reason: error.reason)
    }
    let complete = current == nil && parser.isIdle
    return ParseOutcome(verdict: complete && !messages.isEmpty ? "accept" : "incomplete", messages: messages, status: nil)
}
