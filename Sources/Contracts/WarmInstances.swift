// Warm instances: one WasmKit instance serving call after call of the same module, reset exactly
// between calls. WasmKit translates a function the first time an instance calls it and keeps the
// result in that instance, so a fresh store per call pays for translation, instantiation (a 4 GiB
// address-space reservation, the host functions bound) and teardown on every call. A warm instance
// pays for them once.
//
// A call must not see anything an earlier one left behind. What a call can change, and how it is
// put back:
// - linear memory: copied back from the image taken right after instantiation; an instance whose
//   memory grew is dropped instead;
// - mutable globals: reassigned their initial values. WasmKit reaches only exported globals, so the
//   module the runtime parses exports each mutable global under a reserved name (`_hanse_g<index>`);
//   the code hash and the fees stay those of the deployed bytes;
// - tables and passive segments: only table.set/grow/fill/copy/init, elem.drop, data.drop and
//   memory.init change them. A module using any of these is never pooled (fresh store per call).
// Only instances whose call succeeded go back to the pool; a trap, a host error or running out of
// fuel drops the instance. Fees do not depend on whether an instance was warm: the code-size and
// memory charges stay as they are, and `ContractsTests/WarmInstanceTests` compares pooled against
// fresh execution receipt for receipt.
internal import WasmKit
internal import WasmParser

/// The host functions of one instance read the call they serve from here: a warm instance serves
/// many calls, each with its own `HostCall`.
final class HostSlot {
    var call: HostCall?
}

/// What the runtime keeps per code hash: the parsed module and whether its calls can be undone.
struct PreparedModule {
    let module: Module
    /// Size of the deployed bytes (the code-size fee).
    let codeSize: Int
    /// Indices of the mutable globals, exported as `_hanse_g<index>`; nil when the module cannot
    /// be reset between calls and always runs in a fresh store.
    let resettableGlobals: [UInt32]?

    static let globalExportPrefix = "_hanse_g"

    /// Parses `code`. A module that can be reset is parsed from a copy of its bytes that also
    /// exports its mutable globals.
    static func prepare(_ code: [UInt8]) throws -> PreparedModule {
        if let globals = resettableMutableGlobals(code), let rewritten = exporting(globals, from: code) {
            return PreparedModule(module: try parseWasm(bytes: rewritten, features: ModuleValidator.features),
                                  codeSize: code.count, resettableGlobals: globals)
        }
        return PreparedModule(module: try parseWasm(bytes: code, features: ModuleValidator.features), codeSize: code.count, resettableGlobals: nil)
    }

    /// The mutable globals of a module whose calls can be undone by restoring memory and those
    /// globals; nil if a function body changes a table or drops or copies from a segment, if an
    /// export already uses the reserved prefix, or if the module does not parse.
    static func resettableMutableGlobals(_ code: [UInt8]) -> [UInt32]? {
        var parser = Parser(bytes: code, features: ModuleValidator.features)
        var mutable: [UInt32] = []
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .importSection(let imports):
                    // Imported globals, tables or memories would shift the index spaces (and the
                    // deploy validator refuses them anyway).
                    guard imports.allSatisfy({ if case .function = $0.descriptor { true } else { false } }) else { return nil }
                case .globalSection(let globals):
                    for (index, global) in globals.enumerated() where global.type.mutability == .variable { mutable.append(UInt32(index)) }
                case .exportSection(let exports):
                    guard !exports.contains(where: { $0.name.hasPrefix("_hanse_") }) else { return nil }
                case .startSection:
                    return nil
                case .codeSection(let bodies):
                    for body in bodies {
                        var visitor = PersistentStateFinder()
                        var expression = ExpressionParser(code: body)
                        while let visit = try expression.parse() { try visit(visitor: &visitor) }
                    }
                default:
                    break
                }
            }
        } catch {
            return nil
        }
        return mutable
    }

    /// `code` with an export `_hanse_g<index>` added for each of `globals`; nil if the section
    /// layout is not as expected (the module then runs in a fresh store per call).
    static func exporting(_ globals: [UInt32], from code: [UInt8]) -> [UInt8]? {
        guard !globals.isEmpty else { return code }
        guard code.count >= 8 else { return nil }
        var output = Array(code[0..<8])
        var offset = 8
        var rewritten = false
        while offset < code.count {
            let id = code[offset]
            guard let (size, sizeBytes) = readLEB(code, at: offset + 1), offset + 1 + sizeBytes + Int(size) <= code.count else { return nil }
            let start = offset + 1 + sizeBytes, end = start + Int(size)
            if id == 7 {
                guard let (count, countBytes) = readLEB(code, at: start), start + countBytes <= end else { return nil }
                var content = leb(count + UInt32(globals.count))
                content += code[(start + countBytes)..<end]
                for index in globals {
                    let name = Array("\(globalExportPrefix)\(index)".utf8)
                    content += leb(UInt32(name.count)) + name + [0x03] + leb(index)
                }
                output += [7] + leb(UInt32(content.count)) + content
                rewritten = true
            } else {
                output += code[offset..<end]
            }
            offset = end
        }
        return rewritten ? output : nil
    }

    private static func readLEB(_ bytes: [UInt8], at start: Int) -> (UInt32, Int)? {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        var index = start
        while index < bytes.count, index - start < 5 {
            let byte = bytes[index]
            value |= UInt32(byte & 0x7f) << shift
            index += 1
            if byte & 0x80 == 0 { return (value, index - start) }
            shift += 7
        }
        return nil
    }

    private static func leb(_ value: UInt32) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }
}

/// Stops at the first instruction that changes a table or a segment: state that restoring memory
/// and globals would not put back.
private struct PersistentStateFinder: AnyInstructionVisitor {
    struct Found: Error {}
    typealias VisitorError = Found
    var binaryOffset: Int = 0

    mutating func visit(_ instruction: Instruction) throws(Found) {
        switch instruction {
        case .tableSet, .tableGrow, .tableFill, .tableCopy, .tableInit, .elemDrop, .dataDrop, .memoryInit: throw Found()
        default: return
        }
    }
}

/// One instance with everything needed to serve a call and to be put back as it was.
final class WarmInstance: @unchecked Sendable {
    // Used by one call at a time: the pool hands an instance out and takes it back.
    let store: Store
    let instance: Instance
    let memory: WasmKit.Memory
    let slot: HostSlot
    private let image: [UInt8]
    private let globals: [(WasmKit.Global, WasmKit.Value)]

    /// Instantiates `prepared` in `store` (new, with the call's fuel set); `poolable` takes the
    /// memory image and the globals' initial values so the instance can be reset.
    init(_ prepared: PreparedModule, store: Store, poolable: Bool) throws {
        self.store = store
        slot = HostSlot()
        let instance = try prepared.module.instantiate(store: store, imports: HostAPI.imports(for: slot, store: store))
        self.instance = instance
        guard let memory = instance.exports[memory: "memory"] else { throw ContractError.invalidModule("no exported memory") }
        self.memory = memory
        if poolable, let indices = prepared.resettableGlobals {
            image = memory.data
            globals = try indices.map { index in
                guard let global = instance.exports[global: "\(PreparedModule.globalExportPrefix)\(index)"] else {
                    throw ContractError.invalidModule("global \(index) is not reachable")
                }
                return (global, global.value)
            }
        } else {
            image = []
            globals = []
        }
    }

    /// Bytes this instance holds while idle: its memory and the image.
    var retainedBytes: Int { memory.byteCount + image.count }

    /// Puts memory and globals back as they were after instantiation; false if the instance
    /// cannot be reused (its memory grew).
    func reset() -> Bool {
        guard memory.byteCount == image.count, !image.isEmpty else { return false }
        memory.withUnsafeMutableBufferPointer(offset: 0, count: image.count) { target in
            image.withUnsafeBytes { target.copyMemory(from: $0) }
        }
        for (global, value) in globals {
            guard (try? global.assign(value)) != nil else { return false }
        }
        return true
    }
}

/// Idle warm instances by code hash, bounded by count per module and by the bytes they hold.
struct WarmPool: ~Copyable {
    let perModule: Int
    let bytesMax: Int
    private var idle: [[UInt8]: [WarmInstance]] = [:]
    private(set) var bytes = 0
    private(set) var count = 0

    init(perModule: Int, bytesMax: Int) {
        self.perModule = perModule
        self.bytesMax = bytesMax
    }

    mutating func take(_ hash: [UInt8]) -> WarmInstance? {
        guard let instance = idle[hash]?.popLast() else { return nil }
        if idle[hash]?.isEmpty == true { idle[hash] = nil }
        bytes -= instance.retainedBytes
        count -= 1
        return instance
    }

    /// Keeps a reset instance if there is room; otherwise it is dropped.
    mutating func give(_ instance: WarmInstance, hash: [UInt8]) {
        let size = instance.retainedBytes
        guard perModule > 0, (idle[hash]?.count ?? 0) < perModule, bytes + size <= bytesMax else { return }
        idle[hash, default: []].append(instance)
        bytes += size
        count += 1
    }

    /// Drops the idle instances of a module (its entry left the module cache).
    mutating func drop(_ hash: [UInt8]) {
        for instance in idle.removeValue(forKey: hash) ?? [] {
            bytes -= instance.retainedBytes
            count -= 1
        }
    }
}
