internal import ArgumentParser
internal import Foundation
internal import Node

/// `hanse verify proof.json`: checks a saved inclusion proof offline.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a saved transaction inclusion proof offline (the answer of GET /v1/chains/{chain}/transactions/{tx}/proof).",
        discussion: """
            Checks the transaction's signature and id, the audit path to the block's ledger root, the block hash, and that a \
            quorum of the listed validators signed the block. Pin the validators with --validator-set-hash (the validator_set_hash \
            of the chain's genesis block, which you obtained once and trust). Exit status 0 when the proof holds, 1 when it does not.
            """)

    @Argument(help: "The proof document (JSON), or - for standard input.")
    var file: String

    @Option(help: "The validator set hash the proof's validators must have (hex).")
    var validatorSetHash: String?

    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        do {
            let verified = try ProofVerifier.verify(try ProofVerifier.decode(Array(data)), expectedValidatorSetHash: validatorSetHash)
            print("""
                valid: transaction \(verified.txID) is in block \(verified.height) (\(verified.blockHash))
                signed by \(verified.signers) of \(verified.validators) validators (validator set \(verified.validatorSetHash))
                """)
            if validatorSetHash == nil {
                print("note: the validators were taken from the document; pass --validator-set-hash to pin them")
            }
        } catch {
            print("INVALID: \(error)")
            throw ExitCode(1)
        }
    }
}
