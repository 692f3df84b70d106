import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

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
        let range = try parseSeeds(seeds, countMax: 100_000_000)
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
