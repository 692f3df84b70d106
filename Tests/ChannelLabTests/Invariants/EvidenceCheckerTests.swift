import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: the Byzantine scenarios pass with their expected evidence and slashing, and each
/// evidence checker catches the bug it exists for. Method: scenario files from scenarios/,
/// run clean and with a protection of the system under test switched off.
@Suite struct EvidenceCheckerTests {
    static func scenario(_ name: String) throws -> Scenario { try SettlementCheckerTests.scenario(name) }

    static let byzantineScenarios = [
        "byz-equivocate", "byz-twins", "byz-invalid-overdraft", "byz-invalid-garbage-predecessors", "byz-stale-proposal",
        "byz-amnesia", "byz-mutate-amount-up", "byz-frame", "byz-equivocation-during-partition", "byz-collusion",
        "byz-majority-blocks-checkpoints", "byz-cross-channel-replay", "byz-invalid-early-unlock", "byz-invalid-foreign-unlock", "byz-invalid-non-canonical", "byz-forge-proofs", "byz-claim-compensation-twice", "byz-invalid-reuse-receipt", "byz-invalid-broken-rule", "byz-inflate-previous", "byz-mutate-max-preds",
    ]

    @Test(arguments: byzantineScenarios)
    func byzantineScenarioPassesWithItsExpectations(name: String) throws {
        let report = ScenarioRunner.run(try Self.scenario(name))
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        #expect(report.converged)
    }

    @Test func anEquivocationIsEvidenceEverywhereAndSlashedAtSettlement() throws {
        let report = ScenarioRunner.run(try Self.scenario("byz-equivocation-during-partition"))
        #expect(report.evidence.count == 1)
        #expect(report.evidence.first?.hasPrefix("equivocation by 4") == true)
        #expect(report.slashed == [4])
        #expect(report.sometimesReached.contains("honest-operation-tainted"), "honest spends of the losing half are refused as tainted conflicts")
        #expect(report.rejections > 1)
    }

    /// Replays from a sibling channel do not verify here: every receiver drops them, and they
    /// frame nobody. Without the replaying script nothing is dropped at all.
    @Test func crossChannelReplaysAreDroppedOnArrivalAndFrameNobody() throws {
        var scenario = try Self.scenario("byz-cross-channel-replay")
        let report = ScenarioRunner.run(scenario)
        #expect(report.passed, "\(report.violations.prefix(3))")
        #expect(report.evidence.isEmpty && report.slashed.isEmpty)
        // 3 s to 6 s every 500 ms: 7 replays, each sent to 3 peers (a lost message drops fewer).
        #expect(report.droppedOnArrival > 0 && report.droppedOnArrival <= 21, "\(report.droppedOnArrival)")
        scenario.byzantine = []
        #expect(ScenarioRunner.run(scenario).droppedOnArrival == 0)
    }

    /// Broken-chain evidence lives where the operation was refused (it is not relayed), so a
    /// crash must not lose it: the durable log keeps the refused operation and the restart
    /// receives it again. With `lose-evidence-on-restart` the completeness checker catches the
    /// loss. Method: `byz-mutate-seq-up` (only node 0 gets the mutated copies) with node 0
    /// crashing at 8 s and restarting at 9 s.
    @Test func brokenChainEvidenceSurvivesACrashAndItsLossIsCaught() throws {
        let url = SettlementCheckerTests.repository.appendingPathComponent("scenarios/byz-mutate-seq-up.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "workloads:", with: "faults:\n  - {at: 8s, crash: 0}\n  - {at: 9s, restart: 0}\nworkloads:")
        let scenario = try ScenarioLoader.parse(text, file: "byz-mutate-seq-up+crash")
        let clean = ScenarioRunner.run(scenario)
        #expect(clean.passed, "\(clean.violations.prefix(3)) \(clean.expectationFailures)")
        #expect(clean.evidence.contains { $0.hasPrefix("broken chain by 3") })
        let lossy = ScenarioRunner.run(scenario, bugs: .loseEvidenceOnRestart)
        let hits = lossy.violations.filter { $0.invariant == .evidenceCompleteness }
        #expect(hits.contains { $0.detail.contains("node 0 refused participant 3's broken chain but holds no broken-chain evidence") }, "\(lossy.violations.prefix(3))")
    }

    /// (scenario, core bugs, contract bugs, lab bugs, invariant, text in the violation)
    static let bites: [(String, PlantedBugs, ContractBugs, LabBugs, Invariant, String)] = [
        ("byz-frame", [], .trustEvidence, [], .evidenceSoundness, "honest participant 1 was slashed"),
        ("byz-cross-channel-replay", .signWithoutChannelID, [], [], .evidenceSoundness, "holds evidence against honest participant 0"),
        ("byz-equivocate", .dropEquivocations, [], [], .evidenceCompleteness, "no equivocation evidence against participant 3"),
        ("byz-invalid-overdraft", [], [], .neverSlash, .evidenceCompleteness, "never slashed on chain"),
        ("byz-equivocate", [], [], .nodeOverspends, .honestValidity, "no Byzantine operation in its causal past"),
        ("byz-equivocate", [], .shortCompensation, [], .compensation, "due 500) but was paid 250"),
    ]

    @Test(arguments: bites.indices)
    func eachEvidenceCheckerCatchesItsPlantedBug(index: Int) throws {
        let (name, core, contract, lab, invariant, text) = Self.bites[index]
        let report = ScenarioRunner.run(try Self.scenario(name), bugs: core, contractBugs: contract, labBugs: lab)
        let hits = report.violations.filter { $0.invariant == invariant }
        #expect(!hits.isEmpty, "\(invariant) not reported; saw \(Set(report.violations.map(\.invariant)))")
        #expect(hits.contains { $0.detail.contains(text) }, "\(hits.prefix(3).map(\.detail))")
        #expect(!report.passed)
    }

    @Test func compensationIsFullWithinTheBondAndProRataBeyondIt() throws {
        let full = ScenarioRunner.run(try Self.scenario("byz-equivocate")).settlement.compensations
        #expect(full.count == 1)
        #expect(full.first.map { ($0.owed, $0.paid, $0.bond) } ?? ("", "", "") == ("500", "500", "600"))
        let partial = ScenarioRunner.run(try Self.scenario("byz-equivocation-during-partition")).settlement.compensations
        #expect(partial.count == 1)
        #expect(partial.first.map { ($0.owed, $0.paid, $0.bond) } ?? ("", "", "") == ("500", "200", "200"))
    }

    @Test func byzantineRunsAreDeterministic() throws {
        let check = ScenarioRunner.checkDeterminism(try Self.scenario("byz-collusion"))
        #expect(check.identical, "\(check.firstDifference ?? "")")
    }
}
