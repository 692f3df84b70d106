import ChannelCore
import Foundation
import GRDB

/// The outcome of one generated scenario.
public struct SeedResult: Sendable {
    public let seed: UInt64
    public let passed: Bool
    public let traceHash: String
    public let events: Int
    /// Violated invariants, sorted, each once.
    public let invariants: [String]
    /// The first violation or unmet expectation, described.
    public let detail: String
    public let wallMillis: Double

    public init(seed: UInt64, passed: Bool, traceHash: String, events: Int, invariants: [String], detail: String, wallMillis: Double) {
        self.seed = seed
        self.passed = passed
        self.traceHash = traceHash
        self.events = events
        self.invariants = invariants
        self.detail = detail
        self.wallMillis = wallMillis
    }
}

/// A campaign database (SQLite through GRDB, WAL): one row per seed, written as each seed
/// finishes, so a campaign killed at any moment resumes with no seed lost or run twice.
public final class CampaignDatabase: @unchecked Sendable {
    let pool: DatabasePool
    public let path: String
    /// One seed's row (a seed already present is kept: recorded once).
    static let insertSeed =
        "INSERT OR IGNORE INTO seeds (seed, passed, trace_hash, events, invariants, detail, wall_ms, plants) VALUES (?,?,?,?,?,?,?,?)"

    /// The planted bugs every seed of this campaign ran with (sorted names, comma-separated;
    /// empty: none). A campaign is one set of plants: resuming or merging with others is refused.
    public private(set) var plants: String?

    /// The canonical form of a plant list: sorted, distinct, comma-separated.
    public static func plantsKey(_ plants: [String]) -> String { Set(plants).sorted().joined(separator: ",") }

    /// Opens (or creates) a campaign database.
    /// - Parameters:
    ///   - plants: the plants this campaign runs with; refused if the database holds seeds
    ///     run with others. `nil`: whatever it holds (merging).
    ///   - mustExist: refuse a missing file instead of creating one (merge sources).
    public init(path: String, plants: [String]? = nil, mustExist: Bool = false) throws(TraceError) {
        self.path = path
        if mustExist {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw TraceError(path: path, message: "no such campaign database")
            }
        }
        do {
            pool = try DatabasePool(path: path)
            try pool.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS seeds (seed INTEGER PRIMARY KEY, passed INTEGER NOT NULL, trace_hash TEXT NOT NULL,
                      events INTEGER NOT NULL, invariants TEXT NOT NULL, detail TEXT NOT NULL, wall_ms REAL NOT NULL, plants TEXT NOT NULL)
                    """)
                try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', 'chanlab-campaign'), ('version', '1')")
                let format = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")
                guard format == "chanlab-campaign" else { throw TraceError(path: path, message: "not a chanlab campaign database") }
                // The campaign's plants: from meta, else from its rows (older databases), else
                // this run's (a new campaign).
                var stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'plants'")
                if stored == nil, let first = try String.fetchOne(db, sql: "SELECT plants FROM seeds LIMIT 1") {
                    stored = Self.plantsKey(first.split(separator: ",").map(String.init))
                }
                if stored == nil, let plants { stored = Self.plantsKey(plants) }
                if let stored { try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('plants', ?)", arguments: [stored]) }
                if let plants, let stored, stored != Self.plantsKey(plants) {
                    throw TraceError(
                        path: path,
                        message: "this campaign ran with plants [\(stored)], this run has [\(Self.plantsKey(plants))]: its seeds would be skipped untested; use another --db")
                }
                self.plants = stored
            }
        } catch let error as TraceError {
            throw error
        } catch let error as DatabaseError {
            throw TraceError(path: path, message: "not a usable campaign database: \(error.message ?? "SQLite error \(error.resultCode)")")
        } catch {
            throw TraceError(path: path, message: "not a usable campaign database: \(error)")
        }
    }

    /// Seeds already recorded.
    public func done() throws(TraceError) -> Set<UInt64> {
        do {
            return try pool.read { db in Set(try Int64.fetchAll(db, sql: "SELECT seed FROM seeds").map { UInt64(bitPattern: $0) }) }
        } catch { throw TraceError(path: path, message: "cannot read the campaign: \(error)") }
    }

    /// Records one seed (in its own transaction).
    public func record(_ result: SeedResult, plants: [String]) throws(TraceError) {
        do {
            try pool.write { db in
                try db.execute(
                    sql: Self.insertSeed,
                    arguments: [
                        Int64(bitPattern: result.seed), result.passed ? 1 : 0, result.traceHash, result.events, result.invariants.joined(separator: ","),
                        result.detail, result.wallMillis, plants.joined(separator: ","),
                    ])
            }
        } catch { throw TraceError(path: path, message: "cannot record seed \(result.seed): \(error)") }
    }

    /// Failed seeds, in seed order.
    public func failures() throws(TraceError) -> [(seed: UInt64, invariants: String, detail: String)] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT seed, invariants, detail FROM seeds WHERE passed = 0 ORDER BY seed").map {
                    (UInt64(bitPattern: $0["seed"] as Int64), $0["invariants"] as String, $0["detail"] as String)
                }
            }
        } catch { throw TraceError(path: path, message: "cannot read the campaign: \(error)") }
    }

    /// Seeds recorded, and how many failed.
    public func counts() throws(TraceError) -> (seeds: Int, failures: Int) {
        do {
            return try pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM seeds") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM seeds WHERE passed = 0") ?? 0)
            }
        } catch { throw TraceError(path: path, message: "cannot read the campaign: \(error)") }
    }

    /// Copies every seed of another campaign database into this one (shards merging).
    /// Returns how many seeds were new here.
    public func merge(from other: String) throws(TraceError) -> Int {
        let source = try CampaignDatabase(path: other, mustExist: true)
        if let theirs = source.plants {
            if let mine = plants, mine != theirs {
                throw TraceError(path: other, message: "ran with plants [\(theirs)], \(path) with [\(mine)]: campaigns with different plants do not merge")
            }
            if plants == nil {
                do { try pool.write { db in try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('plants', ?)", arguments: [theirs]) } } catch {
                    throw TraceError(path: path, message: "cannot record the campaign's plants: \(error)")
                }
                plants = theirs
            }
        }
        do {
            let rows = try source.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM seeds") }
            return try pool.write { db in
                var added = 0
                for row in rows {
                    try db.execute(
                        sql: Self.insertSeed,
                        arguments: [row["seed"], row["passed"], row["trace_hash"], row["events"], row["invariants"], row["detail"], row["wall_ms"], row["plants"]])
                    added += db.changesCount
                }
                return added
            }
        } catch { throw TraceError(path: other, message: "cannot merge: \(error)") }
    }
}

/// Fuzz campaigns: generated scenarios for a range of seeds, on several threads (each seed
/// still deterministic), recorded per seed, sharded over machines, failures shrunk.
public enum Campaign {
    /// The seeds of `range` that shard `index` (1-based) of `count` covers: every `count`-th,
    /// so the shards cover the range exactly once between them.
    public static func shard(_ range: ClosedRange<UInt64>, index: Int, count: Int) -> [UInt64] {
        precondition(count >= 1 && index >= 1 && index <= count)
        return range.filter { ($0 - range.lowerBound) % UInt64(count) == UInt64(index - 1) }
    }

    /// Runs one generated scenario.
    public static func run(seed: UInt64, plants: [String]) -> (result: SeedResult, generated: GeneratedScenario) {
        let generated = ScenarioGenerator.generate(seed: seed)
        return (run(generated, plants: plants), generated)
    }

    /// Runs a generated scenario through its YAML (exactly as a file of it would run).
    public static func run(_ generated: GeneratedScenario, plants: [String]) -> SeedResult {
        let scenario: Scenario
        do { scenario = try ScenarioLoader.parse(generated.yaml, file: "fuzz-\(generated.seed).yaml") } catch {
            return SeedResult(seed: generated.seed, passed: false, traceHash: "", events: 0, invariants: ["scenario"], detail: "\(error)", wallMillis: 0)
        }
        let (bugs, contract, lab) = Plants.bugs(named: plants)
        let report = LabRun(scenario: scenario, bugs: bugs, contractBugs: contract, labBugs: lab).run()
        let invariants = Array(Set(report.violations.map(\.invariant.rawValue))).sorted()
        let detail = report.violations.first?.description ?? report.expectationFailures.first ?? ""
        return SeedResult(
            seed: generated.seed, passed: report.passed, traceHash: report.traceHash, events: report.events, invariants: invariants,
            detail: detail, wallMillis: 0)
    }

    /// Shrinks a failing generated scenario: drops Byzantine scripts and faults, switches
    /// settlement and link faults off, lowers participants, duration, rate and amounts, keeping
    /// each step only if the run still violates one of the same invariants and, when bugs are
    /// planted, still passes without them (or the cut would blame the plant for a failure of
    /// its own). At most `runsMax` runs.
    public static func shrink(_ failing: GeneratedScenario, invariants: [String], plants: [String], runsMax: Int = 300) -> (GeneratedScenario, Int) {
        var best = failing
        var runs = 0
        func stillFails(_ candidate: GeneratedScenario) -> Bool {
            guard runs < runsMax else { return false }
            runs += 1
            let result = run(candidate, plants: plants)
            guard !result.passed && !Set(result.invariants).isDisjoint(with: invariants) else { return false }
            guard !plants.isEmpty else { return true }
            guard runs < runsMax else { return false }
            runs += 1
            return run(candidate, plants: []).passed
        }
        var improved = true
        while improved && runs < runsMax {
            improved = false
            for candidate in candidates(of: best) where candidate != best && candidate.scheduledEvents <= best.scheduledEvents {
                if stillFails(candidate) {
                    best = candidate
                    improved = true
                    break
                }
            }
        }
        return (best, runs)
    }

    /// The scenario with one honest participant fewer: the last index goes, and a Byzantine
    /// script on it moves to the highest honest index left. `nil` when none can go (two
    /// participants left, or faults name the indices involved).
    public static func withoutOneParticipant(_ s: GeneratedScenario) -> GeneratedScenario? {
        guard s.participants > 2 else { return nil }
        let last = s.participants - 1
        let scripted = Set(s.byzantine.map(\.participant))
        var c = s
        c.participants -= 1
        // Other faults (partitions) name indices: with one naming those involved, none goes.
        func named(_ index: Int) -> Bool { s.faults.contains { soleParticipant(of: $0) == nil && $0.yaml.contains("\(index)") } }
        if scripted.contains(last) {
            // Move the last participant's scripts onto an honest one, which then goes instead,
            // with the faults about it alone; the faults about the last one move too.
            guard let free = (0..<last).reversed().first(where: { !scripted.contains($0) }), free > 0, !named(free), !named(last) else { return nil }
            c.byzantine = c.byzantine.map { script in
                var script = script
                if script.participant == last { script.participant = free }
                return script
            }
            c.faults = s.faults.compactMap { fault in
                guard let who = soleParticipant(of: fault) else { return fault }
                if who == free { return nil }
                guard who == last else { return fault }
                var moved = fault
                moved.yaml = String(fault.yaml.prefix { $0 != ":" }) + ": \(free)"
                return moved
            }
        } else {
            guard !named(last) else { return nil }
            // Faults about the last participant alone go with it.
            c.faults.removeAll { soleParticipant(of: $0) == last }
        }
        return c
    }

    /// The participant a fault names when it is about one participant alone (`offline: 3`,
    /// `crash: 3`, `restart: 3`), or `nil`.
    static func soleParticipant(of fault: GeneratedScenario.Fault) -> Int? {
        for prefix in ["offline: ", "crash: ", "restart: "] where fault.yaml.hasPrefix(prefix) {
            return Int(fault.yaml.dropFirst(prefix.count))
        }
        return nil
    }

    /// Smaller variants of a scenario, the biggest cuts first.
    static func candidates(of s: GeneratedScenario) -> [GeneratedScenario] {
        var out = [GeneratedScenario]()
        for index in s.byzantine.indices {
            var c = s
            c.byzantine.remove(at: index)
            out.append(c)
        }
        for index in s.faults.indices {
            var c = s
            let removed = c.faults.remove(at: index)
            // A partition goes with its heal, a crash with its restart.
            if removed.yaml.hasPrefix("partition") { c.faults.removeAll { $0.yaml.hasPrefix("heal") } }
            if removed.yaml.hasPrefix("heal") { c.faults.removeAll { $0.yaml.hasPrefix("partition") } }
            if removed.yaml.hasPrefix("crash") { c.faults.removeAll { $0.yaml.hasPrefix("restart") } }
            if removed.yaml.hasPrefix("restart") { c.faults.removeAll { $0.yaml.hasPrefix("crash") } }
            out.append(c)
        }
        if s.settlement {
            var c = s
            c.settlement = false
            c.stallTimeoutMillis = nil
            out.append(c)
        }
        if s.lossPercent + s.duplicatePercent + s.reorderPercent > 0 {
            var c = s
            (c.lossPercent, c.duplicatePercent, c.reorderPercent) = (0, 0, 0)
            out.append(c)
        }
        if s.ratePerSecond > 0 { var c = s; c.ratePerSecond = s.ratePerSecond / 2; out.append(c) }
        if s.ratePerSecond > 1 { var c = s; c.ratePerSecond = s.ratePerSecond - 1; out.append(c) }
        if s.durationMillis > 1000 {
            var c = s
            c.durationMillis = max(1000, s.durationMillis / 2)
            c.faults = c.faults.filter { $0.atMillis <= c.durationMillis }
            c.byzantine = c.byzantine.compactMap { script in
                guard script.fromMillis <= c.durationMillis else { return nil }
                var script = script
                script.untilMillis = min(script.untilMillis, c.durationMillis)
                return script
            }
            out.append(c)
        }
        if let fewer = withoutOneParticipant(s) { out.append(fewer) }
        if s.amountMax > 1 { var c = s; c.amountMax = max(1, s.amountMax / 2); out.append(c) }
        if s.deposit > 10 { var c = s; c.deposit = max(10, s.deposit / 2); out.append(c) }
        return out
    }
}

/// Runs seeds on several threads. Each seed is one independent, deterministic run; results
/// are recorded one at a time, as they finish.
public final class CampaignRunner: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let seeds: [UInt64]
    private let plants: [String]
    private let stop: @Sendable () -> Bool
    private let onResult: @Sendable (SeedResult, GeneratedScenario) -> Void

    /// - Parameters:
    ///   - stop: asked before each seed; true stops taking new seeds (a time budget).
    ///   - onResult: called for each finished seed, one call at a time.
    public init(
        seeds: [UInt64], plants: [String], stop: @escaping @Sendable () -> Bool,
        onResult: @escaping @Sendable (SeedResult, GeneratedScenario) -> Void
    ) {
        self.seeds = seeds
        self.plants = plants
        self.stop = stop
        self.onResult = onResult
    }

    /// Runs every seed (or until `stop`) on `jobs` threads and returns when all are done.
    public func run(jobs: Int) {
        precondition(jobs >= 1 && jobs <= 256, "jobs must be 1...256")
        // Threads only run whole seeds side by side: each seed is one LabRun with its own
        // state and seeded streams, single-threaded inside, so its trace does not depend on
        // the threads (tested: CampaignTests.threadsDoNotChangeAnySeedsTrace).
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while true {
                lock.lock()
                guard next < seeds.count, !stop() else {
                    lock.unlock()
                    return
                }
                let seed = seeds[next]
                next += 1
                lock.unlock()
                let (result, generated) = Campaign.run(seed: seed, plants: plants)
                lock.lock()
                onResult(result, generated)
                lock.unlock()
            }
        }
    }
}
