internal import ArgumentParser
internal import Foundation

/// `hanse migrate`: apply the platform migrations and exit.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending platform migrations, then exit.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() throws {
        try database.withDatabase(logging: logging, label: "hanse") { handle in
            let environment = handle.environment
            let report = try handle.migratePlatform(environment: environment)
            print("applied \(report.applied.count) migration(s), \(report.alreadyApplied) already applied")
            for file in report.applied { print("  \(file)") }
        }
    }
}
