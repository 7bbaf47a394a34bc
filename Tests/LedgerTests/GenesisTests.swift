import Crypto
import Foundation
import HanseCore
import Ledger
import XCTest

final class GenesisTests: XCTestCase {
    private func genesis(access: ChainAccess?) throws -> ChainGenesis {
        let validator = try PrivateKey.generate(.p256)
        return ChainGenesis(chainID: "c", name: "n", consensus: "solo",
                            validators: [.init(algorithm: .p256, publicKey: Hex.encode(validator.publicKey.raw))],
                            admins: [String(repeating: "ab", count: 20)], blockTransactionsMax: 10, fuelMax: 100, access: access)
    }

    /// New chains record who may call contracts; chains from before access control have no such
    /// field and keep their exact genesis bytes (they are open).
    func testAccessIsRecordedAndOlderGenesesStillParse() throws {
        let members = try genesis(access: .members)
        XCTAssertTrue(String(decoding: members.encoded, as: UTF8.self).contains(#""access":"members""#))
        XCTAssertEqual(try ChainGenesis(encoded: members.encoded), members)

        let older = try genesis(access: nil)
        XCTAssertFalse(String(decoding: older.encoded, as: UTF8.self).contains("access"))
        XCTAssertNil(try ChainGenesis(encoded: older.encoded).access)

        let unknown = Array(String(decoding: members.encoded, as: UTF8.self).replacingOccurrences(of: #""members""#, with: #""everyone""#).utf8)
        XCTAssertThrowsError(try ChainGenesis(encoded: unknown))
    }
}
