// The tenant API end to end: a real HTTP server on a socket, the platform on a real PostgreSQL,
// real keys and signatures, real Wasm. Operator -> tenant -> API key -> chain (solo and
// 4-validator BFT) -> contract -> transactions signed by the platform and by the client ->
// queries -> proofs checked offline; and no route lets one tenant see or touch another's resources.
import API
import Crypto
import Foundation
import HanseCore
import HanseTesting
import HTTPServer
import Ledger
import Logging
import Merkle
import Node
import PostgresStorage
import Storage
import XCTest

final class PlatformAPITests: XCTestCase {
    static let operatorToken = APITestNode.operatorToken
    static let kv = APITestNode.kv
    typealias Node = APITestNode
    typealias Tenant = APITenant

    // MARK: - The journey

    func testTenantJourneyFromOperatorToVerifiedProof() throws {
        let node = try Node("api_journey", masterKey: SecureRandom().bytes(32))
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "main", consensus: "solo")

        let view = try acme.client.get("/v1/chains/\(chain)")
        XCTAssertEqual(view.string("status"), "running")
        XCTAssertEqual(view["height"] as? Int, 0, "the genesis block is committed at provisioning")
        XCTAssertEqual((view["validators"] as? [Any])?.count, 1)

        // Block 0 records the configuration: the validators and the admin, in a _system.genesis transaction.
        let genesis = try acme.client.get("/v1/chains/\(chain)/blocks/0")
        XCTAssertEqual(genesis.status, 200)
        XCTAssertEqual(genesis.string("hash"), view.string("genesis_hash"))
        let genesisTxs = try acme.client.get("/v1/chains/\(chain)/blocks/0/transactions")
        let genesisTx = try XCTUnwrap((genesisTxs["items"] as? [[String: Any]])?.first)
        XCTAssertEqual(genesisTx["method"] as? String, "genesis")
        XCTAssertEqual(genesisTx["status"] as? String, "committed")

        // Deploy from WebAssembly text; a second deploy of the same name fails with the reason.
        let deployed = try deployKV(acme, chain: chain)
        XCTAssertEqual(deployed.status, 200, deployed.text)
        XCTAssertEqual(deployed.string("status"), "committed")
        let again = try deployKV(acme, chain: chain)
        XCTAssertEqual(again.status, 422, again.text)
        XCTAssertTrue(again.text.contains("already exists"), again.text)
        XCTAssertNotNil(again.string("tx_id"))
        let contract = try acme.client.get("/v1/chains/\(chain)/contracts/kv")
        XCTAssertEqual(contract["methods"] as? [String], ["get", "put"])

        // Idempotency-Key: the same request answers the first answer again; another request with the key is a 422.
        let once = ["name": "ledger-ops", "scopes": ["read"]] as [String: Any]
        let first = try acme.client.send("POST", "/v1/api-keys", json: once, headers: ["Idempotency-Key": "key-1"])
        XCTAssertEqual(first.status, 201, first.text)
        let replay = try acme.client.send("POST", "/v1/api-keys", json: once, headers: ["Idempotency-Key": "key-1"])
        XCTAssertEqual(replay.status, 201)
        XCTAssertEqual(replay.headers["idempotency-replayed"], "true")
        XCTAssertEqual(replay.body, first.body, "the first answer, byte for byte: one key was created")
        let other = try acme.client.send("POST", "/v1/api-keys", json: ["name": "else", "scopes": ["read"]], headers: ["Idempotency-Key": "key-1"])
        XCTAssertEqual(other.status, 422, other.text)
        XCTAssertEqual((try acme.client.get("/v1/api-keys")["items"] as? [Any])?.count, 2, "the admin key and one ledger-ops key")

        // A custodial identity: the platform signs.
        let alice = try acme.client.send("POST", "/v1/chains/\(chain)/identities", json: ["name": "alice", "role": "writer", "mode": "custodial"])
        XCTAssertEqual(alice.status, 201, alice.text)
        let call = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit",
                                        json: ["identity": "alice", "contract": "kv", "method": "put", "args": #"{"v":1}"#])
        XCTAssertEqual(call.status, 200, call.text)
        XCTAssertEqual(call.string("signer"), alice.string("address"))
        XCTAssertEqual((call["events"] as? [[String: Any]])?.first?["topic"] as? String, "put")

        // An external identity: prepare, sign here, submit; resubmitting gives the same answer.
        let key = try PrivateKey.generate(.ed25519)
        let bob = try acme.client.send("POST", "/v1/chains/\(chain)/identities",
                                       json: ["name": "bob", "role": "writer", "mode": "external", "algorithm": "ed25519",
                                              "public_key": Hex.encode(key.publicKey.raw)])
        XCTAssertEqual(bob.status, 201, bob.text)
        let prepared = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/prepare",
                                            json: ["contract": "kv", "method": "put", "args": #"{"v":2}"#, "algorithm": "ed25519",
                                                   "public_key": Hex.encode(key.publicKey.raw)])
        XCTAssertEqual(prepared.status, 200, prepared.text)
        let signedBytes = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(prepared.string("signed_bytes"))))
        let signature = try key.sign(Array(signedBytes))
        let submission: [String: Any] = ["signed_bytes": signedBytes.base64EncodedString(), "signature": Hex.encode(signature)]
        let submitted = try acme.client.send("POST", "/v1/chains/\(chain)/transactions?wait=commit", json: submission)
        XCTAssertEqual(submitted.status, 200, submitted.text)
        XCTAssertEqual(submitted.string("tx_id"), prepared.string("tx_id"))
        XCTAssertEqual(submitted.string("status"), "committed")
        let resubmitted = try acme.client.send("POST", "/v1/chains/\(chain)/transactions", json: submission)
        XCTAssertEqual(resubmitted.string("height") ?? "\(resubmitted["height"] ?? "")", "\(submitted["height"] ?? "")", "same tx, same answer")
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/transactions/\(submitted.string("tx_id")!)").string("status"), "committed")

        // A tampered signature and a transaction for another chain are refused with the reason.
        var tampered = signature
        tampered[0] ^= 1
        let bad = try acme.client.send("POST", "/v1/chains/\(chain)/transactions",
                                       json: ["signed_bytes": signedBytes.base64EncodedString(), "signature": Hex.encode(tampered)])
        XCTAssertEqual(bad.status, 422, bad.text)

        // Queries.
        let query = try acme.client.send("POST", "/v1/chains/\(chain)/query", json: ["contract": "kv", "method": "get"])
        XCTAssertEqual(query.string("result"), #"{"v":2}"#, query.text)
        let state = try acme.client.get("/v1/chains/\(chain)/contracts/kv/state?key=k")
        XCTAssertEqual(state["version"] as? Int, 2)
        let history = try acme.client.get("/v1/chains/\(chain)/contracts/kv/history?key=k&limit=1")
        XCTAssertEqual((history["items"] as? [[String: Any]])?.first?["value"] as? String, #"{"v":1}"#)
        let next = try acme.client.get("/v1/chains/\(chain)/contracts/kv/history?key=k&limit=1&cursor=\(try XCTUnwrap(history.string("next_cursor")))")
        XCTAssertEqual((next["items"] as? [[String: Any]])?.first?["value"] as? String, #"{"v":2}"#)
        let events = try acme.client.get("/v1/chains/\(chain)/events?contract=kv&topic=put")
        XCTAssertEqual((events["items"] as? [Any])?.count, 2)
        let latest = try acme.client.get("/v1/chains/\(chain)/blocks/latest")
        let byHash = try acme.client.get("/v1/chains/\(chain)/blocks/by-hash/\(try XCTUnwrap(latest.string("hash")))")
        XCTAssertEqual(byHash.string("hash"), latest.string("hash"))
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/blocks/999999").status, 404)
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/blocks/abc").status, 400)

        // The inclusion proof holds offline, pinned to the genesis block's validator set; a changed byte breaks it.
        let proof = try acme.client.get("/v1/chains/\(chain)/transactions/\(submitted.string("tx_id")!)/proof")
        XCTAssertEqual(proof.status, 200, proof.text)
        let verified = try ProofVerifier.verify(try ProofVerifier.decode(proof.body), expectedValidatorSetHash: genesis.string("validator_set_hash"))
        XCTAssertEqual(verified.signers, 1)
        var document = proof.json
        var block = try XCTUnwrap(document["block"] as? [String: Any])
        block["timestamp"] = (block["timestamp"] as! Int) + 1
        document["block"] = block
        XCTAssertThrowsError(try ProofVerifier.verify(try ProofVerifier.decode(Array(try JSONSerialization.data(withJSONObject: document)))))

        // Consistency between the genesis and the latest block.
        let consistency = try acme.client.get("/v1/chains/\(chain)/proofs/consistency?from=0&to=\(latest["height"] as! Int)")
        XCTAssertEqual(consistency.status, 200, consistency.text)
        try MerkleVerifier.verifyConsistency(size1: UInt64(consistency["from_size"] as! Int), size2: UInt64(consistency["to_size"] as! Int),
                                             proof: (consistency["proof"] as! [String]).map { Hex.decode($0)! },
                                             root1: Hex.decode(consistency.string("from_root")!)!, root2: Hex.decode(consistency.string("to_root")!)!)

        // Bad input: unknown fields, wrong types, wrong media type, bad pagination.
        let unknown = try acme.client.send("POST", "/v1/chains/\(chain)/query", json: ["contract": "kv", "method": "get", "owner": "me"])
        XCTAssertEqual(unknown.status, 400)
        XCTAssertEqual(unknown.string("field"), "owner")
        XCTAssertEqual(try acme.client.request("POST", "/v1/chains/\(chain)/query", body: Array("nope".utf8), contentType: "text/plain").status, 415)
        XCTAssertEqual(try acme.client.get("/v1/chains?limit=1000").status, 400)
        // A NUL in a string (no text column can hold it) is a 400, not a database error; an escaped
        // backslash before "u0000" is ordinary text.
        let nul = try acme.client.request("POST", "/v1/api-keys", body: Array(#"{"name":"a\u0000b","scopes":["read"]}"#.utf8))
        XCTAssertEqual(nul.status, 400, nul.text)
        let backslash = try acme.client.request("POST", "/v1/api-keys", body: Array(#"{"name":"a\\u0000b","scopes":["read"]}"#.utf8))
        XCTAssertEqual(backslash.status, 201, backslash.text)

        // The audit log lists the state-changing calls with their request ids.
        let audit = try acme.client.get("/v1/audit-log?limit=100")
        let entries = try XCTUnwrap(audit["items"] as? [[String: Any]])
        XCTAssertTrue(entries.contains { ($0["target"] as? String) == "/v1/chains" && ($0["status"] as? Int) == 202 }, audit.text)

        // The tenant's transactions-per-second quota: a burst of two seconds' worth, then 429 with Retry-After.
        let operatorClient = APIClient(port: node.port, token: Self.operatorToken)
        XCTAssertEqual(try operatorClient.send("PATCH", "/v1/tenants/\(acme.id)",
                                               json: ["quotas": ["chains": 10, "tx_per_second": 1, "storage_bytes": 1 << 30]]).status, 200)
        let burst = try (0..<5).map { index in
            try acme.client.send("POST", "/v1/chains/\(chain)/transactions/call",
                                 json: ["identity": "alice", "contract": "kv", "method": "put", "args": "{\"burst\":\(index)}"])
        }
        XCTAssertEqual(burst.filter { $0.status == 202 }.count, 2, burst.map(\.text).joined(separator: "\n"))
        let limited = try XCTUnwrap(burst.first { $0.status == 429 })
        XCTAssertNotNil(limited.headers["retry-after"])
        XCTAssertTrue(limited.string("detail")?.contains("1 transactions per second") == true, limited.text)

        // Usage: transactions and gas counted as blocks commit; storage measured in PostgreSQL.
        let usage = try operatorClient.get("/v1/tenants/\(acme.id)/usage")
        XCTAssertGreaterThanOrEqual(usage["txs"] as? Int ?? 0, 5, "genesis, deploy, calls, the external transaction: \(usage.text)")
        XCTAssertGreaterThan(usage["gas"] as? Int ?? 0, 0, usage.text)
        XCTAssertGreaterThan(usage["storage_bytes"] as? Int ?? 0, 100_000, usage.text)

        // The storage quota: past it, new transactions are refused (reads still work); raised, they pass.
        XCTAssertEqual(try operatorClient.send("PATCH", "/v1/tenants/\(acme.id)",
                                               json: ["quotas": ["chains": 10, "tx_per_second": 1000, "storage_bytes": 1024]]).status, 200)
        let full = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/call",
                                        json: ["identity": "alice", "contract": "kv", "method": "put", "args": "{\"full\":1}"])
        XCTAssertEqual(full.status, 403, full.text)
        XCTAssertEqual(full.string("type"), "urn:hanse:problem:quota-exceeded", full.text)
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)/blocks/latest").status, 200)
        XCTAssertEqual(try operatorClient.send("PATCH", "/v1/tenants/\(acme.id)",
                                               json: ["quotas": ["chains": 10, "tx_per_second": 1000, "storage_bytes": 1 << 30]]).status, 200)
        XCTAssertEqual(try acme.client.send("POST", "/v1/chains/\(chain)/transactions/call",
                                            json: ["identity": "alice", "contract": "kv", "method": "put", "args": "{\"room\":1}"]).status, 202)

        // Suspended tenants' keys stop working.
        XCTAssertEqual(try operatorClient.send("PATCH", "/v1/tenants/\(acme.id)", json: ["status": "suspended"]).status, 200)
        XCTAssertEqual(try acme.client.get("/v1/chains").status, 401)
    }

    // MARK: - BFT

    func testFourValidatorChainCommitsCertifiedBlocksAndResumesAfterARestart() throws {
        let masterKey = SecureRandom().bytes(32)
        var node = try Node("api_bft", masterKey: masterKey)
        let tenant = try makeTenant(node, "bft-tenant")
        let chain = try provision(tenant, "consortium", consensus: "bft")
        XCTAssertEqual(try deployKV(tenant, chain: chain).status, 200)
        XCTAssertEqual(try tenant.client.send("POST", "/v1/chains/\(chain)/identities", json: ["name": "w", "role": "writer", "mode": "custodial"]).status, 201)
        let first = try tenant.client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit",
                                           json: ["identity": "w", "contract": "kv", "method": "put", "args": "1"])
        XCTAssertEqual(first.string("status"), "committed", first.text)
        let proof = try tenant.client.get("/v1/chains/\(chain)/transactions/\(first.string("tx_id")!)/proof")
        let verified = try ProofVerifier.verify(try ProofVerifier.decode(proof.body))
        XCTAssertEqual(verified.validators, 4)
        XCTAssertGreaterThanOrEqual(verified.signers, 3, "a quorum of 3 of 4 signed")

        // A new node on the same database and master key resumes the chain.
        let pool = node.pool
        node.server.shutdown()
        node.platform.stop()
        node = try Node("api_bft", pool: pool, masterKey: masterKey)
        defer { node.stop() }
        let client = tenant.client.with(token: tenant.client.token).withPort(node.port)
        let second = try client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit",
                                     json: ["identity": "w", "contract": "kv", "method": "put", "args": "2"])
        XCTAssertEqual(second.string("status"), "committed", second.text)
        XCTAssertEqual(second["height"] as? Int, (first["height"] as! Int) + 1, "the next height, none lost or repeated")
        let validators = try XCTUnwrap(try client.get("/v1/chains/\(chain)")["validators"] as? [[String: Any]]).map {
            try PublicKey(algorithm: .p256, raw: Hex.decode($0["public_key"] as! String)!)
        }
        let finding = try pool.withConnection { connection in
            try ChainAuditor(schema: "chain_" + chain.replacingOccurrences(of: "-", with: "")).audit(validators: ValidatorSet(keys: validators), on: connection)
        }
        XCTAssertNil(finding, "the chain audits clean")

        // With a wrong master key the validator keys do not open: the chain does not start.
        let wrong = try Node("api_bft", pool: pool, masterKey: SecureRandom().bytes(32))
        XCTAssertEqual(wrong.platform.runningChains, 0)
        wrong.server.shutdown()
    }

    // MARK: - Isolation

    /// Roles decide who may call contracts. On a members-only chain (the default) a reader or a
    /// revoked identity is turned away at submission (403, nothing written); a signer the
    /// platform does not know reaches the chain, which refuses it with a failed receipt. An open
    /// chain lets any valid signature call.
    func testChainAccessRolesDecideWhoMayCallContracts() throws {
        let node = try Node("api_access", masterKey: SecureRandom().bytes(32))
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "members", consensus: "solo")
        XCTAssertEqual(try acme.client.get("/v1/chains/\(chain)").string("access"), "members")
        XCTAssertEqual(try deployKV(acme, chain: chain).status, 200)

        func submit(_ key: PrivateKey, on chain: String, _ value: Int) throws -> APIClient.Reply {
            var envelope = TransactionEnvelope(chainID: chain, contract: "kv", method: "put", args: Array(#"{"v":\#(value)}"#.utf8),
                                               nonce: SecureRandom().bytes(16), validUntil: .unixMilliseconds(UInt64(Date().timeIntervalSince1970 * 1000) + 600_000),
                                               algorithm: key.algorithm, signer: [])
            try envelope.sign(with: key)
            return try acme.client.send("POST", "/v1/chains/\(chain)/transactions?wait=commit",
                                        json: ["signed_bytes": Data(envelope.signedBytes).base64EncodedString(), "signature": Hex.encode(envelope.signature)])
        }
        func register(_ name: String, _ key: PrivateKey, role: String) throws -> APIClient.Reply {
            let reply = try acme.client.send("POST", "/v1/chains/\(chain)/identities",
                                             json: ["name": name, "role": role, "mode": "external", "algorithm": key.algorithm.rawValue,
                                                    "public_key": Hex.encode(key.publicKey.raw)])
            XCTAssertEqual(reply.status, 201, reply.text)
            return reply
        }
        let (writer, reader, stranger) = (try PrivateKey.generate(.p256), try PrivateKey.generate(.ed25519), try PrivateKey.generate(.sm2))
        let writerIdentity = try register("writer", writer, role: "writer")
        _ = try register("reader", reader, role: "reader")
        let height = try XCTUnwrap(try acme.client.get("/v1/chains/\(chain)")["height"] as? Int)

        XCTAssertEqual(try submit(writer, on: chain, 1).string("status"), "committed")
        let refused = try submit(reader, on: chain, 2)
        XCTAssertEqual(refused.status, 403, refused.text)
        XCTAssertTrue(refused.text.contains("reader role"), refused.text)
        let custodialReader = try acme.client.send("POST", "/v1/chains/\(chain)/identities", json: ["name": "rita", "role": "reader", "mode": "custodial"])
        XCTAssertEqual(custodialReader.status, 201, custodialReader.text)
        let call = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit",
                                        json: ["identity": "rita", "contract": "kv", "method": "put", "args": #"{"v":3}"#])
        XCTAssertEqual(call.status, 403, call.text)

        let unknown = try submit(stranger, on: chain, 4)
        XCTAssertEqual(unknown.status, 200, unknown.text)
        XCTAssertEqual(unknown.string("status"), "failed")
        XCTAssertTrue(unknown.string("error")?.contains("is not a member of this chain") == true, unknown.text)

        let revoked = try acme.client.request("DELETE", "/v1/chains/\(chain)/identities/\(try XCTUnwrap(writerIdentity.string("id")))")
        XCTAssertEqual(revoked.status, 200, revoked.text)
        XCTAssertEqual(try submit(writer, on: chain, 5).status, 403)
        let query = try acme.client.send("POST", "/v1/chains/\(chain)/query", json: ["contract": "kv", "method": "get"])
        XCTAssertEqual(query.string("result"), #"{"v":1}"#, "only the writer's call wrote")
        XCTAssertGreaterThan(try XCTUnwrap(try acme.client.get("/v1/chains/\(chain)")["height"] as? Int), height)

        let open = try provision(acme, "open", consensus: "solo", access: "open")
        XCTAssertEqual(try acme.client.get("/v1/chains/\(open)").string("access"), "open")
        XCTAssertEqual(try deployKV(acme, chain: open).status, 200)
        XCTAssertEqual(try submit(stranger, on: open, 6).string("status"), "committed")

        let bad = try acme.client.send("POST", "/v1/chains", json: ["name": "bad", "consensus": "solo", "access": "public"])
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertTrue(bad.text.contains("access"), bad.text)
    }

    /// A batch answers 207 with one result per item, in order: a bad item does not stop the
    /// others. Without a wait the good items are accepted (202); with ?wait=commit the answer
    /// comes when every item is final (200, committed or failed with the reason).
    func testBatchSubmitAnswersEachItemAndCanWaitForCommit() throws {
        let node = try Node("api_batch", masterKey: SecureRandom().bytes(32))
        defer { node.stop() }
        let acme = try makeTenant(node, "acme")
        let chain = try provision(acme, "batch", consensus: "solo")
        XCTAssertEqual(try deployKV(acme, chain: chain).status, 200)
        let writer = try PrivateKey.generate(.ed25519)
        XCTAssertEqual(try acme.client.send("POST", "/v1/chains/\(chain)/identities",
                                           json: ["name": "w", "role": "writer", "mode": "external", "algorithm": "ed25519",
                                                  "public_key": Hex.encode(writer.publicKey.raw)]).status, 201)
        func item(_ value: Int, by key: PrivateKey, tamper: Bool = false) throws -> [String: String] {
            var envelope = TransactionEnvelope(chainID: chain, contract: "kv", method: "put", args: Array(#"{"v":\#(value)}"#.utf8),
                                               nonce: SecureRandom().bytes(16), validUntil: .unixMilliseconds(UInt64(Date().timeIntervalSince1970 * 1000) + 600_000),
                                               algorithm: key.algorithm, signer: [])
            try envelope.sign(with: key)
            var signature = envelope.signature
            if tamper { signature[0] ^= 1 }
            return ["signed_bytes": Data(envelope.signedBytes).base64EncodedString(), "signature": Hex.encode(signature)]
        }
        func results(_ reply: APIClient.Reply) -> [[String: Any]] { reply.json["results"] as? [[String: Any]] ?? [] }

        let first = try item(1, by: writer)
        let accepted = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/batch", json: ["transactions": [first, try item(2, by: writer, tamper: true)]])
        XCTAssertEqual(accepted.status, 207, accepted.text)
        XCTAssertEqual(results(accepted).map { $0["status"] as? Int }, [202, 422])

        let stranger = try PrivateKey.generate(.p256)
        let waited = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/batch?wait=commit&timeout_ms=10000",
                                          json: ["transactions": [first, try item(3, by: writer), try item(4, by: stranger), try item(5, by: writer, tamper: true)]])
        XCTAssertEqual(waited.status, 207, waited.text)
        let items = results(waited)
        XCTAssertEqual(items.map { $0["status"] as? Int }, [200, 200, 200, 422], waited.text)
        let statuses = items.map { ($0["transaction"] as? [String: Any])?["status"] as? String }
        XCTAssertEqual(statuses, ["committed", "committed", "failed", nil], "the first item was committed by the first batch; the stranger is not a member")
        XCTAssertTrue(((items[3]["problem"] as? [String: Any])?["detail"] as? String)?.contains("signature") == true, waited.text)

        let empty = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/batch", json: ["transactions": [] as [Any]])
        XCTAssertEqual(empty.status, 400, empty.text)
        let badWait = try acme.client.send("POST", "/v1/chains/\(chain)/transactions/batch?wait=soon", json: ["transactions": [first]])
        XCTAssertEqual(badWait.status, 400, badWait.text)
    }

    /// Every tenant route, called by another tenant with the owner's ids, answers exactly as for
    /// a missing resource; anonymous and revoked keys get 401; a read-only key cannot write.
    func testNoRouteLetsOneTenantReachAnothersResources() throws {
        var webhooks = WebhookSettings()
        webhooks.timeout = .milliseconds(300)
        let node = try Node("api_isolation", masterKey: SecureRandom().bytes(32), webhooks: webhooks)
        defer { node.stop() }
        let owner = try makeTenant(node, "owner")
        let other = try makeTenant(node, "other")
        let chain = try provision(owner, "private", consensus: "solo")
        XCTAssertEqual(try deployKV(owner, chain: chain).status, 200)
        let identity = try owner.client.send("POST", "/v1/chains/\(chain)/identities", json: ["name": "w", "role": "writer", "mode": "custodial"])
        let call = try owner.client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit",
                                         json: ["identity": "w", "contract": "kv", "method": "put", "args": "1"])
        let block = try owner.client.get("/v1/chains/\(chain)/blocks/latest")
        let operations = try owner.client.get("/v1/audit-log")
        XCTAssertEqual(operations.status, 200)
        let operatorClient = APIClient(port: node.port, token: Self.operatorToken)
        let readKey = try operatorClient.send("POST", "/v1/tenants/\(owner.id)/api-keys", json: ["name": "reader", "scopes": ["read"]])
        let revokedKey = try operatorClient.send("POST", "/v1/tenants/\(owner.id)/api-keys", json: ["name": "gone", "scopes": ["admin"]])
        let ownerKeys = try owner.client.get("/v1/api-keys")
        let ownerKeyID = try XCTUnwrap((ownerKeys["items"] as? [[String: Any]])?.first?["id"] as? String)
        XCTAssertEqual(try owner.client.request("DELETE", "/v1/api-keys/\(revokedKey.json["key"].flatMap { ($0 as? [String: Any])?["id"] as? String } ?? "")").status, 200)
        let accepted = try owner.client.send("POST", "/v1/chains", json: ["name": "second", "consensus": "solo"])
        // A webhook (to a public address: nothing listens there, deliveries stay pending) with one delivery.
        let hook = try owner.client.send("POST", "/v1/chains/\(chain)/webhooks", json: ["url": "https://93.184.215.14/hook", "kind": "block"])
        XCTAssertEqual(hook.status, 201, hook.text)
        let hookID = try XCTUnwrap((hook["webhook"] as? [String: Any])?["id"] as? String)
        _ = try owner.client.send("POST", "/v1/chains/\(chain)/transactions/call?wait=commit", json: ["identity": "w", "contract": "kv", "method": "put", "args": "1"])
        let deliveries = try owner.client.get("/v1/chains/\(chain)/webhooks/\(hookID)/deliveries")
        let deliveryID = try XCTUnwrap((deliveries["items"] as? [[String: Any]])?.first?["id"] as? String, deliveries.text)

        let real: [String: String] = [
            "chain": chain, "contract": "kv", "tx": try XCTUnwrap(call.string("tx_id")), "identity": try XCTUnwrap(identity.string("id")),
            "operation": try XCTUnwrap(accepted.string("id")), "key": ownerKeyID, "height": "1", "hash": try XCTUnwrap(block.string("hash")),
            "tenant": owner.id, "webhook": hookID, "delivery": deliveryID,
        ]
        let missing: [String: String] = [
            "chain": UUID().uuidString.lowercased(), "contract": "nothing", "tx": String(repeating: "ab", count: 32),
            "identity": UUID().uuidString.lowercased(), "operation": UUID().uuidString.lowercased(), "key": UUID().uuidString.lowercased(),
            "height": "1", "hash": String(repeating: "cd", count: 32), "tenant": UUID().uuidString.lowercased(),
            "webhook": UUID().uuidString.lowercased(), "delivery": "999999999",
        ]
        func fill(_ pattern: String, _ values: [String: String]) -> String {
            var path = pattern
            for (name, value) in values { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
            return path + (pattern.hasSuffix("/state") || pattern.hasSuffix("/history") ? "?key=k" : "")
                + (pattern.hasSuffix("/consistency") ? "?from=0&to=1" : "")
        }
        func body(_ route: Route) -> [String: Any]? {
            guard route.method == "POST" || route.method == "PATCH" else { return nil }
            let pattern = route.pattern
            if pattern.hasSuffix("/identities") { return ["name": "intruder", "role": "writer", "mode": "custodial"] }
            if pattern.hasSuffix("/contracts") { return ["name": "x", "version": "1", "wat": Self.kv] }
            if pattern.hasSuffix("/upgrade") { return ["version": "2", "wat": Self.kv] }
            if pattern.hasSuffix("/transactions") { return ["signed_bytes": call.string("tx_id")!, "signature": "00"] }
            if pattern.hasSuffix("/batch") { return ["transactions": [["signed_bytes": "AA==", "signature": "00"]]] }
            if pattern.hasSuffix("/prepare") { return ["contract": "kv", "method": "put", "algorithm": "ed25519", "public_key": String(repeating: "00", count: 32)] }
            if pattern.hasSuffix("/call") { return ["identity": "w", "contract": "kv", "method": "put", "args": "2"] }
            if pattern.hasSuffix("/query") { return ["contract": "kv", "method": "get"] }
            if pattern.hasSuffix("/api-keys") { return ["name": "k", "scopes": ["read"]] }
            if pattern == "/v1/chains" { return ["name": "mine", "consensus": "solo"] }
            if pattern == "/v1/tenants" { return ["name": "intruder"] }
            if pattern.hasSuffix("/webhooks") { return ["url": "https://93.184.215.14/intruder"] }
            if pattern.hasSuffix("/webhooks/{webhook}") { return ["state": "paused"] }
            if route.method == "PATCH" { return ["status": "suspended"] }
            return [:]
        }
        func invoke(_ client: APIClient, _ route: Route, _ values: [String: String]) throws -> APIClient.Reply {
            if let json = body(route) { return try client.send(route.method, fill(route.pattern, values), json: json) }
            return try client.request(route.method, fill(route.pattern, values))
        }

        var checked = 0
        for route in node.router.all {
            let anonymous = try invoke(owner.client.with(token: nil), route, real)
            XCTAssertEqual(anonymous.status, 401, "\(route.method) \(route.pattern) anonymous: \(anonymous.text)")
            let revoked = try invoke(owner.client.with(token: revokedKey.string("secret")), route, real)
            XCTAssertEqual(revoked.status, 401, "\(route.method) \(route.pattern) revoked key: \(revoked.text)")
            switch route.access {
            case .operator:
                let tenantCall = try invoke(other.client, route, real)
                XCTAssertEqual(tenantCall.status, 401, "\(route.method) \(route.pattern) with a tenant key")
            case .tenant(let scope):
                if scope > .read {
                    let reader = try invoke(owner.client.with(token: readKey.string("secret")), route, real)
                    XCTAssertEqual(reader.status, 403, "\(route.method) \(route.pattern) with a read-only key: \(reader.text)")
                }
                guard route.pattern.contains("{") else { continue }
                let foreign = try invoke(other.client, route, real)
                let absent = try invoke(other.client, route, missing)
                XCTAssertEqual(foreign.status, absent.status, "\(route.method) \(route.pattern): \(foreign.text) vs \(absent.text)")
                XCTAssertEqual(foreign.string("type"), absent.string("type"), "\(route.method) \(route.pattern)")
                XCTAssertTrue([400, 404].contains(foreign.status), "\(route.method) \(route.pattern): \(foreign.status) \(foreign.text)")
                checked += 1
            case .open:
                continue
            }
        }
        XCTAssertGreaterThan(checked, 25)

        // Lists of the other tenant never show the owner's things.
        XCTAssertEqual((try other.client.get("/v1/chains")["items"] as? [Any])?.count, 0)
        let otherAudit = try other.client.get("/v1/audit-log?limit=100")
        let otherEntries = try XCTUnwrap(otherAudit["items"] as? [[String: Any]])
        XCTAssertFalse(otherEntries.isEmpty)
        XCTAssertTrue(otherEntries.allSatisfy { ($0["tenant_id"] as? String) == other.id }, "a tenant's audit log holds its own calls only")
        // The owner's data is intact: the intruder's calls changed nothing.
        XCTAssertEqual(try owner.client.send("POST", "/v1/chains/\(chain)/query", json: ["contract": "kv", "method": "get"]).string("result"), "1")
        XCTAssertEqual(try owner.client.get("/v1/chains/\(chain)").string("status"), "running")
    }
}

extension APIClient {
    func withPort(_ port: Int) -> APIClient { APIClient(port: port, token: token) }
}
