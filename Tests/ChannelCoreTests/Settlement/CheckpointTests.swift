import ChannelCore
import ChannelLab
import Testing

/// Goal: a replica signs only checkpoints that match its own state at the named heads, and
/// the state at past heads is recomputed exactly. Method: a generated channel; checkpoints of
/// an earlier prefix checked by a replica that has moved on; altered roots, sizes and unknown
/// heads refused.
@Suite struct CheckpointTests {
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
