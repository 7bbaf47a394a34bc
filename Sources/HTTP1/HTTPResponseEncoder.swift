/// Serialises response heads and chunked body framing (RFC 9112 section 4 and 7.1).
public enum HTTPResponseEncoder {
    /// Appends `HTTP/1.1 <status> <reason>`, the fields and the blank line.
    public static func appendHead(status: Int, headers: HTTPHeaders, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &buffer)
        buffer.append(32)
        buffer.append(contentsOf: reasonPhrase(status).utf8)
        buffer.append(contentsOf: [13, 10])
        for (name, value) in headers {
            buffer.append(contentsOf: name.utf8)
            buffer.append(contentsOf: [58, 32])
            // Field values we send never contain CR or LF; strip them if a caller slipped one in.
            for byte in value.utf8 where byte != 13 && byte != 10 { buffer.append(byte) }
            buffer.append(contentsOf: [13, 10])
        }
        buffer.append(contentsOf: [13, 10])
    }

    /// Appends one chunk of a chunked body (nothing for an empty chunk: that would end the body).
    public static func appendChunk<Bytes: Collection>(_ bytes: Bytes, to buffer: inout [UInt8]) where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        buffer.append(contentsOf: String(bytes.count, radix: 16).utf8)
        buffer.append(contentsOf: [13, 10])
        buffer.append(contentsOf: bytes)
        buffer.append(contentsOf: [13, 10])
    }

    /// Appends the last chunk and an empty trailer section.
    public static func appendLastChunk(to buffer: inout [UInt8]) {
        buffer.append(contentsOf: [48, 13, 10, 13, 10])
    }

    /// Appends a non-negative decimal number.
    public static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0)
        if value < 10 { buffer.append(UInt8(48 + value)); return }
        var digits: [UInt8] = []
        var rest = value
        while rest > 0 { digits.append(UInt8(48 + rest % 10)); rest /= 10 }
        buffer.append(contentsOf: digits.reversed())
    }

    /// The reason phrase of a status code (RFC 9110 section 15).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}

/// The `Date` header value (IMF-fixdate, RFC 9110 5.6.7) for a Unix time in seconds.
public func httpDate(unixSeconds: Int64) -> String {
    let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
    let secondsOfDay = Int(unixSeconds - days * 86_400)
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthPrime = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
    let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let monthName = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Int(month - 1)]
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(weekday), \(two(Int(day))) \(monthName) \(year) \(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)) GMT"
}
