internal import Crypto
public import Merkle

/// The outcome of one transaction: what the receipt says.
public struct Receipt: Sendable, Equatable {
    public enum Status: String, Sendable { case committed, failed }
    public var status: Status
    public var gasUsed: UInt64
    /// The return value (committed) or nothing.
    public var result: [UInt8]
    /// Why it failed (failed) or empty.
    public var error: String

    public init(status: Status, gasUsed: UInt64, result: [UInt8] = [], error: String = "") {
        self.status = status
        self.gasUsed = gasUsed
        self.result = result
        self.error = error
    }
}

/// One write to contract state; a nil value deletes the key.
public struct StateWrite: Sendable, Equatable {
    public var contract: String
    public var key: [UInt8]
    public var value: [UInt8]?
    public init(contract: String, key: [UInt8], value: [UInt8]?) {
        self.contract = contract
        self.key = key
        self.value = value
    }
}

/// An event a contract emitted.
public struct ContractEvent: Sendable, Equatable {
    public var contract: String
    public var topic: String
    public var data: [UInt8]
    public init(contract: String, topic: String, data: [UInt8]) {
        self.contract = contract
        self.topic = topic
        self.data = data
    }
}

/// A transaction of a block with everything its execution produced. A failed transaction has
/// no writes and no events.
public struct ExecutedTransaction: Sendable, Equatable {
    public var envelope: TransactionEnvelope
    public var receipt: Receipt
    public var writes: [StateWrite]
    public var events: [ContractEvent]
    /// The keys the execution read from the world state, in order of first read (the read set).
    public var reads: [StateKey]

    public init(envelope: TransactionEnvelope, receipt: Receipt, writes: [StateWrite] = [], events: [ContractEvent] = [], reads: [StateKey] = []) {
        self.envelope = envelope
        self.receipt = receipt
        self.writes = writes
        self.events = events
        self.reads = reads
    }
}

/// The roots a block header commits to, computed from the block's contents.
public enum BlockRoots {
    /// RFC 6962 root of the transaction ids in block order.
    public static func txRoot(_ transactions: [ExecutedTransaction]) -> MerkleHash {
        ReferenceMerkleTree(leaves: transactions.map { RFC6962.leafHash($0.envelope.id) }).root()
    }

    /// RFC 6962 root of the block's outcome: for each transaction in order, its receipt, its read
    /// set, then its writes, then its events, each leaf a domain-tagged encoding (docs/ledger.md).
    /// It covers every receipt, read set, state write and event row the block stores.
    public static func writeSetRoot(_ transactions: [ExecutedTransaction]) -> MerkleHash {
        var leaves: [MerkleHash] = []
        for (index, transaction) in transactions.enumerated() {
            leaves.append(RFC6962.leafHash(receiptLeaf(txIndex: UInt32(index), transaction.receipt)))
            leaves.append(RFC6962.leafHash(readSetLeaf(txIndex: UInt32(index), encodedReads: encodeReadSet(transaction.reads))))
            for (position, write) in transaction.writes.enumerated() {
                leaves.append(RFC6962.leafHash(writeLeaf(txIndex: UInt32(index), writeIndex: UInt32(position), write)))
            }
            for (position, event) in transaction.events.enumerated() {
                leaves.append(RFC6962.leafHash(eventLeaf(txIndex: UInt32(index), eventIndex: UInt32(position), event)))
            }
        }
        return ReferenceMerkleTree(leaves: leaves).root()
    }

    public static func receiptLeaf(txIndex: UInt32, _ receipt: Receipt) -> [UInt8] {
        var writer = ByteWriter(domain: "HANSE-RECEIPT", version: 1)
        writer.u32(txIndex)
        writer.field(receipt.status.rawValue)
        writer.u64(receipt.gasUsed)
        writer.field(receipt.result)
        writer.field(receipt.error)
        return writer.bytes
    }

    /// The read set as stored: u32(count) ‖ (field(contract) ‖ field(key))*.
    public static func encodeReadSet(_ reads: [StateKey]) -> [UInt8] {
        var writer = ByteWriter()
        writer.u32(UInt32(reads.count))
        for read in reads {
            writer.field(read.contract)
            writer.field(read.key)
        }
        return writer.bytes
    }

    /// Parses `encodeReadSet`'s bytes; nil if they are malformed.
    public static func decodeReadSet(_ bytes: [UInt8]) -> [StateKey]? {
        var reader = ByteReader(bytes)
        guard let count = reader.take(4)?.reduce(0, { $0 << 8 | Int($1) }) else { return nil }
        var reads: [StateKey] = []
        for _ in 0..<count {
            guard let contract = reader.field(), let key = reader.field() else { return nil }
            reads.append(StateKey(contract: String(decoding: contract, as: UTF8.self), key: key))
        }
        return reader.isAtEnd ? reads : nil
    }

    public static func readSetLeaf(txIndex: UInt32, encodedReads: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "HANSE-READS", version: 1)
        writer.u32(txIndex)
        writer.field(encodedReads)
        return writer.bytes
    }

    public static func writeLeaf(txIndex: UInt32, writeIndex: UInt32, _ write: StateWrite) -> [UInt8] {
        var writer = ByteWriter(domain: "HANSE-WRITE", version: 1)
        writer.u32(txIndex)
        writer.u32(writeIndex)
        writer.field(write.contract)
        writer.field(write.key)
        writer.u8(write.value == nil ? 0 : 1)
        writer.field(write.value ?? [])
        return writer.bytes
    }

    public static func eventLeaf(txIndex: UInt32, eventIndex: UInt32, _ event: ContractEvent) -> [UInt8] {
        var writer = ByteWriter(domain: "HANSE-EVENT", version: 1)
        writer.u32(txIndex)
        writer.u32(eventIndex)
        writer.field(event.contract)
        writer.field(event.topic)
        writer.field(event.data)
        return writer.bytes
    }
}

/// A block ready to store: header, certificate and executed transactions.
public struct CommittedBlock: Sendable, Equatable {
    public var header: BlockHeader
    public var certificate: CommitCertificate
    public var transactions: [ExecutedTransaction]

    public init(header: BlockHeader, certificate: CommitCertificate, transactions: [ExecutedTransaction]) {
        self.header = header
        self.certificate = certificate
        self.transactions = transactions
    }
}
