public import Foundation
internal import Crypto
public import HanseCore

/// One forward-only schema migration read from `Migrations/<set>/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    /// The number before the underscore; migrations apply in increasing order.
    public let version: Int
    /// The file name, for messages and the migrations table.
    public let fileName: String
    /// The SQL text. A migration runs in its own transaction and must not contain
    /// `BEGIN` or `COMMIT` itself.
    public let sql: String
    /// Lower-case hex SHA-256 of the file's bytes: an applied file that changes is an error.
    public let checksum: String

    /// A migration from its parts; the checksum is computed from `sql`.
    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
        self.checksum = Hex.encode(SHA256.hash(utf8: sql))
    }
}

/// Why a directory of migrations could not be read.
public struct MigrationCatalogError: Error, CustomStringConvertible, Sendable {
    /// A sentence naming the directory or file.
    public let description: String
}

/// Reads and checks a directory of migration files.
public enum MigrationCatalog {
    /// The migrations of `directory`, sorted by version. Every `.sql` file must be named
    /// `NNNN_name.sql` (four or more digits, lower-case name); versions must be unique.
    public static func load(directory: URL, fileBytesMax: Int = Limits().migrationFileBytesMax) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationCatalogError(description: "cannot read migrations directory \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard let version = parseVersion(fileName: name) else {
                throw MigrationCatalogError(description: "migration file \(name) in \(directory.path) is not named NNNN_name.sql")
            }
            let url = directory.appendingPathComponent(name)
            let data = try Data(contentsOf: url)
            guard data.count <= fileBytesMax else {
                throw MigrationCatalogError(description: "migration file \(name) has \(data.count) bytes, limit \(fileBytesMax)")
            }
            guard let sql = String(data: data, encoding: .utf8) else {
                throw MigrationCatalogError(description: "migration file \(name) is not UTF-8")
            }
            if let previous = migrations.first(where: { $0.version == version }) {
                throw MigrationCatalogError(description: "migration files \(previous.fileName) and \(name) share version \(version)")
            }
            migrations.append(Migration(version: version, fileName: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The version of a file named `NNNN_name.sql`, or nil if the name does not follow the pattern.
    public static func parseVersion(fileName: String) -> Int? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore], label = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard !label.isEmpty, label.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else { return nil }
        return Int(digits)
    }

    /// Finds the project's `Migrations` directory: `HANSE_MIGRATIONS_DIR`, then `./Migrations`,
    /// then `share/hanse/Migrations` beside the executable's `bin`, then `/usr/share/hanse/Migrations`.
    public static func locateRoot(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let configured = environment["HANSE_MIGRATIONS_DIR"], !configured.isEmpty {
            let url = URL(fileURLWithPath: configured)
            guard isDirectory(url.appendingPathComponent("platform")) else {
                throw MigrationCatalogError(description: "HANSE_MIGRATIONS_DIR=\(configured) has no platform/ folder")
            }
            return url
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "hanse").resolvingSymlinksInPath()
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Migrations")]
        // A development build lives in <package>/.build/<triple>/<config>/hanse.
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("Migrations"))
            candidates.append(folder.appendingPathComponent("share/hanse/Migrations"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: "/usr/share/hanse/Migrations"))
        if let found = candidates.first(where: { isDirectory($0.appendingPathComponent("platform")) }) {
            return found
        }
        throw MigrationCatalogError(description: "cannot find the Migrations directory (looked in \(candidates.map(\.path).joined(separator: ", "))); set HANSE_MIGRATIONS_DIR")
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
