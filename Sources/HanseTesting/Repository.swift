public import Foundation
internal import Storage
public import PostgresStorage

/// Paths of the repository and of `../shared`, for tests that read its files.
public enum Repository {
    /// The repository root (this file is Sources/HanseTesting/Repository.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `../shared`, beside the repository.
    public static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

    /// A file or folder of the repository.
    public static func path(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}

extension TestCluster {
    /// A fresh database with a pool and the given migration sets applied (`platform` into schema
    /// platform, `chain` into each of `chainSchemas`). Close the pool and drop the database after.
    public func makeMigratedDatabase(_ label: String, platform: Bool = true, chainSchemas: [String] = [])
        throws -> (name: String, pool: PostgresPool) {
        let database = try makeDatabase(label)
        let pool = PostgresPool(configuration: PostgresPoolConfiguration(conninfo: database.conninfo))
        let migrator = PostgresMigrator(pool: pool)
        if platform {
            _ = try migrator.migrate(schema: "platform", migrations: MigrationCatalog.load(directory: Repository.path("Migrations/platform")))
        }
        let template = try MigrationCatalog.load(directory: Repository.path("Migrations/chain"))
        for schema in chainSchemas { _ = try migrator.migrate(schema: schema, migrations: template) }
        return (database.name, pool)
    }
}
