public import Logging
internal import Foundation

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `ts=… level=info msg="ready" key=value`, for people and for logfmt tools.
    case logfmt
    /// One JSON object a line, for log pipelines.
    case json
}

/// A swift-log handler that writes one line per record to standard error, in logfmt or JSON.
/// Each line is written with a single `write(2)`, so lines from threads never interleave.
public struct HanseLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat

    /// A handler for the logger `label`.
    public init(label: String, format: LogFormat, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Self.timestamp()), ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        let line = Self.render(fields, format: format) + "\n"
        line.utf8CString.withUnsafeBufferPointer { buffer in
            _ = Foundation.write(2, buffer.baseAddress, buffer.count - 1)
        }
    }

    /// Renders fields as one logfmt or JSON line (without the newline).
    public static func render(_ fields: [(String, String)], format: LogFormat) -> String {
        switch format {
        case .logfmt:
            return fields.map { key, value in "\(key)=\(logfmtValue(value))" }.joined(separator: " ")
        case .json:
            return "{" + fields.map { key, value in "\(jsonString(key)):\(jsonString(value))" }.joined(separator: ",") + "}"
        }
    }

    private static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.asciiValue.map { $0 < 0x20 } ?? false }
        return needsQuotes ? jsonString(value) : value
    }

    /// A JSON string literal for `value`.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func timestamp() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var seconds = time_t(time.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(time.tv_nsec / 1_000_000))
    }
}
