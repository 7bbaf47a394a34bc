public import ArgumentParser
internal import HanseCore

/// The `hanse` command line.
public struct HanseCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "hanse",
        abstract: "Hanse: consortium blockchains as a service.",
        version: HanseVersion.current,
        subcommands: [ServeCommand.self, MigrateCommand.self, AuditCommand.self, VersionCommand.self, BenchCommand.self, SimulateCommand.self, VerifyCommand.self,
                      TenantCommand.self, ChainCommand.self, IdentityCommand.self, ContractCommand.self, TransactionCommand.self,
                      BlockCommand.self, ProofCommand.self],
        defaultSubcommand: nil)

    public init() {}
}

/// `hanse version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version of this build.")

    func run() {
        print("hanse \(HanseVersion.current)")
    }
}
