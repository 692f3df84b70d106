import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenario files (a file or a directory of .yaml files; default: scenarios/). Exit 0: all hold; 1: a violation; 2: bad input.")

    @Argument(help: "Scenario files or directories.")
    var paths: [String] = []

    @Option(help: "Seed (overrides the scenario's).")
    var seed: UInt64?

    @Flag(help: "Print the reports as JSON.")
    var json = false

    @Flag(help: "Run each scenario twice and fail on any difference, naming the first differing event.")
    var checkDeterminism = false

    @Option(help: "Switch a planted bug into the system under test; repeatable. --list-plants shows them.")
    var plant: [String] = []

    @Flag(help: "List the plantable bugs, one per line, name first.")
    var listPlants = false

    @Option(help: .hidden)
    var recordEvents: String?

    @Option(help: "Record the run to this SQLite trace file (one scenario; schema in docs/traces.md).")
    var trace: String?

    func run() throws {
        if listPlants {
            for entry in Plants.named { print("\(entry.name)\t\(entry.what)") }
            return
        }
        try requireKnownPlants(plant)
        let (bugs, contractBugs, labBugs) = Plants.bugs(named: plant)
        var files = [String]()
        for path in paths.isEmpty ? ["scenarios"] : paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                printError("\(path): no such file or directory")
                throw ExitCode(2)
            }
            files += isDirectory.boolValue ? ScenarioLoader.files(in: path) : [path]
        }
        guard !files.isEmpty else {
            printError("no scenario files found")
            throw ExitCode(2)
        }
        var scenarios = [Scenario]()
        for file in files {
            do {
                scenarios.append(try ScenarioLoader.load(path: file))
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
        }
        if let path = recordEvents {
            // Child side of --check-determinism: one scenario, its events written to `path`.
            guard scenarios.count == 1 else { throw ValidationError("--record-events takes one scenario file") }
            let recorded = ScenarioRunner.record(scenarios[0], seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs)
            try recorded.lines.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        if let trace {
            guard scenarios.count == 1, !checkDeterminism else {
                printError("--trace records one scenario file, without --check-determinism")
                throw ExitCode(2)
            }
            let text = (try? String(contentsOfFile: files[0], encoding: .utf8)) ?? ""
            let start = ContinuousClock.now
            var report: RunReport
            do {
                report = try ScenarioRunner.runTraced(scenarios[0], scenarioText: text, seed: seed, plants: plant, path: trace)
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
            report.wallMillis = elapsedMillis(since: start)
            if json {
                try printJSON(report)
            } else {
                print(ScenarioRunner.summary(report))
                print("  trace written to \(trace) (\(report.events) events)")
            }
            if !report.passed { throw ExitCode(1) }
            return
        }
        var allPassed = true
        var reports = [RunReport]()
        for (scenario, file) in zip(scenarios, files) {
            if checkDeterminism {
                // One run here, one in a child process (its own hash seed, no shared state).
                let here = ScenarioRunner.record(scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs)
                let there = try childRecording(file: file, seed: seed ?? scenario.seed)
                let check = ScenarioRunner.compare(here, there)
                if check.identical {
                    if !json { print("deterministic \(scenario.name): trace \(check.traceHashes.0.prefix(16)) in two processes, \(here.fingerprints.count) events") }
                } else {
                    allPassed = false
                    print("NONDETERMINISTIC \(scenario.name): \(check.traceHashes.0.prefix(16)) vs \(check.traceHashes.1.prefix(16)); \(check.firstDifference ?? "same events, different hash")")
                }
                continue
            }
            let start = ContinuousClock.now
            var report = ScenarioRunner.run(scenario, seed: seed, bugs: bugs, contractBugs: contractBugs, labBugs: labBugs)
            report.wallMillis = elapsedMillis(since: start)
            allPassed = allPassed && report.passed
            if json {
                reports.append(report)
            } else {
                print(ScenarioRunner.summary(report))
                print(String(format: "  wall %.0f ms", report.wallMillis))
            }
        }
        if json {
            if reports.count == 1 { try printJSON(reports[0]) } else { try printJSON(reports) }
        } else if scenarios.count > 1 && !checkDeterminism {
            print("\(reports.count + scenarios.count - reports.count) scenarios: \(allPassed ? "all passed" : "FAILURES")")
        }
        if !allPassed { throw ExitCode(1) }
    }
}

extension Run {
    /// Runs this scenario in a child `chanlab` process and reads back its recorded events.
    func childRecording(file: String, seed: UInt64) throws -> ScenarioRunner.RecordedRun {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-events-\(ProcessInfo.processInfo.processIdentifier)-\(seed).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["run", file, "--seed", "\(seed)", "--record-events", output] + plant.flatMap { ["--plant", $0] }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "SWIFT_DETERMINISTIC_HASHING")
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let text = try? String(contentsOfFile: output, encoding: .utf8),
            let recorded = ScenarioRunner.RecordedRun(lines: text)
        else {
            printError("the child run for \(file) failed (status \(process.terminationStatus))")
            throw ExitCode(1)
        }
        return recorded
    }
}
