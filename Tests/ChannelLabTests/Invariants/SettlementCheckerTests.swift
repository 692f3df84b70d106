import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: the settlement scenarios pass with their expected outcomes, and every settlement
/// checker catches the bug it exists for. Method: the scenario files from scenarios/, run
/// clean and with a broken contract or broken nodes switched in; a protection that holds on
/// its own (the contract refusing a hasty finalize or a second claim) is shown to hold.
@Suite struct SettlementCheckerTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func scenario(_ name: String) throws -> Scenario {
        try ScenarioLoader.load(path: repository.appendingPathComponent("scenarios/\(name).yaml").path)
    }

    static let settlementScenarios = [
        "settle-busy-channel", "settle-one-offline", "settle-across-partition", "unilateral-exit",
        "congestion-delays-challenge", "congestion-beyond-window",
    ]

    @Test(arguments: settlementScenarios)
    func settlementScenarioPassesWithItsExpectations(name: String) throws {
        let report = ScenarioRunner.run(try Self.scenario(name))
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let settlement = report.settlement
        // Payouts never exceed what was locked, whatever the outcome.
        let paid = report.payouts.compactMap { UInt128($0.amount) }.reduce(0, +)
        #expect(paid > 0)
        #expect(Set(report.payouts.map { "\($0.participant)/\($0.token)" }).count == report.payouts.count, "an account paid twice")
        if settlement.outcome == "finalized" {
            #expect(settlement.finalVersion! >= settlement.proposedVersion!)
            #expect(report.checkpoints.contains { $0.version == settlement.finalVersion })
        }
    }

    @Test func aCleanSettlementPaysEveryoneTheFinalCheckpoint() throws {
        let report = ScenarioRunner.run(try Self.scenario("settle-busy-channel"))
        let settlement = report.settlement
        #expect(settlement.outcome == "finalized")
        #expect(settlement.finalVersion == settlement.newestHonestVersion)
        #expect(settlement.honestLosses.isEmpty)
        #expect(report.payouts.count == 5)
        #expect(report.payouts.allSatisfy { $0.kind == "claim" })
        #expect(report.checkpoints.last?.final == true)
        #expect(report.checkpoints.allSatisfy { $0.signers.count >= 4 })
    }

    @Test func congestionBeyondTheWindowShowsTheLossAndNamesTheCause() throws {
        let report = ScenarioRunner.run(try Self.scenario("congestion-beyond-window"))
        let settlement = report.settlement
        #expect(settlement.finalVersion == settlement.proposedVersion, "the stale proposal was finalized")
        #expect(settlement.finalVersion! < settlement.newestHonestVersion!)
        #expect(settlement.honestLosses.map(\.participant) == [2])
        let cause = try #require(settlement.cause)
        #expect(cause.contains("after the deadline"))
        #expect(cause.contains("congestion"))
        #expect(report.violations.contains { $0.invariant == .settlementSafety && $0.detail.contains("cause") })
        #expect(settlement.transactions.contains { $0.kind == "challenge" && ($0.refusal ?? "").hasPrefix("windowClosed") })
    }

    /// The cause of a loss names the honest challengers whose challenges the congestion held
    /// past the deadline, never a Byzantine node's challenge (found by review: the cause
    /// cited the stale proposer's own challenge, the first refused one on record). Method: a
    /// stale proposal followed by a congestion longer than the window, so the violation itself
    /// is expected; seed 2 is the one the review saw, 3 another.
    @Test(arguments: [2, 3] as [UInt64])
    func theCauseNamesTheHonestChallengersTheCongestionHeldBack(seed: UInt64) throws {
        let text = """
            name: stale-congest-past-deadline
            duration: 40s
            participants: {count: 5, deposit: 500}
            network: {latency: {uniform: [5ms, 40ms]}}
            chain: {blockInterval: 500ms}
            settlement: {checkpointInterval: 1s, proposeAt: 35s, threshold: 4, disputeWindow: 20, bond: 200}
            faults: [{at: 10700ms, congest: 15s}]
            workloads: [{participants: [0, 1, 2, 3], rate: 10, amount: [1, 20], until: 9s}]
            byzantine: [{participant: 4, do: stale-proposal, at: 10s}]
            liveness: {bound: 60s}
            expect: {converge: true, violations: [settlement-safety], slashed: [4]}
            """
        let report = ScenarioRunner.run(try ScenarioLoader.parse(text, file: "stale-congest-past-deadline"), seed: seed)
        let passed = report.passed
        #expect(passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let cause = try #require(report.settlement.cause)
        #expect(!cause.contains("node 4"), "the stale proposer is cited: \(cause)")
        #expect(cause.contains("congestion"))
        // Every honest node that challenged in the window and was included after the deadline.
        let deadline = try #require(report.settlement.deadline)
        // Blocks come every 500 ms from the genesis block (height 1) at time 0, congested or not.
        let deadlineMicros = (deadline - 1) * 500_000
        let challengers = Set(report.settlement.transactions.filter {
            $0.kind == "challenge" && $0.from != 4 && $0.height > deadline && $0.submittedMicros <= deadlineMicros
        }.map(\.from)).sorted()
        #expect(!challengers.isEmpty, "no honest challenge was held back: the scenario no longer shows the case")
        #expect(cause.contains("honest nodes \(challengers.map(String.init).joined(separator: ", ")) were submitted"), "\(cause)")
        for node in challengers { #expect(cause.contains("node \(node)'s (version"), "node \(node) missing: \(cause)") }
        #expect(report.violations.contains { $0.invariant == .settlementSafety && $0.detail.contains(cause) })
    }

    /// Each settlement checker against the bug it exists for: (scenario, contract bugs, lab
    /// bugs, invariant, text the violation must contain).
    static let bites: [(String, ContractBugs, LabBugs, Invariant, String)] = [
        ("settle-across-partition", .finalizeEarly, .hastyFinalize, .settlementSafety, "before the dispute window closed"),
        ("settle-busy-channel", .payTwice, .claimTwice, .settlementSafety, "paid twice"),
        ("settle-busy-channel", .payTwice, .claimTwice, .settlementSafety, "exceed deposits plus bonds"),
        ("settle-across-partition", .acceptOlderChallenge, .challengeWithOldest, .settlementMonotone, "the proposal under dispute went from"),
        ("unilateral-exit", [], .neverExit, .unilateralExit, "still unpaid"),
        ("settle-busy-channel", [], .neverFinalize, .disputeLiveness, "is not final"),
    ]

    @Test(arguments: bites.indices)
    func eachSettlementCheckerCatchesItsPlantedBug(index: Int) throws {
        let (name, contract, lab, invariant, text) = Self.bites[index]
        let report = ScenarioRunner.run(try Self.scenario(name), contractBugs: contract, labBugs: lab)
        let hits = report.violations.filter { $0.invariant == invariant }
        #expect(!hits.isEmpty, "\(invariant) not reported; saw \(Set(report.violations.map(\.invariant)))")
        #expect(hits.contains { $0.detail.contains(text) }, "\(hits.prefix(3).map(\.detail))")
        #expect(!report.passed)
    }

    /// An honest exiter must never become provably stale: once it has decided to exit it
    /// signs no more checkpoints, so no signature of its follows a newer certificate than its
    /// exit, and nobody, itself included, can slash it; "nobody honest is slashed" is checked
    /// in runs without Byzantine scripts too. Method: found by review; a partitioned node
    /// decides to exit while congestion holds its exit in the mempool, and after the heal it is
    /// asked to sign the others' next round.
    @Test func anHonestExiterIsNeverSlashed() throws {
        // (Before the fix this run ended with `slashed [0]`: 0 signed the next round after its
        // exit, and that signature was stale-proposal evidence against it.)
        let text = """
            name: exiter-not-slashed
            seed: 5
            duration: 14s
            participants: {count: 4, deposit: 500}
            network:
              latency: {uniform: [5ms, 30ms]}
              links:
                - {from: 3, to: 1, latency: {fixed: 200ms}}
            chain: {blockInterval: 500ms}
            settlement: {checkpointInterval: 1s, threshold: 3, disputeWindow: 6, stallTimeout: 2s, bond: 100}
            faults:
              - {at: 1500ms, partition: [[0], [1, 2, 3]]}
              - {at: 3900ms, congest: 3s}
              - {at: 4100ms, heal: all}
            workloads:
              - {participants: [1, 2], rate: 10, amount: [1, 20], until: 2800ms}
            liveness: {bound: 40s}
            """
        let report = ScenarioRunner.run(try ScenarioLoader.parse(text, file: "exiter-not-slashed"))
        #expect(report.slashed.isEmpty, "\(report.slashed)")
        #expect(!report.violations.contains { $0.invariant == .evidenceSoundness }, "\(report.violations.prefix(3))")
        #expect(report.settlement.exits == [0] && report.settlement.outcome == "finalized")
    }

    /// A loss no honest node could have challenged (the holders of the newer checkpoint were
    /// away for the whole window) is reported, not a violation; with a holder back early in
    /// the window it is challenged away, and if that holder's challenge is held up past the
    /// deadline (congestion), the loss is a violation again.
    @Test func aLossNobodyCouldChallengeIsReportedButNotAViolation() throws {
        let away = ScenarioRunner.run(try Self.scenario("exit-while-holders-away"))
        #expect(away.passed, "\(away.violations.prefix(3)) \(away.expectationFailures)")
        #expect(away.sometimesReached.contains("unchallengeable-loss"))
        #expect(away.settlement.honestLosses.map(\.participant) == [0, 3])
        let text = try String(contentsOf: Self.repository.appendingPathComponent("scenarios/exit-while-holders-away.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  - {at: 3s, online: 0}", with: "  - {at: 3s, online: 0}\n  - {at: 5s, online: 1}")
        let back = try ScenarioLoader.parse(text, file: "exit-while-holders-away+1")
        let challenged = ScenarioRunner.run(back)
        #expect(challenged.settlement.challengesWon == 1)
        #expect(challenged.settlement.honestLosses.isEmpty)
        let congested = try ScenarioLoader.parse(
            text.replacingOccurrences(of: "  - {at: 5s, online: 1}", with: "  - {at: 5s, online: 1}\n  - {at: 5s, congest: 6s}"), file: "exit-while-holders-away+1+congestion")
        let late = ScenarioRunner.run(congested)
        #expect(late.violations.contains { $0.invariant == .settlementSafety && $0.detail.contains("holds version 2001") }, "\(late.violations.prefix(3))")
        #expect(!late.sometimesReached.contains("unchallengeable-loss"))
    }

    /// A correct contract holds against the broken node alone.
    @Test(arguments: [("settle-across-partition", LabBugs.hastyFinalize), ("settle-busy-channel", LabBugs.claimTwice)])
    func theContractRefusesWhatTheBrokenNodeSends(name: String, lab: LabBugs) throws {
        let report = ScenarioRunner.run(try Self.scenario(name), labBugs: lab)
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        let refusals = report.settlement.transactions.compactMap(\.refusal)
        #expect(refusals.contains { $0.hasPrefix("windowOpen") || $0.hasPrefix("alreadyPaid") })
    }

    @Test func settlementRunsAreDeterministic() throws {
        let scenario = try Self.scenario("congestion-delays-challenge")
        let check = ScenarioRunner.checkDeterminism(scenario)
        #expect(check.identical, "\(check.firstDifference ?? "")")
    }
}
