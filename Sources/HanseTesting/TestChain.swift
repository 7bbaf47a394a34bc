public import Crypto
public import Ledger
internal import Merkle
internal import HanseCore

/// Builds valid chains of blocks for tests: validators that certify, clients that sign, and the
/// header roots computed from the contents.
public struct TestChain {
    public let chainID: String
    public let validators: [PrivateKey]
    public let validatorSet: ValidatorSet
    private var ledger = CompactRange()
    private var previous = [UInt8](repeating: 0, count: 32)
    public private(set) var height: UInt64 = 0

    public init(chainID: String, validatorAlgorithm: SignatureAlgorithm = .ed25519) throws {
        self.chainID = chainID
        validators = try (0..<4).map { _ in try PrivateKey.generate(validatorAlgorithm) }
        validatorSet = ValidatorSet(keys: validators.map(\.publicKey))
    }

    /// A signed transaction with a committed receipt, one write of `value` under `key`, one event.
    public func transaction(signer: PrivateKey, key: String, value: String) throws -> ExecutedTransaction {
        var envelope = TransactionEnvelope(chainID: chainID, contract: "token", method: "set", args: Array("{\"\(key)\":\"\(value)\"}".utf8),
                                           nonce: SecureRandom().bytes(16), validUntil: .height(height + 100), algorithm: signer.algorithm, signer: [])
        try envelope.sign(with: signer)
        return ExecutedTransaction(envelope: envelope, receipt: Receipt(status: .committed, gasUsed: 10, result: Array("ok".utf8)),
                                   writes: [StateWrite(contract: "token", key: Array(key.utf8), value: Array(value.utf8))],
                                   events: [ContractEvent(contract: "token", topic: "set", data: Array(key.utf8))])
    }

    /// The next block over `transactions`, certified by three of the four validators.
    public mutating func nextBlock(_ transactions: [ExecutedTransaction], round: UInt32 = 0) throws -> CommittedBlock {
        transactions.forEach { ledger.append(RFC6962.leafHash($0.envelope.id)) }
        let header = BlockHeader(chainID: chainID, height: height, previousHash: previous, txRoot: BlockRoots.txRoot(transactions),
                                 writeSetRoot: BlockRoots.writeSetRoot(transactions), ledgerRoot: ledger.root, ledgerSize: ledger.size,
                                 timestamp: 1_795_219_200_000 + height * 1000, proposer: UInt32(height % 4), validatorSetHash: validatorSet.hash)
        let vote = CommitCertificate.voteBytes(chainID: chainID, height: height, round: round, blockHash: header.hash)
        let signatures = try validators.enumerated().dropFirst().map {
            CommitCertificate.Signature(validator: UInt32($0.offset), signature: try $0.element.sign(vote))
        }
        previous = header.hash
        height += 1
        return CommittedBlock(header: header, certificate: CommitCertificate(chainID: chainID, height: header.height, round: round,
                                                                            blockHash: header.hash, signatures: signatures),
                              transactions: transactions)
    }
}
