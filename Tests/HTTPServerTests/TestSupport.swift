// Test support for the server tests: an echo handler that answers with what the server parsed.
import Foundation
import Glibc
import HTTP1
import HTTPServer
import HanseCore
import Synchronization

/// Answers every request with a JSON echo of what the server parsed; counts what it handled.
final class EchoHandler: HTTPHandler {
    let handled = Atomic<Int>(0)
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    func handle(_ request: HTTPRequest, responder: any HTTPResponder) {
        handled.add(1, ordering: .relaxed)
        let object: [String: Any] = [
            "method": request.head.method, "target": request.head.target,
            "headers": request.head.headers.fields.map { [$0.name, $0.value] },
            "body_b64": Data(request.body).base64EncodedString(),
        ]
        let body = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: .bytes([UInt8](body)))
        if delay == .zero {
            responder.respond(response)
        } else {
            // A thread per request: Dispatch's global queues on Linux do not grow when threads block.
            let wait = delay
            Thread.detachNewThread {
                usleep(UInt32(wait.components.seconds * 1_000_000 + wait.components.attoseconds / 1_000_000_000_000))
                responder.respond(response)
            }
        }
    }

    func bodyLimit(for head: HTTPRequestHead) -> Int { Limits().httpRequestBodyBytesMax }

    func errorResponse(status: Int, detail: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: .bytes(Array(detail.utf8)))
    }
}
