/// Frequent batch auctions (docs/apps/orderbook.md, "Batch auctions").
extension OrderBookState {
    // MARK: Batch auctions

    /// The batch round of an operation of `market` at its depth; `nil` in a continuous market.
    func roundOf(_ market: Market, _ context: ApplyContext) -> UInt64? {
        guard case let .batch(width) = market.matching else { return nil }
        return context.depth / width
    }

    mutating func note(_ id: OperationID, round: UInt64, market: UInt32, height: UInt64) {
        let old = pending[market]
        var round = old.flatMap { $0.round == round ? $0 : nil } ?? PendingRound(round: round, operations: [], chainHeight: 0)
        round.operations.append(id)
        round.chainHeight = max(round.chainHeight, height)
        undo?.append(.pending(market, old))
        pending[market] = round
    }

    /// Clears the market's waiting round if it is earlier than `round` (`nil`: none pending).
    mutating func settleRounds(before round: UInt64?, market: Market, at trigger: OperationID, accounts: inout ApplicationAccounts) {
        guard let round, let waiting = pending[market.id], waiting.round < round else { return }
        undo?.append(.pending(market.id, waiting))
        pending[market.id] = nil
        clear(waiting, market: market, at: trigger, accounts: &accounts)
    }

    /// The uniform-price auction of one round (docs/apps/orderbook.md, "Batch auctions").
    mutating func clear(_ round: PendingRound, market: Market, at trigger: OperationID, accounts: inout ApplicationAccounts) {
        // Expired resting orders leave first; the round's orders were checked when placed.
        for side in OrderBook.Side.allCases {
            for id in book(side, market.id) where orders[id]!.expired(at: round.chainHeight) {
                unrest(id)
                close(id, accounts: &accounts)
            }
        }
        let waitingIDs = orders.values.filter { $0.market == market.id && $0.waiting }.sorted { $0.arrival < $1.arrival }.map(\.id)
        let buys = (book(.buy, market.id) + waitingIDs.filter { orders[$0]!.side == .buy }).map { orders[$0]! }
        let sells = (book(.sell, market.id) + waitingIDs.filter { orders[$0]!.side == .sell }).map { orders[$0]! }
        let seed = Self.roundSeed(round.operations)
        let reference = clearings.last(where: { $0.market == market.id })?.price
        if let (price, volume) = Self.clearingPrice(buys: buys.map { ($0.price, $0.lots) }, sells: sells.map { ($0.price, $0.lots) }, reference: reference) {
            let buyLots = Self.allocate(buys, volume: volume, better: { $0 > price }, at: price, seed: seed)
            let sellLots = Self.allocate(sells, volume: volume, better: { $0 < price }, at: price, seed: seed)
            // Pair buyers and sellers in priority order (price, then arrival) into fills.
            let buyQueue = buys.indices.filter { buyLots[$0] > 0 }.sorted { Self.priority(buys[$0], buys[$1]) }
            let sellQueue = sells.indices.filter { sellLots[$0] > 0 }.sorted { Self.priority(sells[$0], sells[$1]) }
            var b = 0
            var s = 0
            var leftBuy = buyQueue.first.map { buyLots[$0] } ?? 0
            var leftSell = sellQueue.first.map { sellLots[$0] } ?? 0
            while b < buyQueue.count, s < sellQueue.count {
                let lots = min(leftBuy, leftSell)
                let buy = buys[buyQueue[b]]
                let sell = sells[sellQueue[s]]
                let maker = buy.arrival < sell.arrival ? buy.id : sell.id
                let pairPrice = bugs.contains(.orderBookNonUniformBatch) ? (maker == buy.id ? buy.price : sell.price) : price
                fill(
                    buy: buy.id, sell: sell.id, lots: lots, price: pairPrice, maker: maker, round: round.round, at: trigger, height: round.chainHeight,
                    market: market, accounts: &accounts)
                leftBuy -= lots
                leftSell -= lots
                if leftBuy == 0 {
                    b += 1
                    if b < buyQueue.count { leftBuy = buyLots[buyQueue[b]] }
                }
                if leftSell == 0 {
                    s += 1
                    if s < sellQueue.count { leftSell = sellLots[sellQueue[s]] }
                }
            }
            precondition(b == buyQueue.count && s == sellQueue.count, "both sides execute the same volume")
            clearings.append(
                Clearing(
                    market: market.id, round: round.round, price: price, lots: volume,
                    bids: buys.map { PriceLevel(price: $0.price, lots: $0.lots) }, asks: sells.map { PriceLevel(price: $0.price, lots: $0.lots) },
                    reference: reference))
            undo?.append(.clearing)
        }
        // Filled orders close; the round's unfilled limit orders rest, market orders drop.
        for side in OrderBook.Side.allCases {
            for id in book(side, market.id) where orders[id]!.lots == 0 {
                unrest(id)
                close(id, accounts: &accounts)
            }
        }
        for id in waitingIDs {
            var order = orders[id]!
            if order.lots == 0 || order.immediate {
                close(id, accounts: &accounts)
            } else {
                order.waiting = false
                setOrder(id, order)
                rest(id)
            }
        }
    }

    /// Price priority, then arrival.
    static func priority(_ a: Order, _ b: Order) -> Bool {
        if a.price != b.price { return a.side == .buy ? a.price > b.price : a.price < b.price }
        return a.arrival < b.arrival
    }

    /// The uniform clearing price and volume in lots, or `nil` when nothing crosses. Among the
    /// orders' limit prices (ascending): the most volume; then the least imbalance
    /// |demand − supply|; then the closest to `reference` (the market's last clearing price,
    /// if any); then the lowest price (as BNB Beacon Chain's and Quedex's call auctions).
    public static func clearingPrice(
        buys: [(price: Amount, lots: Amount)], sells: [(price: Amount, lots: Amount)], reference: Amount? = nil
    ) -> (price: Amount, volume: Amount)? {
        let prices = Set(buys.map(\.price) + sells.map(\.price)).sorted()
        var best: (price: Amount, volume: Amount, imbalance: Amount, distance: Amount)?
        for price in prices {
            let demand = buys.reduce(Amount(0)) { $1.price >= price ? $0 + $1.lots : $0 }
            let supply = sells.reduce(Amount(0)) { $1.price <= price ? $0 + $1.lots : $0 }
            let volume = min(demand, supply)
            guard volume > 0 else { continue }
            let imbalance = demand > supply ? demand - supply : supply - demand
            let distance = reference.map { price > $0 ? price - $0 : $0 - price } ?? 0
            if let current = best {
                if current.volume != volume {
                    if current.volume > volume { continue }
                } else if current.imbalance != imbalance {
                    if current.imbalance < imbalance { continue }
                } else if current.distance <= distance {
                    continue  // equal distance: the lower price, seen first, stays
                }
            }
            best = (price, volume, imbalance, distance)
        }
        return best.map { ($0.price, $0.volume) }
    }

    /// Lots each order executes: better-priced orders in full (by price, then arrival); at the
    /// marginal price, resting orders of earlier rounds in full by arrival, then the round's
    /// own orders pro rata (rounded down), the remaining lots one each in the order of
    /// `H(seed ‖ order id)`, skipping orders already full. Within a round, who arrived first
    /// buys nothing: the hash of the whole round decides, and no author controls it alone.
    static func allocate(_ side: [Order], volume: Amount, better: (Amount) -> Bool, at price: Amount, seed: Digest32) -> [Amount] {
        var lots = [Amount](repeating: 0, count: side.count)
        var left = volume
        let first = side.indices.filter { better(side[$0].price) || (side[$0].price == price && !side[$0].waiting) }
            .sorted { priority(side[$0], side[$1]) }
        for index in first {
            let take = min(left, side[index].lots)
            lots[index] = take
            left -= take
        }
        let level = side.indices.filter { side[$0].price == price && side[$0].waiting }
        let levelLots = level.reduce(Amount(0)) { $0 + side[$1].lots }
        guard left > 0, levelLots > 0 else { return lots }
        if left >= levelLots {
            for index in level { lots[index] = side[index].lots }
            return lots
        }
        var given = Amount(0)
        for index in level {
            let share = left.multipliedFullWidth(by: side[index].lots)
            let part = levelLots.dividingFullWidth(share).quotient
            lots[index] = part
            given += part
        }
        let order = level.sorted { tieKey(seed, side[$0].id) < tieKey(seed, side[$1].id) }
        var remainder = left - given
        while remainder > 0 {
            for index in order where remainder > 0 && lots[index] < side[index].lots {
                lots[index] += 1
                remainder -= 1
            }
        }
        return lots
    }

    /// The tie-break seed of a round: BLAKE2b over every operation id of the round, sorted.
    public static func roundSeed(_ ids: [OperationID]) -> Digest32 {
        var input = [UInt8]()
        for id in ids.sorted() { id.appendBytes(to: &input) }
        return Blake2b.hash256(domain: .orderBookRound, input)
    }

    static func tieKey(_ seed: Digest32, _ id: OperationID) -> Digest32 {
        var input = [UInt8]()
        seed.appendBytes(to: &input)
        id.appendBytes(to: &input)
        return Blake2b.hash256(domain: .orderBookRound, input)
    }
}
