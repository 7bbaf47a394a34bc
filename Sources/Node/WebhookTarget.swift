// Server-side request forgery protection for webhook target URLs: a strict URL parser, the
// classification of special-purpose IPv4 and IPv6 blocks, and validation of every address a
// name resolves to. The caller connects only to the addresses `validate` returns (no second
// lookup), so a DNS answer that changes between validation and delivery cannot reach a refused
// address.
internal import Glibc

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses the strict textual forms: a dotted quad (four decimal parts 0-255 without leading
    /// zeros) or RFC 4291 IPv6 text, including "::" and a trailing dotted quad. Zone identifiers
    /// ("%eth0") and the shorthand IPv4 spellings ("127.1", "0x7f000001") are refused.
    public init?(_ text: String) {
        if let ipv4 = Self.dottedQuad(Substring(text)) {
            bytes = ipv4
        } else if let ipv6 = Self.ipv6(Substring(text)) {
            bytes = ipv6
        } else {
            return nil
        }
    }

    /// The address with these bytes in network order; nil unless there are 4 or 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// True for an IPv6 address, false for IPv4.
    public var isIPv6: Bool { bytes.count == 16 }

    /// The canonical text: a dotted quad, or RFC 5952 IPv6 (lower-case hex, the longest run of
    /// two or more zero groups compressed to "::", IPv4-mapped addresses as "::ffff:a.b.c.d").
    public var description: String {
        guard isIPv6 else { return bytes.map(String.init).joined(separator: ".") }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return "::ffff:" + bytes.suffix(4).map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var longestStart = 0
        var longestLength = 0
        var runStart = 0
        for (index, group) in groups.enumerated() {
            if group != 0 {
                runStart = index + 1
            } else if index - runStart + 1 > longestLength {
                longestStart = runStart
                longestLength = index - runStart + 1
            }
        }
        func hex(_ part: ArraySlice<UInt16>) -> String { part.map { String($0, radix: 16) }.joined(separator: ":") }
        guard longestLength >= 2 else { return hex(groups[...]) }
        return hex(groups[..<longestStart]) + "::" + hex(groups[(longestStart + longestLength)...])
    }

    /// Four decimal parts 0-255, each 1 to 3 digits without a leading zero.
    static func dottedQuad(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy(ASCII.isDigit),
                  part.utf8.count == 1 || part.utf8.first != ASCII.zero,
                  let value = UInt8(part) else { return nil }
            result.append(value)
        }
        return result
    }

    /// RFC 4291 section 2.2 text: eight groups of 1 to 4 hex digits, at most one "::" standing for
    /// one or more zero groups, and optionally a dotted quad in place of the last two groups.
    static func ipv6(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        guard let gap = text.firstRange(of: "::") else {
            guard let all = groups(text, endsWithIPv4Allowed: true), all.count == 16 else { return nil }
            return all
        }
        let after = text[gap.upperBound...]
        guard after.firstRange(of: "::") == nil,
              let head = groups(text[..<gap.lowerBound], endsWithIPv4Allowed: false),
              let tail = groups(after, endsWithIPv4Allowed: true),
              head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// The bytes of colon-separated hex groups (empty text gives none); the last field may be a
    /// dotted quad when `endsWithIPv4Allowed`.
    private static func groups(_ text: Substring, endsWithIPv4Allowed: Bool) -> [UInt8]? {
        guard !text.isEmpty else { return [] }
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if endsWithIPv4Allowed, index == fields.count - 1, field.contains(".") {
                guard let quad = dottedQuad(field) else { return nil }
                result += quad
            } else {
                guard (1...4).contains(field.utf8.count), field.utf8.allSatisfy(ASCII.isHexDigit),
                      let value = UInt16(field, radix: 16) else { return nil }
                result += [UInt8(value >> 8), UInt8(value & 0xff)]
            }
        }
        return result
    }
}

/// Where a webhook may be sent: the parsed, normalised pieces of its URL.
public struct WebhookTarget: Sendable, Equatable {
    /// "http" or "https", lower case.
    public let scheme: String
    /// The host name in lower case without a trailing dot, or an address literal in its canonical
    /// spelling (`IPAddress.description`; an IPv6 literal without brackets).
    public let host: String
    /// The explicit port, or the scheme's default (80 or 443).
    public let port: Int
    /// The path and query exactly as given ("/" when the URL has no path); the fragment is dropped.
    /// Never contains control characters, spaces or non-ASCII bytes.
    public let path: String
    /// The host as an address when the URL names one, in any spelling ("127.1", "0x7f000001", "[::1]").
    public let literal: IPAddress?

    /// The normalised URL rebuilt from the pieces: brackets around an IPv6 literal, the port only
    /// when it is not the scheme's default.
    public var url: String {
        let authority = literal?.isIPv6 == true ? "[\(host)]" : host
        let portSuffix = port == WebhookTargetPolicy.defaultPort(of: scheme) ? "" : ":\(port)"
        return "\(scheme)://\(authority)\(portSuffix)\(path)"
    }
}

/// Why a webhook URL or address is refused, in a sentence fit to show the user.
public struct WebhookTargetError: Error, Sendable, CustomStringConvertible {
    /// The reason, for example "169.254.169.254 is a link-local address (cloud metadata)".
    public let description: String

    /// An error with this reason.
    public init(_ description: String) { self.description = description }
}

/// Looks up the addresses of a host name.
public protocol HostResolver: Sendable {
    /// The addresses `host` resolves to; throws or returns none when it does not resolve.
    func resolve(_ host: String) throws -> [IPAddress]
}

/// The system resolver (getaddrinfo, AF_UNSPEC, SOCK_STREAM), addresses deduplicated in answer order.
public struct SystemResolver: HostResolver {
    public init() {}

    /// The addresses of `host`; throws `WebhookTargetError` with getaddrinfo's reason when it fails.
    public func resolve(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var answers: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &answers)
        guard status == 0 else {
            throw WebhookTargetError("\(host) does not resolve: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(answers) }
        var addresses: [IPAddress] = []
        var next = answers
        while let answer = next {
            if let address = Self.address(of: answer.pointee), !addresses.contains(address) {
                addresses.append(address)
            }
            next = answer.pointee.ai_next
        }
        return addresses
    }

    private static func address(of answer: addrinfo) -> IPAddress? {
        guard let socketAddress = answer.ai_addr else { return nil }
        switch answer.ai_family {
        case AF_INET:
            let ipv4 = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in.self)
            return withUnsafeBytes(of: ipv4.sin_addr) { IPAddress(bytes: Array($0)) }
        case AF_INET6:
            let ipv6 = UnsafeRawPointer(socketAddress).loadUnaligned(as: sockaddr_in6.self)
            return withUnsafeBytes(of: ipv6.sin6_addr) { IPAddress(bytes: Array($0)) }
        default:
            return nil
        }
    }
}

/// Which webhook URLs and addresses may be contacted.
public struct WebhookTargetPolicy: Sendable {
    /// The longest URL accepted, in bytes.
    public static let maximumURLLength = 2048

    /// Operator switch for development and tests with local receivers: allows loopback, private,
    /// carrier-grade NAT, link-local, unique local, benchmarking and documentation addresses.
    /// Unspecified, multicast, broadcast, reserved, tunnel and cloud metadata addresses stay refused.
    public var allowPrivate: Bool

    /// A policy that refuses every special-purpose address unless `allowPrivate` is set.
    public init(allowPrivate: Bool = false) {
        self.allowPrivate = allowPrivate
    }

    /// Parses and checks the URL's form without DNS: http or https only, no credentials, a strict
    /// host (a valid name other than localhost, an IPv4 address in any spelling, or a bracketed
    /// IPv6 address without zone), a port 1-65535, and no spaces, control characters, backslashes
    /// or non-ASCII characters anywhere. Throws `WebhookTargetError` with the reason.
    public func parse(_ url: String) throws -> WebhookTarget {
        guard url.utf8.count <= Self.maximumURLLength else {
            throw WebhookTargetError("the URL is longer than \(Self.maximumURLLength) bytes")
        }
        if url.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) {
            throw WebhookTargetError("the URL contains a space or a control character; percent-encode them")
        }
        if url.utf8.contains(where: { $0 >= 0x80 }) {
            throw WebhookTargetError(
                "the URL contains non-ASCII characters; write host names in their xn-- form and percent-encode the path")
        }
        if url.contains("\\") {
            throw WebhookTargetError("the URL contains a backslash")
        }
        let (scheme, rest) = try Self.splitScheme(url)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let pathAndQuery = rest[authorityEnd...].prefix(while: { $0 != "#" })
        let path = pathAndQuery.isEmpty ? "/" : pathAndQuery.first == "?" ? "/" + pathAndQuery : String(pathAndQuery)
        if authority.contains("@") {
            throw WebhookTargetError("the URL must not contain credentials (user:password@host)")
        }
        let (host, literal, portText) = try Self.splitHost(authority)
        let port = try portText.map(Self.port) ?? Self.defaultPort(of: scheme)
        return WebhookTarget(scheme: scheme, host: host, port: port, path: path, literal: literal)
    }

    /// nil when the address may be contacted under this policy, else the reason it may not
    /// ("127.0.0.1 is a loopback address").
    public func denial(of address: IPAddress) -> String? {
        guard let restriction = SpecialAddresses.restriction(of: address) else { return nil }
        if allowPrivate, restriction.liftedByAllowPrivate { return nil }
        return restriction.reason
    }

    /// Parses the URL, finds its addresses (the literal itself when the host is an address, else
    /// the resolver's answers) and checks every one: one refused answer refuses the URL, and so
    /// does a name that does not resolve. Returns the target and the addresses to connect to; the
    /// caller pins the connection to these and never looks the name up again.
    public func validate(_ url: String, resolver: any HostResolver) throws -> (target: WebhookTarget, addresses: [IPAddress]) {
        let target = try parse(url)
        if let literal = target.literal {
            if let reason = denial(of: literal) { throw WebhookTargetError(reason) }
            return (target, [literal])
        }
        let addresses: [IPAddress]
        do {
            addresses = try resolver.resolve(target.host)
        } catch {
            throw WebhookTargetError("\(target.host) does not resolve")
        }
        guard !addresses.isEmpty else { throw WebhookTargetError("\(target.host) does not resolve") }
        for address in addresses {
            if let reason = denial(of: address) {
                throw WebhookTargetError("\(target.host) resolves to a refused address: \(reason)")
            }
        }
        return (target, addresses)
    }

    /// 443 for https, 80 for http.
    static func defaultPort(of scheme: String) -> Int { scheme == "https" ? 443 : 80 }

    /// The lower-case scheme (http or https) and the text after "://".
    private static func splitScheme(_ url: String) throws -> (scheme: String, rest: Substring) {
        let notAbsolute = WebhookTargetError("the URL must start with http:// or https://")
        guard let colon = url.firstIndex(of: ":") else { throw notAbsolute }
        let scheme = url[..<colon].lowercased()
        guard let first = scheme.utf8.first, ASCII.isLetter(first),
              scheme.utf8.allSatisfy({ ASCII.isLetter($0) || ASCII.isDigit($0) || "+-.".utf8.contains($0) }) else {
            throw notAbsolute
        }
        guard scheme == "http" || scheme == "https" else {
            throw WebhookTargetError("the scheme \"\(scheme)\" is not allowed; use http or https")
        }
        let afterColon = url[url.index(after: colon)...]
        guard afterColon.hasPrefix("//") else { throw notAbsolute }
        return (scheme, afterColon.dropFirst(2))
    }

    /// The host, its address when it is one, and the port text when the authority has a colon.
    private static func splitHost(_ authority: Substring) throws -> (host: String, literal: IPAddress?, port: Substring?) {
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else {
                throw WebhookTargetError("the IPv6 address in the URL lacks its closing \"]\"")
            }
            let inside = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.first == ":" else {
                throw WebhookTargetError("unexpected text after the IPv6 address in the URL")
            }
            if inside.contains("%") {
                throw WebhookTargetError("IPv6 zone identifiers are not allowed in a webhook URL")
            }
            guard let address = IPAddress.ipv6(inside).flatMap({ IPAddress(bytes: $0) }) else {
                throw WebhookTargetError("\"[\(inside)]\" is not a valid IPv6 address")
            }
            return (address.description, address, after.isEmpty ? nil : after.dropFirst())
        }
        let colon = authority.firstIndex(of: ":")
        let hostText = authority[..<(colon ?? authority.endIndex)]
        let port = colon.map { authority[authority.index(after: $0)...] }
        if hostText.contains("%") {
            throw WebhookTargetError("percent-encoded host names are not allowed")
        }
        var host = hostText.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty else { throw WebhookTargetError("the URL has no host") }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if let last = labels.last, HostSyntax.endsInNumber(last) {
            guard let address = HostSyntax.ipv4(labels) else {
                throw WebhookTargetError("\"\(host)\" is not a valid IPv4 address")
            }
            return (address.description, address, port)
        }
        try HostSyntax.checkName(host, labels: labels)
        return (host, nil, port)
    }

    /// Digits only, 1 to 65535.
    private static func port(_ text: Substring) throws -> Int {
        guard !text.isEmpty else { throw WebhookTargetError("the port after \":\" is empty") }
        guard text.utf8.count <= 5, text.utf8.allSatisfy(ASCII.isDigit), let port = Int(text), (1...65535).contains(port) else {
            throw WebhookTargetError("the port \"\(text)\" is not a number from 1 to 65535")
        }
        return port
    }
}

/// The syntax of host names and of the WHATWG URL standard's IPv4 spellings.
private enum HostSyntax {
    /// The WHATWG "ends in a number" test: the last label is decimal digits or a valid 0x hex
    /// number, so the whole host must be an IPv4 address.
    static func endsInNumber(_ label: Substring) -> Bool {
        !label.isEmpty && (label.utf8.allSatisfy(ASCII.isDigit) || number(label) != nil)
    }

    /// The WHATWG "IPv4 parser": 1 to 4 parts, each decimal, 0x hex or 0-prefixed octal; every
    /// part but the last at most 255, the last filling the remaining bytes. nil when invalid.
    static func ipv4(_ labels: [Substring]) -> IPAddress? {
        guard (1...4).contains(labels.count) else { return nil }
        var numbers: [UInt64] = []
        for label in labels {
            guard let value = number(label) else { return nil }
            numbers.append(value)
        }
        guard let last = numbers.last, numbers.dropLast().allSatisfy({ $0 <= 255 }),
              last < UInt64(1) << (8 * (5 - numbers.count)) else { return nil }
        var value = last
        for (index, part) in numbers.dropLast().enumerated() {
            value |= part << (8 * (3 - index))
        }
        return IPAddress(bytes: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
    }

    /// One WHATWG IPv4 number ("0x" hex, leading-zero octal, else decimal; "0x" alone is 0);
    /// nil when empty, malformed or above 2^32 - 1.
    private static func number(_ label: Substring) -> UInt64? {
        guard !label.isEmpty else { return nil }
        var digits = label.utf8[...]
        var radix: UInt64 = 10
        if label.hasPrefix("0x") {
            digits = digits.dropFirst(2)
            radix = 16
        } else if label.utf8.count > 1, label.hasPrefix("0") {
            digits = digits.dropFirst()
            radix = 8
        }
        var value: UInt64 = 0
        for digit in digits {
            guard let digitValue = ASCII.hexValue(digit), digitValue < radix else { return nil }
            value = value * radix + digitValue
            guard value <= UInt64(UInt32.max) else { return nil }
        }
        return value
    }

    /// A DNS name: at most 253 characters, labels of 1 to 63 letters, digits and inner hyphens,
    /// and neither "localhost" nor a name under it.
    static func checkName(_ host: String, labels: [Substring]) throws {
        guard host.utf8.count <= 253 else { throw WebhookTargetError("the host name is longer than 253 characters") }
        for label in labels {
            guard !label.isEmpty else { throw WebhookTargetError("the host name \"\(host)\" has an empty label") }
            guard label.utf8.count <= 63 else {
                throw WebhookTargetError("a label of the host name is longer than 63 characters")
            }
            guard label.utf8.allSatisfy({ ASCII.isLetter($0) || ASCII.isDigit($0) || $0 == ASCII.hyphen }) else {
                throw WebhookTargetError("the host name \"\(host)\" may contain only letters, digits, \"-\" and \".\"")
            }
            guard label.first != "-", label.last != "-" else {
                throw WebhookTargetError("a label of the host name \"\(host)\" starts or ends with \"-\"")
            }
        }
        if host == "localhost" || host.hasSuffix(".localhost") {
            throw WebhookTargetError("\(host) is a loopback name")
        }
    }
}

/// Why an address is refused, and whether `WebhookTargetPolicy.allowPrivate` lifts that.
private struct AddressRestriction {
    let reason: String
    let liftedByAllowPrivate: Bool
}

/// An address block with a special purpose (RFC 6890 and the IANA special-purpose registries).
private struct SpecialBlock: Sendable {
    let prefix: [UInt8]
    let length: Int
    /// What an address of the block is, with its article: "a loopback address".
    let kind: String
    /// True for blocks of local networks and testing, which `allowPrivate` allows.
    let isLocalUse: Bool

    init(_ prefix: [UInt8], _ length: Int, _ kind: String, isLocalUse: Bool) {
        self.prefix = prefix
        self.length = length
        self.kind = kind
        self.isLocalUse = isLocalUse
    }

    /// An IPv6 block from its leading 16-bit groups.
    init(ipv6 groups: [UInt16], _ length: Int, _ kind: String, isLocalUse: Bool) {
        let padded = groups + [UInt16](repeating: 0, count: 8 - groups.count)
        self.init(padded.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }, length, kind, isLocalUse: isLocalUse)
    }

    func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == prefix.count else { return false }
        let wholeBytes = length / 8
        guard bytes.prefix(wholeBytes).elementsEqual(prefix.prefix(wholeBytes)) else { return false }
        let remainingBits = length % 8
        guard remainingBits > 0 else { return true }
        let mask = UInt8(0xff) << (8 - remainingBits)
        return bytes[wholeBytes] & mask == prefix[wholeBytes] & mask
    }
}

/// An IPv6 block that carries an IPv4 address in the 4 bytes at `offset`.
private struct IPv4Embedding: Sendable {
    let block: SpecialBlock
    let offset: Int
    /// True when traffic to the address reaches the embedded IPv4 address (mapping, NAT64, 6to4),
    /// so a public one is allowed; false for the deprecated IPv4-compatible form, always refused.
    let reachesEmbedded: Bool
}

/// The special-purpose blocks a webhook must not reach, and how to classify an address.
private enum SpecialAddresses {
    static let ipv4Blocks = [
        SpecialBlock([0, 0, 0, 0], 8, "an unspecified (\"this network\") address", isLocalUse: false),
        SpecialBlock([10, 0, 0, 0], 8, "a private address", isLocalUse: true),
        SpecialBlock([100, 64, 0, 0], 10, "a carrier-grade NAT (shared) address", isLocalUse: true),
        SpecialBlock([127, 0, 0, 0], 8, "a loopback address", isLocalUse: true),
        SpecialBlock([169, 254, 0, 0], 16, "a link-local address", isLocalUse: true),
        SpecialBlock([172, 16, 0, 0], 12, "a private address", isLocalUse: true),
        SpecialBlock([192, 0, 0, 0], 24, "an IETF protocol assignment address", isLocalUse: false),
        SpecialBlock([192, 0, 2, 0], 24, "a documentation address", isLocalUse: true),
        SpecialBlock([192, 88, 99, 0], 24, "a 6to4 relay anycast address", isLocalUse: false),
        SpecialBlock([192, 168, 0, 0], 16, "a private address", isLocalUse: true),
        SpecialBlock([198, 18, 0, 0], 15, "a benchmarking address", isLocalUse: true),
        SpecialBlock([198, 51, 100, 0], 24, "a documentation address", isLocalUse: true),
        SpecialBlock([203, 0, 113, 0], 24, "a documentation address", isLocalUse: true),
        SpecialBlock([224, 0, 0, 0], 4, "a multicast address", isLocalUse: false),
        SpecialBlock([255, 255, 255, 255], 32, "the broadcast address", isLocalUse: false),
        SpecialBlock([240, 0, 0, 0], 4, "a reserved address", isLocalUse: false),
    ]

    static let ipv6Blocks = [
        SpecialBlock(ipv6: [], 128, "the unspecified address", isLocalUse: false),
        SpecialBlock(ipv6: [0, 0, 0, 0, 0, 0, 0, 1], 128, "the loopback address", isLocalUse: true),
        SpecialBlock(ipv6: [0x2001, 0], 32, "a Teredo tunnel address", isLocalUse: false),
        SpecialBlock(ipv6: [0x2001, 0xdb8], 32, "a documentation address", isLocalUse: true),
        SpecialBlock(ipv6: [0x3fff], 20, "a documentation address", isLocalUse: true),
        SpecialBlock(ipv6: [0xfc00], 7, "a unique local (private) address", isLocalUse: true),
        SpecialBlock(ipv6: [0xfe80], 10, "a link-local address", isLocalUse: true),
        SpecialBlock(ipv6: [0xfec0], 10, "a deprecated site-local address", isLocalUse: true),
        SpecialBlock(ipv6: [0xff00], 8, "a multicast address", isLocalUse: false),
    ]

    /// IPv6 blocks that carry an IPv4 address; an address of one of them is judged by the IPv4
    /// address inside.
    static let ipv4Embeddings = [
        IPv4Embedding(block: SpecialBlock(ipv6: [0, 0, 0, 0, 0, 0xffff], 96, "an IPv4-mapped address", isLocalUse: false), offset: 12, reachesEmbedded: true),
        IPv4Embedding(block: SpecialBlock(ipv6: [0x64, 0xff9b], 96, "a NAT64 address", isLocalUse: false), offset: 12, reachesEmbedded: true),
        IPv4Embedding(block: SpecialBlock(ipv6: [0x2002], 16, "a 6to4 address", isLocalUse: false), offset: 2, reachesEmbedded: true),
        IPv4Embedding(block: SpecialBlock(ipv6: [], 96, "a deprecated IPv4-compatible address", isLocalUse: false), offset: 12, reachesEmbedded: false),
    ]

    /// IPv6 global unicast, 2000::/3: addresses outside it that no block above names are refused.
    static let globalUnicast = SpecialBlock(ipv6: [0x2000], 3, "outside global unicast (2000::/3)", isLocalUse: false)

    /// Cloud instance metadata services (AWS, AWS ECS, Alibaba), refused even with `allowPrivate`.
    static let metadata: Set<[UInt8]> = [
        [169, 254, 169, 254], [169, 254, 170, 2], [100, 100, 100, 200],
        [0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54],
    ]

    static func restriction(of address: IPAddress) -> AddressRestriction? {
        guard address.isIPv6 else {
            return classify(address, in: ipv4Blocks).map { AddressRestriction(reason: "\(address) is \($0.kind)", liftedByAllowPrivate: $0.lifted) }
        }
        if let found = classify(address, in: ipv6Blocks) {
            return AddressRestriction(reason: "\(address) is \(found.kind)", liftedByAllowPrivate: found.lifted)
        }
        for embedding in ipv4Embeddings where embedding.block.contains(address.bytes) {
            let start = embedding.offset
            guard let embedded = IPAddress(bytes: Array(address.bytes[start..<(start + 4)])) else { return nil }
            if let inner = classify(embedded, in: ipv4Blocks) {
                return AddressRestriction(
                    reason: "\(address) embeds \(embedded), \(inner.kind)", liftedByAllowPrivate: inner.lifted && embedding.reachesEmbedded)
            }
            guard embedding.reachesEmbedded else {
                return AddressRestriction(reason: "\(address) is \(embedding.block.kind)", liftedByAllowPrivate: false)
            }
            return nil
        }
        guard globalUnicast.contains(address.bytes) else {
            return AddressRestriction(reason: "\(address) is \(globalUnicast.kind)", liftedByAllowPrivate: false)
        }
        return nil
    }

    /// The kind of the first block holding the address (with " (cloud metadata)" for a metadata
    /// service) and whether `allowPrivate` lifts it; nil when no block holds it.
    private static func classify(_ address: IPAddress, in blocks: [SpecialBlock]) -> (kind: String, lifted: Bool)? {
        guard let block = blocks.first(where: { $0.contains(address.bytes) }) else { return nil }
        guard metadata.contains(address.bytes) else { return (block.kind, block.isLocalUse) }
        return (block.kind + " (cloud metadata)", false)
    }
}

/// ASCII byte tests for the parsers.
private enum ASCII {
    static let zero = UInt8(ascii: "0")
    static let hyphen = UInt8(ascii: "-")

    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    /// The value of a hex digit (either case); nil for other bytes.
    static func hexValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
