import ChannelCore
import ChannelLab
import Testing

/// Goal: runs are deterministic, pass when nothing is wrong, and every checker catches the
/// bug it exists for. Method: a small scenario run clean, twice, with another seed, and with
/// each planted bug switched in.
@Suite struct LabRunTests {
    static let text = """
        name: small
        duration: 6s
        participants: {count: 4, deposit: 500}
        network:
          latency: {uniform: [2ms, 30ms]}
          loss: 0.05
          duplicate: 0.05
          reorder: 0.2
        faults:
          - {at: 1s, partition: [[0, 1], [2, 3]]}
          - {at: 3s, heal: all}
          - {at: 2s, crash: 3}
          - {at: 4s, restart: 3}
        workloads:
          - {participants: all, rate: 15, amount: [1, 20], mix: {transfer: 70, deposit: 20, withdraw: 10}}
        liveness: {bound: 20s}
        """

    static func scenario() throws -> Scenario { try ScenarioLoader.parse(text, file: "small.yaml") }

    @Test func aCleanRunPassesConvergesAndReachesItsSometimes() throws {
        let report = ScenarioRunner.run(try Self.scenario())
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        #expect(report.converged)
        #expect(report.violations.isEmpty)
        #expect(Set(report.stateRoots).count == 1)
        #expect(report.operations > 100)
        for expected in ["message-lost", "partition-dropped", "crashed-node-caught-up", "converged-after-partition"] {
            #expect(report.sometimesReached.contains(expected), "\(expected) never reached")
        }
    }

    @Test func sameSeedSameTraceAndAnotherSeedAnotherTrace() throws {
        let scenario = try Self.scenario()
        let a = ScenarioRunner.run(scenario, seed: 11)
        let b = ScenarioRunner.run(scenario, seed: 11)
        let c = ScenarioRunner.run(scenario, seed: 12)
        #expect(a.traceHash == b.traceHash)
        #expect(a.stateRoots == b.stateRoots)
        #expect(a.traceHash != c.traceHash)
        let check = ScenarioRunner.checkDeterminism(scenario, seed: 11)
        #expect(check.identical)
        #expect(check.firstDifference == nil)
        #expect(check.traceHashes.0 == a.traceHash)
    }

    /// Each checker against the bug it exists for: (core bugs, lab bugs, invariant that must
    /// be reported).
    static let bites: [(PlantedBugs, LabBugs, Invariant)] = [
        ([], .nodeOverspends, .honestValidity),
        // Judged in runs without Byzantine scripts too: honest nodes hold evidence against the
        // honest overspender (before, soundness was checked only when a script ran).
        ([], .nodeOverspends, .evidenceSoundness),
        (.skipBalanceCheck, .nodeOverspends, .noNegativeBalance),
        (.creditWithoutDebit, [], .conservation),
        (.mergeInArrivalOrder, .nodeOverspends, .strongEventualConsistency),
        (.mergeInArrivalOrder, .nodeOverspends, .convergence),
        ([], .noAntiEntropy, .liveness),
        ([], .unbackedReceipts, .conservation),
    ]

    @Test(arguments: bites.indices)
    func eachCheckerCatchesItsPlantedBug(index: Int) throws {
        let (core, lab, invariant) = Self.bites[index]
        let report = ScenarioRunner.run(try Self.scenario(), bugs: core, labBugs: lab)
        #expect(report.violations.contains { $0.invariant == invariant }, "\(invariant) not reported; saw \(Set(report.violations.map(\.invariant)))")
        #expect(!report.passed)
        let violation = report.violations.first { $0.invariant == invariant }
        #expect(violation?.nodes.isEmpty == false)
    }

    /// Congestion holds deposit transactions in the mempool; they land once it ends, exactly
    /// once despite duplicated requests, and the chain's height keeps counting.
    @Test func congestionDelaysDepositsWhichThenLandOnce() throws {
        let text = """
            name: congested
            duration: 8s
            participants: {count: 3, deposit: 100}
            network: {latency: {fixed: 5ms}, duplicate: 0.5}
            chain: {blockInterval: 200ms}
            faults:
              - {at: 1s, congest: 5s}
            workloads:
              - {participants: all, rate: 5, mix: {deposit: 100}, amount: [1, 10]}
            """
        let report = ScenarioRunner.run(try ScenarioLoader.parse(text, file: "c.yaml"))
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
        #expect(report.sometimesReached.contains("chain-congested"))
        #expect(report.sometimesReached.contains("deposit-through-chain"))
        #expect(report.rejections == 0)
    }

    @Test func overspendingAloneBreaksOnlyHonestValidityAndEvidenceSoundness() throws {
        let report = ScenarioRunner.run(try Self.scenario(), labBugs: .nodeOverspends)
        #expect(Set(report.violations.map(\.invariant)) == [.honestValidity, .evidenceSoundness])
        #expect(report.converged)
    }
}
