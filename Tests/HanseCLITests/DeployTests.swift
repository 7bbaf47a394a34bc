// Goal: keep the deployment files under deploy/ well-formed, since no container engine or cluster runs here.
// Method: parse every YAML file with python3 and PyYAML, check the probes and healthchecks they promise, and run
// `systemd-analyze verify` on a copy of the systemd unit whose ExecStart names /bin/true instead of the uninstalled hanse.
import Foundation
import XCTest

final class DeployTests: XCTestCase {
    private static let deploy = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy")

    private struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion; the outputs here are small, so reading the pipes afterwards cannot block.
    private func run(_ executable: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let (stdout, stderr) = (Pipe(), Pipe())
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: err, as: UTF8.self))
    }

    private func python(_ script: String, _ arguments: [String]) throws -> Outcome {
        let system = "/usr/bin/python3"
        return try FileManager.default.isExecutableFile(atPath: system)
            ? run(system, ["-c", script] + arguments)
            : run("/usr/bin/env", ["python3", "-c", script] + arguments)
    }

    func testEveryYAMLFileParses() throws {
        var files: [URL] = []
        let enumerator = FileManager.default.enumerator(at: Self.deploy, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if ["yaml", "yml"].contains(url.pathExtension) { files.append(url) }
        }
        XCTAssertGreaterThanOrEqual(files.count, 6, "compose.yaml and five Kubernetes files expected under \(Self.deploy.path)")
        for file in files.sorted(by: { $0.path < $1.path }) {
            let outcome = try python("import yaml,sys; list(yaml.safe_load_all(open(sys.argv[1])))", [file.path])
            XCTAssertEqual(outcome.status, 0, "\(file.path) does not parse: \(outcome.stderr)")
        }
    }

    private struct Facts: Decodable {
        var kind: String?
        var replicas: Int?
        var readiness: String?
        var liveness: String?
        var secretKeys: [String]
        var missingResources: [String]
        var services: [String]
        var healthchecked: [String]
        var hanseWaitsFor: String?
    }

    func testProbesHealthchecksAndReferences() throws {
        let script = """
            import json, os, sys, yaml
            k8s, compose_file = sys.argv[1], sys.argv[2]
            load = lambda name: yaml.safe_load(open(os.path.join(k8s, name)))
            deployment, secret, kustomization = load("deployment.yaml"), load("secret.yaml"), load("kustomization.yaml")
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            services = yaml.safe_load(open(compose_file)).get("services") or {}
            print(json.dumps({
                "kind": deployment.get("kind"),
                "replicas": deployment["spec"].get("replicas"),
                "readiness": (container.get("readinessProbe") or {}).get("httpGet", {}).get("path"),
                "liveness": (container.get("livenessProbe") or {}).get("httpGet", {}).get("path"),
                "secretKeys": sorted(secret.get("stringData") or secret.get("data") or {}),
                "missingResources": [r for r in kustomization.get("resources", []) if not os.path.exists(os.path.join(k8s, r))],
                "services": sorted(services),
                "healthchecked": sorted(n for n, s in services.items() if (s.get("healthcheck") or {}).get("test")),
                "hanseWaitsFor": ((services.get("hanse") or {}).get("depends_on") or {}).get("postgres", {}).get("condition"),
            }))
            """
        let outcome = try python(script, [Self.deploy.appendingPathComponent("kubernetes").path,
                                          Self.deploy.appendingPathComponent("compose.yaml").path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let facts = try JSONDecoder().decode(Facts.self, from: Data(outcome.stdout.utf8))
        XCTAssertEqual(facts.kind, "Deployment")
        XCTAssertEqual(facts.replicas, 2)
        XCTAssertEqual(facts.readiness, "/readyz")
        XCTAssertEqual(facts.liveness, "/healthz")
        XCTAssertEqual(facts.secretKeys, ["database-url", "master-key", "operator-token"])
        XCTAssertEqual(facts.missingResources, [])
        XCTAssertTrue(Set(facts.services).isSuperset(of: ["postgres", "hanse"]), "\(facts.services)")
        XCTAssertTrue(Set(facts.healthchecked).isSuperset(of: ["postgres", "hanse"]), "\(facts.healthchecked)")
        XCTAssertEqual(facts.hanseWaitsFor, "service_healthy")
    }

    func testSystemdUnitVerifies() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { throw XCTSkip("\(analyze) is not installed") }
        let unit = try String(contentsOf: Self.deploy.appendingPathComponent("systemd/hanse.service"), encoding: .utf8)
        // verify fails when ExecStart's program does not exist, so /bin/true stands in for the uninstalled hanse.
        // That is the only substitution needed: User=hanse verifies even where no hanse user exists.
        let execStart = "ExecStart=/usr/local/bin/hanse "
        XCTAssertTrue(unit.contains("\n\(execStart)serve\n"), "the unit should run `/usr/local/bin/hanse serve`")
        let copy = unit.split(separator: "\n", omittingEmptySubsequences: false).map { (line: Substring) -> String in
            line.hasPrefix(execStart) ? "ExecStart=/bin/true " + String(line.dropFirst(execStart.count)) : String(line)
        }.joined(separator: "\n")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hanse-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hanse.service")
        try copy.write(to: file, atomically: true, encoding: .utf8)

        let outcome = try run(analyze, ["verify", "--man=no", file.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        // Unknown keys and unparsable values only produce warnings with exit status 0; there must be none.
        let complaints = outcome.stderr.split(separator: "\n").filter { $0.contains("hanse.service") }
        XCTAssertEqual(complaints, [], "systemd-analyze verify warns about the unit")
    }
}
