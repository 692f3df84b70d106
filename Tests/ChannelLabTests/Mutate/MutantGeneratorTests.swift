import ChannelLab
import Foundation
import Testing

/// Goal: the mutation runner's generator makes exactly the edits docs/teeth.md lists, never
/// inside comments or strings, each one applicable to its line; samples and shards are
/// deterministic and cover the sample once; scores count what they claim.
/// Method: small source snippets with known mutants, then every mutant of the real target
/// folders applied to its own line.
@Suite struct MutantGeneratorTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func changes(_ text: String) -> [String] {
        MutantGenerator.mutants(of: text, file: "t.swift", folder: "T").map { "\($0.line):\($0.op):\($0.original)->\($0.replacement)" }
    }

    @Test func operatorsMakeTheListedEdits() {
        let text = """
                guard balance >= amount else { return .insufficient }
                if a && b {
                total -= 1
                let x = min(a, b)
                credit(key, amount)
            """
        let found = Self.changes(text)
        for expected in [
            "1:relational:>=->>", "1:drop-guard:guard balance >= amount else { return .insufficient }->",
            "1:negate:balance >= amount->!(balance >= amount)", "2:logical:&&->||", "2:negate:a && b->!(a && b)", "3:arithmetic:-=->+=",
            "3:constant:1->2", "3:constant:1->0", "3:remove-statement:total -= 1->", "4:min-max:min(->max(", "5:remove-statement:credit(key, amount)->",
        ] {
            #expect(found.contains(expected), "missing \(expected) in \(found)")
        }
        #expect(found.count == 11, "\(found)")
    }

    /// Checks called with `try`, named limits (their value only), range bounds and switch arms
    /// are mutated; enum case declarations are not.
    @Test func tryStatementsLimitsRangesAndSwitchArmsAreMutated() {
        let text = """
                try signed.verify(config: config, threshold: threshold)
                public static let proposalsMax = 1024
                for index in 0..<16 {
                case let .transfer(_, amount): return amount > 0
                case trader = "trader"
            """
        let found = Self.changes(text)
        #expect(found.contains("1:remove-statement:try signed.verify(config: config, threshold: threshold)->"))
        #expect(found.filter { $0.hasPrefix("2:") } == ["2:constant:1024->1025", "2:constant:1024->1023"])
        #expect(found.contains("3:constant:0->1") && found.contains("3:constant:16->17") && found.contains("3:constant:16->15"))
        #expect(found.contains("4:relational:>->>="))
        #expect(!found.contains { $0.hasPrefix("5:") })
    }

    @Test func commentsStringsAndSkippedLinesAreNeverMutated() {
        let text = """
            // a < b && c == 1
            /// doc: x >= 2
            let s = "a < b == 3"
            /* block
               a < b */
            precondition(a < b)
            x.append(bugs.contains(.y) ? 1 : 0)
            let y: Int
            y = 3
            Foo(bar: x)
            out.reserveCapacity(16)
            """
        let found = Self.changes(text)
        #expect(found.allSatisfy { $0.hasPrefix("9:constant") }, "\(found)")
        #expect(!found.contains { $0.contains("remove-statement") }, "a deferred let's assignment, an initializer, a capacity hint")
    }

    @Test func everyMutantOfTheTargetsAppliesToItsLineAndIdsAreUnique() throws {
        let mutants = try MutationRunner.allMutants(repository: Self.repository)
        #expect(mutants.count > 1000)
        #expect(Set(mutants.map(\.id)).count == mutants.count)
        var files = [String: [String]]()
        for mutant in mutants {
            let lines = try files[mutant.file] ?? String(contentsOfFile: Self.repository + "/" + mutant.file, encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            files[mutant.file] = lines
            let mutated = mutant.apply(to: lines[mutant.line - 1])
            #expect(mutated != nil && mutated != lines[mutant.line - 1], "\(mutant)")
        }
        #expect(Set(mutants.map(\.folder)) == ["Apps", "Chain", "Crypto", "Evidence", "Graph", "Ledgers", "Node", "Replica", "Settlement", "Wire"])
        #expect(!mutants.contains { $0.file.hasSuffix("PlantedBugs.swift") })
    }

    @Test func samplesAreSeededAndShardsCoverThemOnce() throws {
        let mutants = try MutationRunner.allMutants(repository: Self.repository)
        let sample = MutationRunner.sample(mutants, count: 50, seed: 3, shard: (1, 1))
        #expect(sample == MutationRunner.sample(mutants, count: 50, seed: 3, shard: (1, 1)))
        #expect(sample != MutationRunner.sample(mutants, count: 50, seed: 4, shard: (1, 1)))
        let shards = (1...3).map { MutationRunner.sample(mutants, count: 50, seed: 3, shard: ($0, 3)) }
        #expect(Set(shards.flatMap { $0 }) == Set(sample))
        #expect(shards.map(\.count).reduce(0, +) == 50)
    }

    @Test func scoresExcludeBuildFailuresAndEquivalentMutants() throws {
        func fate(_ line: Int, _ outcome: MutantFate.Outcome, folder: String = "Replica") -> MutantFate {
            MutantFate(
                mutant: Mutant(file: "f.swift", folder: folder, line: line, column: 1, op: "relational", original: "<", replacement: "<="),
                outcome: outcome, killer: "", invariants: "", seed: nil, detail: "", wallSeconds: 0)
        }
        let fates = [fate(1, .killed), fate(2, .killed), fate(3, .survived), fate(4, .survived), fate(5, .buildFailed), fate(6, .killed, folder: "Wire")]
        let equivalent = try EquivalentMutants(text: "# comment\n\(fates[3].mutant.id) only changes a capacity hint\n", path: "e.txt")
        let scores = MutationReport.scores(fates, equivalent: equivalent)
        let replica = try #require(scores.first { $0.folder == "Replica" })
        #expect(replica.recorded == 5 && replica.killed == 2 && replica.survived == 1 && replica.equivalent == 1 && replica.buildFailed == 1)
        #expect(replica.percent > 66.6 && replica.percent < 66.7)
        #expect(scores.last?.folder == "total" && scores.last?.killed == 3)
        #expect(MutationReport.survivors(fates, equivalent: equivalent).map(\.mutant.line) == [3])
        #expect(throws: TraceError.self) { _ = try EquivalentMutants(text: "nothex reason\n", path: "e.txt") }
        #expect(throws: TraceError.self) { _ = try EquivalentMutants(text: "\(fates[0].mutant.id)\n", path: "e.txt") }
    }
}
