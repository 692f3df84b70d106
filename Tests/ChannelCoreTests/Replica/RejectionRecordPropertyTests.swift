import ChannelCore
import ChannelLab
import PropertyBased
import Testing

/// Goal: a replica's rejection records, reasons with all their parameters, are a function of
/// the set of operations it holds, never of the order they arrived in or of how they were
/// batched. Two honest implementations that disagree on one record fork.
/// Method: seeded operation sets in which Byzantine authors break their chains and send side
/// operations citing several refused ones (a fan-in, the shape an independent implementation
/// found: the record used to name whichever refused predecessor arrived first). Each replica
/// gets every operation in its own random order, split into random batches (single receives
/// and `receive(batch:)`), and the full record lists and their canonical digests must be equal.
/// The same check must fail with the old naming rule planted.
@Suite struct RejectionRecordPropertyTests {
    static func spec(participants: Int, ops: Int) -> OpSetSpec {
        OpSetSpec(
            participants: participants, byzantine: [ParticipantIndex(participants - 2), ParticipantIndex(participants - 1)],
            ops: ops, citeOthersMax: 3, viewLagOpsMax: 6, equivocationPerMille: 80, overdraftPerMille: 80,
            brokenChainPerMille: 200, rejectedFanInPerMille: 300)
    }

    /// Feeds every operation to a fresh replica in a random order and random batches.
    static func deliver(_ channel: GeneratedChannel, rng: inout SeededRandom, bugs: PlantedBugs) -> Replica {
        let replica = Replica(config: channel.config, limits: ReplicaLimits(undoOpsMax: 4), bugs: bugs)
        let order = rng.chance(perMille: 500)
            ? Delivery.anyOrder(channel.ops, rng: &rng)
            : Delivery.causalOrder(channel.ops, rng: &rng, latePerMille: 300, lateOpsMax: 20)
        var position = 0
        while position < order.count {
            let size = min(order.count - position, rng.int(in: 1...12))
            let chunk = Array(order[position..<position + size])
            if rng.chance(perMille: 500) {
                _ = replica.receive(batch: chunk)
            } else {
                for op in chunk { _ = replica.receive(op) }
            }
            position += size
        }
        return replica
    }

    /// The differences between replicas' records, described; empty when they all agree.
    static func disagreements(_ channel: GeneratedChannel, deliverySeed: UInt64, bugs: PlantedBugs = []) -> [String] {
        var rng = SeededRandom(seed: deliverySeed, stream: "rejection-orders")
        let replicas = (0..<4).map { _ in deliver(channel, rng: &rng, bugs: bugs) }
        let reference = replicas[0].rejections
        var out = [String]()
        for (index, replica) in replicas.enumerated().dropFirst() {
            let records = replica.rejections
            if records != reference {
                let differing = zip(records, reference).first { $0 != $1 }
                out.append("replica \(index): \(records.count) vs \(reference.count) records; first difference \(String(describing: differing))")
            }
            if replica.rejectionsDigest != replicas[0].rejectionsDigest { out.append("replica \(index): rejection digests differ") }
        }
        return out
    }

    @Test func anyDeliveryOrderAndBatchSplitGivesIdenticalRejectionRecords() async {
        await propertyCheck(count: 80, input: Gen.uint64(in: 1...UInt64.max), Gen.int(in: 4...6), Gen.int(in: 20...90)) { seed, participants, ops in
            let channel = OpSetGenerator.generate(Self.spec(participants: participants, ops: ops), seed: seed)
            let found = Self.disagreements(channel, deliverySeed: seed ^ 0x7E7)
            #expect(found.isEmpty, "seed \(seed), \(participants) participants, \(ops) ops: \(found.prefix(2))")
        }
    }

    /// The rule itself, judged from the operation set alone: a `predecessorRejected` record
    /// names the smallest of the operation's predecessors that are on record as rejected.
    @Test func aPredecessorRejectedRecordNamesTheSmallestRejectedPredecessor() {
        var fanIns = 0
        for seed: UInt64 in 1...40 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 5, ops: 70), seed: seed)
            var rng = SeededRandom(seed: seed, stream: "rule")
            let replica = Self.deliver(channel, rng: &rng, bugs: [])
            let byID = Dictionary(uniqueKeysWithValues: channel.ops.map { ($0.id, $0) })
            for record in replica.rejections {
                guard case let .graph(.predecessorRejected(named)) = record.reason else { continue }
                let rejectedPreds = byID[record.id]!.preds.filter { replica.graphRejection(of: $0) != nil }
                if rejectedPreds.count >= 2 { fanIns += 1 }
                #expect(named == rejectedPreds.min(), "seed \(seed): \(record) but rejected preds \(rejectedPreds.map(\.short))")
            }
        }
        // The generator must produce what the rule is about, or the test proves little.
        #expect(fanIns > 20)
    }

    /// The check bites: with the old rule (name the refusal that arrived first) some seed shows
    /// two replicas with different records for the same operations.
    @Test func theCheckCatchesTheOldNamingRule() {
        var caught = 0
        for seed: UInt64 in 1...20 {
            let channel = OpSetGenerator.generate(Self.spec(participants: 5, ops: 70), seed: seed)
            if !Self.disagreements(channel, deliverySeed: seed, bugs: .nameArrivalOrderPredecessor).isEmpty { caught += 1 }
            #expect(Self.disagreements(channel, deliverySeed: seed).isEmpty, "seed \(seed)")
        }
        #expect(caught > 0, "the old naming rule was never caught")
    }

    /// The case, by hand: two traders each send an operation that breaks its chain, and
    /// a third operation cites both; delivered in either order, the record is the same and
    /// names the smaller id.
    @Test func twoRefusedPredecessorsDeliveredInEitherOrderGiveOneRecord() {
        let channel = OpSetGenerator.makeChannel(seed: 11, participants: 3, tokens: [0])
        var a = AuthorChain(channel: channel.config.channel, author: 0, key: channel.keys[0])
        var b = AuthorChain(channel: channel.config.channel, author: 1, key: channel.keys[1])
        let a1 = a.append(.chainAnchor(channel.funding.signAnchor(channel: channel.config.channel, height: 1)))
        let b1 = b.append(.chainAnchor(channel.funding.signAnchor(channel: channel.config.channel, height: 1)))
        // seq 3 after seq 1: each breaks its author's chain.
        let brokenA = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 3, preds: [a1.id], payload: .withdraw(token: 0, amount: 1)).signed(by: channel.keys[0])
        let brokenB = UnsignedOperation(channel: channel.config.channel, author: 1, seq: 3, preds: [b1.id], payload: .withdraw(token: 0, amount: 1)).signed(by: channel.keys[1])
        let fanIn = UnsignedOperation(channel: channel.config.channel, author: 2, seq: 1, preds: [brokenA.id, brokenB.id], payload: .withdraw(token: 0, amount: 1)).signed(by: channel.keys[2])
        let smaller = min(brokenA.id, brokenB.id)
        for bugs in [PlantedBugs(), .nameArrivalOrderPredecessor] {
            var records = [[RejectionRecord]]()
            for order in [[a1, b1, fanIn, brokenA, brokenB], [a1, b1, fanIn, brokenB, brokenA]] {
                let replica = Replica(config: channel.config, bugs: bugs)
                for op in order { _ = replica.receive(op) }
                records.append(replica.rejections)
                if bugs.isEmpty { #expect(replica.graphRejection(of: fanIn.id)?.reason == .graph(.predecessorRejected(smaller))) }
            }
            if bugs.isEmpty {
                #expect(records[0] == records[1])
            } else {
                #expect(records[0] != records[1], "the old rule depends on the order")
            }
        }
    }

    /// A drop because one author filled its share of the pending buffer says so, with the share.
    @Test func aFullAuthorShareIsReportedAsTheAuthorsShare() {
        let channel = OpSetGenerator.makeChannel(seed: 12, participants: 2, tokens: [0])
        let replica = Replica(config: channel.config, limits: ReplicaLimits(pendingOpsMax: 8192))
        #expect(replica.pendingPerAuthorMax == 4096)
        var outcomes = [ReceiveOutcome]()
        for index in 0...4096 {
            // Each cites an id that never comes, so it waits in the buffer.
            let missing = Digest32(w0: UInt64(index), w1: 1, w2: 2, w3: 3)
            let op = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 1, preds: [missing], payload: .withdraw(token: 0, amount: UInt128(index + 1))).signed(by: channel.keys[0])
            outcomes.append(replica.receive(op))
        }
        #expect(outcomes[4095] == .buffered(missing: 1))
        #expect(outcomes[4096] == .rejected(.authorPendingShareFull(author: 0, limit: 4096)))
        #expect(replica.pendingCount == 4096)
    }
}
