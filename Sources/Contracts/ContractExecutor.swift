public import Crypto
import Foundation
public import HanseCore
public import Ledger

/// Chain-level rules the executor applies: from the chain's configuration (its genesis block).
public struct ChainRules: Sendable, Equatable {
    /// Signer addresses that are chain admins from genesis; more are granted with `_system.grant_role`.
    public var admins: Set<String>
    /// Most fuel one transaction may burn on this chain (further capped by `Limits.contractFuelMax`).
    public var fuelMax: UInt64
    /// Who may call contracts other than `_system`.
    public var access: ChainAccess

    public init(admins: Set<String>, fuelMax: UInt64 = Limits().contractFuelMax, access: ChainAccess) {
        self.admins = admins
        self.fuelMax = fuelMax
        self.access = access
    }
}

/// The answer to a read-only query.
public struct QueryResult: Sendable, Equatable {
    public var result: [UInt8]
    public var gasUsed: UInt64
    public var logs: [String]
}

/// Executes a block's transactions: `_system` lifecycle methods natively, every other contract in
/// the Wasm runtime. Each transaction runs against an overlay of the world state; its writes and
/// events are kept only if it succeeds.
public final class ContractExecutor: TransactionExecutor {
    public let runtime: ContractRuntime
    public let rules: ChainRules

    public init(runtime: ContractRuntime, rules: ChainRules) {
        self.runtime = runtime
        self.rules = rules
    }

    var limits: Limits { runtime.limits }

    public func execute(_ transactions: [TransactionEnvelope], in block: BlockContext, state: any WorldState) throws -> [ExecutedTransaction] {
        let blockState = BlockState(base: state)
        var executed: [ExecutedTransaction] = []
        executed.reserveCapacity(transactions.count)
        if rules.access == .members {
            // Every signer's role in one storage round trip rather than one per transaction.
            try blockState.prefetch(Set(transactions.lazy.filter { $0.contract != TransactionEnvelope.systemContract }
                .map { SystemContract.roleKey($0.signerAddress) }))
        }
        for envelope in transactions {
            let transactionState = TransactionState(block: blockState)
            let environment = CallEnvironment(caller: envelope.signerAddress, txID: envelope.id, block: block)
            let budget = min(envelope.gasLimit, limits.contractFuelMax, rules.fuelMax)
            let outcome: CallOutcome
            if let refusal = try refusal(of: environment.caller, contract: envelope.contract, state: transactionState) {
                outcome = CallOutcome(failure: refusal, result: [], events: [], logs: [], fuelUsed: 0)
            } else if envelope.contract == TransactionEnvelope.systemContract {
                outcome = try SystemContract(executor: self, state: transactionState, environment: environment, budget: budget)
                    .run(method: envelope.method, args: envelope.args)
            } else {
                outcome = try call(contract: envelope.contract, method: envelope.method, args: envelope.args,
                                   environment: environment, state: transactionState, budget: budget)
            }
            if let failure = outcome.failure {
                executed.append(ExecutedTransaction(envelope: envelope, receipt: Receipt(status: .failed, gasUsed: outcome.fuelUsed, error: failure.description),
                                                    reads: transactionState.reads))
            } else {
                let writes = transactionState.writes
                blockState.apply(writes)
                executed.append(ExecutedTransaction(envelope: envelope, receipt: Receipt(status: .committed, gasUsed: outcome.fuelUsed, result: outcome.result),
                                                    writes: writes, events: outcome.events, reads: transactionState.reads))
            }
        }
        return executed
    }

    /// Why `caller` may not call `contract` on this chain, or nil when it may. On a members-only
    /// chain a contract call needs the writer or admin role (genesis admins hold admin); the role
    /// key enters the transaction's read set. `_system` methods apply their own rules.
    func refusal(of caller: String, contract: String, state: TransactionState) throws -> ContractError? {
        guard rules.access == .members, contract != TransactionEnvelope.systemContract, !rules.admins.contains(caller) else { return nil }
        switch try state.value(of: SystemContract.roleKey(caller)).map({ String(decoding: $0, as: UTF8.self) }) {
        case "writer", "admin": return nil
        case let role?: return .forbidden("signer \(caller) has role \(role) on this chain; calling contracts needs writer or admin")
        case nil: return .forbidden("signer \(caller) is not a member of this chain; calling contracts needs the writer or admin role")
        }
    }

    /// Runs a method read-only against `state`: the same code, but any write or event is an error.
    public func query(contract: String, method: String, args: [UInt8], caller: String, in block: BlockContext,
                      state: any WorldState) throws -> Result<QueryResult, ContractError> {
        let transactionState = TransactionState(block: BlockState(base: state), readOnly: true)
        let environment = CallEnvironment(caller: caller, txID: [UInt8](repeating: 0, count: 32), block: block)
        let outcome = try call(contract: contract, method: method, args: args, environment: environment,
                               state: transactionState, budget: limits.contractQueryFuel)
        if let failure = outcome.failure { return .failure(failure) }
        return .success(QueryResult(result: outcome.result, gasUsed: outcome.fuelUsed, logs: outcome.logs))
    }

    /// Fuel of looking a contract up: what a call to a missing, frozen or revoked contract pays.
    static let lookupFuel: UInt64 = 2_000

    /// A contract call: look the contract up, check that it may be called, run the method.
    /// `allowLifecycle` is the deploy or upgrade running `init` or `migrate`, which may run while
    /// the contract is frozen (freeze, upgrade to a fix, unfreeze).
    func call(contract: String, method: String, args: [UInt8], environment: CallEnvironment, state: TransactionState,
              budget: UInt64, allowLifecycle: Bool = false) throws -> CallOutcome {
        func failed(_ error: ContractError) -> CallOutcome {
            budget < Self.lookupFuel
                ? CallOutcome(failure: .outOfFuel(budget: budget), result: [], events: [], logs: [], fuelUsed: budget)
                : CallOutcome(failure: error, result: [], events: [], logs: [], fuelUsed: Self.lookupFuel)
        }
        guard let record = try SystemContract.record(of: contract, in: state) else { return failed(.notFound("contract \(contract)")) }
        switch record.status {
        case .active: break
        case .frozen where allowLifecycle: break
        case .frozen: return failed(.notCallable("contract \(contract) is frozen"))
        case .revoked: return failed(.notCallable("contract \(contract) is revoked"))
        }
        guard record.methods.contains(method) || allowLifecycle else { return failed(.notFound("method \(method) of contract \(contract)")) }
        guard let hash = Hex.decode(record.codeHash) else { return failed(.notFound("code of contract \(contract)")) }
        return try runtime.call(hash: hash, code: {
            guard let code = try state.peek(SystemContract.codeKey(record.codeHash)) else {
                throw ContractError.notFound("code \(record.codeHash)")
            }
            return code
        }, method: method, contract: contract, args: args, environment: environment, state: state, fuel: budget)
    }
}
