/// What a proposer puts up for a vote: the block header (whose hash the validators sign) and the
/// signed transactions in block order. Validators re-execute the transactions against their own
/// state and accept the proposal only if they arrive at the same header.
public struct BlockProposal: Sendable, Equatable {
    public var header: BlockHeader
    public var transactions: [TransactionEnvelope]

    public init(header: BlockHeader, transactions: [TransactionEnvelope]) {
        self.header = header
        self.transactions = transactions
    }

    public static let domain = "HANSE-PROPOSAL"

    /// field(header fields...) then u32(count) and field(signed bytes) ‖ field(signature) per tx.
    public var encoded: [UInt8] {
        var writer = ByteWriter(domain: Self.domain, version: 1)
        writer.field(header.chainID)
        writer.u64(header.height)
        writer.field(header.previousHash)
        writer.field(header.txRoot)
        writer.field(header.writeSetRoot)
        writer.field(header.ledgerRoot)
        writer.u64(header.ledgerSize)
        writer.u64(header.timestamp)
        writer.u32(header.proposer)
        writer.field(header.validatorSetHash)
        writer.u32(UInt32(transactions.count))
        for transaction in transactions {
            writer.field(transaction.signedBytes)
            writer.field(transaction.signature)
        }
        return writer.bytes
    }

    /// The header of an encoded proposal, without parsing its transactions (the header's hash
    /// names the value in consensus; the transactions are checked when the block is judged).
    public static func header(ofEncoded bytes: [UInt8]) -> BlockHeader? {
        var reader = ByteReader(bytes)
        guard reader.take(Self.domain.utf8.count).map({ Array($0) == Array(Self.domain.utf8) }) == true, reader.take(1)?.first == 1,
              let chainID = reader.field(), let height = reader.u64(), let previous = reader.field(), let txRoot = reader.field(),
              let writeSetRoot = reader.field(), let ledgerRoot = reader.field(), let ledgerSize = reader.u64(), let timestamp = reader.u64(),
              let proposer = reader.u32(), let validatorSetHash = reader.field(),
              [previous, txRoot, writeSetRoot, ledgerRoot, validatorSetHash].allSatisfy({ $0.count == 32 }) else { return nil }
        return BlockHeader(chainID: String(decoding: chainID, as: UTF8.self), height: height, previousHash: previous, txRoot: txRoot,
                           writeSetRoot: writeSetRoot, ledgerRoot: ledgerRoot, ledgerSize: ledgerSize, timestamp: timestamp,
                           proposer: proposer, validatorSetHash: validatorSetHash)
    }

    /// Parses `encoded`; nil when the bytes are not a well-formed proposal.
    public init?(encoded bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard reader.take(Self.domain.utf8.count).map({ Array($0) == Array(Self.domain.utf8) }) == true, reader.take(1)?.first == 1,
              let chainID = reader.field(), let height = reader.u64(), let previous = reader.field(), let txRoot = reader.field(),
              let writeSetRoot = reader.field(), let ledgerRoot = reader.field(), let ledgerSize = reader.u64(), let timestamp = reader.u64(),
              let proposer = reader.u32(), let validatorSetHash = reader.field(), let count = reader.u32(),
              [previous, txRoot, writeSetRoot, ledgerRoot, validatorSetHash].allSatisfy({ $0.count == 32 }) else { return nil }
        var transactions: [TransactionEnvelope] = []
        for _ in 0..<count {
            guard let signed = reader.field(), let signature = reader.field(),
                  let envelope = try? TransactionEnvelope(signedBytes: signed, signature: signature) else { return nil }
            transactions.append(envelope)
        }
        guard reader.isAtEnd else { return nil }
        header = BlockHeader(chainID: String(decoding: chainID, as: UTF8.self), height: height, previousHash: previous, txRoot: txRoot,
                             writeSetRoot: writeSetRoot, ledgerRoot: ledgerRoot, ledgerSize: ledgerSize, timestamp: timestamp,
                             proposer: proposer, validatorSetHash: validatorSetHash)
        self.transactions = transactions
    }
}

extension ByteReader {
    mutating func u32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }
    mutating func u64() -> UInt64? { take(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
}
