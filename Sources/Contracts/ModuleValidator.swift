public import HanseCore
internal import WasmKit
internal import WasmParser

/// What deploy-time validation learnt about a module.
public struct ModuleInfo: Sendable, Equatable {
    /// Exported functions of type () -> () that a transaction may call, sorted.
    public var methods: [String]
    /// Whether the module exports `init` (run at deploy) and `migrate` (run at upgrade).
    public var hasInit: Bool
    public var hasMigrate: Bool
    /// The memory's declared minimum and maximum, in 64 KiB pages.
    public var memoryPagesMin: UInt64
    public var memoryPagesMax: UInt64
}

/// Checks a module before it may be deployed: size, imports, memory, tables, exports, and the
/// instruction set. Everything a call later relies on is established here.
///
/// Determinism rules: only the MVP instruction set plus bulk memory, sign extension, saturating
/// conversions, multi-value and reference types (what clang and swiftc emit for wasm32 by
/// default); no threads or atomics, no SIMD, no exceptions, no GC, no memory64, no start
/// function, and no floating point at all (no f32/f64 types or instructions): a NaN's bits are
/// the one place where IEEE 754 lets two machines disagree, and contracts handle money in
/// integers anyway.
public enum ModuleValidator {
    /// The proposals a contract may use beyond the MVP.
    static let features: WasmFeatureSet = [.referenceTypes]

    /// Names a method may not have: lifecycle entry points and the memory.
    public static let reservedExports: Set<String> = ["init", "migrate", "memory"]

    public static func validate(_ code: [UInt8], limits: HanseCore.Limits) throws(ContractError) -> ModuleInfo {
        guard code.count <= limits.contractCodeBytesMax else {
            throw .invalidModule("module is \(code.count) bytes, limit \(limits.contractCodeBytesMax)")
        }
        var parser = Parser(bytes: code, features: features)
        var types: [FunctionType?] = []
        var functionTypes: [FunctionType?] = []  // imported functions first, then defined ones
        var memories: [MemoryType] = []
        var exports: [Export] = []
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .typeSection(let groups):
                    for group in groups {
                        for subtype in group.types {
                            if case .function(let type) = subtype.body { types.append(type) } else { types.append(nil) }
                        }
                    }
                    try checkCount(types.count, "types", limits)
                case .importSection(let imports):
                    for item in imports {
                        guard item.module == HostAPI.module, let host = HostAPI.byName[item.name] else {
                            throw ContractError.invalidModule("import \(item.module).\(item.name) is not part of the host API (module \"\(HostAPI.module)\", see docs/contracts.md)")
                        }
                        guard case .function(let index) = item.descriptor else {
                            throw ContractError.invalidModule("import \(item.module).\(item.name) must be a function")
                        }
                        let type = Int(index) < types.count ? types[Int(index)] : nil
                        guard type == host.type else {
                            throw ContractError.invalidModule("import \(item.module).\(item.name) has type \(describe(type)), the host API's is \(describe(host.type))")
                        }
                        functionTypes.append(type)
                    }
                case .functionSection(let indices):
                    try checkCount(functionTypes.count + indices.count, "functions", limits)
                    for index in indices {
                        let type = Int(index) < types.count ? types[Int(index)] : nil
                        guard let type else { throw ContractError.invalidModule("function uses type \(index), which is not a function type") }
                        try checkNoFloat(type.parameters + type.results, where: "a function signature")
                        functionTypes.append(type)
                    }
                case .tableSection(let tables):
                    for table in tables {
                        guard let max = table.type.limits.max, max <= limits.contractTableElementsMax else {
                            throw ContractError.invalidModule("a table must declare a maximum of at most \(limits.contractTableElementsMax) elements")
                        }
                    }
                case .memorySection(let declared):
                    memories += declared.map(\.type)
                case .globalSection(let globals):
                    try checkCount(globals.count, "globals", limits)
                    try checkNoFloat(globals.map(\.type.valueType), where: "a global")
                case .exportSection(let items):
                    try checkCount(items.count, "exports", limits)
                    exports = items
                case .startSection:
                    throw ContractError.invalidModule("a start function is not allowed: put one-time setup in an `init` export")
                case .dataSection(let segments):
                    try checkCount(segments.count, "data segments", limits)
                case .codeSection(let bodies):
                    for body in bodies {
                        try checkNoFloat(body.locals, where: "a local variable")
                        var visitor = InstructionFilter()
                        var expression = ExpressionParser(code: body)
                        while let visit = try expression.parse() {
                            try visit(visitor: &visitor)
                        }
                    }
                case .tagSection:
                    throw ContractError.invalidModule("exception handling is not allowed")
                default:
                    break
                }
            }
        } catch let error as ContractError {
            throw error
        } catch let error as InstructionFilter.Found {
            let floating = !["SIMD", "v128", "tail", "exception", "atomic"].contains { error.instruction.hasPrefix($0) }
            throw .invalidModule(floating
                ? "floating-point instruction \(error.instruction) is not allowed (contracts are integer-only for determinism)"
                : "\(error.instruction.hasPrefix("v128") ? "SIMD instruction " : "")\(error.instruction) is not allowed")
        } catch {
            throw .invalidModule("not a valid WebAssembly module: \(String(describing: error).prefix(200))")
        }

        guard memories.count == 1, let memory = memories.first else {
            throw .invalidModule("a module must define exactly one memory (it defines \(memories.count)); imported memories are not allowed")
        }
        guard !memory.shared, !memory.isMemory64 else { throw .invalidModule("shared and 64-bit memories are not allowed") }
        guard let maximum = memory.max else {
            throw .invalidModule("the memory must declare a maximum (at most \(limits.contractMemoryPagesMax) pages; wasm-ld: --max-memory=\(limits.contractMemoryPagesMax * 65536))")
        }
        guard maximum <= limits.contractMemoryPagesMax else {
            throw .invalidModule("the memory declares a maximum of \(maximum) pages, limit \(limits.contractMemoryPagesMax)")
        }
        guard exports.contains(where: { $0.name == "memory" && $0.descriptor == .memory(0) }) else {
            throw .invalidModule("the module must export its memory as \"memory\"")
        }
        var methods: [String] = []
        var hasInit = false, hasMigrate = false
        let unit = FunctionType(parameters: [], results: [])
        for export in exports {
            guard case .function(let index) = export.descriptor else { continue }
            let isUnit = Int(index) < functionTypes.count && functionTypes[Int(index)] == unit
            switch export.name {
            case "init", "migrate":
                guard isUnit else { throw .invalidModule("export \(export.name) must take no parameters and return nothing") }
                if export.name == "init" { hasInit = true } else { hasMigrate = true }
            default:
                if isUnit, isMethodName(export.name) { methods.append(export.name) }
            }
        }
        guard !methods.isEmpty else {
            throw .invalidModule("the module exports no method (a function taking no parameters and returning nothing, named with 1 to 64 printable ASCII characters)")
        }
        return ModuleInfo(methods: methods.sorted(), hasInit: hasInit, hasMigrate: hasMigrate, memoryPagesMin: memory.min, memoryPagesMax: maximum)
    }

    /// A name a transaction's `method` field can carry and that is not reserved.
    static func isMethodName(_ name: String) -> Bool {
        !reservedExports.contains(name) && !name.hasPrefix("_") && (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0 > 32 && $0 < 127 }
    }

    private static func checkCount(_ count: Int, _ what: String, _ limits: HanseCore.Limits) throws(ContractError) {
        if count > limits.contractModuleItemsMax { throw .invalidModule("\(count) \(what), limit \(limits.contractModuleItemsMax)") }
    }

    private static func checkNoFloat(_ types: [ValueType], where place: String) throws(ContractError) {
        for type in types {
            switch type {
            case .f32, .f64: throw .invalidModule("\(place) has floating-point type \(type) (contracts are integer-only for determinism)")
            case .v128: throw .invalidModule("\(place) has SIMD type v128, which is not allowed")
            default: continue
            }
        }
    }

    private static func describe(_ type: FunctionType?) -> String {
        guard let type else { return "(not a function)" }
        return "(\(type.parameters.map { "\($0)" }.joined(separator: ", "))) -> (\(type.results.map { "\($0)" }.joined(separator: ", ")))"
    }
}

/// Visits every instruction of a function body and stops at the first floating-point or SIMD one.
/// (The parser accepts SIMD opcodes whatever the feature set says, so they are refused here.)
private struct InstructionFilter: AnyInstructionVisitor {
    struct Found: Error { let instruction: String }
    typealias VisitorError = Found
    var binaryOffset: Int = 0

    mutating func visit(_ instruction: Instruction) throws(Found) {
        switch instruction {
        case .f32Const: throw Found(instruction: "f32.const")
        case .f64Const: throw Found(instruction: "f64.const")
        case .load(let kind, _) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .store(let kind, _) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .load(let kind, _) where "\(kind)".contains("Atomic"): throw Found(instruction: "atomic \(kind)")
        case .store(let kind, _) where "\(kind)".contains("Atomic"): throw Found(instruction: "atomic \(kind)")
        case .cmp(let kind) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .unary(let kind) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .binary(let kind) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .conversion(let kind) where Self.isFloat(kind): throw Found(instruction: "\(kind)")
        case .typedSelect(let type) where type == .f32 || type == .f64 || type == .v128: throw Found(instruction: "select \(type)")
        case .v128Const: throw Found(instruction: "v128.const")
        case .i8x16Shuffle, .simd, .simdLane, .simdMemLane: throw Found(instruction: "SIMD \(instruction)")
        case .returnCall, .returnCallIndirect, .callRef, .returnCallRef: throw Found(instruction: "tail or reference call \(instruction)")
        case .throw, .throwRef, .tryTable: throw Found(instruction: "exception handling \(instruction)")
        case .atomicFence, .memoryAtomicNotify, .memoryAtomicWait32, .memoryAtomicWait64: throw Found(instruction: "atomic \(instruction)")
        case _ where Self.isAtomic(instruction): throw Found(instruction: "atomic \(instruction)")
        default: return
        }
    }

    /// Whether an instruction is one of the threads proposal's atomic read-modify-writes, loads or stores.
    private static func isAtomic(_ instruction: Instruction) -> Bool {
        switch instruction {
        case .cmp, .unary, .binary, .conversion, .localGet, .localSet, .localTee, .i32Const, .i64Const,
             .call, .br, .brIf, .end, .block, .loop, .if, .else, .drop, .select, .globalGet, .globalSet, .return: return false
        default: return "\(instruction)".contains("Atomic")
        }
    }

    /// Whether an operator's name mentions a float type: f32.add, i32.trunc_f64_s, f64.load and so on.
    private static func isFloat(_ kind: some Any) -> Bool {
        let name = "\(kind)".lowercased()
        return name.contains("f32") || name.contains("f64")
    }
}
