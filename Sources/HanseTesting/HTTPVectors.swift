internal import Foundation

/// One request case of ../shared/vectors/http (see that folder's README).
public struct RequestVector: Decodable, Sendable {
    /// A message the source parser produced.
    public struct Message: Decodable, Sendable {
        public let method: String?
        public let target: String?
        public let headers: [[String]]?
        public let body_b64: String?
    }

    public let id: String
    public let mode: String
    public let strict: Bool
    public let raw_b64: String
    public let baas_server_expected: String
    public let llhttp_noScan: Bool?
    public let messages: [Message]?

    /// The bytes a client sends.
    public var raw: [UInt8] { [UInt8](Data(base64Encoded: raw_b64)!) }

    /// The verdict Hanse must reach. Cases recorded under one of llhttp's lenient modes are
    /// rejected by a strict server (the vectors' README says so); the rest use
    /// `baas_server_expected`, except the deviations listed below.
    public var wanted: String { Self.deviations[id] ?? (strict ? baas_server_expected : "reject") }

    /// Cases where Hanse's verdict differs from `baas_server_expected`, with the reason.
    /// pipelining.md:7 pipelines three HTTP/1.1 requests without Host, the last one incomplete;
    /// the vector says "incomplete", but a strict server answers the first complete request
    /// without Host with 400, the verdict the vectors give for every other request without Host.
    public static let deviations = ["llhttp:test/request/pipelining.md:7": "reject"]

    /// The cases of `file` (`requests.jsonl` or `requests_host_injected.jsonl`).
    public static func load(_ file: String) throws -> [RequestVector] {
        let url = Repository.shared.appendingPathComponent("vectors/http/\(file)")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(RequestVector.self, from: Data($0.utf8)) }
    }

    /// RFC 9110 5.5: a field value excludes surrounding whitespace (one vector keeps it).
    public static func trimOWS(_ value: String) -> String {
        var scalars = Substring(value)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
