import ChannelCore
import ChannelLab
import Foundation
import Testing

/// Goal: generated scenarios run exactly as their YAML files do; shards cover a range exactly
/// once; a campaign database resumes without losing or repeating a seed and merges shards;
/// a planted bug is found and shrunk. Method: small seed ranges.
@Suite struct CampaignTests {
    @Test func aGeneratedScenarioRunsTheSameFromItsFile() throws {
        for seed: UInt64 in [3, 17, 42] {
            let generated = ScenarioGenerator.generate(seed: seed)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-gen-\(UUID().uuidString).yaml").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try generated.yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let fromFile = ScenarioRunner.run(try ScenarioLoader.load(path: path))
            let direct = Campaign.run(generated, plants: [])
            #expect(fromFile.traceHash == direct.traceHash, "seed \(seed)")
            #expect(ScenarioGenerator.generate(seed: seed) == generated, "the same seed chooses the same scenario")
        }
        #expect(ScenarioGenerator.generate(seed: 1) != ScenarioGenerator.generate(seed: 2))
    }

    /// Seeds run side by side on threads give the same trace as each seed run alone.
    @Test func threadsDoNotChangeAnySeedsTrace() {
        // `onResult` is called one at a time, so a plain box is enough.
        final class Hashes: @unchecked Sendable {
            var bySeed: [UInt64: String] = [:]
        }
        let hashes = Hashes()
        CampaignRunner(seeds: Array(1...6), plants: [], stop: { false }, onResult: { result, _ in
            hashes.bySeed[result.seed] = result.traceHash
        }).run(jobs: 3)
        for seed: UInt64 in 1...6 {
            #expect(hashes.bySeed[seed] == Campaign.run(seed: seed, plants: []).result.traceHash, "seed \(seed)")
        }
    }

    @Test func swarmSeedsSwitchFeaturesOnAndOff() {
        let all = (1...200).map { ScenarioGenerator.generate(seed: UInt64($0)) }
        #expect(all.contains { $0.byzantine.isEmpty } && all.contains { !$0.byzantine.isEmpty })
        #expect(all.contains { $0.settlement } && all.contains { !$0.settlement })
        #expect(all.contains { $0.faults.isEmpty } && all.contains { !$0.faults.isEmpty })
        #expect(all.contains { $0.lossPercent == 0 } && all.contains { $0.lossPercent > 0 })
        #expect(Set(all.flatMap { $0.byzantine.map(\.strategy) }).count >= 8)
        #expect(all.contains { $0.byzantine.contains { $0.strategy == "replay" } })
        // Stalls: settling seeds with and without `stallTimeout` (and then nothing proposed).
        let stalls = all.filter { $0.stallTimeoutMillis != nil }
        #expect(!stalls.isEmpty && all.contains { $0.settlement && $0.stallTimeoutMillis == nil })
        #expect(stalls.allSatisfy { $0.settlement && $0.yaml.contains("stallTimeout: ") && !$0.yaml.contains("proposeAt") })
        #expect(stalls.allSatisfy { stall in stall.faults.contains { $0.yaml.hasPrefix("offline: ") } })
    }

    /// Removing a participant takes the faults about it alone along; a Byzantine script on the
    /// last index moves to an honest one, with its faults, and that honest one goes instead.
    @Test func shrinkingAParticipantTakesItsOwnFaultsAlong() throws {
        var s = ScenarioGenerator.generate(seed: 1)
        s.participants = 4
        s.faults = [.init(atMillis: 100, yaml: "offline: 3"), .init(atMillis: 200, yaml: "crash: 2"), .init(atMillis: 300, yaml: "restart: 2")]
        s.byzantine = []
        let honestLast = try #require(Campaign.withoutOneParticipant(s))
        #expect(honestLast.participants == 3)
        #expect(honestLast.faults.map(\.yaml) == ["crash: 2", "restart: 2"])
        s.byzantine = [.init(participant: 3, strategy: "equivocate", extra: "", fromMillis: 500, untilMillis: 500, everyMillis: nil)]
        let scriptedLast = try #require(Campaign.withoutOneParticipant(s))
        #expect(scriptedLast.byzantine.map(\.participant) == [2])
        #expect(scriptedLast.faults.map(\.yaml) == ["offline: 2"], "2's own faults go with it, 3's move to 2")
        s.faults.append(.init(atMillis: 400, yaml: "partition: [[0, 1], [2, 3]]"))
        #expect(Campaign.withoutOneParticipant(s) == nil, "a partition names the indices")
    }

    @Test func shardsCoverTheRangeExactlyOnce() {
        let range: ClosedRange<UInt64> = 10...109
        for count in [1, 2, 3, 7] {
            let shards = (1...count).map { Campaign.shard(range, index: $0, count: count) }
            #expect(shards.flatMap { $0 }.sorted() == Array(range), "\(count) shards")
            #expect(Set(shards.flatMap { $0 }).count == range.count)
        }
    }

    @Test func aCampaignDatabaseResumesAndMerges() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chanlab-campaign-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try CampaignDatabase(path: dir + "/a.sqlite")
        for seed: UInt64 in 1...5 { try a.record(Campaign.run(seed: seed, plants: []).result, plants: []) }
        // Reopened, it knows what was done: the rest of the range is what is left.
        let reopened = try CampaignDatabase(path: dir + "/a.sqlite")
        #expect(try reopened.done() == Set(1...5))
        try reopened.record(Campaign.run(seed: 3, plants: []).result, plants: [])
        #expect(try reopened.counts().seeds == 5, "a seed is recorded once")
        let b = try CampaignDatabase(path: dir + "/b.sqlite")
        for seed: UInt64 in 4...8 { try b.record(Campaign.run(seed: seed, plants: []).result, plants: []) }
        #expect(try reopened.merge(from: dir + "/b.sqlite") == 3)
        #expect(try reopened.done() == Set(1...8))
        let junk = dir + "/junk.sqlite"
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: junk))
        #expect(throws: TraceError.self) { _ = try CampaignDatabase(path: junk) }
    }

    /// The quick CI version of "fuzz finds every planted bug": for each plant, the first seed
    /// that finds it in a full search (recorded in docs/fuzzing.md) still finds it.
    static let plantFinds: [(String, UInt64)] = [
        ("merge-in-arrival-order", 2), ("skip-balance-check", 18), ("credit-without-debit", 1), ("drop-equivocations", 18),
        ("accept-unknown-predecessors", 1), ("lose-evidence-on-restart", 14), ("count-locked-twice", 1), ("sign-without-channel-id", 2),
        ("finalize-early", 202), ("accept-older-challenge", 190), ("pay-twice", 106), ("trust-evidence", 12), ("short-compensation", 18),
        ("node-overspends", 1), ("no-anti-entropy", 1), ("unbacked-receipts", 1), ("challenge-with-oldest", 279), ("never-exit", 16),
        ("never-finalize", 5), ("never-slash", 13), ("orderbook-fill-beyond-remaining", 2), ("orderbook-ignore-limit", 2),
        ("orderbook-cancel-keeps-escrow", 2), ("orderbook-non-uniform-batch", 37), ("orderbook-self-trade", 2),
    ]

    /// Lab bugs the fuzzer found stay fixed: each of these scenarios (shrunk from a finding)
    /// failed before its fix (docs/fuzzing.md and docs/settlement.md say which and why).
    @Test(arguments: ["regress-exit-after-crash", "regress-byzantine-proposal-settles", "regress-exit-lossy-chain-link", "regress-exit-is-a-force-close"])
    func fuzzerFindingsStayFixed(name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios/\(name).yaml")
        let report = ScenarioRunner.run(try ScenarioLoader.load(path: url.path))
        #expect(report.passed, "\(report.violations.prefix(3)) \(report.expectationFailures)")
    }

    @Test func everyListedPlantHasAFindingSeed() {
        #expect(Set(Self.plantFinds.map(\.0)) == Set(Plants.named.map(\.name)))
    }

    @Test(arguments: plantFinds.indices)
    func theFuzzerStillFindsEachPlantedBug(index: Int) {
        let (plant, seed) = Self.plantFinds[index]
        let found = Campaign.run(seed: seed, plants: [plant]).result
        #expect(!found.passed, "\(plant) no longer found at seed \(seed)")
        #expect(Campaign.run(seed: seed, plants: []).result.passed, "seed \(seed) fails without \(plant)")
    }

    @Test func aPlantedBugIsFoundAndShrunk() throws {
        var found: (SeedResult, GeneratedScenario)?
        for seed: UInt64 in 1...40 {
            let (result, generated) = Campaign.run(seed: seed, plants: ["credit-without-debit"])
            if !result.passed {
                found = (result, generated)
                break
            }
        }
        let (result, generated) = try #require(found)
        #expect(result.invariants.contains("conservation"))
        let (small, runs) = Campaign.shrink(generated, invariants: result.invariants, plants: ["credit-without-debit"])
        #expect(runs > 0)
        #expect(small.scheduledEvents <= 20, "shrunk to \(small.scheduledEvents) events")
        #expect(!Campaign.run(small, plants: ["credit-without-debit"]).passed)
        #expect(Campaign.run(small, plants: []).passed, "without the bug the shrunk scenario passes")
    }
}
