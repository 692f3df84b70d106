import ChannelCore
import ChannelLab
import PropertyBased
import Testing

/// Goal: merge is a function of the set of operations alone. For random operation sets from
/// several authors, with equivocations and overdrafts among them, any delivery order and any
/// split of delivery between replicas gives identical state roots, rejections and evidence;
/// conservation holds and no balance is negative after every single ledger application.
/// Method: the shared seeded generator, three replicas per case fed random subsets in random
/// (causal and non-causal) orders and then everything, one of them with a tiny undo horizon so
/// that rollbacks beyond it rebuild. The same checker run against planted bugs must fail, so
/// the properties are known to bite.
@Suite struct MergePropertyTests {
    /// A violated property, named, with the case that shows it.
    struct Violation: CustomStringConvertible {
        let property: String
        let detail: String
        var description: String { "\(property): \(detail)" }
    }

    static func spec(participants: Int, ops: Int) -> OpSetSpec {
        OpSetSpec(
            participants: participants, byzantine: [ParticipantIndex(participants - 1)], ops: ops,
            citeOthersMax: 3, viewLagOpsMax: 6, equivocationPerMille: 200, overdraftPerMille: 150,
            brokenChainPerMille: 100, rejectedFanInPerMille: 300)
    }

    /// Runs one case and returns every violated property.
    static func check(_ channel: GeneratedChannel, deliverySeed: UInt64, bugs: PlantedBugs = []) -> [Violation] {
        var violations = [Violation]()
        var rng = SeededRandom(seed: deliverySeed, stream: "split")
        let limits = [ReplicaLimits(), ReplicaLimits(undoOpsMax: 3), ReplicaLimits()]
        let replicas = limits.map { Replica(config: channel.config, limits: $0, bugs: bugs) }
        for (index, replica) in replicas.enumerated() {
            replica.onApply = { op, _, ledger in
                // At every application: accounts hold exactly the deposits applied (the ledger
                // tallies deposits from deposit operations alone, not from account arithmetic).
                for token in channel.config.tokens where ledger.tokenTotal(token) != (ledger.depositTotals[token] ?? 0) {
                    violations.append(Violation(property: "conservation", detail: "replica \(index) token \(token) after \(op.id.short): total \(ledger.tokenTotal(token)) != deposits \(ledger.depositTotals[token] ?? 0)"))
                }
                if ledger.negativeAccounts > 0 {
                    for (key, account) in ledger.accounts where account.isNegative {
                        violations.append(Violation(property: "no negative balance", detail: "replica \(index) participant \(key.participant) token \(key.token): \(account) after \(op.id.short)"))
                    }
                }
            }
        }
        // Phase 1: each replica gets a random subset, in a random causal or arbitrary order.
        for replica in replicas {
            let subset = channel.ops.filter { _ in rng.chance(perMille: 600) }
            let order = rng.chance(perMille: 500)
                ? Delivery.anyOrder(subset, rng: &rng)
                : Delivery.causalOrder(subset, rng: &rng, latePerMille: 200, lateOpsMax: 30)
            for op in order { _ = replica.receive(op) }
        }
        // Phase 2: everything, in a fresh order per replica (anti-entropy).
        for replica in replicas {
            let order = rng.chance(perMille: 500)
                ? Delivery.anyOrder(channel.ops, rng: &rng)
                : Delivery.causalOrder(channel.ops, rng: &rng, latePerMille: 100, lateOpsMax: 50)
            for op in order { _ = replica.receive(op) }
        }
        // Every equivocation in the set (two accepted ids at one author and seq; an operation
        // the graph refuses at a seat is no equivocation) must be in evidence.
        var seats = [String: Set<OperationID>]()
        let truth = Replica(config: channel.config)
        for op in channel.ops { _ = truth.receive(op) }
        for op in channel.ops where truth.contains(op.id) { seats["\(op.author)/\(op.seq)", default: []].insert(op.id) }
        let equivocations = seats.values.filter { $0.count >= 2 }.count
        for (index, replica) in replicas.enumerated() {
            let evidence = replica.evidence
            let forks = evidence.filter { $0.kind == "equivocation" }.count
            if forks != equivocations {
                violations.append(Violation(property: "evidence completeness", detail: "replica \(index): \(forks) equivocation evidence for \(equivocations) equivocations"))
            }
            // Every operation refused as invalid in its causal past by the ledger has evidence.
            let invalid = replica.rejections.filter {
                if case .ledger = $0.reason { return $0.kind == .invalidInCausalPast }
                return false
            }
            if Set(invalid.map(\.id)) != Set(evidence.compactMap { if case let .invalidInCausalPast(e) = $0 { e.op.id } else { nil } }) {
                violations.append(Violation(property: "evidence completeness", detail: "replica \(index): \(invalid.count) ops invalid in their causal past, evidence differs"))
            }
        }
        // The incremental totals agree with a full recount and with the deposits the final
        // outcomes say applied, after every rollback, rebuild and commuting insert.
        for (index, replica) in replicas.enumerated() {
            for token in channel.config.tokens {
                let recount = replica.balances.total(of: token)
                if replica.balances.tokenTotal(token) != recount || recount != depositsApplied(replica, token: token) {
                    violations.append(Violation(property: "conservation", detail: "replica \(index) token \(token): total \(recount), incremental \(replica.balances.tokenTotal(token)), deposits \(depositsApplied(replica, token: token))"))
                }
            }
        }
        let first = replicas[0]
        for (index, replica) in replicas.enumerated().dropFirst() {
            if replica.stateRoot != first.stateRoot {
                violations.append(Violation(property: "convergence", detail: "replica \(index) root \(replica.stateRoot.short) != \(first.stateRoot.short)"))
            }
            if replica.rejections != first.rejections {
                violations.append(Violation(property: "identical rejections", detail: "replica \(index): \(replica.rejections.count) vs \(first.rejections.count)"))
            }
            if replica.balances.fingerprint != first.balances.fingerprint {
                violations.append(Violation(property: "convergence", detail: "replica \(index) fingerprint differs"))
            }
            if replica.evidence != first.evidence {
                violations.append(Violation(property: "identical evidence", detail: "replica \(index): \(replica.evidence.count) vs \(first.evidence.count)"))
            }
        }
        return violations
    }

    /// Deposits applied at the end, computed from the operations and their outcomes alone,
    /// independently of the ledger's arithmetic.
    static func depositsApplied(_ replica: Replica, token: TokenID) -> Int128 {
        var sum: Int128 = 0
        for id in replica.appliedOrder {
            guard let op = replica.operation(id), case let .deposit(receipt) = op.payload, receipt.token == token,
                replica.ledgerRejection(of: id) == nil
            else { continue }
            sum += Int128(receipt.amount)
        }
        return sum
    }

    @Test func anyDeliveryOrderAndSplitGivesIdenticalResultsAndInvariantsHoldAtEveryStep() async {
        await propertyCheck(count: 60, input: Gen.uint64(in: 1...UInt64.max), Gen.int(in: 3...6), Gen.int(in: 10...90)) { seed, participants, ops in
            let channel = OpSetGenerator.generate(Self.spec(participants: participants, ops: ops), seed: seed)
            let violations = Self.check(channel, deliverySeed: seed ^ 0xD311)
            #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(3))")
        }
    }

    /// The generator must actually produce what the property is about, or it proves little.
    @Test func generatedCasesContainEquivocationsOverdraftsAndRollbacks() {
        var equivocations = 0
        var invalid = 0
        var conflicts = 0
        var rollbacks = 0
        var commuting = 0
        for seed: UInt64 in 1...20 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 5, ops: 80), seed: seed)
            let replica = Replica(config: channel.config)
            var rng = SeededRandom(seed: seed, stream: "t")
            for op in Delivery.anyOrder(channel.ops, rng: &rng) { _ = replica.receive(op) }
            equivocations += replica.evidence.count
            invalid += replica.rejections.filter { $0.kind == .invalidInCausalPast }.count
            conflicts += replica.rejections.filter { $0.kind == .concurrentConflict }.count
            rollbacks += replica.stats.rollbacks
            commuting += replica.stats.commutingInserts
        }
        #expect(commuting > 20)
        #expect(equivocations > 10)
        #expect(invalid > 10)
        #expect(conflicts > 10)
        #expect(rollbacks > 100)
    }

    /// Incremental merge (rollback and replay) equals applying the final total order once.
    @Test func incrementalMergeEqualsOneShotApplicationInTotalOrder() {
        for seed: UInt64 in 100...130 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 4, ops: 120), seed: seed)
            var rng = SeededRandom(seed: seed, stream: "order")
            let incremental = Replica(config: channel.config, limits: ReplicaLimits(undoOpsMax: 5))
            for op in Delivery.anyOrder(channel.ops, rng: &rng) { _ = incremental.receive(op) }
            // Reference: deliver in exactly the final total order, so every merge is an append.
            let reference = Replica(config: channel.config)
            let byID = Dictionary(uniqueKeysWithValues: channel.ops.map { ($0.id, $0) })
            for id in incremental.appliedOrder { _ = reference.receive(byID[id]!) }
            // Then the operations the graph refuses (broken chains and what cites them), which
            // never reach the ledger and so cannot cause a rollback.
            for op in channel.ops { _ = reference.receive(op) }
            #expect(reference.stats.rollbacks == 0)
            #expect(reference.stateRoot == incremental.stateRoot, "seed \(seed)")
            #expect(reference.rejections == incremental.rejections, "seed \(seed)")
            #expect(incremental.stats.rollbacks + incremental.stats.rebuilds + incremental.stats.commutingInserts > 0)
        }
    }

    /// Each property fails against a deliberately broken merge, so the checks bite.
    @Test(arguments: [
        (PlantedBugs.mergeInArrivalOrder, "convergence"),
        (PlantedBugs.skipBalanceCheck, "no negative balance"),
        (PlantedBugs.creditWithoutDebit, "conservation"),
        (PlantedBugs.dropEquivocations, "evidence completeness"),
    ])
    func eachPropertyCatchesItsPlantedBug(bug: PlantedBugs, property: String) {
        var caught = 0
        for seed: UInt64 in 1...15 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 5, ops: 80), seed: seed)
            let violations = Self.check(channel, deliverySeed: seed, bugs: bug)
            if violations.contains(where: { $0.property == property }) { caught += 1 }
        }
        #expect(caught > 0, "property \(property) never caught its planted bug")
        // And without the bug the same cases are clean.
        for seed: UInt64 in 1...15 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 5, ops: 80), seed: seed)
            #expect(Self.check(channel, deliverySeed: seed).isEmpty)
        }
    }
}
