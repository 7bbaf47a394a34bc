public import Consensus

/// Keeps block values out of the consensus write-ahead log records: a value is replaced by a
/// reference (a tag and its SHA-256) and stored once per height beside the log. Without this, a
/// validator's state at every step would repeat the proposed block (up to the block size) several
/// times (locked value, valid value, own proposal).
public enum WALValues {
    /// Block proposals start with their own domain tag, so a value starting with this tag is a reference.
    static let tag = Array("HANSE-VALUE-REF:".utf8)

    static func isReference(_ value: [UInt8]) -> Bool { value.count == tag.count + 32 && value.starts(with: tag) }

    /// `state` with each value replaced by `tag + store(value)` (store returns the value's hash).
    public static func intern(_ state: HardState, store: ([UInt8]) throws -> [UInt8]) throws -> HardState {
        // A state names one or two distinct values; a short list compared with == (which starts
        // with a storage-identity check) is far cheaper than hashing whole blocks as dictionary keys.
        var cache: [(value: [UInt8], reference: [UInt8])] = []
        func reference(_ value: [UInt8]) throws -> [UInt8] {
            guard value.count > tag.count + 32 else { return value }
            if let known = cache.first(where: { $0.value == value }) { return known.reference }
            let made = tag + (try store(value))
            cache.append((value, made))
            return made
        }
        var result = state
        result.lockedValue = try state.lockedValue.map(reference)
        result.validValue = try state.validValue.map(reference)
        result.sent = try state.sent.map { message in
            switch message {
            case .proposal(var signed):
                signed.proposal.value = try reference(signed.proposal.value)
                return .proposal(signed)
            case .decision(var decision):
                decision.value = try reference(decision.value)
                return .decision(decision)
            case .vote:
                return message
            }
        }
        return result
    }

    /// `state` with references replaced by the stored values; nil if one is missing.
    public static func resolve(_ state: HardState, values: [[UInt8]: [UInt8]]) -> HardState? {
        func value(_ bytes: [UInt8]) -> [UInt8]? {
            guard isReference(bytes) else { return bytes }
            return values[Array(bytes.dropFirst(tag.count))]
        }
        var result = state
        if let locked = state.lockedValue {
            guard let resolved = value(locked) else { return nil }
            result.lockedValue = resolved
        }
        if let valid = state.validValue {
            guard let resolved = value(valid) else { return nil }
            result.validValue = resolved
        }
        var sent: [ConsensusMessage] = []
        for message in state.sent {
            switch message {
            case .proposal(var signed):
                guard let resolved = value(signed.proposal.value) else { return nil }
                signed.proposal.value = resolved
                sent.append(.proposal(signed))
            case .decision(var decision):
                guard let resolved = value(decision.value) else { return nil }
                decision.value = resolved
                sent.append(.decision(decision))
            case .vote:
                sent.append(message)
            }
        }
        result.sent = sent
        return result
    }
}
