internal import Foundation
internal import Glibc

/// Runs a helper program to completion with a timeout.
///
/// Built on `posix_spawn` and `waitpid` rather than Foundation's `Process`, which learns that a
/// child ended through a descriptor the child inherits: a daemon started by the child (the
/// postmaster started by `pg_ctl`) keeps it open, and the wait never ends. Here the child gets
/// only standard input (`/dev/null`) and output (a temporary file); every other descriptor is
/// closed.
public enum ProcessRunner {
    /// How a program ended.
    public struct Outcome: Sendable {
        /// Exit status, or 128 + signal number if a signal ended it.
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `executable` with `arguments` and waits up to `timeout`; on timeout the child is
    /// killed and an error thrown.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeout: Duration) throws -> Outcome {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("hanse-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        let pid = try spawn(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                            outputPath: outputPath)
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR {
                throw PostgresError(.embedded, "waitpid failed: \(String(cString: strerror(errno)))")
            }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw PostgresError(.embedded, "\(URL(fileURLWithPath: executable).lastPathComponent) did not finish within \(timeout)")
            }
            usleep(5_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Outcome(status: exitStatus, output: output)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    /// glibc 2.34+ closes every descriptor from 3 up in the child; Swift does not import the
    /// function, so it is looked up by name. Older systems close what /proc lists as open.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
            return
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    private static func spawn(_ executable: String, _ arguments: [String], environment: [String: String],
                              outputPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else {
            throw PostgresError(.embedded, "cannot run \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }
}
