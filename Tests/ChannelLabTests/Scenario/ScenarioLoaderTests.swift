import ChannelLab
import Foundation
import Testing

/// Goal: every bundled scenario loads, and every kind of bad input names file, line and
/// column precisely. Method: small broken documents, with the position of the culprit.
@Suite struct ScenarioLoaderTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyBundledScenarioLoads() throws {
        let files = ScenarioLoader.files(in: Self.repository.appendingPathComponent("scenarios").path)
        #expect(files.count >= 8)
        for file in files {
            let scenario = try ScenarioLoader.load(path: file)
            #expect(!scenario.name.isEmpty)
        }
    }

    /// Two workloads that differ only in their mix, their token or a burst are different
    /// values (equality and hashing used to ignore the mix weights and the token).
    @Test func workloadsThatDifferInMixOrTokenAreNotEqual() throws {
        func workloads(_ line: String) throws -> WorkloadSpec {
            let text = """
                name: t
                duration: 5s
                participants: {count: 3}
                tokens: [0, 1]
                workloads:
                  - {participants: all, rate: 5, amount: [1, 10]\(line)}
                """
            return try ScenarioLoader.parse(text, file: "t.yaml").workloads[0]
        }
        let plain = try workloads("")
        let variants = [
            try workloads(", mix: {transfer: 50, withdraw: 50}"), try workloads(", mix: {transfer: 80, deposit: 10, withdraw: 5, lock: 5}"),
            try workloads(", token: 1"), try workloads(", bursts: [{at: 1s, count: 3}]"),
        ]
        for variant in variants {
            #expect(variant != plain)
            #expect(Set([variant, plain]).count == 2)
        }
        #expect(try workloads("") == plain)
    }

    static let valid = """
        name: t
        duration: 5s
        participants: {count: 3}
        faults:
          - {at: 1s, partition: [[0], [1, 2]]}
          - {at: 2s, heal: all}
        workloads:
          - {participants: all, rate: 5, amount: [1, 10]}
        """

    @Test func aValidDocumentParsesWithItsValues() throws {
        let scenario = try ScenarioLoader.parse(Self.valid, file: "t.yaml")
        #expect(scenario.participantCount == 3)
        #expect(scenario.duration == .seconds(5))
        #expect(scenario.faults.count == 2)
        #expect(scenario.workloads.first?.ratePerSecond == 5)
    }

    /// (document, line, column, fragment of the message)
    static let broken: [(String, Int, Int, String)] = [
        ("name: t\nduration: 5s\nparticipants: {count: 3}\ncolour: red\n", 4, 1, "unknown key 'colour'"),
        ("name: t\nduration: five\nparticipants: {count: 3}\n", 2, 11, "needs a unit"),
        ("name: t\nduration: 5s\nparticipants: {count: many}\n", 3, 23, "must be an integer"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nworkloads:\n  - {participants: [0, 7], rate: 1}\n", 5, 24, "unknown participant 7"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nworkloads:\n  - {participants: all, amount: [-5, 10]}\n", 5, 34, "must not be negative"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nfaults:\n  - {at: 1s, heal: all}\n  - {at: 2s, partition: [[0], [1, 2]]}\n", 5, 20, "heal at 1s before any partition"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nfaults:\n  - {at: 1s, restart: 2}\n", 5, 23, "has not crashed"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nfaults:\n  - {at: 9s, crash: 1}\n", 5, 10, "after the end of the run"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nnetwork: {loss: 1.5}\n", 4, 17, "at most 1"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nnetwork: {latency: {uniform: [50ms, 5ms]}}\n", 4, 30, "exceeds max"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nexpect: {violations: [nonsense]}\n", 4, 23, "unknown invariant 'nonsense'"),
        ("name: t\nduration: 5s\nparticipants: [1, 2\n", 4, 1, "YAML syntax"),
        ("duration: 5s\nparticipants: {count: 3}\n", 1, 1, "needs 'name'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3, roles: {1: pilot}}\n", 3, 37, "unknown role 'pilot'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {proposer: 5}\n", 4, 24, "unknown participant 5"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {threshold: 4}\n", 4, 25, "must be in 1...3"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {proposeAt: 9s}\n", 4, 25, "after the end of the run"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement:\n  checkpointInterval: 10ms\n", 5, 23, "at least 100ms"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nexpect:\n  settlement: {finalized: true}\n", 5, 15, "needs a settlement section"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {}\nexpect:\n  settlement: {exits: [4]}\n", 6, 24, "unknown participant 4"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {stallTimeout: 5s}\n", 4, 28, "needs settlement.checkpointInterval"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nsettlement: {disputeWindow: 3}\n", 4, 29, "must be longer than settlement.inclusionBlocksMax (3)"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 2, do: explode}\n", 5, 26, "unknown Byzantine strategy 'explode'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 2, do: invalid, kind: rude}\n", 5, 41, "unknown invalid kind 'rude'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 2, do: invalid, kind: permission}\n", 5, 41, "make participant 2 an observer"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 2, do: stale-proposal, at: 1s}\n", 5, 3, "needs a settlement section"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 7, do: equivocate}\n", 5, 19, "unknown participant 7"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nbyzantine:\n  - {participant: 1, do: equivocate, at: 9s}\n", 5, 42, "ends after the run"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nexpect:\n  evidence: {allows: []}\n", 5, 13, "expect.evidence needs 'includes'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nexpect:\n  evidence: {includes: [], exactly: []}\n", 5, 28, "unknown key 'exactly'"),
        ("name: t\nduration: 5s\nparticipants: {count: 3}\nexpect:\n  evidence: {includes: [{against: 1, kind: fraud}]}\n", 5, 44, "unknown evidence kind 'fraud'"),
    ]

    /// The evidence expectation: a list is exact; `includes` demands, `allows` permits.
    @Test func evidenceExpectationsAreExactOrIncludesAndAllows() throws {
        func expectation(_ yaml: String) throws -> EvidenceExpectations {
            let text = "name: t\nduration: 5s\nparticipants: {count: 3}\nexpect:\n  evidence: \(yaml)\n"
            return try #require(try ScenarioLoader.parse(text, file: "t.yaml").expect.evidence)
        }
        let equivocation = EvidenceExpectation(against: 2, kind: "equivocation")
        let overdraft = EvidenceExpectation(against: 2, kind: "invalid-in-causal-past")
        let exact = try expectation("[{against: 2, kind: equivocation}]")
        #expect(exact.failure(seen: [equivocation]) == nil)
        #expect(exact.failure(seen: [equivocation, overdraft]) != nil)
        #expect(exact.failure(seen: []) != nil)
        let allowing = try expectation("{includes: [{against: 2, kind: equivocation}], allows: [{against: 2, kind: invalid-in-causal-past}]}")
        #expect(allowing.failure(seen: [equivocation]) == nil)
        #expect(allowing.failure(seen: [equivocation, overdraft]) == nil)
        #expect(allowing.failure(seen: [overdraft])?.contains("missing evidence [\"equivocation against 2\"]") == true)
        let broken = EvidenceExpectation(against: 1, kind: "broken-chain")
        #expect(allowing.failure(seen: [equivocation, broken])?.contains("evidence not allowed [\"broken-chain against 1\"]") == true)
        let atLeast = try expectation("{includes: [{against: 2, kind: equivocation}]}")
        #expect(atLeast.failure(seen: [equivocation, broken, overdraft]) == nil)
    }

    @Test(arguments: broken.indices)
    func badInputNamesFileLineAndColumn(case index: Int) {
        let (text, line, column, fragment) = Self.broken[index]
        do {
            _ = try ScenarioLoader.parse(text, file: "bad.yaml")
            Issue.record("case \(index) parsed but should fail with \(fragment)")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.message.contains(fragment), "case \(index): \(error)")
            #expect(error.line == line, "case \(index): \(error)")
            #expect(error.column == column, "case \(index): \(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(error.line):\(error.column): "))
        }
    }

    @Test func aSettlementSectionParsesWithDefaults() throws {
        let text = Self.valid + "\nsettlement: {checkpointInterval: 2s, proposeAt: 4s, bond: 50}\nexpect:\n  settlement: {finalized: true, exits: []}\n"
        let scenario = try ScenarioLoader.parse(text, file: "t.yaml")
        let spec = try #require(scenario.settlement)
        #expect(spec.checkpointInterval == .seconds(2))
        #expect(spec.proposeAt == SimInstant(micros: 4_000_000))
        #expect(spec.threshold == 2, "ceil(2n/3) of 3")
        #expect(spec.disputeWindowBlocks == 20)
        #expect(spec.bond == 50)
        #expect(spec.stallTimeout == nil)
        #expect(scenario.expect.settlement.finalized == true)
        #expect(scenario.expect.settlement.exits == [])
        #expect(try ScenarioLoader.parse(Self.valid, file: "t.yaml").settlement == nil)
    }

    @Test func randomGarbageNeverCrashesTheLoader() {
        var rng = SeededRandom(seed: 77, stream: "yaml-garbage")
        let pieces = ["name: t\n", "duration: 5s\n", "participants: {count: 3}\n", "- ", ": ", "{", "}", "[", "]", "\"", "'", "&a ", "*a ", "\t", "\n", "  ", "faults:\n", "at: ", "9", "-1", "crash: ", "x"]
        for _ in 0..<2000 {
            var text = ""
            for _ in 0..<(1 + rng.index(30)) { text += pieces[rng.index(pieces.count)] }
            do { _ = try ScenarioLoader.parse(text, file: "g.yaml") } catch { #expect(error.line >= 1 && error.column >= 1) }
        }
    }
}
