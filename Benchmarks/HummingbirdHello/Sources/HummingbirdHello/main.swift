// The baseline server of scripts/bench-http.sh: Hummingbird 2 answering `GET /healthz` with the
// same bytes as Hanse (`{"status":"ok"}`, `Content-Type: application/json`).
//
// Usage: HummingbirdHello [PORT] [THREADS]   (listens on 127.0.0.1, PORT defaults to 8081;
// THREADS, when given, sizes the event-loop group, else Hummingbird's default singleton group with
// one thread per core; SIGTERM or SIGINT stop it gracefully through `runService()`).
//
// This file is `main.swift`, so it holds top-level code and cannot also carry `@main`; the work is
// done in `HelloServer.run(port:)` so that no state lives in main-actor-isolated top-level globals.

import Hummingbird
import NIOPosix

enum HelloServer {
    static let body = #"{"status":"ok"}"#

    static func run(port: Int, threads: Int?) async throws {
        // One buffer, built once: each response shares its storage (copy-on-write), so the
        // baseline does no per-request encoding of the body.
        let payload = ByteBuffer(string: body)

        let router = Router()
        router.get("healthz") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: payload)  // Content-Length is set from the buffer.
            )
        }

        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            eventLoopGroupProvider: threads.map { .shared(MultiThreadedEventLoopGroup(numberOfThreads: $0)) } ?? .singleton
        )
        try await app.runService()
    }

    /// The first command-line argument, else 8081; stops with a usage message if it is not a port.
    static func port(from arguments: [String]) -> Int {
        guard arguments.count > 1 else { return 8081 }
        guard let port = Int(arguments[1]), (1...65535).contains(port) else {
            fatalError("usage: HummingbirdHello [PORT]   (PORT in 1...65535, default 8081)")
        }
        return port
    }
}

let threads = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) : nil
try await HelloServer.run(port: HelloServer.port(from: CommandLine.arguments), threads: threads)
