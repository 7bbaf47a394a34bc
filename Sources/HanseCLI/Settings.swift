public import ArgumentParser
public import Logging
internal import Foundation

/// A setting given as a flag, else as its `HANSE_*` environment variable, else its default.
/// A malformed environment value is an error naming the variable, never silently ignored.
struct SettingResolver {
    var environment: [String: String]

    func string(_ flag: String?, _ variable: String, default fallback: String? = nil) -> String? {
        if let flag { return flag }
        if let value = environment[variable], !value.isEmpty { return value }
        return fallback
    }

    func integer(_ flag: Int?, _ variable: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        if let flag {
            guard range.contains(flag) else { throw ValidationError("\(flag) is out of range \(range.lowerBound)...\(range.upperBound)") }
            return flag
        }
        guard let text = environment[variable], !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ValidationError("\(variable)=\(text) is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func choice<T: RawRepresentable>(_ flag: T?, _ variable: String, default fallback: T) throws -> T where T.RawValue == String {
        if let flag { return flag }
        guard let text = environment[variable], !text.isEmpty else { return fallback }
        guard let value = T(rawValue: text.lowercased()) else { throw ValidationError("\(variable)=\(text) is not a valid value") }
        return value
    }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Logging flags shared by every command.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log format: logfmt or json (env HANSE_LOG_FORMAT; default logfmt).")
    var logFormat: LogFormat?

    @Option(help: "Lowest level logged: trace, debug, info, notice, warning, error, critical (env HANSE_LOG_LEVEL; default info).")
    var logLevel: Logger.Level?

    /// Installs the log handler and returns the command's logger.
    func bootstrap(label: String, environment: [String: String]) throws -> Logger {
        let resolver = SettingResolver(environment: environment)
        let format = try resolver.choice(logFormat, "HANSE_LOG_FORMAT", default: LogFormat.logfmt)
        let level = try resolver.choice(logLevel, "HANSE_LOG_LEVEL", default: Logger.Level.info)
        LoggingBootstrap.install(format: format, level: level)
        return Logger(label: label)
    }
}

/// swift-log may be bootstrapped once per process; tests run several commands in one process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var installed = false
    private static let lock = NSLock()

    static func install(format: LogFormat, level: Logger.Level) {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        LoggingSystem.bootstrap { label in HanseLogHandler(label: label, format: format, level: level) }
    }
}
