import ChannelCore
@testable import ChannelLab
import Foundation
import Testing

/// Goal: the independent ledger model computes what the docs say, agrees with a correct
/// replica on any operation set, and the checker built on it reports a replica whose ledger
/// is wrong, even when every replica is wrong the same way.
/// Method: the golden cases of the Python model (fixtures/replica-golden.json) through the
/// Swift model; generated operation sets with equivocations, overdrafts, broken chains and
/// locks through a replica and the model; then runs with planted ledger bugs.
@Suite struct LedgerModelTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func hexBytes(_ text: String) -> [UInt8] {
        var out = [UInt8]()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// The Swift model against the independent Python model, case by case: leaves, root and
    /// refusal records byte for byte.
    @Test func theModelMatchesTheGoldenCases() throws {
        let data = try Data(contentsOf: Self.repository.appendingPathComponent("fixtures/replica-golden.json"))
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let seed = UInt64(try #require(file["labSeed"] as? Int))
        let cases = try #require(file["cases"] as? [[String: Any]])
        #expect(cases.count >= 20)
        for entry in cases {
            let name = try #require(entry["name"] as? String)
            let config = try #require(entry["config"] as? [String: Any])
            let roles = try #require(config["roles"] as? [String]).map { Role(rawValue: $0)! }
            let tokens = try #require(config["tokens"] as? [Int]).map { TokenID($0) }
            let channel = OpSetGenerator.makeChannel(seed: seed, participants: roles.count, tokens: tokens)
            let participants = roles.enumerated().map { Participant(index: ParticipantIndex($0.offset), publicKey: channel.keys[$0.offset].publicKey, role: $0.element) }
            let channelConfig = ChannelConfig(channel: channel.config.channel, participants: participants, fundingKey: channel.funding.publicKey, tokens: tokens)
            let expected = try #require(entry["expected"] as? [String: Any])
            let applied = Set(try #require(expected["appliedOrder"] as? [String]))
            // Labels of the operations the graph accepts (the model judges the ledger only).
            let ops = try #require(entry["ops"] as? [[String: Any]]).filter { applied.contains($0["label"] as! String) }
                .map { try WireDecoder.decodeSigned(Self.hexBytes($0["wire"] as! String)) }
            #expect(ops.count == applied.count, "\(name)")
            let model = LedgerModel(config: channelConfig).outcome(of: ops)
            #expect(model.leaves.map { Hex.encode($0) } == (expected["leaves"] as? [String]), "\(name): leaves")
            #expect(model.root.hex == (expected["stateRoot"] as? String), "\(name): root")
            let records = model.records.keys.sorted().map { Hex.encode(model.records[$0]!) }
            // The fixture lists graph records too (broken chains): the model judges the ledger.
            let ledgerRecords = try #require(expected["records"] as? [String]).filter { record in
                let code = Self.hexBytes(record)[45]
                return code >= 0x11
            }
            #expect(records == ledgerRecords, "\(name): records")
        }
    }

    /// A correct replica and the model agree on generated sets, whatever the delivery order.
    @Test func theModelAgreesWithACorrectReplica() {
        for seed: UInt64 in 1...25 {
            let spec = OpSetSpec(
                participants: 5, byzantine: [3, 4], observers: seed % 3 == 0 ? [2] : [], ops: 120, equivocationPerMille: 150, overdraftPerMille: 150,
                brokenChainPerMille: 80, rejectedFanInPerMille: 100)
            let channel = OpSetGenerator.generate(spec, seed: seed)
            let replica = Replica(config: channel.config)
            var rng = SeededRandom(seed: seed, stream: "model")
            for op in Delivery.anyOrder(channel.ops, rng: &rng) { _ = replica.receive(op) }
            let model = LedgerModel(config: channel.config).outcome(of: replica.appliedOrder.map { replica.operation($0)! })
            #expect(LedgerModelChecker.differences(replica: replica, model: model).isEmpty, "seed \(seed): \(LedgerModelChecker.differences(replica: replica, model: model))")
            #expect(model.root == replica.stateRoot)
        }
    }

    /// The ledger's incremental queries (counts, totals, deposits, receipts, locks) are judged
    /// against the model too: each differing field is named.
    @Test func theQueriesAreJudgedAgainstTheModel() throws {
        let spec = OpSetSpec(participants: 4, byzantine: [], observers: [], ops: 80, equivocationPerMille: 0, overdraftPerMille: 100, brokenChainPerMille: 0, rejectedFanInPerMille: 0)
        let channel = OpSetGenerator.generate(spec, seed: 7)
        let replica = Replica(config: channel.config)
        for op in channel.ops { _ = replica.receive(op) }
        let model = LedgerModel(config: channel.config).outcome(of: replica.appliedOrder.map { replica.operation($0)! })
        #expect(LedgerModelChecker.queryDifferences(replica.balances, model: model).isEmpty)
        let someAccount = try #require(model.accounts.keys.min())
        var extraAccount = model
        extraAccount.accounts[LedgerModel.AccountID(participant: 3, token: 999)] = LedgerModel.AccountState(balance: 1)
        let found = LedgerModelChecker.queryDifferences(replica.balances, model: extraAccount)
        #expect(found.contains { $0.hasPrefix("accountCount") } && found.contains { $0.hasPrefix("token 999") })
        var drifted = model
        drifted.accounts[someAccount]!.withdrawn += 1
        #expect(LedgerModelChecker.queryDifferences(replica.balances, model: drifted).contains { $0.hasPrefix("account(") })
        var moreDeposits = model
        moreDeposits.deposits[someAccount.token, default: 0] += 5
        moreDeposits.receipts.insert(UInt64.max)
        let named = LedgerModelChecker.queryDifferences(replica.balances, model: moreDeposits)
        #expect(named.contains { $0.hasPrefix("depositTotals") } && named.contains { $0.hasPrefix("usedReceipts") })
    }

    /// Proofs at every leaf position of trees of 1 to 70 leaves: the system's paths are the
    /// model's, and its verifier decides every edge tweak as the model's does; the model's
    /// verifier accepts exactly the genuine proof.
    @Test func merkleProofsAgreeWithTheModelAtEveryPosition() {
        for n in 1...70 {
            let leaves = (0..<n).map { [UInt8(truncatingIfNeeded: $0), UInt8(n)] }
            let root = LedgerModel.merkleRoot(leaves[...])
            #expect(LedgerModelChecker.merkleDifference(leaves: leaves, root: root) == nil, "\(n) leaves")
            let hashes = leaves.map(Merkle.leafHash)
            for index in 0..<n {
                let path = LedgerModel.auditPath(index, leaves[...])
                #expect(LedgerModel.verifiesInclusion(leafHash: hashes[index], m: UInt64(index), n: UInt64(n), path: path, root: root))
                if n > 1 {
                    #expect(!LedgerModel.verifiesInclusion(leafHash: hashes[index], m: UInt64((index + 1) % n), n: UInt64(n), path: path, root: root) || hashes[index] == hashes[(index + 1) % n])
                }
            }
        }
    }

    /// Planted ledger bugs that every replica shares: the model sees each at the checkpoints
    /// and at the end.
    @Test(arguments: [
        (PlantedBugs.skipBalanceCheck, "byz-invalid-overdraft"), (PlantedBugs.creditWithoutDebit, "settle-busy-channel"),
        (PlantedBugs.countLockedTwice, "regress-exit-after-crash"),
    ])
    func theCheckerReportsALedgerEveryReplicaGetsWrong(bug: PlantedBugs, scenario: String) throws {
        let report = ScenarioRunner.run(try SettlementCheckerTests.scenario(scenario), bugs: bug)
        #expect(report.violations.contains { $0.invariant == .ledgerModel }, "\(Set(report.violations.map(\.invariant)))")
        let clean = ScenarioRunner.run(try SettlementCheckerTests.scenario(scenario))
        #expect(!clean.violations.contains { $0.invariant == .ledgerModel })
    }
}

/// Goal: the checkers on the models' other paths bite on inputs broken on purpose: a certified
/// checkpoint whose root is not the state at its heads, and a contract whose bookkeeping
/// drifts from its decisions.
@Suite struct ModelCheckerPathTests {
    @Test func aCheckpointWhoseRootIsNotTheStateAtItsHeadsIsReported() {
        let channel = OpSetGenerator.generate(OpSetSpec(participants: 4, ops: 60), seed: 5)
        let replica = Replica(config: channel.config)
        for op in channel.ops { _ = replica.receive(op) }
        let good = replica.checkpoint(version: 7)
        let checker = LedgerModelChecker(config: channel.config)
        let monitor = InvariantMonitor(honest: [0, 1, 2, 3])
        checker.judge(checkpoint: good, replica: replica, coordinator: 0, at: .zero, monitor: monitor)
        #expect(monitor.violations.isEmpty)
        let wrongRoot = Checkpoint(channel: good.channel, version: 8, stateRoot: Blake2b.hash256([1]), treeSize: good.treeSize, heads: good.heads)
        let wrongSize = Checkpoint(channel: good.channel, version: 9, stateRoot: good.stateRoot, treeSize: good.treeSize + 1, heads: good.heads)
        checker.judge(checkpoint: wrongRoot, replica: replica, coordinator: 1, at: .zero, monitor: monitor)
        checker.judge(checkpoint: wrongSize, replica: replica, coordinator: 2, at: .zero, monitor: monitor)
        #expect(monitor.violations.map(\.invariant) == [.ledgerModel, .ledgerModel])
        #expect(monitor.violations.map(\.nodes) == [[1], [2]])
    }

    @Test func aContractWhoseStateDriftsFromItsDecisionsIsReported() throws {
        let channel = OpSetGenerator.makeChannel(seed: 6, participants: 3, tokens: [0])
        let params = SettlementParams(threshold: 2, disputeWindowBlocks: 5)
        let checker = ContractModelChecker(config: channel.config, params: params)
        let monitor = InvariantMonitor(honest: [0, 1, 2])
        var contract = SettlementContract(config: channel.config, params: params)
        try contract.deposit(0, token: 0, amount: 50)
        checker.judge(.deposit(participant: 0, token: 0, amount: 50), .success(nil), contract: contract, at: .zero, monitor: monitor)
        #expect(monitor.violations.isEmpty)
        // Both accept the next deposit, but the contract (as if it had a bookkeeping bug) does
        // not count it.
        checker.judge(.deposit(participant: 1, token: 0, amount: 20), .success(nil), contract: contract, at: .zero, monitor: monitor)
        #expect(monitor.violations.map(\.invariant) == [.contractModel])
        #expect(monitor.violations.first?.detail.contains("deposits 50 vs the model's 70") == true, "\(monitor.violations)")
    }
}
