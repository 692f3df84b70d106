import ChannelCore

extension ByzantineActor {
    /// One action of `spoof`: cancel the oldest own open order, then post 10 lots post-only at
    /// the best price of a random side (never crossing: one tick behind the other side's best).
    mutating func spoofAct(node: ChannelNode, replica: Replica) {
        guard let books = config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first,
            let book = replica.state.application(named: OrderBook.name) as? OrderBookState
        else { return }
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
        guard node.spendable(side == .buy ? market.quote : market.base) >= lots * perLot else { return }
        node.submit(.orderBook(.place(market: market.id, side: side, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: true)))
    }

    /// One action of `wash-trade`: a sell, then a buy crossing it at the same price, 1–5 lots.
    mutating func washTradeAct(node: ChannelNode, replica: Replica) {
        guard let books = config.application(named: OrderBook.name) as? OrderBookConfig, let market = books.markets.first else { return }
        let lots = Amount(1 + rng.below(5))
        let price = market.tick * Amount(95 + rng.below(11))
        guard node.spendable(market.base) >= lots * market.lotSize, node.spendable(market.quote) >= lots * (price + market.feePerLotMax(price)) else { return }
        node.submit(.orderBook(.place(market: market.id, side: .sell, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: false)))
        node.submit(.orderBook(.place(market: market.id, side: .buy, price: price, amount: lots * market.lotSize, expiry: 0, postOnly: false)))
    }
}
