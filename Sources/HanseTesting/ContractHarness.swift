public import Contracts
public import Crypto
public import Ledger
internal import Foundation
internal import HanseCore

/// Runs transactions through the contract executor against in-memory world state, block by block:
/// a chain without consensus or storage, for contract tests.
public final class ContractHarness {
    public let chainID = "harness"
    public let admin: PrivateKey
    public let executor: ContractExecutor
    public let state = MemoryWorldState()
    public private(set) var height: UInt64 = 1

    public init(runtime: ContractRuntime = ContractRuntime(), admin: PrivateKey? = nil) throws {
        let admin = try admin ?? PrivateKey.generate(.ed25519)
        self.admin = admin
        executor = ContractExecutor(runtime: runtime, rules: ChainRules(admins: [TransactionEnvelope.address(algorithm: admin.algorithm, publicKey: admin.publicKey.raw)],
                                                                    access: .open))
    }

    public var block: BlockContext { BlockContext(chainID: chainID, height: height, timestampMilliseconds: 1_795_219_200_000 + height * 1000) }

    /// A signed envelope.
    public func envelope(_ contract: String, _ method: String, _ args: String, by signer: PrivateKey? = nil,
                         gas: UInt64 = TransactionEnvelope.defaultGasLimit) throws -> TransactionEnvelope {
        var envelope = TransactionEnvelope(chainID: chainID, contract: contract, method: method, args: Array(args.utf8),
                                           nonce: SecureRandom().bytes(16), validUntil: .height(height + 100), gasLimit: gas,
                                           algorithm: (signer ?? admin).algorithm, signer: [])
        try envelope.sign(with: signer ?? admin)
        return envelope
    }

    /// Executes one block of envelopes and applies its writes.
    @discardableResult
    public func run(_ envelopes: [TransactionEnvelope]) throws -> [ExecutedTransaction] {
        let executed = try executor.execute(envelopes, in: block, state: state)
        state.apply(executed)
        height += 1
        return executed
    }

    /// Executes one transaction in its own block.
    @discardableResult
    public func call(_ contract: String, _ method: String, _ args: String = "{}", by signer: PrivateKey? = nil,
                     gas: UInt64 = TransactionEnvelope.defaultGasLimit) throws -> ExecutedTransaction {
        try run([envelope(contract, method, args, by: signer, gas: gas)])[0]
    }

    /// Deploys `code` as `name` through `_system.deploy`, signed by the admin.
    @discardableResult
    public func deploy(_ name: String, code: [UInt8], version: String = "1", initArgs: String? = nil) throws -> ExecutedTransaction {
        var args = #"{"name":"\#(name)","version":"\#(version)","code":"\#(Data(code).base64EncodedString())""#
        if let initArgs {
            let quoted = String(decoding: try JSONSerialization.data(withJSONObject: initArgs, options: .fragmentsAllowed), as: UTF8.self)
            args += #","init_args":\#(quoted)"#
        }
        return try call(TransactionEnvelope.systemContract, "deploy", args + "}", gas: 1_000_000_000)
    }

    /// A read-only query.
    public func query(_ contract: String, _ method: String, _ args: String = "{}", caller: String = "") throws -> Result<QueryResult, ContractError> {
        try executor.query(contract: contract, method: method, args: Array(args.utf8), caller: caller, in: block, state: state)
    }
}

extension ExecutedTransaction {
    /// The result as text, for assertions.
    public var resultText: String { String(decoding: receipt.result, as: UTF8.self) }
}
