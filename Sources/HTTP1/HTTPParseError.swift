/// Why a request was refused. After one, the parser accepts no more input: the server answers
/// with `status` and closes the connection, since the framing of what follows is unknown.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response status: 400, 413, 414, 417, 431, 501 or 505.
    public let status: Int
    /// A sentence for the problem response, saying what was wrong.
    public let reason: String

    public init(_ status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status): \(reason)" }

    static func bad(_ reason: String) -> HTTPParseError { HTTPParseError(400, reason) }
}
