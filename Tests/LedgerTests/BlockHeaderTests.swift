// Block headers and commit certificates: the hash covers every header field, a certificate
// proves its block only with a quorum of distinct valid validator signatures over the vote bytes.
import Crypto
import HanseCore
import Ledger
import Merkle
import XCTest

final class BlockHeaderTests: XCTestCase {
    private func makeHeader(validators: ValidatorSet) -> BlockHeader {
        let txs = (0..<3).map { RFC6962.leafHash(Array("tx \($0)".utf8)) }
        let root = ReferenceMerkleTree(leaves: txs).root()
        return BlockHeader(chainID: "acme", height: 7, previousHash: SHA256.hash(utf8: "block 6"), txRoot: root,
                           writeSetRoot: RFC6962.emptyRoot, ledgerRoot: root, ledgerSize: 3, timestamp: 1_795_219_200_000,
                           proposer: 1, validatorSetHash: validators.hash)
    }

    func testHashCoversEveryField() throws {
        let validators = ValidatorSet(keys: try (0..<4).map { _ in try PrivateKey.generate(.ed25519).publicKey })
        let header = makeHeader(validators: validators)
        XCTAssertEqual(header.hash, SHA256.hash(header.encoded))
        XCTAssertTrue(header.encoded.starts(with: Array("HANSE-BLOCK".utf8) + [1]))
        var variants: [BlockHeader] = []
        var changed = header; changed.chainID = "acmf"; variants.append(changed)
        changed = header; changed.height += 1; variants.append(changed)
        changed = header; changed.previousHash[0] ^= 1; variants.append(changed)
        changed = header; changed.txRoot[31] ^= 1; variants.append(changed)
        changed = header; changed.writeSetRoot[3] ^= 1; variants.append(changed)
        changed = header; changed.ledgerRoot[9] ^= 1; variants.append(changed)
        changed = header; changed.ledgerSize += 1; variants.append(changed)
        changed = header; changed.timestamp += 1; variants.append(changed)
        changed = header; changed.proposer += 1; variants.append(changed)
        changed = header; changed.validatorSetHash[0] ^= 1; variants.append(changed)
        XCTAssertEqual(Set(variants.map(\.hash) + [header.hash]).count, variants.count + 1)
    }

    func testCertificateNeedsAQuorumOfDistinctValidSignatures() throws {
        let keys = try SignatureAlgorithm.allCases.flatMap { algorithm in try (0..<1).map { _ in try PrivateKey.generate(algorithm) } }
            + [try PrivateKey.generate(.ed25519)]
        let validators = ValidatorSet(keys: keys.map(\.publicKey))
        XCTAssertEqual(validators.quorum, 3, "2f+1 of n = 4")
        let header = makeHeader(validators: validators)
        let vote = CommitCertificate.voteBytes(chainID: header.chainID, height: header.height, round: 2, blockHash: header.hash)
        let signatures = try keys.enumerated().map { CommitCertificate.Signature(validator: UInt32($0.offset), signature: try $0.element.sign(vote)) }
        func certificate(_ entries: [CommitCertificate.Signature], round: UInt32 = 2) -> CommitCertificate {
            CommitCertificate(chainID: header.chainID, height: header.height, round: round, blockHash: header.hash, signatures: entries)
        }
        XCTAssertNoThrow(try certificate(Array(signatures.prefix(3))).verify(header: header, validators: validators))
        XCTAssertNoThrow(try certificate(signatures).verify(header: header, validators: validators))
        XCTAssertThrowsError(try certificate(Array(signatures.prefix(2))).verify(header: header, validators: validators)) {
            XCTAssertEqual("\($0)", "2 signatures, need 3 of 4")
        }
        XCTAssertThrowsError(try certificate([signatures[0], signatures[0], signatures[1]]).verify(header: header, validators: validators))
        XCTAssertThrowsError(try certificate(Array(signatures.prefix(3)), round: 3).verify(header: header, validators: validators),
                             "signatures are bound to the round")
        var forged = Array(signatures.prefix(3))
        forged[2].signature[5] ^= 1
        XCTAssertThrowsError(try certificate(forged).verify(header: header, validators: validators))
        var other = header
        other.timestamp += 1
        XCTAssertThrowsError(try certificate(Array(signatures.prefix(3))).verify(header: other, validators: validators))
        var small = Limits()
        small.chainValidatorsMax = 3
        XCTAssertThrowsError(try certificate(signatures).verify(header: header, validators: validators, limits: small)) {
            XCTAssertEqual("\($0)", "validator set of 4, want 1 to 3")
        }
        let outsider = [CommitCertificate.Signature(validator: 9, signature: signatures[0].signature)]
        XCTAssertThrowsError(try certificate(Array(signatures.prefix(2)) + outsider).verify(header: header, validators: validators))
    }
}

final class BlockContentsTests: XCTestCase {
    func testSignedBytesDecodeToTheSameEnvelopeAndRefuseGarbage() throws {
        var envelope = TransactionEnvelope(chainID: "c", contract: "k", method: "m", args: Array("{}".utf8), nonce: SecureRandom().bytes(20),
                                           validUntil: .unixMilliseconds(99), algorithm: .ed25519, signer: [])
        try envelope.sign(with: try PrivateKey.generate(.sm2))
        XCTAssertEqual(try TransactionEnvelope(signedBytes: envelope.signedBytes, signature: envelope.signature), envelope)
        XCTAssertThrowsError(try TransactionEnvelope(signedBytes: Array(envelope.signedBytes.dropLast()), signature: []))
        XCTAssertThrowsError(try TransactionEnvelope(signedBytes: envelope.signedBytes + [0], signature: []))
        var wrongTag = envelope.signedBytes
        wrongTag[0] ^= 1
        XCTAssertThrowsError(try TransactionEnvelope(signedBytes: wrongTag, signature: []))
    }

    func testWriteSetRootCoversReceiptsWritesAndEvents() throws {
        var envelope = TransactionEnvelope(chainID: "c", contract: "k", method: "m", args: [], nonce: Array(repeating: 7, count: 16),
                                           validUntil: .height(1), algorithm: .ed25519, signer: [])
        try envelope.sign(with: try PrivateKey.generate(.ed25519))
        let base = ExecutedTransaction(envelope: envelope, receipt: Receipt(status: .committed, gasUsed: 5, result: [1]),
                                       writes: [StateWrite(contract: "k", key: [1], value: [2])],
                                       events: [ContractEvent(contract: "k", topic: "t", data: [3])])
        var variants = [base]
        var changed = base; changed.receipt.gasUsed = 6; variants.append(changed)
        changed = base; changed.receipt.result = [2]; variants.append(changed)
        changed = base; changed.receipt.status = .failed; variants.append(changed)
        changed = base; changed.writes[0].value = nil; variants.append(changed)
        changed = base; changed.writes[0].key = [9]; variants.append(changed)
        changed = base; changed.events[0].topic = "u"; variants.append(changed)
        changed = base; changed.events = []; variants.append(changed)
        XCTAssertEqual(Set(variants.map { BlockRoots.writeSetRoot([$0]) }).count, variants.count)
        XCTAssertEqual(BlockRoots.writeSetRoot([]), RFC6962.emptyRoot)
    }
}
