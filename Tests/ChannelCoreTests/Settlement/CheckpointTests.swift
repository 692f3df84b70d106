import ChannelCore
import ChannelLab
import Testing

/// Goal: a replica signs only checkpoints that match its own state at the named heads, and
/// the state at past heads is recomputed exactly. Method: a generated channel; checkpoints of
/// an earlier prefix checked by a replica that has moved on; altered roots, sizes and unknown
/// heads refused.
@Suite struct CheckpointTests {
    /// The digest does not depend on the order compensation entries were given in, even for
    /// two entries that share culprit, victim and token (the sort used to leave those in
    /// input order).
    @Test func aCheckpointDigestIgnoresTheOrderOfItsCompensationEntries() {
        let a = Compensation(victim: 1, token: 0, culprit: 3, amount: 10)
        let b = Compensation(victim: 1, token: 0, culprit: 3, amount: 20)
        let c = Compensation(victim: 0, token: 0, culprit: 3, amount: 5)
        func digest(_ entries: [Compensation]) -> Digest32 {
            Checkpoint(channel: .zero, version: 2, stateRoot: .zero, treeSize: 0, heads: [], previous: 1, compensations: entries).digest
        }
        #expect(digest([a, b, c]) == digest([b, c, a]))
        #expect(digest([a, b, c]) == digest([c, b, a]))
        #expect(a < b && !(b < a))
    }

    @Test func aReplicaRecognisesPastStatesAndRefusesAlteredOnes() {
        let channel = OpSetGenerator.generate(OpSetSpec(participants: 4, byzantine: [3], ops: 150, equivocationPerMille: 200, overdraftPerMille: 100), seed: 21)
        let early = Replica(config: channel.config)
        for op in channel.ops.prefix(60) { _ = early.receive(op) }
        let past = early.checkpoint(version: 1)
        let late = Replica(config: channel.config)
        for op in channel.ops { _ = late.receive(op) }
        #expect(late.matches(past))
        #expect(late.matches(late.checkpoint(version: 2)))
        #expect(late.stateAt(heads: late.heads)?.root == late.stateRoot)
        #expect(!early.matches(late.checkpoint(version: 2)), "unknown heads")
        let wrongRoot = Checkpoint(channel: past.channel, version: 1, stateRoot: late.stateRoot, treeSize: past.treeSize, heads: past.heads)
        #expect(late.stateRoot != past.stateRoot)
        #expect(!late.matches(wrongRoot))
        let wrongSize = Checkpoint(channel: past.channel, version: 1, stateRoot: past.stateRoot, treeSize: past.treeSize + 1, heads: past.heads)
        #expect(!late.matches(wrongSize))
        let other = OpSetGenerator.makeChannel(seed: 22, participants: 4, tokens: [0, 1]).config
        let foreign = Checkpoint(channel: other.channel, version: 1, stateRoot: past.stateRoot, treeSize: past.treeSize, heads: past.heads)
        #expect(!late.matches(foreign))
    }

    @Test func balanceProofsAtAPastCheckpointVerifyAgainstItsRoot() {
        let channel = OpSetGenerator.generate(OpSetSpec(participants: 4, byzantine: [], ops: 120, equivocationPerMille: 0, overdraftPerMille: 0), seed: 23)
        let early = Replica(config: channel.config)
        for op in channel.ops.prefix(50) { _ = early.receive(op) }
        let past = early.checkpoint(version: 1)
        let late = Replica(config: channel.config)
        for op in channel.ops { _ = late.receive(op) }
        var proved = 0
        for participant in channel.config.participants.map(\.index) {
            let now = late.balanceProof(participant, 0, at: past)
            let then = early.balanceProof(participant, 0)
            #expect(now == then, "a replica that moved on proves the same past account")
            if let now {
                #expect(now.verify(root: past.stateRoot))
                #expect(now.treeSize == past.treeSize)
                proved += 1
            }
        }
        #expect(proved > 0)
        let altered = Checkpoint(channel: past.channel, version: 1, stateRoot: late.stateRoot, treeSize: past.treeSize, heads: past.heads)
        #expect(late.balanceProof(0, 0, at: altered) == nil, "no proof for a root the heads do not give")
        #expect(early.balanceProof(0, 0, at: late.checkpoint(version: 2)) == nil, "no proof without the heads")
    }

    /// The incremental cursor gives exactly the state a full replay of the closure gives, for
    /// growing, shrinking and unrelated head sets, with forks and overdrafts in the history.
    @Test(arguments: [31, 32, 33])
    func aCursorAgreesWithAFullReplayAtEveryStep(seed: Int) {
        let channel = OpSetGenerator.generate(OpSetSpec(participants: 5, byzantine: [4], ops: 400, equivocationPerMille: 150, overdraftPerMille: 150), seed: UInt64(seed))
        let replica = Replica(config: channel.config)
        var rng = SeededRandom(seed: UInt64(seed), stream: "cursor")
        var cursor: CheckpointCursor?
        var extended = 0
        var delivered = 0
        for step in 0..<60 {
            let next = min(channel.ops.count, delivered + rng.index(15))
            for op in channel.ops[delivered..<next] { _ = replica.receive(op) }
            delivered = next
            // Usually the current heads; sometimes an older or partial set.
            var heads = replica.heads
            if step % 4 == 3, heads.count > 1 { heads = Array(heads.prefix(1 + rng.index(heads.count - 1))) }
            if step % 7 == 6, delivered > 0 {
                let any = channel.ops[rng.index(delivered)]
                if replica.contains(any.id) { heads = [any.id] }
            }
            guard let state = replica.cursor(at: heads, from: cursor.take()) else { continue }
            if state.extended { extended += 1 }
            let full = replica.stateAt(heads: heads)
            #expect(full?.root == state.commitment.root, "step \(step)")
            #expect(full?.treeSize == state.commitment.treeSize)
            cursor = state
        }
        #expect(extended > 20, "the incremental path must be the common one")
    }

    @Test func checkpointDigestsBindEveryField() {
        let base = Checkpoint(channel: .zero, version: 1, stateRoot: Blake2b.hash256([1]), treeSize: 3, heads: [Blake2b.hash256([2])])
        let variants = [
            Checkpoint(channel: Blake2b.hash256([9]), version: 1, stateRoot: base.stateRoot, treeSize: 3, heads: base.heads),
            Checkpoint(channel: .zero, version: 2, stateRoot: base.stateRoot, treeSize: 3, heads: base.heads),
            Checkpoint(channel: .zero, version: 1, stateRoot: Blake2b.hash256([3]), treeSize: 3, heads: base.heads),
            Checkpoint(channel: .zero, version: 1, stateRoot: base.stateRoot, treeSize: 4, heads: base.heads),
            Checkpoint(channel: .zero, version: 1, stateRoot: base.stateRoot, treeSize: 3, heads: []),
        ]
        #expect(Set(variants.map(\.digest) + [base.digest]).count == variants.count + 1)
    }
}
