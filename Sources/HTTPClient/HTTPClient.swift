internal import CCurl
public import Foundation

/// Outbound HTTP through libcurl: one request, bounded in time and in response size.
public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        /// Field names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Everything the callbacks collect, reached through libcurl's context pointer.
    private final class Collector {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        let limit: Int
        var overflow = false
        init(limit: Int) { self.limit = limit }
    }

    private static let initialised: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// One request on a session of its own (`Session.perform`).
    public static func perform(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                               timeout: Duration = .seconds(60), responseBytesMax: Int = 64 << 20,
                               pinned: [String] = [], direct: Bool = false) throws -> Response {
        try Session().perform(method, url, headers: headers, body: body, timeout: timeout, responseBytesMax: responseBytesMax, pinned: pinned,
                              direct: direct)
    }

    /// One libcurl handle for several requests in a row: its connections are kept open and
    /// reused (HTTP keep-alive). Not for use from two threads at once.
    public final class Session {
        private let handle: UnsafeMutableRawPointer

        public init() throws {
            _ = HTTPClient.initialised
            guard let handle = curl_easy_init() else { throw Failure(description: "libcurl could not start a request") }
            self.handle = handle
        }

        deinit { curl_easy_cleanup(handle) }

        /// Sends `method url` with `headers` and `body`; no redirects followed, http and https only.
        /// `pinned` (libcurl `CURLOPT_RESOLVE` entries, `host:port:address[,address]`) makes the
        /// request connect to those addresses without a DNS lookup; with `direct`, proxies configured
        /// in the environment are ignored (webhooks connect to the address they validated).
        public func perform(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                            timeout: Duration = .seconds(60), responseBytesMax: Int = 64 << 20,
                            pinned: [String] = [], direct: Bool = false) throws -> Response {
            curl_easy_reset(handle)
            let collector = Collector(limit: responseBytesMax)
            let context = Unmanaged.passUnretained(collector).toOpaque()
            var list: UnsafeMutablePointer<curl_slist>?
            defer { curl_slist_free_all(list) }
            for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
            if body != nil { list = curl_slist_append(list, "Expect:") }
            var resolve: UnsafeMutablePointer<curl_slist>?
            defer { curl_slist_free_all(resolve) }
            for entry in pinned { resolve = curl_slist_append(resolve, entry) }
            if resolve != nil { hanse_curl_set_pointer(handle, CURLOPT_RESOLVE, UnsafeMutableRawPointer(resolve)) }
            if direct { hanse_curl_set_string(handle, CURLOPT_PROXY, "") }
            hanse_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")

            hanse_curl_set_string(handle, CURLOPT_URL, url)
            hanse_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, method)
            hanse_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            hanse_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            hanse_curl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
            hanse_curl_set_long(handle, CURLOPT_NOPROGRESS, 1)
            hanse_curl_set_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
            hanse_curl_set_pointer(handle, CURLOPT_WRITEDATA, context)
            hanse_curl_set_write(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                guard collector.body.count + length <= collector.limit else {
                    collector.overflow = true
                    return 0
                }
                if let data { collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length)) }
                return length
            }
            hanse_curl_set_pointer(handle, CURLOPT_HEADERDATA, context)
            hanse_curl_set_write(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                if let data {
                    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                    if let colon = line.firstIndex(of: ":") {
                        collector.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                }
                return length
            }
            let status: CURLcode = try {
                guard let body else { return curl_easy_perform(handle) }
                return try body.withUnsafeBytes { bytes in
                    hanse_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, bytes.count)
                    hanse_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                    let result = curl_easy_perform(handle)
                    guard result == CURLE_OK || collector.overflow else { throw Failure(description: String(cString: curl_easy_strerror(result))) }
                    return result
                }
            }()
            if collector.overflow { throw Failure(description: "the response is larger than \(responseBytesMax) bytes") }
            guard status == CURLE_OK else { throw Failure(description: "\(method) \(url): \(String(cString: curl_easy_strerror(status)))") }
            var code = 0
            hanse_curl_response_code(handle, &code)
            return Response(status: code, headers: collector.headers, body: collector.body)
        }
    }
}
