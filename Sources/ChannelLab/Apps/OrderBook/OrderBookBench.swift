import ChannelCore

/// The order book's benchmark (`chanlab bench --orderbook`): the apply cost of an order-book
/// operation beside a transfer's (the same replica, operations in causal order, signatures
/// verified beforehand), and the merge-scaling ratio with order-book operations in the mix
/// (late deliveries roll back and replay matching), all measured in one process as ratios.
public enum OrderBookBench {
    public struct Result: Codable, Sendable {
        public struct Size: Codable, Sendable {
            public let operations: Int
            public let mergeNanosPerOp: Double
            public let rollbacks: Int
            public let replayedOps: Int
            public let fills: Int
        }
        /// Applying one operation appended in order: transfers only, order-book operations only.
        public let transferApplyNanos: Double
        public let orderApplyNanos: Double
        public let orderOverTransfer: Double
        /// Half transfers, half order-book operations, delivered with 5 % late.
        public let sizes: [Size]
        public let mergeCostRatioLargeOverSmall: Double
    }

    /// A channel of `authors` traders with the order book (one continuous market), every
    /// author funded in both tokens; then `count` operations, `orderPerMille` of them
    /// order-book operations, each citing its author's previous one and up to two recent
    /// operations of others.
    static func operations(count: Int, authors: Int, orderPerMille: UInt64, seed: UInt64) -> (ChannelConfig, [SignedOperation]) {
        precondition(count >= 1 && authors >= 2 && orderPerMille <= 1000)
        let made = OpSetGenerator.makeChannel(seed: seed, participants: authors, tokens: [0, 1])
        let market = Market(id: 1, base: 0, quote: 1, tick: 1, lotSize: 1, matching: .continuous, makerFeeBps: 5, takerFeeBps: 10, feeRecipient: 0)
        let config = ChannelConfig(
            channel: made.config.channel, participants: made.config.participants, fundingKey: made.config.fundingKey, tokens: [0, 1],
            applications: [OrderBookConfig(markets: [market])])
        var chains = made.keys.enumerated().map { AuthorChain(channel: config.channel, author: ParticipantIndex($0.offset), key: $0.element) }
        var ops = [SignedOperation]()
        var nonce: UInt64 = 1
        for author in 0..<authors {
            for token: TokenID in [0, 1] {
                let receipt = made.funding.signReceipt(channel: config.channel, participant: ParticipantIndex(author), token: token, amount: 1 << 60, nonce: nonce, height: 1)
                nonce += 1
                ops.append(chains[author].append(.deposit(receipt)))
            }
        }
        var rng = SeededRandom(seed: seed, stream: "orderbook-bench")
        for _ in 0..<count {
            let author = rng.index(authors)
            let payload: Payload
            if rng.below(1000) < orderPerMille {
                let side: OrderBook.Side = rng.below(2) == 0 ? .buy : .sell
                let price = Amount(95 + rng.below(11))
                let lots = Amount(1 + rng.below(10))
                payload = rng.below(4) == 0
                    ? .orderBook(.market(market: 1, side: side, amount: lots, worstPrice: price))
                    : .orderBook(.place(market: 1, side: side, price: price, amount: lots, expiry: 0, postOnly: false))
            } else {
                payload = .transfer(to: ParticipantIndex((author + 1 + rng.index(authors - 1)) % authors), token: 0, amount: Amount(1 + rng.below(100)))
            }
            var cites = [OperationID]()
            for _ in 0..<2 where ops.count > 2 * authors {
                let other = ops[ops.count - 1 - rng.index(min(20, ops.count - 2 * authors))]
                if other.author != ParticipantIndex(author) { cites.append(other.id) }
            }
            ops.append(chains[author].append(payload, citing: cites))
        }
        return (config, ops)
    }

    public static func run(applyOps: Int = 20_000, sizes: [Int] = [10_000, 100_000], authors: Int = 10, seed: UInt64 = 1, now: () -> UInt64, log: (String) -> Void = { _ in }) -> Result {
        func applyCost(orderPerMille: UInt64) -> Double {
            let (config, ops) = operations(count: applyOps, authors: authors, orderPerMille: orderPerMille, seed: seed)
            let replica = Replica(config: config)
            let funding = 2 * authors
            for op in ops.prefix(funding) { _ = replica.receive(preverified: op) }
            let start = now()
            for op in ops.dropFirst(funding) { _ = replica.receive(preverified: op) }
            return Double(now() - start) / Double(applyOps)
        }
        log("apply cost: \(applyOps) transfers, then \(applyOps) order-book operations, in causal order...")
        let transfer = applyCost(orderPerMille: 0)
        let order = applyCost(orderPerMille: 1000)
        log("  transfer \(Int(transfer)) ns/op, order-book \(Int(order)) ns/op")
        var results = [Result.Size]()
        for size in sizes {
            let (config, ops) = operations(count: size, authors: authors, orderPerMille: 500, seed: seed)
            var rng = SeededRandom(seed: seed, stream: "orderbook-bench-delivery")
            let order = Delivery.causalOrder(ops, rng: &rng, latePerMille: 50, lateOpsMax: 200)
            let replica = Replica(config: config)
            let start = now()
            for op in order { _ = replica.receive(preverified: op) }
            let nanos = Double(now() - start) / Double(ops.count)
            let fills = (replica.state.application(named: OrderBook.name) as? OrderBookState)?.fills.count ?? 0
            results.append(Result.Size(operations: size, mergeNanosPerOp: nanos, rollbacks: replica.stats.rollbacks, replayedOps: replica.stats.replayedOps, fills: fills))
            log("  merge @ \(size) (half order-book): \(Int(nanos)) ns/op, \(replica.stats.rollbacks) rollbacks, \(replica.stats.replayedOps) replayed, \(fills) fills")
        }
        return Result(
            transferApplyNanos: transfer, orderApplyNanos: order, orderOverTransfer: order / transfer, sizes: results,
            mergeCostRatioLargeOverSmall: results.last!.mergeNanosPerOp / results.first!.mergeNanosPerOp)
    }
}
