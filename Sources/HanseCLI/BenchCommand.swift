internal import ArgumentParser
internal import Foundation
internal import Crypto
internal import HanseCore
internal import Logging
internal import PostgresStorage
internal import Merkle
internal import Ledger
internal import Storage

/// `hanse bench …`: benchmarks that print figures. They are commands a person runs, not tests.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark and print its figures.",
        subcommands: [DatabaseBench.self, MerkleBench.self, CommitBench.self, ContractBench.self, LoadBench.self, IdleBench.self, EventBench.self])
}

/// `hanse bench db`: rows/s of batched INSERT and COPY through our layer, next to psql's COPY of
/// the same rows in the same run.
struct DatabaseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Bulk-load throughput: batched INSERT and COPY through Hanse's libpq layer, and psql's \\copy.")

    @Option(help: "Rows loaded by each method.") var rows = 100_000
    @Option(help: "Rows per INSERT statement (4 parameters a row; at most 16,000).") var batch = 1_000
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...10_000_000).contains(rows) else { throw ValidationError("--rows must be in 1...10000000") }
        guard (1...16_000).contains(batch) else { throw ValidationError("--batch must be in 1...16000") }
    }

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            let environment = handle.environment
            let data = Self.makeRows(rows)
            let columns: [PostgresColumn] = [.init("id", .int8), .init("account", .text), .init("amount", .int8), .init("payload", .bytea)]
            _ = try handle.pool.withConnection { connection in
                try connection.execute("""
                    DROP SCHEMA IF EXISTS hanse_bench CASCADE; CREATE SCHEMA hanse_bench;
                    CREATE TABLE hanse_bench.insert_rows (id bigint PRIMARY KEY, account text NOT NULL, amount bigint NOT NULL, payload bytea NOT NULL);
                    CREATE TABLE hanse_bench.copy_rows (LIKE hanse_bench.insert_rows INCLUDING ALL);
                    CREATE TABLE hanse_bench.psql_rows (LIKE hanse_bench.insert_rows INCLUDING ALL);
                    """, name: "bench.setup")
            }
            defer { _ = try? handle.pool.withConnection { _ = try $0.execute("DROP SCHEMA IF EXISTS hanse_bench CASCADE", name: "bench.teardown") } }

            print("bench db: \(rows) rows of (bigint, text, bigint, 32-byte bytea) per method, INSERT batches of \(batch)")
            let insertSeconds = try measure {
                try handle.pool.transaction { connection in try insertBatched(data, connection: connection) }
            }
            report("batched INSERT (Hanse)", insertSeconds)
            let copySeconds = try measure {
                try handle.pool.transaction { connection in
                    _ = try connection.copy(into: "hanse_bench.copy_rows", columns: columns, rows: data)
                }
            }
            report("COPY (Hanse)", copySeconds)
            let psqlSeconds = try psqlCopy(data, columns: columns, conninfo: handle.pool.configuration.conninfo, environment: environment)
            report("COPY (psql \\copy)", psqlSeconds)

            try handle.pool.withConnection { connection in
                for table in ["insert_rows", "copy_rows", "psql_rows"] {
                    let count = try connection.query(sql: "SELECT count(*) FROM hanse_bench.\(table)", name: "bench.count").first!.decode(Int.self, column: 0)
                    guard count == rows else { throw ValidationError("\(table) holds \(count) rows, want \(rows)") }
                }
            }
            print("all three tables hold \(rows) rows")
        }
    }

    private func report(_ label: String, _ seconds: Double) {
        let perSecond = Double(rows) / seconds
        let padded = label.padding(toLength: 24, withPad: " ", startingAt: 0)
        print(padded + String(format: " %9.3f s %12.0f rows/s", seconds, perSecond))
    }

    private func measure(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return (ContinuousClock.now - start).secondsDouble
    }

    private func insertBatched(_ data: [[PostgresValue]], connection: PostgresConnection) throws {
        var start = 0
        while start < data.count {
            let slice = data[start..<min(start + batch, data.count)]
            let placeholders = (0..<slice.count).map { row in
                "(" + (1...4).map { "$\(row * 4 + $0)" }.joined(separator: ", ") + ")"
            }.joined(separator: ", ")
            let statement = PostgresStatement("bench.insert_\(slice.count)",
                                              "INSERT INTO hanse_bench.insert_rows (id, account, amount, payload) VALUES \(placeholders)")
            try connection.query(statement, slice.flatMap { $0 })
            start += slice.count
        }
    }

    /// psql's `\copy` of the same rows from a file written before the clock starts. The figure
    /// includes starting psql and connecting, as a person running it would see.
    private func psqlCopy(_ data: [[PostgresValue]], columns: [PostgresColumn], conninfo: String, environment: [String: String]) throws -> Double {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hanse-bench-\(getpid()).copy")
        // The binary format Hanse's COPY sends, so both load the same bytes.
        var buffer = PostgresConnection.binaryCopyHeader
        for row in data {
            if let problem = PostgresConnection.appendBinaryRow(row, columns: columns, to: &buffer) { throw ValidationError(problem) }
        }
        buffer.append(contentsOf: PostgresConnection.binaryCopyTrailer)
        try Data(buffer).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let psql = (environment["PATH"] ?? "/usr/bin").split(separator: ":").map({ "\($0)/psql" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("psql not found on PATH (Debian package postgresql-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = [conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                             "\\copy hanse_bench.psql_rows (id, account, amount, payload) FROM '\(file.path)' WITH (FORMAT binary)"]
        return try measure {
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("psql exited with \(process.terminationStatus)") }
        }
    }

    /// Deterministic rows: the same data for every method.
    static func makeRows(_ count: Int) -> [[PostgresValue]] {
        var random = SeededRandom(seed: 20_261_121)
        return (0..<count).map { index in
            let payload = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
            return [.int(index), .text("acct-\(index % 1000)"), .int(Int64(index) * 7), .bytea(payload)]
        }
    }
}

/// `hanse bench merkle`: fills a chain's stored ledger tree, then times proofs read from it.
struct MerkleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merkle", abstract: "Ledger tree in PostgreSQL: append throughput, then inclusion and consistency proof latency.")

    @Option(help: "Leaves (transaction ids) in the tree.") var leaves = 1_000_000
    @Option(help: "Leaves appended per transaction.") var batch = 100_000
    @Option(help: "Proofs of each kind to time.") var proofs = 1_000
    @Flag(help: "Keep the schema chain_bench_merkle afterwards (reruns then skip the fill).") var keep = false
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...1_000_000_000).contains(leaves) else { throw ValidationError("--leaves must be in 1...1000000000") }
        guard (1...1_000_000).contains(batch) else { throw ValidationError("--batch must be in 1...1000000") }
        guard (1...1_000_000).contains(proofs) else { throw ValidationError("--proofs must be in 1...1000000") }
    }

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            let environment = handle.environment, logger = handle.logger
            let schema = "chain_bench_merkle"
            let root = try MigrationCatalog.locateRoot(environment: environment)
            _ = try PostgresMigrator(pool: handle.pool, logger: logger)
                .migrate(schema: schema, migrations: MigrationCatalog.load(directory: root.appendingPathComponent("chain")))
            defer {
                if !keep { _ = try? handle.pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE", name: "bench.drop") } }
            }
            let tree = try PostgresMerkleTree(schema: schema)
            try handle.pool.withConnection { connection in
                try connection.setStatementTimeout(nil)
                var size = try tree.size(on: connection)
                if size > UInt64(leaves) { throw ValidationError("schema \(schema) already holds \(size) leaves; drop it or pass --leaves >= \(size)") }
                let fillStart = ContinuousClock.now
                var lastReport = fillStart
                while size < UInt64(leaves) {
                    let count = min(UInt64(batch), UInt64(leaves) - size)
                    let hashes = (size..<(size + count)).map { RFC6962.leafHash(SHA256.hash(utf8: "tx \($0)")) }
                    _ = try connection.transaction { try tree.append(hashes, on: $0) }
                    size += count
                    if ContinuousClock.now - lastReport > .seconds(10) || size == UInt64(leaves) {
                        lastReport = ContinuousClock.now
                        let seconds = (lastReport - fillStart).secondsDouble
                        print(String(format: "filled %d of %d leaves, %.0f leaves/s", size, leaves, Double(size) / max(seconds, 0.001)))
                    }
                }
                let nodeCount = try connection.query(sql: "SELECT count(*) FROM \(schema).merkle_nodes", name: "bench.nodes").first!.decode(Int.self, column: 0)
                let tableBytes = try connection.query(sql: "SELECT pg_total_relation_size('\(schema).merkle_nodes')", name: "bench.bytes").first!.decode(Int.self, column: 0)
                print("tree: \(size) leaves, \(nodeCount) stored nodes, \(tableBytes / 1_048_576) MiB with index")
                let head = try tree.root(size: size, on: connection)
                var random = SeededRandom(seed: 1)
                var inclusion: [Double] = [], consistency: [Double] = [], verify: [Double] = []
                for _ in 0..<proofs {
                    let index = UInt64.random(in: 0..<size, using: &random)
                    var start = ContinuousClock.now
                    let proof = try tree.inclusionProof(index: index, size: size, on: connection)
                    inclusion.append((ContinuousClock.now - start).secondsDouble * 1000)
                    start = ContinuousClock.now
                    try MerkleVerifier.verifyInclusion(index: index, size: size, leafHash: RFC6962.leafHash(SHA256.hash(utf8: "tx \(index)")),
                                                       proof: proof, root: head)
                    verify.append((ContinuousClock.now - start).secondsDouble * 1000)
                    let older = UInt64.random(in: 1...size, using: &random)
                    start = ContinuousClock.now
                    _ = try tree.consistencyProof(size1: older, size2: size, on: connection)
                    consistency.append((ContinuousClock.now - start).secondsDouble * 1000)
                }
                for (label, samples) in [("inclusion proof", inclusion), ("consistency proof", consistency), ("client verification", verify)] {
                    let sorted = samples.sorted()
                    func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
                    print("\(label) over \(size) leaves: " + String(format: "p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d samples)",
                                                                           at(0.5), at(0.99), sorted.last!, sorted.count))
                }
            }
        }
    }
}

/// `hanse bench commit`: block-commit throughput next to a raw COPY of as many rows.
struct CommitBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Block commit throughput (txs/s) next to the raw COPY rate of the same number of rows.")

    @Option(help: "Blocks to commit.") var blocks = 20
    @Option(help: "Transactions per block.") var blockTxs = 1_000
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...10_000).contains(blocks), (1...10_000).contains(blockTxs) else { throw ValidationError("--blocks and --block-txs must be in 1...10000") }
    }

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse.bench") { handle in
            let environment = handle.environment, logger = handle.logger
            let schema = "chain_bench_commit", chainID = "00000000-0000-4000-8000-00000000c0de"
            _ = try handle.pool.withConnection { try $0.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE", name: "bench.drop") }
            let root = try MigrationCatalog.locateRoot(environment: environment)
            _ = try PostgresMigrator(pool: handle.pool, logger: logger)
                .migrate(schema: schema, migrations: MigrationCatalog.load(directory: root.appendingPathComponent("chain")))
            defer { _ = try? handle.pool.withConnection { try $0.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE", name: "bench.drop") } }
            _ = try handle.pool.withConnection { try $0.execute("INSERT INTO \(schema).chain_info (chain_id) VALUES ('\(chainID)')", name: "bench.info") }

            print("bench commit: preparing \(blocks) blocks of \(blockTxs) signed transactions (1 write and 1 event each)")
            let validators = try (0..<4).map { _ in try PrivateKey.generate(.ed25519) }
            let set = ValidatorSet(keys: validators.map(\.publicKey))
            let client = try PrivateKey.generate(.ed25519)
            var ledger = CompactRange()
            var previous = [UInt8](repeating: 0, count: 32)
            var prepared: [CommittedBlock] = []
            for height in 0..<UInt64(blocks) {
                let transactions = try (0..<blockTxs).map { index -> ExecutedTransaction in
                    var envelope = TransactionEnvelope(chainID: chainID, contract: "token", method: "transfer",
                                                       args: Array("{\"to\":\"acct-\(index % 1000)\",\"amount\":\(index)}".utf8),
                                                       nonce: SecureRandom().bytes(16), validUntil: .height(height + 10), algorithm: .ed25519, signer: [])
                    try envelope.sign(with: client)
                    return ExecutedTransaction(envelope: envelope, receipt: Receipt(status: .committed, gasUsed: 120, result: Array("true".utf8)),
                                               writes: [StateWrite(contract: "token", key: Array("acct-\(index % 1000)".utf8), value: Array("\(index)".utf8))],
                                               events: [ContractEvent(contract: "token", topic: "transfer", data: Array("\(index)".utf8))])
                }
                transactions.forEach { ledger.append(RFC6962.leafHash($0.envelope.id)) }
                let header = BlockHeader(chainID: chainID, height: height, previousHash: previous, txRoot: BlockRoots.txRoot(transactions),
                                         writeSetRoot: BlockRoots.writeSetRoot(transactions), ledgerRoot: ledger.root, ledgerSize: ledger.size,
                                         timestamp: 1_795_219_200_000 + height, proposer: 0, validatorSetHash: set.hash)
                let vote = CommitCertificate.voteBytes(chainID: chainID, height: height, round: 0, blockHash: header.hash)
                let signatures = try validators.prefix(3).enumerated().map { CommitCertificate.Signature(validator: UInt32($0.offset), signature: try $0.element.sign(vote)) }
                prepared.append(CommittedBlock(header: header, certificate: CommitCertificate(chainID: chainID, height: height, round: 0,
                                                                                             blockHash: header.hash, signatures: signatures),
                                               transactions: transactions))
                previous = header.hash
            }

            let store = try PostgresChainStore(schema: schema)
            var perBlock: [Double] = []
            let start = ContinuousClock.now
            for block in prepared {
                let blockStart = ContinuousClock.now
                try store.commit(block, pool: handle.pool)
                perBlock.append((ContinuousClock.now - blockStart).secondsDouble)
            }
            let commitSeconds = (ContinuousClock.now - start).secondsDouble
            let total = blocks * blockTxs
            let sorted = perBlock.sorted()
            print(String(format: "block commit:  %d txs in %.3f s = %.0f txs/s (per block of %d: median %.1f ms, max %.1f ms)",
                         total, commitSeconds, Double(total) / commitSeconds, blockTxs, sorted[sorted.count / 2] * 1000, sorted.last! * 1000))

            // The same number of transaction rows through a plain COPY, in the same run.
            let rows: [[PostgresValue]] = prepared.flatMap(\.transactions).enumerated().map { index, transaction in
                [.int(index), .bytea(transaction.envelope.id), .bytea(transaction.envelope.signedBytes), .bytea(transaction.envelope.signature)]
            }
            let copySeconds: Double = try handle.pool.withConnection { connection in
                try connection.execute("CREATE TEMP TABLE bench_copy (seq bigint PRIMARY KEY, tx_id bytea, signed_bytes bytea, signature bytea)", name: "bench.temp")
                let copyStart = ContinuousClock.now
                _ = try connection.transaction { try $0.copy(into: "bench_copy", columns: [.init("seq", .int8), .init("tx_id", .bytea), .init("signed_bytes", .bytea), .init("signature", .bytea)], rows: rows) }
                return (ContinuousClock.now - copyStart).secondsDouble
            }
            print(String(format: "raw COPY:      %d transaction rows in %.3f s = %.0f rows/s", total, copySeconds, Double(total) / copySeconds))
            let audit: Double = try handle.pool.withConnection { connection in
                let auditStart = ContinuousClock.now
                if let finding = try ChainAuditor(schema: schema).audit(validators: set, on: connection) { throw ValidationError("audit failed: \(finding)") }
                return (ContinuousClock.now - auditStart).secondsDouble
            }
            print(String(format: "audit:         %d blocks, %d txs in %.3f s = %.0f txs/s", blocks, total, audit, Double(total) / audit))
        }
    }
}
