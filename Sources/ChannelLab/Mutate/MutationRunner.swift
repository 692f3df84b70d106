import Foundation

/// The mutation runner (docs/teeth.md): builds each mutant of the system under test in a copy
/// of the repository, runs the lab on it as a user would (every bundled scenario, then a fuzz
/// campaign with a seed budget) and records its fate. Tooling around the lab, not part of any
/// simulation: it spawns processes and reads the wall clock, like a fuzz campaign's threads.
public final class MutationRunner {
    /// The source folders mutated, with the folder name their score is reported under.
    public static let targets: [(path: String, folder: String?)] = [
        ("Sources/ChannelCore", nil),  // by subfolder: Crypto, Evidence, Graph, Ledgers, Replica, Settlement, Wire
        ("Sources/ChannelLab/Node", "Node"),
        ("Sources/ChannelLab/Chain", "Chain"),
    ]
    /// Files never mutated: the planted-bug switches themselves.
    public static let skippedFiles: Set<String> = ["PlantedBugs.swift"]

    /// Most mutants one campaign takes.
    public static let mutantsMax = 100_000

    public let repository: String
    /// The copy the mutants are built in (`<repository>/.build-mutants/tree` by default; one per
    /// campaign running at the same time).
    public let tree: String
    public let fuzzSeeds: Int
    let log: (String) -> Void
    /// Per scenario file (relative path), the unmutated run's wall seconds.
    private(set) var baselineSeconds: [String: Double] = [:]
    private var baselineFuzzSeconds = 0.0

    public init(repository: String, tree: String? = nil, fuzzSeeds: Int, log: @escaping (String) -> Void) {
        precondition(fuzzSeeds >= 0)
        self.repository = repository
        self.tree = tree ?? repository + "/.build-mutants/tree"
        self.fuzzSeeds = fuzzSeeds
        self.log = log
    }

    // MARK: Mutants

    /// Every mutant of the target folders, in a fixed order (file, line, column).
    public static func allMutants(repository: String) throws(TraceError) -> [Mutant] {
        var out = [Mutant]()
        for (path, folder) in targets {
            let root = repository + "/" + path
            guard let files = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] else {
                throw TraceError(path: root, message: "cannot list the sources to mutate")
            }
            for relative in files.filter({ $0.hasSuffix(".swift") }).sorted() {
                let name = (relative as NSString).lastPathComponent
                guard !skippedFiles.contains(name) else { continue }
                let file = path + "/" + relative
                guard let text = try? String(contentsOfFile: repository + "/" + file, encoding: .utf8) else {
                    throw TraceError(path: file, message: "cannot read")
                }
                let group = folder ?? String(relative.split(separator: "/").first ?? "ChannelCore")
                out += MutantGenerator.mutants(of: text, file: file, folder: group)
            }
        }
        return Array(out.prefix(mutantsMax))
    }

    /// A seeded sample of `mutants`: `count` of them (all when `nil`), in a seeded random order,
    /// then shard `index` of `shards` (every `shards`-th of that order).
    public static func sample(_ mutants: [Mutant], count: Int?, seed: UInt64, shard: (index: Int, count: Int)) -> [Mutant] {
        precondition(shard.count >= 1 && shard.index >= 1 && shard.index <= shard.count)
        var order = mutants
        var rng = SeededRandom(seed: seed, stream: "mutants")
        rng.shuffle(&order)
        let taken = count.map { Array(order.prefix($0)) } ?? order
        return taken.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.map(\.element)
    }

    // MARK: Campaign

    /// Copies the repository into the tree, builds it unmutated and checks that the lab passes
    /// on it: every bundled scenario and the fuzz budget. Throws when it does not (a mutant
    /// could not be judged against a failing baseline).
    public func prepare() throws(TraceError) {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: tree, withIntermediateDirectories: true)
            // Package.resolved too, when there is one: the copy builds against exactly the
            // dependency versions the repository resolved.
            for item in ["Package.swift", "Package.resolved", "Sources", "Tests", "scenarios"] {
                let target = tree + "/" + item
                if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
                guard fm.fileExists(atPath: repository + "/" + item) else { continue }
                try fm.copyItem(atPath: repository + "/" + item, toPath: target)
            }
        } catch {
            throw TraceError(path: tree, message: "cannot copy the repository: \(error.localizedDescription)")
        }
        log("building the unmutated tree in \(tree)")
        let build = build()
        guard build.ok else { throw TraceError(path: tree, message: "the unmutated tree does not build:\n\(build.output.suffix(2000))") }
        for file in scenarioFiles() {
            let start = ContinuousClock.now
            let result = runScenario(file, timeoutSeconds: 600)
            baselineSeconds[file] = seconds(since: start)
            if let kill = result { throw TraceError(path: file, message: "fails on the unmutated tree: \(kill.invariants) \(kill.detail)") }
        }
        let start = ContinuousClock.now
        if let kill = runFuzz(timeoutSeconds: 3600) {
            throw TraceError(path: tree, message: "fuzz seed \(kill.seed.map(String.init) ?? "?") fails on the unmutated tree: \(kill.invariants)")
        }
        baselineFuzzSeconds = seconds(since: start)
        log(String(format: "baseline: %d scenarios in %.1f s, %d fuzz seeds in %.1f s", baselineSeconds.count, baselineSeconds.values.reduce(0, +), fuzzSeeds, baselineFuzzSeconds))
    }

    /// Builds, runs and records each mutant not yet in the database, until the time budget
    /// (wall seconds) is spent. Returns how many it ran.
    /// - Parameter again: judge mutants the database already has too (their rows are replaced).
    public func run(_ mutants: [Mutant], database: MutationDatabase, timeBudgetSeconds: Double?, again: Bool = false) throws(TraceError) -> Int {
        let done = again ? [] : try database.done()
        let todo = mutants.filter { !done.contains($0.id) }
        log("\(mutants.count) mutants sampled, \(mutants.count - todo.count) already recorded, \(todo.count) to run")
        let start = ContinuousClock.now
        var ran = 0
        for mutant in todo {
            if let budget = timeBudgetSeconds, seconds(since: start) >= budget {
                log("time budget spent: stopping after \(ran) mutants")
                break
            }
            let fate = try judge(mutant)
            try database.record(fate)
            ran += 1
            log("[\(ran)/\(todo.count)] \(mutant.id) \(mutant.file):\(mutant.line) \(mutant.op) \(fate.outcome.rawValue) \(fate.killer) \(fate.invariants) (\(Int(fate.wallSeconds)) s)")
        }
        return ran
    }

    /// Applies one mutant to the tree, judges it, and restores the file.
    func judge(_ mutant: Mutant) throws(TraceError) -> MutantFate {
        let path = tree + "/" + mutant.file
        guard let original = try? String(contentsOfFile: path, encoding: .utf8) else { throw TraceError(path: path, message: "cannot read") }
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard mutant.line >= 1, mutant.line <= lines.count else { throw TraceError(path: path, message: "mutant \(mutant.id) is past the end") }
        guard let mutated = mutant.apply(to: lines[mutant.line - 1]) else {
            // The line no longer holds the text (the sources changed since the mutants were
            // listed): recorded as not building, the campaign goes on.
            return MutantFate(
                mutant: mutant, outcome: .buildFailed, killer: "", invariants: "", seed: nil,
                detail: "line \(mutant.line) no longer holds `\(mutant.original)` at column \(mutant.column)", wallSeconds: 0)
        }
        lines[mutant.line - 1] = mutated
        do { try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw TraceError(path: path, message: "cannot write the mutant: \(error.localizedDescription)")
        }
        defer { try? original.write(toFile: path, atomically: true, encoding: .utf8) }
        let start = ContinuousClock.now
        let build = build()
        guard build.ok else {
            let error = build.output.split(separator: "\n").first { $0.contains("error:") }.map(String.init) ?? String(build.output.suffix(300))
            return MutantFate(mutant: mutant, outcome: .buildFailed, killer: "", invariants: "", seed: nil, detail: error, wallSeconds: seconds(since: start))
        }
        for file in scenarioFiles() {
            let timeout = max(30, 10 * (baselineSeconds[file] ?? 10))
            if let kill = runScenario(file, timeoutSeconds: timeout) {
                return MutantFate(
                    mutant: mutant, outcome: .killed, killer: kill.killer.map { "\(file) (\($0))" } ?? file, invariants: kill.invariants, seed: kill.seed,
                    detail: kill.detail, wallSeconds: seconds(since: start))
            }
        }
        if let kill = runFuzz(timeoutSeconds: max(120, 10 * baselineFuzzSeconds)) {
            return MutantFate(
                mutant: mutant, outcome: .killed, killer: kill.killer.map { "fuzz (\($0))" } ?? "fuzz", invariants: kill.invariants, seed: kill.seed, detail: kill.detail,
                wallSeconds: seconds(since: start))
        }
        return MutantFate(mutant: mutant, outcome: .survived, killer: "", invariants: "", seed: nil, detail: "", wallSeconds: seconds(since: start))
    }

    // MARK: Steps

    struct Kill {
        /// Overrides the step's name: `crash` or `timeout`.
        var killer: String?
        var invariants: String
        var seed: UInt64?
        var detail: String
    }

    var chanlab: String { tree + "/.build/release/chanlab" }

    func build() -> (ok: Bool, output: String) {
        let result = Self.runProcess(["swift", "build", "-c", "release", "--product", "chanlab"], in: tree, timeoutSeconds: 1800)
        return (result.status == 0 && !result.timedOut, result.output + result.errors)
    }

    func scenarioFiles() -> [String] {
        ScenarioLoader.files(in: tree + "/scenarios").map { String($0.dropFirst(tree.count + 1)) }
    }

    /// Runs one scenario file on the mutant; `nil` when it passes.
    func runScenario(_ file: String, timeoutSeconds: Double) -> Kill? {
        let result = Self.runProcess([chanlab, "run", file, "--json"], in: tree, timeoutSeconds: timeoutSeconds)
        if let kill = Self.abnormal(result) { return kill }
        if result.status == 0 { return nil }
        // The report is standard output alone (what a run prints on standard error is kept
        // apart, so it cannot spoil the JSON).
        guard let data = result.output.data(using: .utf8), let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return Kill(invariants: "exit \(result.status)", seed: nil, detail: String((result.errors + result.output).suffix(300)))
        }
        let violations = (report["violations"] as? [[String: Any]]) ?? []
        let invariants = Set(violations.compactMap { $0["invariant"] as? String }).sorted()
        let failures = (report["expectationFailures"] as? [String]) ?? []
        let detail = (violations.first?["detail"] as? String) ?? failures.first ?? ""
        return Kill(
            invariants: invariants.isEmpty ? "expectation" : invariants.joined(separator: ","), seed: (report["seed"] as? NSNumber)?.uint64Value,
            detail: String(detail.prefix(500)))
    }

    /// Runs the fuzz budget on the mutant, stopping at the first failing seed; `nil` when all pass.
    func runFuzz(timeoutSeconds: Double) -> Kill? {
        guard fuzzSeeds > 0 else { return nil }
        let db = tree + "-fuzz.sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let result = Self.runProcess(
            [chanlab, "fuzz", "--seeds", "1..\(fuzzSeeds)", "--jobs", "2", "--stop-on-failure", "--no-shrink", "--db", db], in: tree,
            timeoutSeconds: timeoutSeconds)
        if let kill = Self.abnormal(result) { return kill }
        if result.status == 0 { return nil }
        guard let campaign = try? CampaignDatabase(path: db), let first = try? campaign.failures().first else {
            return Kill(invariants: "exit \(result.status)", seed: nil, detail: String((result.errors + result.output).suffix(300)))
        }
        return Kill(invariants: first.invariants.isEmpty ? "expectation" : first.invariants, seed: first.seed, detail: String(first.detail.prefix(500)))
    }

    /// A run that hung or died of a signal (a trap in the mutant) is a kill.
    static func abnormal(_ result: ProcessResult) -> Kill? {
        if result.timedOut { return Kill(killer: "timeout", invariants: "timeout", seed: nil, detail: "") }
        if result.signaled { return Kill(killer: "crash", invariants: "crash", seed: nil, detail: String(result.errors.suffix(300))) }
        return nil
    }

    struct ProcessResult {
        let status: Int32
        let signaled: Bool
        let timedOut: Bool
        /// Standard output.
        let output: String
        /// Standard error.
        let errors: String
    }

    /// Runs a command with its output and errors in files (never a pipe that could fill up),
    /// under coreutils `timeout`, which runs it in a process group of its own and signals the
    /// whole group after `timeoutSeconds` (a build's compiler processes included), then kills
    /// it 10 s later if it is still there.
    static func runProcess(_ arguments: [String], in directory: String, timeoutSeconds: Double) -> ProcessResult {
        let base = directory + "-process-\(getpid())"
        let paths = [base + ".out", base + ".err"]
        for path in paths { FileManager.default.createFile(atPath: path, contents: nil) }
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        guard let out = FileHandle(forWritingAtPath: paths[0]), let err = FileHandle(forWritingAtPath: paths[1]) else {
            return ProcessResult(status: -1, signaled: false, timedOut: false, output: "", errors: "cannot log")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["timeout", "--kill-after=10", String(max(1, Int(timeoutSeconds.rounded(.up))))] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            return ProcessResult(status: -1, signaled: false, timedOut: false, output: "", errors: "cannot start \(arguments.first ?? ""): \(error)")
        }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let output = (try? String(contentsOfFile: paths[0], encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: paths[1], encoding: .utf8)) ?? ""
        // `timeout` exits 124 when it stopped the command and 137 when it had to kill it. A
        // command that died of a signal on its own (a trap) makes `timeout` die of the same
        // signal, which `Process` reports as an uncaught signal (or, through a shell, as 128 +
        // the signal).
        let status = process.terminationStatus
        let timedOut = process.terminationReason == .exit && (status == 124 || status == 137)
        let signaled = process.terminationReason == .uncaughtSignal || (!timedOut && status > 128)
        return ProcessResult(status: status, signaled: signaled, timedOut: timedOut, output: output, errors: errors)
    }
}

/// Wall seconds since `start` (tooling only; the lab never reads a clock).
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
