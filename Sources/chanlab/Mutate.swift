import ArgumentParser
import ChannelLab
import Foundation

/// `chanlab mutate`: mutation testing of the system under test (docs/teeth.md).
struct Mutate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mutation testing: build mutants of ChannelCore and the node and chain code, run the lab on each (every bundled scenario, then a fuzz budget) and record each fate in a SQLite database; resumable and shardable. --report prints the score per folder. Run from the repository root.")

    @Option(help: "Mutation database (SQLite): a row per mutant; an interrupted campaign resumes where it stopped.")
    var db = "mutants.sqlite"

    @Option(help: "Take this many mutants of a seeded random order (default: all).")
    var sample: Int?

    @Option(help: "Seed of the sample's order.")
    var seed: UInt64 = 1

    @Option(help: "Run shard i of n (i/n) of the sample.")
    var shard: String?

    @Option(help: "Only mutants of this folder (Replica, Ledgers, Wire, Evidence, Settlement, Graph, Crypto, Apps, Node, Chain); repeatable.")
    var folder: [String] = []

    @Option(help: "Only the mutant with this id (as --list prints it); repeatable. Judged even if the database has it (to re-judge a survivor).")
    var id: [String] = []

    @Option(help: "Fuzz seeds run on a mutant every bundled scenario failed to kill (1..N; 0: none).")
    var fuzzSeeds = 200

    @Option(help: "Stop taking new mutants after this many wall seconds.")
    var timeBudget: Double?

    @Option(help: "Where the mutants are built (a copy of the repository; one per campaign running at the same time).")
    var tree: String?

    @Option(help: "Equivalent mutants, marked by hand: one '<id> <reason>' per line.")
    var equivalent = "docs/teeth-equivalent.txt"

    @Option(help: "Merge these mutation databases (shards) into --db; repeatable.")
    var merge: [String] = []

    @Flag(help: "List the sampled mutants (id, folder, place, operator, change) without running them.")
    var list = false

    @Flag(help: "Print the score per folder and the survivors from --db, without running anything.")
    var report = false

    func run() throws {
        let repository = FileManager.default.currentDirectoryPath
        guard FileManager.default.fileExists(atPath: repository + "/Package.swift"), FileManager.default.fileExists(atPath: repository + "/Sources/ChannelCore") else {
            printError("chanlab mutate runs from the repository root (no Package.swift and Sources/ChannelCore here)")
            throw ExitCode(2)
        }
        guard sample.map({ $0 >= 1 }) ?? true, fuzzSeeds >= 0, timeBudget.map({ $0.isFinite && $0 > 0 }) ?? true else {
            printError("--sample must be at least 1, --fuzz-seeds at least 0, --time-budget positive")
            throw ExitCode(2)
        }
        let shard = try parseShard(self.shard)
        do {
            let equivalents = try loadEquivalents()
            var mutants = try MutationRunner.allMutants(repository: repository)
            let folders = Set(mutants.map(\.folder))
            if let unknown = folder.first(where: { !folders.contains($0) }) {
                printError("unknown folder '\(unknown)'; known: \(folders.sorted().joined(separator: ", "))")
                throw ExitCode(2)
            }
            if !folder.isEmpty { mutants = mutants.filter { folder.contains($0.folder) } }
            if let unknown = id.first(where: { wanted in !mutants.contains { $0.id == wanted } }) {
                printError("no mutant has id '\(unknown)' (chanlab mutate --list shows them)")
                throw ExitCode(2)
            }
            let sampled = id.isEmpty ? MutationRunner.sample(mutants, count: sample, seed: seed, shard: shard) : mutants.filter { id.contains($0.id) }
            if list {
                for m in sampled {
                    let change = m.replacement.isEmpty ? "remove `\(m.original)`" : "`\(m.original)` -> `\(m.replacement)`"
                    print("\(m.id)\t\(m.folder)\t\(m.file):\(m.line):\(m.column)\t\(m.op)\t\(change)")
                }
                printError("\(sampled.count) of \(mutants.count) mutants")
                return
            }
            let database = try MutationDatabase(path: db)
            for other in merge { print("merged \(try database.merge(from: other)) mutants from \(other)") }
            if report || !merge.isEmpty {
                print(MutationReport.text(try database.fates(), equivalent: equivalents))
                return
            }
            let runner = MutationRunner(repository: repository, tree: tree.map { $0.hasPrefix("/") ? $0 : repository + "/" + $0 }, fuzzSeeds: fuzzSeeds) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            try runner.prepare()
            _ = try runner.run(sampled, database: database, timeBudgetSeconds: timeBudget, again: !id.isEmpty)
            print(MutationReport.text(try database.fates(), equivalent: equivalents))
        } catch let error as TraceError {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    func loadEquivalents() throws(TraceError) -> EquivalentMutants {
        guard FileManager.default.fileExists(atPath: equivalent) else { return EquivalentMutants() }
        guard let text = try? String(contentsOfFile: equivalent, encoding: .utf8) else { throw TraceError(path: equivalent, message: "cannot read") }
        return try EquivalentMutants(text: text, path: equivalent)
    }
}
