internal import ArgumentParser
internal import Foundation
internal import HTTPClient

// `hanse tenant|chain|identity|contract|tx|block|proof …`: the REST API from the command line.
// Every command prints a readable summary, or the API's JSON with --json; errors print the
// problem's detail and exit 1.

/// Where the API is and who calls it.
struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of the Hanse API (env HANSE_URL; default http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "Operator token or tenant API key (env HANSE_TOKEN).")
    var token: String?

    @Flag(help: "Print the API's JSON instead of a summary.")
    var json = false

    var baseURL: String { (url ?? ProcessInfo.processInfo.environment["HANSE_URL"] ?? "http://127.0.0.1:8080").trimmingCharacters(in: ["/"]) }

    /// Calls the API; throws the problem's detail for an error status.
    func call(_ method: String, _ path: String, body: Any? = nil) throws -> Any {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let token = token ?? ProcessInfo.processInfo.environment["HANSE_TOKEN"] { headers.append(("Authorization", "Bearer \(token)")) }
        var bytes: [UInt8]?
        if let body {
            bytes = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            headers.append(("Content-Type", "application/json"))
        }
        let response: HTTPClient.Response
        do {
            response = try HTTPClient.perform(method, baseURL + path, headers: headers, body: bytes, timeout: .seconds(90))
        } catch {
            throw ValidationError("cannot reach \(baseURL): \(error)")
        }
        let document = (try? JSONSerialization.jsonObject(with: Data(response.body))) ?? [:]
        guard response.status < 400 else {
            let detail = (document as? [String: Any])?["detail"] as? String ?? String(decoding: response.body, as: UTF8.self)
            throw ClientError(status: response.status, detail: detail)
        }
        return document
    }

    /// Prints a document: JSON with --json, else one `key  value` line per member (lists as tables).
    func show(_ document: Any, columns: [String] = []) {
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
            return
        }
        guard let object = document as? [String: Any] else { return print(document) }
        if let items = object["items"] as? [[String: Any]] {
            let names = columns.isEmpty ? Array((items.first ?? [:]).keys.sorted().prefix(5)) : columns
            let rows = items.map { item in names.map { Self.text(item[$0]) } }
            let widths = names.indices.map { index in ([names[index]] + rows.map { $0[index] }).map(\.count).max() ?? 0 }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            }
            print(line(names.map { $0.uppercased() }))
            for row in rows { print(line(row)) }
            if let next = object["next_cursor"] as? String { print("(more: --cursor \(next))") }
            return
        }
        let width = object.keys.map(\.count).max() ?? 0
        for key in (columns.isEmpty ? object.keys.sorted() : columns) where object[key] != nil {
            print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + Self.text(object[key]))
        }
    }

    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "-"
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        case let other?:
            let data = (try? JSONSerialization.data(withJSONObject: other, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}

struct ClientError: Error, CustomStringConvertible {
    let status: Int
    let detail: String
    var description: String { "\(status): \(detail)" }
}

/// Query string of a list page.
private func pageQuery(_ limit: Int?, _ cursor: String?) -> String {
    var parts: [String] = []
    if let limit { parts.append("limit=\(limit)") }
    if let cursor { parts.append("cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)") }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}

private func readArgument(_ text: String) throws -> String {
    guard text.hasPrefix("@") else { return text }
    return try String(contentsOfFile: String(text.dropFirst()), encoding: .utf8)
}

// MARK: - tenant

struct TenantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Tenants and their first API keys (operator token).",
                                                    subcommands: [Create.self, List.self, Key.self, Suspend.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")
        @Argument(help: "Name: a-z, 0-9 and -.") var name: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("POST", "/v1/tenants", body: ["name": name])) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Option var limit: Int?
        @Option var cursor: String?
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/tenants" + pageQuery(limit, cursor)), columns: ["id", "name", "status", "created_at"]) }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for a tenant (the secret is shown once).")
        @Argument(help: "Tenant id.") var tenant: String
        @Option(help: "Name of the key.") var name = "cli"
        @Option(help: "Scope: admin, write or read.") var scope = "admin"
        @OptionGroup var client: ClientOptions
        func run() throws {
            let created = try client.call("POST", "/v1/tenants/\(tenant)/api-keys", body: ["name": name, "scopes": [scope]])
            if client.json { return client.show(created) }
            print(((created as? [String: Any])?["secret"] as? String) ?? "")
        }
    }

    struct Suspend: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend (or with --resume, reactivate) a tenant.")
        @Argument var tenant: String
        @Flag var resume = false
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("PATCH", "/v1/tenants/\(tenant)", body: ["status": resume ? "active" : "suspended"])) }
    }
}

// MARK: - chain

struct ChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chain", abstract: "Provision and inspect chains (tenant key).",
                                                    subcommands: [Create.self, List.self, Get.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Provision a chain and wait until it runs (progress on standard error).")
        @Argument var name: String
        @Option(help: "solo or bft.") var consensus = "bft"
        @Option(help: "Validators of a bft chain.") var validators: Int?
        @Option(help: "Who may call contracts: members (writer and admin identities; the default) or open (any signer).") var access: String?
        @OptionGroup var client: ClientOptions
        func run() throws {
            var body: [String: Any] = ["name": name, "consensus": consensus]
            if let validators { body["validators"] = validators }
            if let access { body["access"] = access }
            var operation = try client.call("POST", "/v1/chains", body: body) as? [String: Any] ?? [:]
            let id = operation["id"] as? String ?? ""
            let started = Date()
            while operation["status"] as? String == "running" {
                FileHandle.standardError.write(Data(String(format: "provisioning %@ … %.0f s\n", name, Date().timeIntervalSince(started)).utf8))
                Thread.sleep(forTimeInterval: 0.5)
                operation = try client.call("GET", "/v1/operations/\(id)") as? [String: Any] ?? [:]
            }
            guard operation["status"] as? String == "succeeded", let chain = operation["target_id"] as? String else {
                throw ValidationError("provisioning failed: \(operation["error"] as? String ?? "unknown")")
            }
            client.show(try client.call("GET", "/v1/chains/\(chain)"), columns: ["id", "name", "consensus", "access", "status", "height", "genesis_hash"])
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List chains.")
        @Option var limit: Int?
        @Option var cursor: String?
        @OptionGroup var client: ClientOptions
        func run() throws {
            client.show(try client.call("GET", "/v1/chains" + pageQuery(limit, cursor)), columns: ["id", "name", "consensus", "status", "height"])
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A chain: status, height, validators, latest block.")
        @Argument var chain: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/chains/\(chain)")) }
    }
}

// MARK: - identity

struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identity", abstract: "Identities of a chain (tenant key).",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a custodial identity, or an external one with --public-key.")
        @Argument var chain: String
        @Argument var name: String
        @Option(help: "admin, writer or reader.") var role = "writer"
        @Option(help: "p256, ed25519 or sm2.") var algorithm = "p256"
        @Option(help: "External identities: the raw public key in hex, or @file.pem.") var publicKey: String?
        @OptionGroup var client: ClientOptions
        func run() throws {
            var body: [String: Any] = ["name": name, "role": role, "mode": publicKey == nil ? "custodial" : "external", "algorithm": algorithm]
            if let publicKey { body["public_key"] = try readArgument(publicKey) }
            client.show(try client.call("POST", "/v1/chains/\(chain)/identities", body: body))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List identities.")
        @Argument var chain: String
        @OptionGroup var client: ClientOptions
        func run() throws {
            client.show(try client.call("GET", "/v1/chains/\(chain)/identities"), columns: ["id", "name", "role", "mode", "address", "revoked_at"])
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an identity (id or name).")
        @Argument var chain: String
        @Argument var identity: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("DELETE", "/v1/chains/\(chain)/identities/\(identity)")) }
    }
}

// MARK: - contract

struct ContractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "contract", abstract: "Deploy, inspect and query contracts (tenant key).",
                                                    subcommands: [Deploy.self, List.self, Get.self, Query.self])

    struct Deploy: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deploy a module (.wasm or .wat) and wait for the commit.")
        @Argument var chain: String
        @Argument var name: String
        @Argument var file: String
        @Option var version = "1"
        @Option(help: "Arguments of init (the exact text), or @file.") var initArgs: String?
        @OptionGroup var client: ClientOptions
        func run() throws {
            var body: [String: Any] = ["name": name, "version": version]
            if file.hasSuffix(".wat") {
                body["wat"] = try String(contentsOfFile: file, encoding: .utf8)
            } else {
                body["code"] = try Data(contentsOf: URL(fileURLWithPath: file)).base64EncodedString()
            }
            if let initArgs { body["init_args"] = try readArgument(initArgs) }
            client.show(try client.call("POST", "/v1/chains/\(chain)/contracts?wait=commit", body: body),
                        columns: ["tx_id", "status", "height", "gas_used", "error"])
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contracts.")
        @Argument var chain: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/chains/\(chain)/contracts"), columns: ["name", "version", "status", "code_hash"]) }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A contract: versions, code hash, methods.")
        @Argument var chain: String
        @Argument var name: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/chains/\(chain)/contracts/\(name)")) }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Call a method read-only; prints its result.")
        @Argument var chain: String
        @Argument var contract: String
        @Argument var method: String
        @Argument(help: "Arguments (the exact text), or @file.") var args: String = "{}"
        @OptionGroup var client: ClientOptions
        func run() throws {
            let result = try client.call("POST", "/v1/chains/\(chain)/query", body: ["contract": contract, "method": method, "args": try readArgument(args)])
            if client.json { return client.show(result) }
            print(((result as? [String: Any])?["result"] as? String) ?? ClientOptions.text((result as? [String: Any])?["result_base64"]))
        }
    }
}

// MARK: - tx

struct TransactionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tx", abstract: "Send and look up transactions (tenant key).",
                                                    subcommands: [Call.self, Submit.self, Get.self])

    struct Call: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Call a method signed by a custodial identity; waits for the commit.")
        @Argument var chain: String
        @Argument var contract: String
        @Argument var method: String
        @Argument(help: "Arguments (the exact text), or @file.") var args: String = "{}"
        @Option(help: "Custodial identity (name or id).") var identity: String
        @Flag(help: "Answer when accepted, without waiting for the commit.") var noWait = false
        @OptionGroup var client: ClientOptions
        func run() throws {
            let body: [String: Any] = ["identity": identity, "contract": contract, "method": method, "args": try readArgument(args)]
            client.show(try client.call("POST", "/v1/chains/\(chain)/transactions/call" + (noWait ? "" : "?wait=commit"), body: body),
                        columns: ["tx_id", "status", "height", "gas_used", "result", "error"])
        }
    }

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a transaction signed elsewhere (docs/signing.md); waits for the commit.")
        @Argument var chain: String
        @Option(help: "The signed bytes in hex.") var signedBytes: String
        @Option(help: "The signature in hex.") var signature: String
        @OptionGroup var client: ClientOptions
        func run() throws {
            guard signedBytes.count % 2 == 0, let bytes = Self.hex(signedBytes) else { throw ValidationError("--signed-bytes must be hex") }
            client.show(try client.call("POST", "/v1/chains/\(chain)/transactions?wait=commit",
                                        body: ["signed_bytes": Data(bytes).base64EncodedString(), "signature": signature]),
                        columns: ["tx_id", "status", "height", "gas_used", "result", "error"])
        }

        static func hex(_ text: String) -> [UInt8]? {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Status and receipt of a transaction.")
        @Argument var chain: String
        @Argument var tx: String
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/chains/\(chain)/transactions/\(tx)")) }
    }
}

// MARK: - block

struct BlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "block", abstract: "Blocks of a chain (tenant key).",
                                                    subcommands: [Get.self, List.self])

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A block by height, or the latest.")
        @Argument var chain: String
        @Argument(help: "Height, or latest.") var height = "latest"
        @OptionGroup var client: ClientOptions
        func run() throws { client.show(try client.call("GET", "/v1/chains/\(chain)/blocks/\(height)")) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blocks in height order.")
        @Argument var chain: String
        @Option var limit: Int?
        @Option var cursor: String?
        @OptionGroup var client: ClientOptions
        func run() throws {
            client.show(try client.call("GET", "/v1/chains/\(chain)/blocks" + pageQuery(limit, cursor)),
                        columns: ["height", "hash", "transaction_count", "timestamp"])
        }
    }
}

// MARK: - proof

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "proof", abstract: "Fetch a transaction's inclusion proof (check it with hanse verify).")

    @Argument var chain: String
    @Argument var tx: String
    @Option(help: "Write the proof to this file (default: standard output).") var out: String?
    @OptionGroup var client: ClientOptions

    func run() throws {
        let proof = try client.call("GET", "/v1/chains/\(chain)/transactions/\(tx)/proof")
        let data = try JSONSerialization.data(withJSONObject: proof, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        if let out {
            try data.write(to: URL(fileURLWithPath: out))
            print("wrote \(out); check it with: hanse verify \(out) --validator-set-hash <block 0's validator_set_hash>")
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
