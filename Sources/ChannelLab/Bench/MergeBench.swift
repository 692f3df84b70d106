import ChannelCore

/// The merge benchmark of the foundation issue: per-operation merge cost at two history sizes
/// (the cost must not grow with history), and the cost of verifying one operation against
/// raw libsodium verification, all measured in one process so they compare as ratios.
public enum MergeBench {
    /// Figures of one benchmark run. Times are nanoseconds per operation.
    public struct Result: Codable, Sendable {
        public struct Size: Codable, Sendable {
            public let operations: Int
            public let authors: Int
            public let mergeNanosPerOp: Double
            public let receiveWithVerifyNanosPerOp: Double
            public let rollbacks: Int
            public let replayedOps: Int
            public let stateRoot: String
        }
        public let sizes: [Size]
        /// Merge cost per operation at the large size over that at the small size (target ≤ 1.5).
        public let mergeCostRatioLargeOverSmall: Double
        public let verifyOperationNanos: Double
        public let rawLibsodiumVerifyNanos: Double
        /// Verifying one operation (digest + strict verify) over raw libsodium verify.
        public let verifyRatioOperationOverRaw: Double
    }

    /// Runs the benchmark. `now` reads a monotonic clock in nanoseconds; the lab injects it
    /// (benchmarks live outside the simulated world).
    public static func run(sizes: [Int] = [10_000, 200_000], authors: Int = 10, seed: UInt64 = 1, verifySamples: Int = 4000,
                           now: () -> UInt64, log: (String) -> Void = { _ in }) -> Result {
        var results = [Result.Size]()
        for size in sizes {
            log("generating \(size) operations from \(authors) authors...")
            let spec = OpSetSpec(participants: authors, ops: size, citeOthersMax: 3, viewLagOpsMax: 20)
            let channel = OpSetGenerator.generate(spec, seed: seed)
            var rng = SeededRandom(seed: seed, stream: "bench-delivery")
            let order = Delivery.causalOrder(channel.ops, rng: &rng, latePerMille: 50, lateOpsMax: 200)
            log("merging \(size) operations (signatures verified beforehand)...")
            let replica = Replica(config: channel.config)
            let start = now()
            for op in order { _ = replica.receive(preverified: op) }
            let mergeNanos = Double(now() - start) / Double(size)
            precondition(replica.operationCount == size, "every operation must be accepted")
            let verifyingCount = min(size, 10_000)
            let verifying = Replica(config: channel.config)
            let verifyStart = now()
            for op in order.prefix(verifyingCount) { _ = verifying.receive(op) }
            let receiveNanos = Double(now() - verifyStart) / Double(verifyingCount)
            results.append(Result.Size(
                operations: size, authors: authors, mergeNanosPerOp: mergeNanos, receiveWithVerifyNanosPerOp: receiveNanos,
                rollbacks: replica.stats.rollbacks, replayedOps: replica.stats.replayedOps, stateRoot: replica.stateRoot.hex))
            log("  merge \(Int(mergeNanos)) ns/op, receive with verify \(Int(receiveNanos)) ns/op, \(replica.stats.rollbacks) rollbacks, \(replica.stats.replayedOps) replayed")
        }
        let channel = OpSetGenerator.generate(OpSetSpec(participants: authors, ops: verifySamples), seed: seed)
        let keys = channel.config.participants.map(\.publicKey)
        var ok = 0
        let opStart = now()
        for op in channel.ops where op.verifySignature(key: keys[Int(op.author)]) { ok += 1 }
        let opNanos = Double(now() - opStart) / Double(verifySamples)
        let digests = channel.ops.map { UnsignedOperation.signingDigest(channel: $0.channel, id: $0.id).bytes }
        let rawStart = now()
        for (op, digest) in zip(channel.ops, digests) where keys[Int(op.author)].verify(op.signature, message: digest) { ok += 1 }
        let rawNanos = Double(now() - rawStart) / Double(verifySamples)
        precondition(ok == 2 * verifySamples, "every generated signature must verify")
        return Result(
            sizes: results,
            mergeCostRatioLargeOverSmall: results.count >= 2 ? results.last!.mergeNanosPerOp / results.first!.mergeNanosPerOp : 1,
            verifyOperationNanos: opNanos, rawLibsodiumVerifyNanos: rawNanos, verifyRatioOperationOverRaw: opNanos / rawNanos)
    }
}
