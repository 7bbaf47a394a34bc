// Loads the HTTP request vectors from ../shared/vectors/http and runs bytes through the parser,
// returning a verdict comparable with the vectors' `baas_server_expected`.
import Foundation
import HTTP1
import HanseCore

struct RequestVector: Decodable {
    struct Message: Decodable {
        let method: String?
        let target: String?
        let headers: [[String]]?
        let body_b64: String?
    }

    let id: String
    let mode: String
    let strict: Bool
    let raw_b64: String
    let baas_server_expected: String
    let llhttp_noScan: Bool?
    let messages: [Message]?

    var raw: [UInt8] { [UInt8](Data(base64Encoded: raw_b64)!) }

    /// The verdict Hanse must reach. Cases recorded under one of llhttp's lenient modes are
    /// rejected by a strict server (the vectors' README); the rest use `baas_server_expected`.
    var wanted: String { strict ? baas_server_expected : "reject" }

    static func load(_ file: String) throws -> [RequestVector] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/vectors/http/\(file)")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(RequestVector.self, from: Data($0.utf8)) }
    }
}

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
        return ParseOutcome(verdict: "reject", messages: messages, status: error.status)
    }
    let complete = current == nil && parser.isIdle
    return ParseOutcome(verdict: complete && !messages.isEmpty ? "accept" : "incomplete", messages: messages, status: nil)
}
