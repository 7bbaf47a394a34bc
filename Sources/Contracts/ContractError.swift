internal import WasmKit

/// Why a contract call, deploy or lifecycle step failed. Its `description` is the receipt's error
/// text, so it is part of consensus output: it never contains anything a validator could see
/// differently (no addresses, timings or host paths).
public enum ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call burnt its whole fuel budget.
    case outOfFuel(budget: UInt64)
    /// The guest executed `unreachable` (a Swift trap or C `__builtin_trap` in the contract).
    case unreachable
    /// A load or store outside the guest's linear memory.
    case memoryOutOfBounds
    /// Recursion deeper than the interpreter's stack.
    case callStackExhausted
    /// Any other WebAssembly trap: division by zero, integer overflow, a bad indirect call.
    case trap(String)
    /// The contract called `revert` with this message.
    case revert(String)
    /// A host function refused the call: a pointer outside memory, a size over its limit, a write
    /// in a read-only query.
    case hostCall(function: String, reason: String)
    /// The module failed deploy-time validation.
    case invalidModule(String)
    /// No such contract, method, version or role.
    case notFound(String)
    /// The contract is frozen or revoked.
    case notCallable(String)
    /// The signer may not do this.
    case forbidden(String)
    /// Arguments of a `_system` method that do not parse or break a rule.
    case invalidArguments(String)
    /// A deploy's `init` or an upgrade's `migrate` failed, so the whole step did.
    indirect case hookFailed(hook: String, reason: ContractError)

    public var description: String {
        switch self {
        case .outOfFuel(let budget): "out of fuel (budget \(budget))"
        case .unreachable: "trap: unreachable executed"
        case .memoryOutOfBounds: "trap: memory access out of bounds"
        case .callStackExhausted: "trap: call stack exhausted"
        case .trap(let reason): "trap: \(reason)"
        case .revert(let message): "revert: \(message)"
        case .hostCall(let function, let reason): "host call \(function): \(reason)"
        case .invalidModule(let reason): "invalid module: \(reason)"
        case .notFound(let what): "not found: \(what)"
        case .notCallable(let why): "not callable: \(why)"
        case .forbidden(let why): "forbidden: \(why)"
        case .invalidArguments(let why): "invalid arguments: \(why)"
        case .hookFailed(let hook, let reason): "\(hook) failed: \(reason)"
        }
    }

    /// The one place where WasmKit's errors become ours. WasmKit's trap reasons are not public,
    /// so a trap is recognised by its description, which names the reason first.
    static func from(_ error: any Error, budget: UInt64) -> ContractError {
        if let error = error as? ContractError { return error }
        if let trap = error as? Trap {
            var reason = trap.description
            if reason.hasPrefix("Trap: ") { reason.removeFirst(6) }
            if let newline = reason.firstIndex(of: "\n") { reason = String(reason[..<newline]) }
            switch reason {
            case "out of fuel": return .outOfFuel(budget: budget)
            case "unreachable": return .unreachable
            case "out of bounds memory access": return .memoryOutOfBounds
            case "call stack exhausted": return .callStackExhausted
            default: return .trap(String(reason.prefix(200)))
            }
        }
        // Instantiation failures (a data segment outside memory, a missing import) and uncaught
        // Wasm exceptions.
        return .trap(String(String(describing: error).prefix(200)))
    }
}
