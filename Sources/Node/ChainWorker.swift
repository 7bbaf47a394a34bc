public import Consensus
public import Contracts
public import Crypto
public import Ledger
public import PostgresStorage
internal import Dispatch
internal import Foundation
public import HanseCore
internal import Merkle
internal import Synchronization

/// How a chain reaches agreement.
public enum ConsensusKind: String, Sendable { case solo, bft }

/// What a chain worker needs: the chain, its validators (with the keys of those this node hosts),
/// its executor and its storage.
public struct ChainSetup: Sendable {
    public var chainID: String
    public var schema: String
    public var kind: ConsensusKind
    public var validatorSet: ValidatorSet
    /// Private keys of the validators hosted here, by validator index.
    public var hostedKeys: [Int: PrivateKey]
    public var rules: ChainRules

    public init(chainID: String, schema: String, kind: ConsensusKind, validatorSet: ValidatorSet, hostedKeys: [Int: PrivateKey], rules: ChainRules) {
        self.chainID = chainID
        self.schema = schema
        self.kind = kind
        self.validatorSet = validatorSet
        self.hostedKeys = hostedKeys
        self.rules = rules
    }
}

/// What a chain's commits tell the rest of the node (the event outbox and live streams).
public struct ChainCommitHooks: Sendable {
    /// Runs inside the block's PostgreSQL transaction, last, with the block and the sequence
    /// numbers of its events; an error rolls the block back (the worker stops, as for any failed commit).
    public var withinCommit: (@Sendable (PostgresConnection, CommittedBlock, Range<Int64>) throws -> Void)?
    /// Runs on the chain's queue after the block is in PostgreSQL; must not block.
    public var afterCommit: (@Sendable (BlockHeader, Range<Int64>) -> Void)?

    public init(withinCommit: (@Sendable (PostgresConnection, CommittedBlock, Range<Int64>) throws -> Void)? = nil,
                afterCommit: (@Sendable (BlockHeader, Range<Int64>) -> Void)? = nil) {
        self.withinCommit = withinCommit
        self.afterCommit = afterCommit
    }
}

/// A committed transaction handed to whoever waited for it.
public struct Committed: Sendable {
    public var transaction: ExecutedTransaction
    public var height: UInt64
    public var index: Int
}

/// One chain's block pipeline on its own serial Dispatch queue: the mempool, the consensus state
/// machines of the validators hosted on this node (messages between them stay in process), block
/// building and execution, the write-ahead log, the one-transaction block commit, and waking
/// whoever waits for a transaction. Idle (an empty mempool and nothing proposed), it runs no
/// timer and uses no CPU.
public final class ChainWorker: @unchecked Sendable {
    public let setup: ChainSetup
    private let limits: Limits
    private let pool: PostgresPool
    private let store: PostgresChainStore
    private let tree: PostgresMerkleTree
    private let log: PostgresConsensusLog
    private let executor: ContractExecutor
    private let queue: DispatchQueue
    private let hooks: ChainCommitHooks

    // Everything below is touched only on `queue`.
    /// The mempool has its own lock: submissions do not wait while the queue executes or commits a block.
    private let mempool: Mutex<Mempool>
    /// The height the next block will have, for admission checks off the queue.
    private let nextHeightHint = Atomic<UInt64>(0)
    private let stoppedFlag = Atomic<Bool>(false)
    private var engines: [Int: Engine] = [:]
    private var head: (height: UInt64, hash: [UInt8], timestamp: UInt64)?
    private var ledger = CompactRange()
    private var executed: [[UInt8]: [ExecutedTransaction]] = [:]
    /// Hashes of values stored in the consensus log's value table by this worker.
    private var storedValues: Set<[UInt8]> = []
    /// The last value interned into the log and its hash.
    private var lastInterned: (value: [UInt8], hash: [UInt8])?
    /// Verdicts on proposals of the next height that this node did not build, by block hash.
    private var judged: [[UInt8]: Bool] = [:]
    private var inbox: [(to: Int, from: Int, message: ConsensusMessage)] = []
    /// Hosted validators' states not yet in the write-ahead log, and the messages of their steps,
    /// held until the log has them: the states of one round of steps are written in one
    /// PostgreSQL transaction (one flush to disk) instead of one each.
    private var unlogged: [Int: HardState] = [:]
    private var held: [(to: Int, from: Int, message: ConsensusMessage)] = []
    private var draining = false
    private var valueWanted: [(validator: Int, height: UInt64, round: UInt32)] = []
    private var timer: (any DispatchSourceTimer)?
    /// Who waits for which transaction; its own lock, so registering never waits for the queue.
    private let waiters = Mutex<Waiters>(Waiters())
    /// Ids that expired in the mempool, most recent last (bounded by `Limits.expiredRememberedMax`).
    private let expired = Mutex<(ids: Set<[UInt8]>, order: [[UInt8]])>(([], []))
    private let ticking = Atomic<Bool>(false)
    /// The ids in the ledger, as a Bloom filter; nil until `start` has read them (until then
    /// every id may be committed).
    private let committedIDs = Mutex<CommittedIDFilter?>(nil)

    struct Waiters: ~Copyable {
        var byID: [ByteKey: [(token: UInt64, done: @Sendable (Committed) -> Void)]] = [:]
        var count: UInt64 = 0
    }
    private var stopped = false
    /// Blocks this worker committed since it started.
    public private(set) var committedBlocks = 0

    enum Engine {
        case solo(Solo<ChainHost>)
        case bft(Tendermint<ChainHost>)

        mutating func start() -> Ready {
            switch self {
            case .solo(var solo): defer { self = .solo(solo) }; return solo.start()
            case .bft(var bft): defer { self = .bft(bft) }; return bft.start()
            }
        }

        mutating func step(_ input: ConsensusInput) -> Ready {
            switch self {
            case .solo(var solo): defer { self = .solo(solo) }; return solo.step(input)
            case .bft(var bft): defer { self = .bft(bft) }; return bft.step(input)
            }
        }
    }

    public init(setup: ChainSetup, executor: ContractExecutor, pool: PostgresPool, limits: Limits = Limits(),
                hooks: ChainCommitHooks = ChainCommitHooks()) throws {
        precondition(setup.kind == .bft || setup.validatorSet.keys.count == 1, "a solo chain has one validator")
        self.setup = setup
        self.limits = limits
        self.pool = pool
        self.executor = executor
        self.hooks = hooks
        self.store = try PostgresChainStore(schema: setup.schema)
        self.tree = try PostgresMerkleTree(schema: setup.schema)
        self.log = try PostgresConsensusLog(schema: setup.schema)
        self.mempool = Mutex(Mempool(limits: limits))
        self.queue = DispatchQueue(label: "hanse.chain.\(setup.chainID)")
    }

    // MARK: - Public interface (any thread)

    /// Resumes the chain from PostgreSQL: the committed head, the ledger tree's border, and each
    /// hosted validator's write-ahead-logged state for the next height.
    public func start() throws {
        try queue.sync {
            let (head, ledger, wal) = try pool.withConnection { connection in
                let head = try store.head(on: connection)
                let ledger = try tree.compactRange(size: head?.ledgerSize ?? 0, on: connection)
                return (head, ledger, try log.load(pool: pool))
            }
            if let head, let block = try pool.withConnection({ try store.block(height: head.height, on: $0) }) {
                self.head = (head.height, head.hash, block.header.timestamp)
            }
            self.ledger = ledger
            try loadCommittedIDs(ledgerSize: head?.ledgerSize ?? 0)
            let next = nextHeight
            nextHeightHint.store(next, ordering: .relaxed)
            var walValues: [[UInt8]: [UInt8]]?
            let verified = VerifiedSignatures()
            for (index, key) in setup.hostedKeys.sorted(by: { $0.key < $1.key }) {
                let host = ChainHost(chainID: setup.chainID, key: key, validators: setup.validatorSet, verified: verified) { [unowned self] value, height in
                    self.judge(value, height: height)
                }
                switch setup.kind {
                case .solo:
                    engines[index] = .solo(Solo(host: host, height: next))
                case .bft:
                    var state = HardState.start(height: next)
                    if let saved = wal[index], saved.height == next,
                       let decoded = try? JSONDecoder().decode(HardState.self, from: Data(saved.state.utf8)) {
                        if walValues == nil { walValues = try log.values(height: next, pool: pool) }
                        guard let resolved = WALValues.resolve(decoded, values: walValues ?? [:]) else {
                            throw PostgresError(.query, "the consensus log of validator \(index) names a value that is not stored")
                        }
                        state = resolved
                    }
                    var config = ConsensusConfig(validators: setup.validatorSet.keys.count, me: index)
                    config.valueBytesMax = limits.blockBytesMax + limits.blockBytesMax / 4
                    engines[index] = .bft(Tendermint(config: config, host: host, state: state))
                }
            }
            for index in engines.keys.sorted() {
                let ready = engines[index]!.start()
                handle(ready, of: index)
            }
            drain()
        }
    }

    /// Reads every committed id into the filter, a page at a time.
    private func loadCommittedIDs(ledgerSize: UInt64) throws {
        var filter = CommittedIDFilter(initialCapacity: Int(ledgerSize) + Int(ledgerSize / 2) + 4096)
        let page = 50_000
        var seq: UInt64 = 0
        while seq < ledgerSize {
            let ids = try pool.withConnection { try store.transactionIDs(fromSeq: seq, limit: page, on: $0) }
            guard !ids.isEmpty else { break }
            for id in ids { filter.insert(id) }
            seq += UInt64(ids.count)
        }
        committedIDs.withLock { $0 = filter }
    }

    /// False when `id` is certainly not in the ledger; true when it may be (then PostgreSQL knows).
    public func mayHaveCommitted(_ id: [UInt8]) -> Bool {
        committedIDs.withLock { $0?.mayContain(id) ?? true }
    }

    /// Stops ticking and drops the mempool; the chain resumes from PostgreSQL with `start`.
    public func stop() {
        queue.sync {
            stopped = true
            stoppedFlag.store(true, ordering: .releasing)
            timer?.cancel()
            timer = nil
        }
    }

    /// Admits a transaction whose signature the caller checked. Does not wait for the queue.
    public func submit(_ envelope: TransactionEnvelope, id: [UInt8]? = nil) -> Mempool.Admission {
        guard !stoppedFlag.load(ordering: .acquiring) else { return .full("the chain is stopped") }
        let id = id ?? envelope.id
        let height = nextHeightHint.load(ordering: .relaxed)
        let (admission, wasEmpty) = mempool.withLock { mempool in
            let wasEmpty = mempool.isEmpty
            return (mempool.add(envelope, id: id, nextHeight: height, now: Self.nowMilliseconds()), wasEmpty)
        }
        // The queue looks at the mempool after every block; it needs a nudge only when it may be idle.
        if admission == .accepted, wasEmpty { queue.async { self.mempoolChanged() } }
        return admission
    }

    /// Threads that answer a block's waiters.
    private static let wakeChunks = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `done` off the worker's queue (on a global queue, together with the other waiters of
    /// its block) when the transaction is committed. Returns once the
    /// waiter is registered, with a token for `cancelWait`; a transaction committed before that is
    /// in storage (commits reach PostgreSQL before waiters are woken), so callers check storage
    /// after registering.
    public func onCommit(of id: [UInt8], _ done: @escaping @Sendable (Committed) -> Void) -> UInt64 {
        waiters.withLock { waiters in
            waiters.count += 1
            waiters.byID[ByteKey(id), default: []].append((waiters.count, done))
            return waiters.count
        }
    }

    /// Forgets a waiter that gave up.
    public func cancelWait(of id: [UInt8], token: UInt64) {
        waiters.withLock { waiters in
            waiters.byID[ByteKey(id)]?.removeAll { $0.token == token }
            if waiters.byID[ByteKey(id)]?.isEmpty == true { waiters.byID[ByteKey(id)] = nil }
        }
    }

    /// Whether a transaction waits in the mempool, expired there, or neither.
    public func pending(_ id: [UInt8]) -> (waiting: Bool, expired: Bool) {
        let waiting = mempool.withLock { $0.contains(id) }
        return (waiting, expired.withLock { $0.ids.contains(id) })
    }

    /// The height of the last committed block, and transactions waiting.
    public var status: (height: UInt64?, mempool: Int, ticking: Bool) {
        let count = mempool.withLock { $0.count }
        let next = nextHeightHint.load(ordering: .relaxed)
        return (next == 0 ? nil : next - 1, count, ticking.load(ordering: .relaxed))
    }


    // MARK: - Consensus plumbing (on the queue)

    private var nextHeight: UInt64 { head.map { $0.height + 1 } ?? 0 }

    private func handle(_ ready: Ready, of index: Int) {
        // The write-ahead log before any message of this step leaves: the state waits for the
        // next `writeLog`, and the step's messages wait with it.
        if let state = ready.hardState, case .bft = engines[index] { unlogged[index] = state }
        let outgoing = unlogged.isEmpty ? \ChainWorker.inbox : \ChainWorker.held
        for message in ready.broadcast {
            for peer in engines.keys where peer != index { self[keyPath: outgoing].append((peer, index, message)) }
        }
        for (peer, message) in ready.direct where engines[peer] != nil { self[keyPath: outgoing].append((peer, index, message)) }
        for decision in ready.decisions { commit(decision) }
        if let (height, round) = ready.proposalNeeded { valueWanted.append((index, height, round)) }
    }

    /// Delivers queued messages and value requests until nothing is left (no recursion: handling a
    /// step may queue more).
    private func drain() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while !stopped {
            if !inbox.isEmpty {
                let (to, from, message) = inbox.removeFirst()
                guard engines[to] != nil else { continue }
                let ready = engines[to]!.step(.message(message, from: from))
                handle(ready, of: to)
                continue
            }
            if !unlogged.isEmpty || !held.isEmpty {
                guard writeLog() else { break }
                continue
            }
            guard provideValue() else { break }
        }
        if !stopped, !unlogged.isEmpty || !held.isEmpty { _ = writeLog() }
        updateTimer()
    }

    /// Writes the hosted validators' pending states in one transaction, then lets their held
    /// messages go. False if the log cannot be written (the chain stops: without the log a
    /// validator could later sign twice).
    private func writeLog() -> Bool {
        if !unlogged.isEmpty {
            do {
                try pool.transaction { connection in
                    for (index, state) in unlogged.sorted(by: { $0.key < $1.key }) {
                        let json = String(decoding: try JSONEncoder().encode(try interned(state, on: connection)), as: UTF8.self)
                        try log.save(validator: index, height: state.height, state: json, on: connection)
                    }
                }
            } catch {
                storedValues.removeAll()
                fail("cannot write the consensus log: \(error)")
                return false
            }
            unlogged.removeAll()
        }
        inbox += held
        held.removeAll()
        return true
    }

    /// Gives a waiting proposer a block, if there are transactions; returns whether it did.
    private func provideValue() -> Bool {
        valueWanted.removeAll { $0.height != nextHeight }
        guard let request = valueWanted.first else { return false }
        let (count, since) = mempool.withLock { ($0.count, $0.waitingSince) }
        guard count > 0 else { return false }
        // Batching: wait for a full block, or until the oldest waiting transaction has waited
        // blockMaxDelay (the consensus tick, running while transactions wait, asks again).
        if count < limits.blockTransactionsMax, let since, Self.nowMilliseconds() < since + UInt64(limits.blockMaxDelay.wholeMilliseconds) {
            return false
        }
        valueWanted.removeFirst()
        guard let value = buildBlock(proposer: request.validator) else { return true }
        let ready = engines[request.validator]!.step(.proposalValue(height: request.height, round: request.round, value: value))
        handle(ready, of: request.validator)
        return true
    }

    private func mempoolChanged() {
        drain()
    }

    // MARK: - Blocks

    /// Executes a batch from the mempool on top of the head and encodes it as a proposal.
    private func buildBlock(proposer: Int) -> [UInt8]? {
        let height = nextHeight
        let now = max(Self.nowMilliseconds(), (head?.timestamp ?? 0) + 1)
        let (candidates, expiredIDs) = mempool.withLock {
            $0.batch(maxCount: limits.blockTransactionsMax, maxBytes: limits.blockBytesMax, height: height, now: now)
        }
        remember(expired: expiredIDs)
        // A transaction already in the ledger (resubmitted across a restart) is dropped, never committed twice.
        let batch: [TransactionEnvelope]
        do {
            let ids = committedIDs.withLock { filter in candidates.map(\.id).filter { filter?.mayContain($0) ?? true } }
            let known = try store.committed(ids, pool: pool)
            if !known.isEmpty { mempool.withLock { $0.remove(known, committed: true) } }
            batch = known.isEmpty ? candidates : candidates.filter { !known.contains($0.id) }
        } catch {
            fail("cannot read the ledger: \(error)")
            return nil
        }
        guard !batch.isEmpty else { return nil }
        guard let (header, transactions) = execute(batch, height: height, timestamp: now, proposer: proposer) else { return nil }
        executed[header.hash] = transactions
        return BlockProposal(header: header, transactions: batch).encoded
    }

    private func execute(_ batch: [TransactionEnvelope], height: UInt64, timestamp: UInt64, proposer: Int) -> (BlockHeader, [ExecutedTransaction])? {
        let context = BlockContext(chainID: setup.chainID, height: height, timestampMilliseconds: timestamp)
        do {
            let transactions = try executor.execute(batch, in: context, state: PostgresWorldState(schema: setup.schema, pool: pool))
            var ledger = self.ledger
            for transaction in transactions { ledger.append(RFC6962.leafHash(transaction.envelope.id)) }
            let header = BlockHeader(chainID: setup.chainID, height: height, previousHash: head?.hash ?? [UInt8](repeating: 0, count: 32),
                                     txRoot: BlockRoots.txRoot(transactions), writeSetRoot: BlockRoots.writeSetRoot(transactions),
                                     ledgerRoot: ledger.root, ledgerSize: ledger.size, timestamp: timestamp, proposer: UInt32(proposer),
                                     validatorSetHash: setup.validatorSet.hash)
            return (header, transactions)
        } catch {
            return nil
        }
    }

    /// Whether a proposed block is the one this node would build from the same transactions:
    /// it extends the head, and re-executing it gives the same header.
    private func judge(_ value: [UInt8], height: UInt64) -> Bool {
        // Consensus asks again on every step: the header alone answers for blocks seen before.
        guard let quick = BlockProposal.header(ofEncoded: value) else { return false }
        let hash = quick.hash
        // The block this node just committed, handed to a hosted validator still deciding it.
        if let head, height == head.height, hash == head.hash { return true }
        guard height == nextHeight else { return false }
        if executed[hash] != nil { return true }
        if let verdict = judged[hash] { return verdict }
        let verdict = judgeFully(value, height: height)
        judged[hash] = verdict
        return verdict
    }

    private func judgeFully(_ value: [UInt8], height: UInt64) -> Bool {
        guard let proposal = BlockProposal(encoded: value) else { return false }
        let header = proposal.header
        guard header.chainID == setup.chainID, header.height == height,
              header.previousHash == (head?.hash ?? [UInt8](repeating: 0, count: 32)),
              header.validatorSetHash == setup.validatorSet.hash, header.timestamp > (head?.timestamp ?? 0),
              Int(header.proposer) < setup.validatorSet.keys.count, !proposal.transactions.isEmpty,
              proposal.transactions.count <= limits.blockTransactionsMax,
              proposal.transactions.allSatisfy({ $0.chainID == setup.chainID && !Mempool.isExpired($0, height: height, now: header.timestamp) }),
              Set(proposal.transactions.map(\.id)).count == proposal.transactions.count else { return false }
        let cache = PublicKeyCache()
        guard proposal.transactions.allSatisfy({ (try? $0.verify(limits: limits, cache: cache)) != nil }),
              let (rebuilt, transactions) = execute(proposal.transactions, height: height, timestamp: header.timestamp, proposer: Int(header.proposer)),
              rebuilt == header else { return false }
        executed[header.hash] = transactions
        return true
    }

    private func commit(_ decision: Decision) {
        // The header names the block (its hash covers the transaction root); the transactions are
        // the ones this worker executed for it, so the value need not be decoded again.
        guard decision.height == nextHeight, let header = BlockProposal.header(ofEncoded: decision.value),
              let transactions = executed[header.hash] else { return }
        let certificate = CommitCertificate(chainID: setup.chainID, height: header.height, round: decision.round, blockHash: header.hash,
                                            signatures: decision.precommits.map { .init(validator: UInt32($0.vote.validator), signature: $0.signature) })
        let events: Range<Int64>
        do {
            let block = CommittedBlock(header: header, certificate: certificate, transactions: transactions)
            let within = hooks.withinCommit.map { hook in { @Sendable (connection: PostgresConnection, events: Range<Int64>) in try hook(connection, block, events) } }
            // `executed` holds what this worker ran to build or judge the header: its roots match.
            events = try store.commit(block, pool: pool, rootsChecked: true, within: within)
        } catch {
            fail("cannot commit block \(header.height): \(error)")
            return
        }
        head = (header.height, header.hash, header.timestamp)
        for transaction in transactions { ledger.append(RFC6962.leafHash(transaction.envelope.id)) }
        committedBlocks += 1
        executed = [:]
        judged = [:]
        nextHeightHint.store(nextHeight, ordering: .relaxed)
        let ids = transactions.map(\.envelope.id)
        // Into the filter before out of the mempool: a submission that no longer finds an id
        // waiting there finds it here (and then in PostgreSQL).
        committedIDs.withLock { filter in for id in ids { filter?.insert(id) } }
        let expiredIDs = mempool.withLock { mempool in
            mempool.remove(ids, committed: true)
            return mempool.dropExpired(height: nextHeight, now: Self.nowMilliseconds())
        }
        remember(expired: expiredIDs)
        // After the block is in PostgreSQL: a waiter registered later finds it there.
        let woken: [(Int, [(token: UInt64, done: @Sendable (Committed) -> Void)])] = waiters.withLock { waiters in
            guard !waiters.byID.isEmpty else { return [] }
            return ids.indices.compactMap { index in waiters.byID.removeValue(forKey: ByteKey(ids[index])).map { (index, $0) } }
        }
        if !woken.isEmpty {
            // One dispatch per core for the whole block rather than one per waiter: each wake-up
            // of a pool thread costs more than answering a waiter.
            let calls = woken.flatMap { index, found in
                found.map { (Committed(transaction: transactions[index], height: header.height, index: index), $0.done) }
            }
            let chunks = min(Self.wakeChunks, calls.count)
            for chunk in 0..<chunks {
                DispatchQueue.global().async {
                    for position in stride(from: chunk, to: calls.count, by: chunks) { calls[position].1(calls[position].0) }
                }
            }
        }
        hooks.afterCommit?(header, events)
        // Validators hosted here that have not decided yet take the decision directly.
        for index in engines.keys.sorted() {
            inbox.append((index, index == 0 ? 1 % max(engines.count, 1) : 0, .decision(decision)))
        }
    }

    /// The state with every block value replaced by a reference; each value is stored once.
    private func interned(_ state: HardState, on connection: PostgresConnection) throws -> HardState {
        try WALValues.intern(state) { value in
            // The same block is interned at every step of its height: hash it once.
            let hash: [UInt8]
            if let last = lastInterned, last.value == value {
                hash = last.hash
            } else {
                hash = SHA256.hash(value)
                lastInterned = (value, hash)
            }
            if !storedValues.contains(hash) {
                try log.saveValue(height: state.height, hash: hash, value: value, on: connection)
                if storedValues.count > 64 { storedValues.removeAll() }
                storedValues.insert(hash)
            }
            return hash
        }
    }

    private func remember(expired ids: [[UInt8]]) {
        guard !ids.isEmpty else { return }
        expired.withLock { expired in
            for id in ids where expired.ids.insert(id).inserted { expired.order.append(id) }
            let excess = expired.order.count - limits.expiredRememberedMax
            if excess > 0 {
                for id in expired.order.prefix(excess) { expired.ids.remove(id) }
                expired.order.removeFirst(excess)
            }
        }
    }

    private func fail(_ reason: String) {
        FileHandle.standardError.write(Data("chain \(setup.chainID): \(reason); the chain stops\n".utf8))
        stopped = true
        stoppedFlag.store(true, ordering: .releasing)
        timer?.cancel()
        timer = nil
    }

    // MARK: - Time

    /// Ticks run only while there is work: transactions waiting or a height in progress with
    /// transactions. An idle chain has no timer.
    private func updateTimer() {
        let busy = !stopped && !mempool.withLock({ $0.isEmpty })
        if busy, timer == nil {
            let source = DispatchSource.makeTimerSource(queue: queue)
            let interval = DispatchTimeInterval.milliseconds(Int(limits.consensusTick.wholeMilliseconds))
            source.schedule(deadline: .now() + interval, repeating: interval)
            source.setEventHandler { [weak self] in self?.tick() }
            source.resume()
            timer = source
            ticking.store(true, ordering: .relaxed)
        } else if !busy, let source = timer {
            source.cancel()
            timer = nil
            ticking.store(false, ordering: .relaxed)
        }
    }

    private func tick() {
        for index in engines.keys.sorted() {
            let ready = engines[index]!.step(.tick)
            handle(ready, of: index)
        }
        drain()
    }

    static func nowMilliseconds() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}
