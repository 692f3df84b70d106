import ChannelCore

/// `do: front-run`: sees another participant's order arrive and submits one of its own on the
/// same side ahead of it, at the same graph depth with an id ground to sort first, taking the
/// liquidity the victim meant to take; then sells (buys) it back to the victim's resting order
/// at the victim's limit (docs/apps/orderbook.md, "Front-running"). Breaks no rule.
struct FrontRunner: ApplicationStrategy {
    static let name = "front-run"
    static let isInvalidKind = false
    /// Victims already front-run (or given up on).
    var seen: Set<OperationID> = []
    /// What it bought (sold) ahead of a victim and will sell (buy) back: market, side of the
    /// unwind, lots, the victim's limit.
    var unwind: (market: UInt32, side: OrderBook.Side, lots: Amount, price: Amount)?
    /// Victims it got ahead of (same depth, smaller id) and those it could not (its own chain
    /// already deeper than the victim).
    var ahead = 0
    var missed = 0
    /// Most victims remembered.
    static let seenMax = 65_536

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        act(config: context.config, node: context.node, replica: context.replica, out: &out)
        return .done(nil)
    }

    /// One action of `front-run`: unwind what the last front-run bought, else front-run the
    /// newest order of someone else that nothing cites yet (a head: just arrived), taking the
    /// resting orders priced better than the victim's limit, then selling (buying) them back
    /// at the victim's limit, where the victim's order now rests.
    ///
    /// In a continuous market the total order `(depth, id)` lets an author who sees an order
    /// in flight put its own at the same depth (citing the victim's predecessors) and grind its
    /// id below the victim's (here through the expiry field, far in the future): it applies
    /// first everywhere, whatever arrived first. In a batch market the same op only joins the
    /// victim's round, which clears at one price for both.
    private mutating func act(config: ChannelConfig, node: ChannelNode, replica: Replica, out: inout [Send]) {
        guard let books = config.application(named: OrderBook.name) as? OrderBookConfig else { return }
        if let pending = unwind {
            unwind = nil
            let market = books.market(pending.market)!
            // Unwind against the victim's resting order at its limit (cited: it is in the past).
            if node.submit(.orderBook(.place(market: pending.market, side: pending.side, price: pending.price, amount: pending.lots * market.lotSize, expiry: 0, postOnly: false))) != nil {
                return
            }
        }
        let me = node.index
        let victims = replica.heads.compactMap { replica.operation($0) }.filter { op in
            op.author != me && !seen.contains(op.id) && op.payload.orderBookOperation.map(Self.isTaking) == true
        }.sorted { ($0.seq, $0.id) < ($1.seq, $1.id) }
        guard let victim = victims.last, case let .application(body) = victim.payload, let order = try? OrderBook.operation(of: body) else { return }
        if seen.count >= Self.seenMax { seen.removeAll() }
        seen.insert(victim.id)
        let (marketID, side, limit, amount): (UInt32, OrderBook.Side, Amount, Amount)
        switch order {
        case let .place(m, s, p, a, _, _): (marketID, side, limit, amount) = (m, s, p, a)
        case let .market(m, s, a, w): (marketID, side, limit, amount) = (m, s, w, a)
        case .cancel: return
        }
        guard let market = books.market(marketID), let victimDepth = replica.depth(of: victim.id) else { return }
        let ownDepth = node.author.last.flatMap { replica.depth(of: $0) } ?? 0
        guard ownDepth < victimDepth else {
            missed += 1
            return
        }
        // Take what the victim would take at a better price than its limit (the resting
        // orders it would have filled at those prices), within what the front-runner holds.
        let book = replica.state.application(named: OrderBook.name) as? OrderBookState
        let better = (book?.book(marketID, side.opposite) ?? []).filter { $0.owner != me && (side == .buy ? $0.price < limit : $0.price > limit) }
        var wanted = amount / market.lotSize
        var lots = Amount(0)
        var worst = limit
        for resting in better where wanted > 0 {
            let take = min(wanted, resting.lots)
            lots += take
            wanted -= take
            worst = resting.price
        }
        let perLot = side == .buy ? worst + market.feePerLotMax(worst) : market.lotSize
        lots = min(lots, Amount(max(replica.account(me, side == .buy ? market.quote : market.base).balance, 0)) / perLot)
        guard lots > 0 else { return }
        let cites = victim.preds.filter { replica.operation($0)?.author != me }
        for nonce in 0..<UInt64(64) {
            let payload = Payload.orderBook(.place(market: marketID, side: side, price: worst, amount: lots * market.lotSize, expiry: (1 << 40) + nonce, postOnly: false))
            let op = node.author.peek(payload, citing: cites)
            guard op.id < victim.id else { continue }
            node.adoptOwn(op)
            for peer in node.peers { out.append(Send(to: peer, message: .ops([.op(op)]))) }
            ahead += 1
            unwind = (marketID, side.opposite, lots, limit)
            return
        }
        missed += 1
    }

    /// Orders that take liquidity: market orders and limit orders that are not post-only.
    static func isTaking(_ operation: OrderBook.Operation) -> Bool {
        switch operation {
        case .market: return true
        case let .place(_, _, _, _, _, postOnly): return !postOnly
        case .cancel: return false
        }
    }
}
