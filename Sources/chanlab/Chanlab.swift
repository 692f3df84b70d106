import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

@main
struct Chanlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chanlab",
        abstract: "ChannelLab: a deterministic Byzantine fault-injection lab for BFT-CRDT state channels.",
        subcommands: [Run.self, Replay.self, Inspect.self, Fuzz.self, Generate.self, Demo.self, Bench.self, Mutate.self],
        defaultSubcommand: Run.self)

    /// Like ArgumentParser's `main`, except that bad arguments exit with status 2 (bad
    /// input), as every other kind of bad input does, instead of 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Milliseconds since `start` on the monotonic clock (the front end's business, never the lab's).
func elapsedMillis(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Parses `--shard i/n` (1 <= i <= n); no option is shard 1/1. Bad input exits 2.
func parseShard(_ shard: String?) throws -> (index: Int, count: Int) {
    guard let shard else { return (1, 1) }
    let parts = shard.split(separator: "/").compactMap { Int($0) }
    guard parts.count == 2, parts[1] >= 1, parts[0] >= 1, parts[0] <= parts[1] else {
        printError("--shard needs i/n with 1 <= i <= n, got '\(shard)'")
        throw ExitCode(2)
    }
    return (parts[0], parts[1])
}

/// Refuses (exit 2) any plant name that is not listed by `--list-plants`.
func requireKnownPlants(_ names: [String]) throws {
    for name in names where !Plants.named.contains(where: { $0.name == name }) {
        printError("unknown planted bug '\(name)'; known: \(Plants.named.map(\.name).joined(separator: ", "))")
        throw ExitCode(2)
    }
}

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

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run the run a trace file records and compare it event by event, then the outcome. Exit 0: identical; 1: diverged (the first differing event, or the outcomes, named); 2: bad or damaged trace.")

    @Argument(help: "A trace file written by `chanlab run FILE --trace PATH`.")
    var path: String

    func run() throws {
        let result: ScenarioRunner.ReplayResult
        do { result = try ScenarioRunner.replay(path: path) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        let check = result.check
        if !check.identical {
            print("REPLAY DIVERGED: recorded \(check.traceHashes.0.prefix(16)), replayed \(check.traceHashes.1.prefix(16)); \(check.firstDifference ?? "same events, different hash")")
            throw ExitCode(1)
        }
        guard result.recorded == result.replayed else {
            print("REPLAY DIVERGED: every event the same (trace \(check.traceHashes.0.prefix(16))), but the outcome differs: recorded \(result.recorded), replayed \(result.replayed)")
            throw ExitCode(1)
        }
        print("replay identical: trace \(check.traceHashes.0.prefix(16)), every event the same, same outcome: \(result.replayed)")
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise a trace file: the run, operations per node, messages, violations, evidence and a timeline. Exit 2 on a bad trace.")

    @Argument(help: "A trace file written by `chanlab run FILE --trace PATH`.")
    var path: String

    func run() throws {
        do { print(try TraceInspector.summary(path)) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}

struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run generated scenarios (swarm testing) for a range of seeds on several threads; record each seed; shrink failures into scenarios/regressions/. Exit 1 if any seed failed, 2 on bad input.")

    @Option(help: "Seeds to run, as A..B (inclusive; default 1..100).")
    var seeds: String?

    @Option(help: "Threads (each seed is still one deterministic run).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Run shard i of n (i/n): every n-th seed of the range, starting with the i-th.")
    var shard: String?

    @Option(help: "Campaign database (SQLite): a row per seed; an interrupted campaign resumes where it stopped.")
    var db: String?

    @Option(help: "Stop taking new seeds after this many wall seconds.")
    var timeBudget: Double?

    @Option(help: "Switch a planted bug in; repeatable. --list-plants shows them.")
    var plant: [String] = []

    @Flag(help: "List the plantable bugs, one per line, name first.")
    var listPlants = false

    @Option(help: "Merge these campaign databases (shards) into --db; repeatable.")
    var merge: [String] = []

    @Flag(inversion: .prefixedNo, help: "Shrink each failure into a minimal scenario file.")
    var shrink = true

    @Option(help: "Where shrunk failures are written.")
    var regressions: String = "scenarios/regressions"

    @Option(help: "Shrink at most this many failures.")
    var shrinkMax: Int = 3

    @Flag(help: "Stop taking new seeds after the first failure.")
    var stopOnFailure = false

    func run() throws {
        if listPlants {
            for entry in Plants.named { print("\(entry.name)\t\(entry.what)") }
            return
        }
        try requireKnownPlants(plant)
        if !merge.isEmpty, seeds != nil || shard != nil || !plant.isEmpty {
            printError("--merge copies whole campaigns: it takes no --seeds, --shard or --plant")
            throw ExitCode(2)
        }
        let seeds = self.seeds ?? "1..100"
        let bounds = seeds.split(separator: ".", omittingEmptySubsequences: true).compactMap { UInt64($0) }
        guard seeds.contains(".."), bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 100_000_000 else {
            printError("--seeds needs A..B with A <= B (at most 100000000 seeds), got '\(seeds)'")
            throw ExitCode(2)
        }
        if let timeBudget, !(timeBudget.isFinite && timeBudget > 0) {
            printError("--time-budget must be a positive number of seconds, got \(timeBudget)")
            throw ExitCode(2)
        }
        guard shrinkMax >= 0 && shrinkMax <= 10_000 else {
            printError("--shrink-max must be 0...10000")
            throw ExitCode(2)
        }
        guard jobs >= 1 && jobs <= 256 else {
            printError("--jobs must be 1...256")
            throw ExitCode(2)
        }
        let (shardIndex, shardCount) = try parseShard(shard)
        let database: CampaignDatabase?
        do { database = try db.map { path throws(TraceError) in try CampaignDatabase(path: path, plants: merge.isEmpty ? plant : nil) } } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        if !merge.isEmpty {
            guard let database else {
                printError("--merge needs --db, the database to merge into")
                throw ExitCode(2)
            }
            for other in merge {
                do { print("merged \(other): \(try database.merge(from: other)) new seeds") } catch {
                    printError(error.description)
                    throw ExitCode(2)
                }
            }
            let counts = try database.counts()
            print("\(database.path): \(counts.seeds) seeds, \(counts.failures) failed")
            if counts.failures > 0 { throw ExitCode(1) }
            return
        }
        let range = bounds[0]...bounds[1]
        let mine = Campaign.shard(range, index: shardIndex, count: shardCount)
        let done = try database?.done() ?? []
        let todo = mine.filter { !done.contains($0) }
        // Failures recorded by an earlier (interrupted) run of this campaign, in this range.
        let mineSet = Set(mine)
        let earlier = try database?.failures().filter { mineSet.contains($0.seed) && done.contains($0.seed) } ?? []
        let progress = FuzzProgress(total: todo.count, database: database, plants: plant, budget: timeBudget, stopOnFailure: stopOnFailure)
        let runner = CampaignRunner(
            seeds: todo, plants: plant, stop: { progress.overBudget() }, onResult: { result, generated in progress.record(result, generated) })
        runner.run(jobs: jobs)
        let summary = progress.finish()
        print("fuzz: \(summary.ran) seeds run (\(mine.count - todo.count) already in the database), \(String(format: "%.2f", summary.rate)) seeds/s on \(jobs) threads, \(summary.failures.count) failed")
        if summary.ran < todo.count {
            let why = stopOnFailure && !summary.failures.isEmpty ? "stopped at the first failure" : "stopped by the time budget"
            print("fuzz: \(why): \(todo.count - summary.ran) seeds of the range not run\(database == nil ? "" : " (run again with the same --db to go on)")")
        }
        if let error = progress.databaseError {
            printError(error.description)
            throw ExitCode(2)
        }
        // Failures recorded earlier are listed and shrunk too (the scenario is the seed's).
        let earlierFailures = earlier.map { row in
            (SeedResult(seed: row.seed, passed: false, traceHash: "", events: 0, invariants: row.invariants.split(separator: ",").map(String.init), detail: row.detail, wallMillis: 0),
             ScenarioGenerator.generate(seed: row.seed))
        }
        for (result, _) in earlierFailures { print("FAIL seed \(result.seed) (recorded earlier): \(result.invariants.joined(separator: ", ")) — \(result.detail.prefix(200))") }
        for (result, generated) in (summary.failures + earlierFailures).prefix(shrinkMax) {
            if !earlierFailures.contains(where: { $0.0.seed == result.seed }) {
                print("FAIL seed \(result.seed): \(result.invariants.joined(separator: ", ")) — \(result.detail.prefix(200))")
            }
            guard shrink else { continue }
            let (small, runs) = Campaign.shrink(generated, invariants: result.invariants, plants: plant)
            let name = "fuzz-\(result.seed)" + (plant.isEmpty ? "" : "-" + plant.joined(separator: "-")) + ".yaml"
            let path = regressions + "/" + name
            let plants = plant.map { " --plant \($0)" }.joined()
            let violated = Campaign.run(small, plants: plant).invariants
            let header = "# Shrunk by chanlab fuzz from seed \(result.seed)\(plant.isEmpty ? "" : " with plants \(plant.joined(separator: ", "))"): violates \(violated.joined(separator: ", ")).\n# \(small.scheduledEvents) scheduled events (from \(generated.scheduledEvents)), \(runs) shrinking runs.\n# Reproduce: chanlab run \(path)\(plants)\n"
            do {
                try FileManager.default.createDirectory(atPath: regressions, withIntermediateDirectories: true)
                try (header + small.yaml).write(toFile: path, atomically: true, encoding: .utf8)
                print("  shrunk to \(small.scheduledEvents) scheduled events in \(runs) runs: \(path)")
                print("  reproduce: chanlab run \(path)\(plants)")
            } catch {
                printError("cannot write \(path): \(error.localizedDescription)")
            }
        }
        if summary.failures.count + earlier.count > 0 { throw ExitCode(1) }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write out the scenario a fuzz seed generates, as YAML: `chanlab run` on the file runs exactly what `chanlab fuzz` ran for that seed.")

    @Option(help: "The seed (as given to chanlab fuzz --seeds).")
    var seed: UInt64

    @Option(help: "Write the YAML here instead of to standard output.")
    var out: String?

    func run() throws {
        let generated = ScenarioGenerator.generate(seed: seed)
        let text = "# Generated by chanlab generate --seed \(seed) (\(generated.scheduledEvents) scheduled events).\n" + generated.yaml
        guard let out else {
            print(text, terminator: "")
            return
        }
        do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
            printError("\(out): cannot write: \(error.localizedDescription)")
            throw ExitCode(2)
        }
        print("wrote \(out): seed \(seed), \(generated.scheduledEvents) scheduled events")
    }
}

/// Progress of a fuzz campaign: counts, the database rows, and a progress line on standard
/// error at most twice a second. Called by one worker at a time.
final class FuzzProgress: @unchecked Sendable {
    let total: Int
    let database: CampaignDatabase?
    let plants: [String]
    let budget: Double?
    let start = ContinuousClock.now
    private var lastPrint = ContinuousClock.now
    private let lock = NSLock()
    private(set) var ran = 0
    private(set) var failures: [(SeedResult, GeneratedScenario)] = []
    private(set) var databaseError: TraceError?

    let stopOnFailure: Bool
    /// Whether standard error is a terminal.
    static let terminal = isatty(2) == 1

    init(total: Int, database: CampaignDatabase?, plants: [String], budget: Double?, stopOnFailure: Bool) {
        self.stopOnFailure = stopOnFailure
        self.total = total
        self.database = database
        self.plants = plants
        self.budget = budget
    }

    func overBudget() -> Bool {
        if stopOnFailure && !failures.isEmpty { return true }
        guard let budget else { return false }
        return elapsedMillis(since: start) / 1000 >= budget
    }

    func record(_ result: SeedResult, _ generated: GeneratedScenario) {
        ran += 1
        if !result.passed { failures.append((result, generated)) }
        if databaseError == nil {
            do { try database?.record(result, plants: plants) } catch { databaseError = error }
        }
        let now = ContinuousClock.now
        if now - lastPrint >= .milliseconds(500) || ran == total {
            lastPrint = now
            let seconds = max(elapsedMillis(since: start) / 1000, 0.001)
            let line = "fuzz: \(ran)/\(total) seeds, \(String(format: "%.1f", Double(ran) / seconds)) seeds/s, \(failures.count) failed"
            // On a terminal the line is rewritten in place; in a log, one plain line each time.
            let text = FuzzProgress.terminal ? "\r\u{1B}[2K" + line + (ran == total ? "\n" : "") : line + "\n"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func finish() -> (ran: Int, rate: Double, failures: [(SeedResult, GeneratedScenario)]) {
        // A progress line left open on a terminal (the run stopped early) is ended.
        if FuzzProgress.terminal && ran > 0 && ran != total { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = max(elapsedMillis(since: start) / 1000, 0.001)
        return (ran, Double(ran) / seconds, failures.sorted { $0.0.seed < $1.0.seed })
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replicas merge the same signed operations (a double spender among them) in different orders and must converge.")

    @Option(help: "Seed of the generated channel and delivery orders.")
    var seed: UInt64 = 1

    @Option(help: "Number of replicas.")
    var replicas: Int = 3

    @Option(help: "Number of operations.")
    var ops: Int = 400

    func validate() throws {
        guard replicas >= 2 && replicas <= 64 else { throw ValidationError("--replicas must be 2...64") }
        guard ops >= 1 && ops <= 1_000_000 else { throw ValidationError("--ops must be 1...1000000") }
    }

    func run() throws {
        let report = MergeDemo.run(seed: seed, replicaCount: replicas, ops: ops)
        for line in report.lines { print(line) }
        guard report.converged, report.evidenceVerified, report.proofVerified else {
            print("FAILED: reproduce with `chanlab demo --seed \(seed) --replicas \(replicas) --ops \(ops)`")
            throw ExitCode(1)
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: the simulator's operations per wall second against the libsodium sign+verify ceiling (10 and 100 nodes, 100k operations, with peak memory; 10 nodes again with checkpoint and settlement duties), the merge cost at two history sizes, and the fuzzer's seeds per second on 1 and 2 threads.")

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Comma-separated history sizes for the merge benchmark.")
    var sizes: String = "10000,200000"

    @Option(help: "Operations per simulator case.")
    var simOps: Int = 100_000

    @Option(help: "Comma-separated node counts for the simulator benchmark.")
    var simNodes: String = "10,100"

    @Flag(help: "Only the simulator benchmark.")
    var simOnly = false

    @Flag(inversion: .prefixedNo, help: "Also run the first node count with checkpoint and settlement duties.")
    var settlement = true

    @Flag(help: "Only the merge benchmark.")
    var mergeOnly = false

    @Option(help: "Seeds for the search-speed case (seeds 1...N of the small swarm profile, on 1 thread then on --fuzz-jobs); 0 skips it.")
    var fuzzSeeds: Int = 400

    @Option(help: "Threads for the second pass of the search-speed case.")
    var fuzzJobs: Int = 2

    @Flag(help: "Only the search-speed case.")
    var fuzzOnly = false

    struct Output: Encodable {
        let simulator: SimBench.Result?
        let merge: MergeBench.Result?
        let fuzz: FuzzBench.Result?
    }

    func run() throws {
        let parsed = sizes.split(separator: ",").compactMap { Int($0) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 >= 100 && $0 <= 2_000_000 }) else {
            throw ValidationError("--sizes must be numbers in 100...2000000")
        }
        guard simOps >= 1000 && simOps <= 2_000_000 else { throw ValidationError("--sim-ops must be in 1000...2000000") }
        guard fuzzSeeds >= 0 && fuzzSeeds <= FuzzBench.seedsMax else { throw ValidationError("--fuzz-seeds must be in 0...\(FuzzBench.seedsMax)") }
        guard fuzzJobs >= 2 && fuzzJobs <= 256 else { throw ValidationError("--fuzz-jobs must be in 2...256") }
        guard [simOnly, mergeOnly, fuzzOnly].filter({ $0 }).count <= 1 else { throw ValidationError("give at most one of --sim-only, --merge-only, --fuzz-only") }
        let clock = ContinuousClock()
        let origin = clock.now
        let now: () -> UInt64 = {
            let elapsed = clock.now - origin
            return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        }
        let log: (String) -> Void = { if !json { print($0) } }
        var simulator: SimBench.Result?
        var merge: MergeBench.Result?
        var fuzz: FuzzBench.Result?
        if !mergeOnly && !fuzzOnly {
            let nodeCounts = simNodes.split(separator: ",").compactMap { Int($0) }
            guard !nodeCounts.isEmpty, nodeCounts.allSatisfy({ $0 >= 2 && $0 <= 1000 }) else {
                throw ValidationError("--sim-nodes must be numbers in 2...1000")
            }
            simulator = SimBench.run(
                cases: nodeCounts.enumerated().flatMap { index, nodes in
                    [(nodes, simOps, UInt32(10_000), false)] + (index == 0 && settlement ? [(nodes, simOps, UInt32(10_000), true)] : [])
                }, now: now, resetPeakMemory: PeakMemory.reset,
                peakMemory: PeakMemory.read, log: log)
        }
        if !simOnly && !fuzzOnly {
            let result = MergeBench.run(sizes: parsed, now: now, log: log)
            merge = result
            if !json {
                for size in result.sizes {
                    print("merge @ \(size.operations) ops: \(Int(size.mergeNanosPerOp)) ns/op (\(size.rollbacks) rollbacks, \(size.replayedOps) replayed)")
                }
                print(String(format: "merge cost ratio %d/%d: %.2fx (target <= 1.5x)", result.sizes.last!.operations, result.sizes.first!.operations, result.mergeCostRatioLargeOverSmall))
                print(String(format: "verify one operation: %.0f ns; raw libsodium verify: %.0f ns; ratio %.3fx", result.verifyOperationNanos, result.rawLibsodiumVerifyNanos, result.verifyRatioOperationOverRaw))
            }
        }
        if !simOnly && !mergeOnly && fuzzSeeds > 0 {
            let result = FuzzBench.run(seeds: fuzzSeeds, jobs: fuzzJobs, now: now, log: log)
            fuzz = result
            if !json {
                print(String(
                    format: "fuzz seeds 1..%d: %.1f seeds/s on 1 thread, %.1f on %d; ratio %.2fx; %d failed; traces %@",
                    result.seeds, result.seedsPerSecondOneJob, result.seedsPerSecondJobs, result.jobs, result.speedup, result.failures,
                    result.tracesAgree ? "agree" : "DIFFER"))
            }
        }
        if json {
            try printJSON(Output(simulator: simulator, merge: merge, fuzz: fuzz))
        }
    }
}

/// Peak resident memory of this process, from Linux's /proc (VmHWM), resettable through
/// /proc/self/clear_refs so that each benchmark case reports its own peak.
enum PeakMemory {
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func read() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
