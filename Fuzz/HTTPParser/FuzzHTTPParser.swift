// libFuzzer target for the HTTP/1.1 request parser. Besides "no crash, no hang", it checks the
// parser's central property: the events and the verdict are the same whether the input arrives
// whole, split in two at a point chosen from the input, or one byte at a time.
//
// Built by scripts/fuzz-http-parser.sh, which compiles Sources/HanseCore and Sources/HTTP1
// together with this file using `swiftc -sanitize=fuzzer,address`.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = Limits()
    // Small limits so that the fuzzer reaches every limit branch with short inputs.
    limits.httpRequestLineBytesMax = 64
    limits.httpHeaderSectionBytesMax = 256
    limits.httpHeaderFieldsMax = 8
    limits.httpChunkLineBytesMax = 32
    limits.httpRequestBodyBytesMax = 128
    let whole = run([bytes[...]], limits)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let halves = run([bytes[..<split], bytes[split...]], limits)
    let single = run(bytes.indices.map { bytes[$0...$0] }, limits)
    if whole != halves || whole != single {
        fatalError("split-dependent result: whole \(whole), split at \(split) \(halves), bytewise \(single)")
    }
    return 0
}

private struct Outcome: Equatable {
    var events: [String] = []
    var error: HTTPParseError?
}

private func run(_ chunks: [ArraySlice<UInt8>], _ limits: Limits) -> Outcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = Outcome()
    var body: [UInt8] = []
    do {
        for chunk in chunks {
            parser.append(chunk)
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    try parser.checkDeclaredLength(head)
                    outcome.events.append("head \(head.method) \(head.target) \(head.headers.count) \(head.keepAlive)")
                case .body(let bytes):
                    body += bytes  // chunk boundaries may differ; the concatenation may not
                case .end(let trailers):
                    outcome.events.append("body \(body.count) end \(trailers.count)")
                    body = []
                }
            }
        }
    } catch {
        outcome.error = error
    }
    return outcome
}
