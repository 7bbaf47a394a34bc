// The mempool alone: bounds, dedupe (also against recent commits), expiry, and fair batches.
import Crypto
import HanseCore
import Ledger
@testable import Node
import XCTest

final class MempoolTests: XCTestCase {
    private func envelope(_ signer: PrivateKey, _ index: Int, until: ValidUntil = .height(100)) throws -> TransactionEnvelope {
        var envelope = TransactionEnvelope(chainID: "c", contract: "kv", method: "put", args: Array("{\"i\":\(index)}".utf8),
                                           nonce: Array(String(format: "%016d", index).utf8), validUntil: until, algorithm: signer.algorithm,
                                           signer: [], signature: [])
        try envelope.sign(with: signer)
        return envelope
    }

    func testBatchesAreFairAcrossSignersAndKeepEachSignersOrder() throws {
        let heavy = try PrivateKey.generate(.ed25519)
        let light = try PrivateKey.generate(.ed25519)
        var mempool = Mempool(limits: Limits())
        let many = try (0..<10).map { try envelope(heavy, $0) }
        for transaction in many { XCTAssertEqual(mempool.add(transaction, nextHeight: 1, now: 0), .accepted) }
        let few = try (100..<102).map { try envelope(light, $0) }
        for transaction in few { XCTAssertEqual(mempool.add(transaction, nextHeight: 1, now: 0), .accepted) }
        let batch = mempool.batch(maxCount: 4, maxBytes: 1 << 20, height: 1, now: 0).transactions
        XCTAssertEqual(batch.map(\.id), [many[0].id, few[0].id, many[1].id, few[1].id], "signers take turns, each in arrival order")
        mempool.remove(batch.map(\.id), committed: true)
        XCTAssertEqual(mempool.count, 8)
        let rest = mempool.batch(maxCount: 100, maxBytes: 1 << 20, height: 1, now: 0).transactions
        XCTAssertEqual(rest.map(\.id), many[2...].map(\.id))
        XCTAssertEqual(mempool.add(many[0], nextHeight: 2, now: 0), .duplicate, "a committed id is refused for a while")
        XCTAssertEqual(mempool.add(many[5], nextHeight: 2, now: 0), .duplicate, "a waiting id is refused")
    }

    func testBoundsAndExpiry() throws {
        let signer = try PrivateKey.generate(.ed25519)
        var limits = Limits()
        limits.mempoolPerSignerMax = 3
        var mempool = Mempool(limits: limits)
        for index in 0..<3 { XCTAssertEqual(mempool.add(try envelope(signer, index), nextHeight: 1, now: 0), .accepted) }
        guard case .full = mempool.add(try envelope(signer, 3), nextHeight: 1, now: 0) else { return XCTFail("per-signer bound") }
        XCTAssertEqual(mempool.add(try envelope(try PrivateKey.generate(.ed25519), 9, until: .height(4)), nextHeight: 5, now: 0), .expired)
        let soon = try envelope(try PrivateKey.generate(.ed25519), 10, until: .unixMilliseconds(1_000))
        XCTAssertEqual(mempool.add(soon, nextHeight: 1, now: 500), .accepted)
        let (batch, expired) = mempool.batch(maxCount: 100, maxBytes: 1 << 20, height: 1, now: 2_000)
        XCTAssertEqual(expired, [soon.id])
        XCTAssertEqual(batch.count, 3)
        limits.mempoolTransactionsMax = 3
        var small = Mempool(limits: limits)
        for index in 0..<3 { _ = small.add(try envelope(try PrivateKey.generate(.ed25519), index), nextHeight: 1, now: 0) }
        guard case .full(let reason) = small.add(try envelope(signer, 50), nextHeight: 1, now: 0) else { return XCTFail("overall bound") }
        XCTAssertTrue(reason.contains("full"))
    }

    /// `dropExpired` skips its scan while nothing can have expired; what it drops, as time and
    /// heights advance with adds and removals in between, is exactly what a full scan finds.
    func testExpiryDropsExactlyWhatAFullScanWould() throws {
        let signers = try (0..<4).map { _ in try PrivateKey.generate(.ed25519) }
        var mempool = Mempool(limits: Limits())
        var waiting: [[UInt8]: ValidUntil] = [:]
        var generator = SystemRandomNumberGenerator()
        var index = 0
        for step in 0..<60 {
            let height = UInt64(step), now = UInt64(step) * 100
            for _ in 0..<8 {
                index += 1
                let until: ValidUntil = Bool.random(using: &generator)
                    ? .height(height + UInt64.random(in: 0...12, using: &generator))
                    : .unixMilliseconds(now + UInt64.random(in: 0...1_200, using: &generator))
                let transaction = try envelope(signers[index % 4], index, until: until)
                XCTAssertEqual(mempool.add(transaction, nextHeight: height, now: now), .accepted)
                waiting[transaction.id] = until
            }
            if step % 7 == 3, let some = waiting.keys.first {
                mempool.remove([some])
                waiting[some] = nil
            }
            let expected = Set(waiting.filter { _, until in
                switch until {
                case .height(let last): height + 1 > last
                case .unixMilliseconds(let last): now + 50 > last
                }
            }.keys)
            let dropped = mempool.dropExpired(height: height + 1, now: now + 50)
            XCTAssertEqual(Set(dropped), expected, "step \(step)")
            for id in dropped { waiting[id] = nil }
            XCTAssertEqual(mempool.count, waiting.count)
        }
        XCTAssertGreaterThan(index - waiting.count, 100, "many expired along the way")
    }

    func testRemovingAFullBlockOfOneSignerEmptiesTheMempool() throws {
        let signer = try PrivateKey.generate(.ed25519)
        var mempool = Mempool(limits: Limits())
        let all = try (0..<5_000).map { try envelope(signer, $0) }
        for transaction in all { _ = mempool.add(transaction, nextHeight: 1, now: 0) }
        let batch = mempool.batch(maxCount: 5_000, maxBytes: 64 << 20, height: 1, now: 0).transactions
        XCTAssertEqual(batch.count, 5_000)
        mempool.remove(batch.map(\.id), committed: true)
        XCTAssertTrue(mempool.isEmpty)
        XCTAssertEqual(mempool.bytes, 0)
    }

    /// Keys that hash only their tails still tell apart ids that differ anywhere.
    func testByteKeysCompareEveryByte() {
        let base = [UInt8](repeating: 7, count: 32)
        var keys: [ByteKey: Int] = [:]
        for position in 0..<32 {
            var changed = base
            changed[position] = 8
            keys[ByteKey(changed)] = position
        }
        keys[ByteKey(base)] = -1
        keys[ByteKey([1, 2])] = 100
        keys[ByteKey([1, 2, 0])] = 101
        XCTAssertEqual(keys.count, 35)
        for position in 0..<32 {
            var changed = base
            changed[position] = 8
            XCTAssertEqual(keys[ByteKey(changed)], position)
        }
        XCTAssertEqual(keys[ByteKey(base)], -1)
        XCTAssertEqual(keys[ByteKey([1, 2])], 100)
        XCTAssertNil(keys[ByteKey([2, 1])])
        XCTAssertEqual(ByteKey(base).hashValue, ByteKey(Array(base)).hashValue)
    }
}
