// Server-side request forgery protection for webhook URLs: every case of
// ../shared/vectors/ssrf/webhook_url_cases.jsonl gets its verdict with DNS stubbed from the case,
// a name that rebinds to loopback after registration is refused at delivery, and the address
// parser, the normalised URL, the operator's allowPrivate switch and the denial reasons hold.
import Foundation
import HanseTesting
@testable import Node
import XCTest

final class WebhookTargetTests: XCTestCase {
    /// One line of webhook_url_cases.jsonl.
    private struct Vector: Decodable {
        let id: String
        let url: String
        let expected: String
        let resolvesTo: [String]?

        enum CodingKeys: String, CodingKey {
            case id, url, expected
            case resolvesTo = "resolves_to"
        }
    }

    /// Answers each lookup with the next list of `answers`, repeating the last one.
    private final class StubResolver: HostResolver, @unchecked Sendable {
        private let lock = NSLock()
        private var answers: [[IPAddress]]

        init(_ answers: [[IPAddress]]) { self.answers = answers }

        func resolve(_ host: String) throws -> [IPAddress] {
            lock.lock()
            defer { lock.unlock() }
            return answers.count > 1 ? answers.removeFirst() : answers.first ?? []
        }
    }

    /// A `resolves_to` entry starting with this answers the second lookup (DNS rebinding).
    private static let secondAnswerMark = "then:"

    private func loadVectors() throws -> [Vector] {
        let file = Repository.shared.appendingPathComponent("vectors/ssrf/webhook_url_cases.jsonl")
        let text = try String(contentsOf: file, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Vector.self, from: Data($0.utf8)) }
    }

    private func address(_ text: String, _ id: String) throws -> IPAddress {
        try XCTUnwrap(IPAddress(text), "\(id): \(text) is not an address")
    }

    func testEveryVectorGetsItsVerdict() throws {
        let vectors = try loadVectors()
        XCTAssertGreaterThanOrEqual(vectors.count, 55, "the vectors file is missing cases")
        let policy = WebhookTargetPolicy()
        for vector in vectors {
            let entries = vector.resolvesTo ?? []
            let first = try entries.filter { !$0.hasPrefix(Self.secondAnswerMark) }.map { try address($0, vector.id) }
            let second = try entries.filter { $0.hasPrefix(Self.secondAnswerMark) }
                .map { try address(String($0.dropFirst(Self.secondAnswerMark.count)), vector.id) }
            let resolver = StubResolver(second.isEmpty ? [first] : [first, second])
            switch vector.expected {
            case "allow":
                XCTAssertNoThrow(try policy.validate(vector.url, resolver: resolver), "\(vector.id) must be allowed")
            case "deny":
                XCTAssertThrowsError(try policy.validate(vector.url, resolver: resolver), "\(vector.id) must be denied")
            default:
                XCTFail("\(vector.id): unknown verdict \(vector.expected)")
            }
            if !second.isEmpty {
                XCTAssertThrowsError(
                    try policy.validate(vector.url, resolver: resolver), "\(vector.id): the delivery-time lookup answers \(second) and must be denied")
            }
        }
    }

    func testValidationPinsTheAddressesItChecked() throws {
        let resolver = StubResolver([[try address("93.184.215.14", "pin")], [try address("127.0.0.1", "pin")]])
        let (target, addresses) = try WebhookTargetPolicy().validate("https://rebind.example.com/cb", resolver: resolver)
        XCTAssertEqual(target.host, "rebind.example.com")
        XCTAssertEqual(addresses, [try address("93.184.215.14", "pin")])
    }

    func testAddressTextRoundTrips() throws {
        for text in ["::ffff:127.0.0.1", "2001:db8::1", "::", "::1", "1::", "fe80::1:0:0:0", "1:0:0:2::3", "10.0.0.1", "255.255.255.255"] {
            XCTAssertEqual(IPAddress(text)?.description, text)
        }
        XCTAssertEqual(IPAddress("2001:0DB8:0000:0000:0000:0000:0000:0001")?.description, "2001:db8::1")
        XCTAssertEqual(IPAddress("::ffff:7f00:1")?.description, "::ffff:127.0.0.1")
        XCTAssertEqual(IPAddress("::ffff:127.0.0.1")?.bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1])
        XCTAssertEqual(IPAddress("1:2:3:4:5:6:1.2.3.4")?.isIPv6, true)
        XCTAssertEqual(IPAddress("10.0.0.1")?.isIPv6, false)
        XCTAssertEqual(IPAddress(bytes: [127, 0, 0, 1]), IPAddress("127.0.0.1"))
        XCTAssertNil(IPAddress(bytes: [1, 2, 3]))
        for invalid in ["", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::1%eth0", "fe80::1%25eth0", "127.1", "0x7f000001",
                        "01.2.3.4", "256.1.1.1", "+1.2.3.4", "1.2.3.4::", "::1.2.3.4:5", "::+f"] {
            XCTAssertNil(IPAddress(invalid), "\(invalid) is not strict address text")
        }
    }

    func testAllowPrivateAllowsLocalReceiversOnly() throws {
        let policy = WebhookTargetPolicy(allowPrivate: true)
        let noLookups = StubResolver([])
        XCTAssertEqual(try policy.validate("http://127.0.0.1:8080/hook", resolver: noLookups).addresses, [try address("127.0.0.1", "local")])
        XCTAssertEqual(try policy.validate("http://[::1]:9/x", resolver: noLookups).addresses, [try address("::1", "local")])
        for url in ["http://0.0.0.0/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/", "http://169.254.169.254/"] {
            XCTAssertThrowsError(try policy.validate(url, resolver: noLookups), "\(url) stays denied with allowPrivate")
        }
        XCTAssertThrowsError(try WebhookTargetPolicy().validate("http://127.0.0.1:8080/hook", resolver: noLookups))
    }

    func testParseNormalisesTheURL() throws {
        let policy = WebhookTargetPolicy()
        let named = try policy.parse("HTTPS://Hooks.EXAMPLE.com.")
        XCTAssertEqual(named.scheme, "https")
        XCTAssertEqual(named.host, "hooks.example.com")
        XCTAssertEqual(named.port, 443)
        XCTAssertEqual(named.path, "/")
        XCTAssertNil(named.literal)
        XCTAssertEqual(named.url, "https://hooks.example.com/")

        let withQuery = try policy.parse("http://hooks.example.com:8080/cb/1?event=block&n=2#section")
        XCTAssertEqual(withQuery.port, 8080)
        XCTAssertEqual(withQuery.path, "/cb/1?event=block&n=2")
        XCTAssertEqual(withQuery.url, "http://hooks.example.com:8080/cb/1?event=block&n=2")
        XCTAssertEqual(try policy.parse("http://hooks.example.com?x=1").path, "/?x=1")
        XCTAssertEqual(try policy.parse("http://hooks.example.com:80/").url, "http://hooks.example.com/")

        let ipv6 = try policy.parse("https://[2001:DB8:0::1]:8443/a")
        XCTAssertEqual(ipv6.host, "2001:db8::1")
        XCTAssertEqual(ipv6.literal, IPAddress("2001:db8::1"))
        XCTAssertEqual(ipv6.url, "https://[2001:db8::1]:8443/a")

        let shorthand = try policy.parse("https://0x7f.1/")
        XCTAssertEqual(shorthand.literal, IPAddress("127.0.0.1"))
        XCTAssertEqual(shorthand.host, "127.0.0.1")
    }

    func testDenialReasonsNameTheAddress() throws {
        let policy = WebhookTargetPolicy()
        XCTAssertEqual(policy.denial(of: try address("127.0.0.1", "reason")), "127.0.0.1 is a loopback address")
        XCTAssertEqual(policy.denial(of: try address("169.254.169.254", "reason")), "169.254.169.254 is a link-local address (cloud metadata)")
        XCTAssertEqual(policy.denial(of: try address("::ffff:10.0.0.1", "reason")), "::ffff:10.0.0.1 embeds 10.0.0.1, a private address")
        XCTAssertNil(policy.denial(of: try address("93.184.215.14", "reason")))
        XCTAssertNil(policy.denial(of: try address("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "reason")))
        for (url, address) in [("https://2852039166/", "169.254.169.254"), ("https://[fd00:ec2::254]/", "fd00:ec2::254")] {
            XCTAssertThrowsError(try policy.validate(url, resolver: StubResolver([]))) { error in
                XCTAssertTrue("\(error)".contains(address), "\(error) names \(address)")
            }
        }
        let resolver = StubResolver([[try address("93.184.215.14", "reason"), try address("10.0.0.5", "reason")]])
        XCTAssertThrowsError(try policy.validate("https://mixed.example.com/", resolver: resolver)) { error in
            XCTAssertTrue("\(error)".contains("mixed.example.com") && "\(error)".contains("10.0.0.5"), "\(error)")
        }
        XCTAssertThrowsError(try policy.validate("https://gone.example.com/", resolver: StubResolver([]))) { error in
            XCTAssertEqual("\(error)", "gone.example.com does not resolve")
        }
    }

    func testSystemResolverReadsNumericAnswers() throws {
        XCTAssertEqual(try SystemResolver().resolve("127.0.0.1"), [try address("127.0.0.1", "system")])
        XCTAssertEqual(try SystemResolver().resolve("::1"), [try address("::1", "system")])
    }
}
