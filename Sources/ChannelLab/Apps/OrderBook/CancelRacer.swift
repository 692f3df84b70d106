import ChannelCore

/// `do: cancel-race`: a maker with a last look. It keeps one resting order (post-only, 1–5
/// lots, one tick behind the other side's best); when it sees another participant's taking
/// order arrive that would fill it, it races a cancel of that order ahead of the taker: at the
/// taker's graph depth, its id ground below the taker's through the choice of extra
/// predecessors (older operations it may cite without changing its depth). Where the cancel
/// sorts first the taker finds the order gone: a concurrent conflict for the taker (never
/// evidence), and no fill after the cancel in the total order (`orderbook-fills`). Breaks no
/// rule. Under batch matching cancels go first within a round anyway, so the race is won by
/// being in the round, not by grinding (docs/apps/orderbook.md, "Cancel racing").
struct CancelRacer: ApplicationStrategy {
    static let name = "cancel-race"
    static let isInvalidKind = false
    /// Takers already raced (or given up on).
    var raced: Set<OperationID> = []
    /// Races whose cancel sorts before the taker (same depth, smaller id), and races it could
    /// not enter (its own chain already as deep as the taker, or no id below the taker's
    /// among the tries).
    var won = 0
    var lost = 0
    /// The races won, as (its cancel, the order cancelled, the taker), the first
    /// `winsKeptMax` of them (for tests and reports).
    var wins: [(cancel: OperationID, order: OperationID, taker: OperationID)] = []
    static let winsKeptMax = 4096
    /// Most takers remembered.
    static let racedMax = 65_536
    /// Extra-predecessor subsets tried per race (2^6: the first six candidates).
    static let grindTriesMax = 64

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        let node = context.node
        let replica = context.replica
        guard let books = context.config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first,
            let book = replica.state.application(named: OrderBook.name) as? OrderBookState
        else { return .done(nil) }
        let me = node.index
        let bids = book.book(market.id, .buy)
        let asks = book.book(market.id, .sell)
        // A taker in flight: someone else's newest taking order that nothing cites yet and
        // that would fill one of its resting orders.
        for victim in replica.heads.compactMap({ replica.operation($0) }).sorted(by: { $0.id < $1.id }) {
            guard victim.author != me, !raced.contains(victim.id), case let .application(body) = victim.payload,
                let order = try? OrderBook.operation(of: body), FrontRunner.isTaking(order)
            else { continue }
            let (side, limit): (OrderBook.Side, Amount)
            switch order {
            case let .place(m, s, p, _, _, _) where m == market.id: (side, limit) = (s, p)
            case let .market(m, s, _, w) where m == market.id: (side, limit) = (s, w)
            default: continue
            }
            let hit = side == .buy
                ? asks.first { $0.owner == me && $0.price <= limit }
                : bids.first { $0.owner == me && $0.price >= limit }
            guard let hit else { continue }
            if raced.count >= Self.racedMax { raced.removeAll() }
            raced.insert(victim.id)
            race(cancel: hit.id, ahead: victim, node: node, replica: replica, out: &out)
            return .done(nil)
        }
        // No race: keep one resting order at the top of its side of the book (a resting order
        // behind someone else's better price is cancelled, to be placed again at the top).
        if let own = (bids + asks).first(where: { $0.owner == me }) {
            let top = own.side == .buy ? bids.first : asks.first
            if let top, top.owner != me, top.price != own.price { node.submit(.orderBook(.cancel(order: own.id))) }
            return .done(nil)
        }
        let side: OrderBook.Side = rng.below(2) == 0 ? .buy : .sell
        let other = (side == .buy ? asks : bids).first?.price ?? market.tick * 100
        let price = side == .buy ? max(market.tick, other > market.tick ? other - market.tick : market.tick) : other + market.tick
        let lots = Amount(1 + rng.below(5))
        let perLot = side == .buy ? price + market.feePerLotMax(price) : market.lotSize
        guard node.spendable(side == .buy ? market.quote : market.base) >= lots * perLot else { return .done(nil) }
        node.submit(.orderBook(.place(market: market.id, side: side, price: price / market.tick * market.tick, amount: lots * market.lotSize, expiry: 0, postOnly: true)))
        return .done(nil)
    }

    /// Sends a cancel of `order` at `victim`'s depth with an id below the victim's, or a plain
    /// cancel when it cannot.
    private mutating func race(cancel order: OperationID, ahead victim: SignedOperation, node: ChannelNode, replica: Replica, out: inout [Send]) {
        let me = node.index
        let payload = Payload.orderBook(.cancel(order: order))
        guard let victimDepth = replica.depth(of: victim.id), (node.author.last.flatMap { replica.depth(of: $0) } ?? 0) < victimDepth else {
            lost += 1
            node.submit(payload)
            return
        }
        let cites = victim.preds.filter { replica.operation($0)?.author != me }
        // Candidates that leave the depth alone: others' operations at least two below it.
        let citing = Set(cites)
        let extras: [OperationID] = Array(replica.appliedOrder.reversed().lazy.filter { id in
            !citing.contains(id) && replica.operation(id).map { $0.author != me } == true && replica.depth(of: id).map { $0 + 1 < victimDepth } == true
        }.prefix(6))
        for attempt in 0..<min(Self.grindTriesMax, 1 << extras.count) {
            let chosen = extras.indices.filter { attempt & (1 << $0) != 0 }.map { extras[$0] }
            let preds = Array((cites + chosen).prefix(WireLimits.predsMax - 1))
            let op = node.author.peek(payload, citing: preds)
            guard op.id < victim.id else { continue }
            node.adoptOwn(op)
            for peer in node.peers { out.append(Send(to: peer, message: .ops([.op(op)]))) }
            won += 1
            if wins.count < Self.winsKeptMax { wins.append((op.id, order, victim.id)) }
            return
        }
        lost += 1
        node.submit(payload)
    }
}
