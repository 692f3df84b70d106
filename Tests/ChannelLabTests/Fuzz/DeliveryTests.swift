import ChannelCore
import ChannelLab
import Testing

/// Goal: the generator and delivery orders used by the property tests and the benchmark are
/// what they claim: causal orders are causal, generation is deterministic per seed.
@Suite struct DeliveryTests {
    @Test func causalOrderDeliversEveryOperationAfterItsPredecessors() {
        let channel = OpSetGenerator.generate(OpSetSpec(participants: 5, byzantine: [4], ops: 300, equivocationPerMille: 200), seed: 3)
        var rng = SeededRandom(seed: 3, stream: "d")
        let order = Delivery.causalOrder(channel.ops, rng: &rng, latePerMille: 300, lateOpsMax: 40)
        #expect(order.count == channel.ops.count)
        #expect(Set(order.map(\.id)) == Set(channel.ops.map(\.id)))
        var delivered = Set<OperationID>()
        for op in order {
            #expect(op.preds.allSatisfy { delivered.contains($0) })
            delivered.insert(op.id)
        }
        // Late arrivals really reorder: not simply the creation order.
        #expect(order.map(\.id) != channel.ops.map(\.id))
    }

    @Test func generationIsDeterministicPerSeed() {
        let spec = OpSetSpec(participants: 4, byzantine: [3], ops: 50, equivocationPerMille: 300, overdraftPerMille: 200)
        #expect(OpSetGenerator.generate(spec, seed: 9).ops.map(\.id) == OpSetGenerator.generate(spec, seed: 9).ops.map(\.id))
        #expect(OpSetGenerator.generate(spec, seed: 9).ops.map(\.id) != OpSetGenerator.generate(spec, seed: 10).ops.map(\.id))
    }

    /// Honest authors only spend what their causal past shows, so in an all-honest channel no
    /// operation is ever refused.
    @Test func honestGeneratedChannelsHaveNoRejections() {
        for seed: UInt64 in 1...10 {
            let channel = OpSetGenerator.generate(OpSetSpec(participants: 5, observers: [4], ops: 200), seed: seed)
            let replica = Replica(config: channel.config)
            var rng = SeededRandom(seed: seed, stream: "x")
            for op in Delivery.anyOrder(channel.ops, rng: &rng) { _ = replica.receive(op) }
            #expect(replica.operationCount == 200)
            #expect(replica.rejections.isEmpty, "seed \(seed): \(replica.rejections.prefix(2))")
        }
    }
}
