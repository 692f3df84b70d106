import ChannelCore

/// `do: spoof`: a place-and-cancel storm. At every action it cancels its oldest open order,
/// then posts 10 lots post-only at the best price of a random side (never crossing: one tick
/// behind the other side's best); it never means to trade. Breaks no rule.
struct Spoofer: ApplicationStrategy {
    static let name = "spoof"
    static let isInvalidKind = false

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        let node = context.node
        guard let books = context.config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first,
            let book = context.replica.state.application(named: OrderBook.name) as? OrderBookState
        else { return .done(nil) }
        let me = node.index
        if let oldest = book.orders.values.filter({ $0.owner == me }).min(by: { $0.arrival < $1.arrival }) {
            node.submit(.orderBook(.cancel(order: oldest.id)))
        }
        let side: OrderBook.Side = rng.below(2) == 0 ? .buy : .sell
        let bestOther = book.book(market.id, side.opposite).first?.price
        let bestOwn = book.book(market.id, side).first?.price ?? bestOther ?? market.tick * 100
        var price = bestOwn
        if let other = bestOther {
            price = side == .buy ? min(price, other > market.tick ? other - market.tick : market.tick) : max(price, other + market.tick)
        }
        price = max(market.tick, price / market.tick * market.tick)
        let lots = Amount(10)
        let perLot = side == .buy ? price + market.feePerLotMax(price) : market.lotSize
        guard node.spendable(side == .buy ? market.quote : market.base) >= lots * perLot else { return .done(nil) }
        node.submit(.orderBook(.place(market: market.id, side: side, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: true)))
        return .done(nil)
    }
}

/// `do: wash-trade`: a sell, then a buy crossing it at the same price, 1–5 lots, at every
/// action. In a continuous market self-trade prevention cancels its own resting order instead
/// of filling it (checked: no continuous fill has one owner on both sides).
struct WashTrader: ApplicationStrategy {
    static let name = "wash-trade"
    static let isInvalidKind = false

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        let node = context.node
        guard let books = context.config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first else {
            return .done(nil)
        }
        let lots = Amount(1 + rng.below(5))
        let price = market.tick * Amount(95 + rng.below(11))
        guard node.spendable(market.base) >= lots * market.lotSize, node.spendable(market.quote) >= lots * (price + market.feePerLotMax(price)) else {
            return .done(nil)
        }
        node.submit(.orderBook(.place(market: market.id, side: .sell, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: false)))
        node.submit(.orderBook(.place(market: market.id, side: .buy, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: false)))
        return .done(nil)
    }
}

/// `do: invalid, kind: order-overspend`: a buy order escrowing more quote than the author's
/// view holds (an over-fill of its own means: `insufficientBalance` in its causal past):
/// slashable evidence. Without a market, an overdraft instead.
struct OrderOverspend: ApplicationStrategy {
    static let name = "order-overspend"
    static let isInvalidKind = true
    static let withoutApplication: InvalidKind? = .overdraft

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        guard let books = context.config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first else {
            return .fallBack(.overdraft)
        }
        let me = context.node.index
        // One lot more than the whole view's quote balance can escrow.
        let balance = Amount(max(context.replica.account(me, market.quote).balance, 0))
        let price = market.tick
        let lots = balance / (price + market.feePerLotMax(price)) + 1
        let payload = Payload.orderBook(.place(market: market.id, side: .buy, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: false))
        guard let op = context.node.submit(payload) else { return .done(nil) }
        return .done(Attributable(participant: Int(me), kind: "invalid-in-causal-past", ops: [op.id]))
    }
}

/// `do: invalid, kind: foreign-cancel`: a cancel of another participant's open order
/// (`orderNotOwned`): slashable evidence. Without another's open order in view, an order
/// overspend instead (an overdraft without a market).
struct ForeignCancel: ApplicationStrategy {
    static let name = "foreign-cancel"
    static let isInvalidKind = true
    static let withoutApplication: InvalidKind? = .overdraft

    mutating func act(_ context: StrategyContext, rng: inout SeededRandom, out: inout [Send]) -> StrategyOutcome {
        let me = context.node.index
        let book = context.replica.state.application(named: OrderBook.name) as? OrderBookState
        guard let foreign = book?.orders.values.filter({ $0.owner != me }).map(\.id).min() else {
            var overspend = OrderOverspend()
            return overspend.act(context, rng: &rng, out: &out)
        }
        guard let op = context.node.submit(.orderBook(.cancel(order: foreign))) else { return .done(nil) }
        return .done(Attributable(participant: Int(me), kind: "invalid-in-causal-past", ops: [op.id]))
    }
}
