import ChannelCore

/// The order book's invariants, judged from the operations themselves (decoded from each
/// replica's accepted set) and simple recomputations, never by asking the order book's code
/// what was right:
/// - `orderbook-escrow` on every delivery: each account's locked balance is its unreleased
///   locks plus what its open orders escrow.
/// - `orderbook-fills` at the end: no continuous fill with one owner on both sides; each fill
///   within both orders' limit prices, at most what each
///   order holds in all, never after the order's cancel in the total order, never at or after
///   its expiry, with fees of ceil(notional × bps ÷ 10⁴) (maker and taker named by arrival);
///   every refusal of an honest participant's order-book operation a concurrent conflict.
/// - `orderbook-clearing` at the end: in batch markets every fill of a round at the round's
///   price, and that price the one a brute-force clearer picks from the round's orders.
final class OrderBookChecker: ApplicationChecker {
    let config: OrderBookConfig
    let honest: Set<Int>
    /// Violations of each kind reported per node (the rest are counted, not listed).
    static let reportsPerNodeMax = 3
    /// Violations reported when fills were made (at most `reportsPerNodeMax`).
    private var applyReports = 0

    init(config: OrderBookConfig, honest: Set<Int>) {
        self.config = config
        self.honest = honest
    }

    func afterDelivery(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor) {
        guard let book = replica.state.application(named: OrderBook.name) as? OrderBookState else { return }
        var expected = [AccountKey: Amount]()
        var escrows = [AccountKey: Amount]()
        for (_, lock) in replica.balances.locks where !lock.released {
            expected[AccountKey(participant: lock.owner, token: lock.token), default: 0] += lock.amount
        }
        for order in book.orders.values {
            guard let market = config.market(order.market) else { continue }
            // Recomputed from the order's own terms: a buy holds lots × (limit + the most fee
            // per lot), a sell its lots in base.
            let escrow = order.side == .buy ? order.lots * (order.price + market.feePerLotMax(order.price)) : order.lots * market.lotSize
            if escrow != order.escrow {
                monitor.report(.orderBookEscrow, at: time, nodes: [node], operations: [order.id], "open order holds \(order.escrow) but its terms need \(escrow) for \(order.lots) lots")
                return
            }
            let key = AccountKey(participant: order.owner, token: order.side == .buy ? market.quote : market.base)
            expected[key, default: 0] += escrow
            if escrow > 0 { escrows[key, default: 0] += escrow }
        }
        // The book's public query of escrow per account must be what its open orders hold.
        if book.escrowed() != escrows {
            let wrong = Set(book.escrowed().keys).union(escrows.keys).sorted().first { book.escrowed()[$0] != escrows[$0] }!
            monitor.report(
                .orderBookEscrow, at: time, nodes: [node],
                "the book's escrowed() reads \(book.escrowed()[wrong] ?? 0) for account \(wrong.participant)/\(wrong.token) but its open orders hold \(escrows[wrong] ?? 0)")
            return
        }
        for (key, account) in replica.balances.accounts where account.locked != Int128(expected[key] ?? 0) {
            monitor.report(.orderBookEscrow, at: time, nodes: [node], "account \(key.participant)/\(key.token) has \(account.locked) locked but its locks and open orders hold \(expected[key] ?? 0)")
            return
        }
    }

    /// The fills the operation just made (the tail of the book's fills made at it, a
    /// continuous match or a round it cleared), judged as they are made: within both orders'
    /// limits, and no continuous fill with one owner on both sides. Intermediate states count:
    /// a rollback may undo them later, but a replica may sign them before.
    func onApply(node: Int, op: SignedOperation, refusal: LedgerRejection?, replica: Replica, at time: SimInstant, monitor: InvariantMonitor) {
        // Only an order-book operation makes fills (a match, or a round it clears): every other
        // application returns before touching the book (this runs on every merge step).
        guard applyReports < Self.reportsPerNodeMax, case let .application(payload) = op.payload, OrderBook.kinds.contains(payload.kind),
            let book = replica.state.application(named: OrderBook.name) as? OrderBookState
        else { return }
        for fill in book.fills.reversed() {
            guard fill.at == op.id else { break }
            guard let market = config.market(fill.market), let buy = replica.operation(fill.buy)?.payload.orderBookOperation,
                let sell = replica.operation(fill.sell)?.payload.orderBookOperation
            else { continue }
            let buyLimit = Self.terms(buy, market).limit
            let sellLimit = Self.terms(sell, market).limit
            if fill.price > buyLimit || fill.price < sellLimit {
                applyReports += 1
                monitor.report(.orderBookFills, at: time, nodes: [node], operations: [fill.buy, fill.sell], "fill at \(fill.price) outside the limits when made: buy \(buyLimit), sell \(sellLimit)")
            } else if fill.round == nil, fill.buyer == fill.seller {
                applyReports += 1
                monitor.report(.orderBookFills, at: time, nodes: [node], operations: [fill.buy, fill.sell], "participant \(fill.buyer) traded with itself in a continuous market when made")
            }
        }
    }

    func atEnd(node: Int, replica: Replica, at time: SimInstant, monitor: InvariantMonitor) {
        guard let book = replica.state.application(named: OrderBook.name) as? OrderBookState else { return }
        var position = [OperationID: Int]()
        for (index, id) in replica.appliedOrder.enumerated() { position[id] = index }
        func operation(_ id: OperationID) -> OrderBook.Operation? { replica.operation(id)?.payload.orderBookOperation }
        var reported = 0
        func report(_ invariant: Invariant, _ ops: [OperationID], _ detail: String) {
            guard reported < Self.reportsPerNodeMax else { return }
            reported += 1
            monitor.report(invariant, at: time, nodes: [node], operations: ops, detail)
        }
        // Cancels that took effect, by the order they cancel.
        var cancelledAt = [OperationID: Int]()
        for id in replica.appliedOrder where replica.ledgerRejection(of: id) == nil {
            if case let .cancel(order) = operation(id) { cancelledAt[order] = position[id] }
        }
        var filledLots = [OperationID: Amount]()
        for fill in book.fills {
            guard let market = config.market(fill.market), let buy = operation(fill.buy), let sell = operation(fill.sell) else {
                report(.orderBookFills, [fill.buy, fill.sell], "a fill names an order that is not an accepted order-book operation")
                continue
            }
            let (buyLimit, buyLots, buyExpiry) = Self.terms(buy, market)
            let (sellLimit, sellLots, sellExpiry) = Self.terms(sell, market)
            if fill.price > buyLimit || fill.price < sellLimit {
                report(.orderBookFills, [fill.buy, fill.sell], "fill at \(fill.price) outside the limits: buy \(buyLimit), sell \(sellLimit)")
            }
            if fill.round == nil, fill.buyer == fill.seller {
                report(.orderBookFills, [fill.buy, fill.sell], "participant \(fill.buyer) traded with itself in a continuous market (self-trade prevention cancels its resting order)")
            }
            filledLots[fill.buy, default: 0] += fill.lots
            filledLots[fill.sell, default: 0] += fill.lots
            for (order, lots) in [(fill.buy, buyLots), (fill.sell, sellLots)] where filledLots[order]! > lots {
                report(.orderBookFills, [order], "order filled \(filledLots[order]!) lots but holds \(lots)")
            }
            for (order, expiry) in [(fill.buy, buyExpiry), (fill.sell, sellExpiry)] where expiry != 0 && fill.height >= expiry {
                report(.orderBookFills, [order, fill.at], "order expiring at height \(expiry) filled at height \(fill.height)")
            }
            if let at = position[fill.at] {
                for order in [fill.buy, fill.sell] {
                    if let cancel = cancelledAt[order], cancel < at { report(.orderBookFills, [order, fill.at], "order filled by an operation after its cancel in the total order") }
                }
            } else {
                report(.orderBookFills, [fill.at], "a fill made by an operation the replica did not apply")
            }
            let notional = fill.lots * fill.price
            let makerIsBuy = fill.maker == fill.buy
            let buyerFee = Self.fee(notional, makerIsBuy ? market.makerFeeBps : market.takerFeeBps)
            let sellerFee = Self.fee(notional, makerIsBuy ? market.takerFeeBps : market.makerFeeBps)
            if (buyerFee, sellerFee) != (fill.buyerFee, fill.sellerFee) {
                report(.orderBookFills, [fill.buy, fill.sell], "fees \(fill.buyerFee)/\(fill.sellerFee) on notional \(notional); the rule gives \(buyerFee)/\(sellerFee)")
            }
            if let round = fill.round, let clearing = book.clearings.first(where: { $0.market == fill.market && $0.round == round }), clearing.price != fill.price {
                report(.orderBookClearing, [fill.buy, fill.sell], "fill at \(fill.price) in round \(round), which cleared at \(clearing.price)")
            }
        }
        for clearing in book.clearings {
            let best = Self.bruteForceClearing(bids: clearing.bids, asks: clearing.asks, reference: clearing.reference)
            if best?.price != clearing.price || best?.volume != clearing.lots {
                report(.orderBookClearing, [], "market \(clearing.market) round \(clearing.round) cleared \(clearing.lots) at \(clearing.price); brute force gives \(best.map { "\($0.volume) at \($0.price)" } ?? "no trade")")
            }
            let executed = book.fills.filter { $0.market == clearing.market && $0.round == clearing.round }.reduce(Amount(0)) { $0 + $1.lots }
            if executed != clearing.lots { report(.orderBookClearing, [], "round \(clearing.round) of market \(clearing.market) executed \(executed) lots of its \(clearing.lots)") }
        }
        for record in replica.rejections where honest.contains(Int(record.author)) && record.kind == .invalidInCausalPast {
            if case .ledger(.application) = record.reason {
                report(.orderBookFills, [record.id], "honest participant \(record.author)'s order-book operation refused as invalid in its causal past: \(record.reason)")
            }
        }
    }

    /// An order's limit price, lots and expiry, read from its operation.
    static func terms(_ operation: OrderBook.Operation, _ market: Market) -> (limit: Amount, lots: Amount, expiry: UInt64) {
        switch operation {
        case let .place(_, _, price, amount, expiry, _): return (price, amount / market.lotSize, expiry)
        case let .market(_, _, amount, worst): return (worst, amount / market.lotSize, 0)
        case .cancel: return (0, 0, 0)
        }
    }

    /// ceil(notional × bps ÷ 10⁴), in 256 bits.
    static func fee(_ notional: Amount, _ bps: UInt32) -> Amount {
        let product = notional.multipliedFullWidth(by: Amount(bps))
        let (quotient, remainder) = Amount(10_000).dividingFullWidth(product)
        return remainder > 0 ? quotient + 1 : quotient
    }

    /// The clearing rule of docs/apps/orderbook.md by brute force: every limit price, most
    /// volume, then least imbalance, then closest to the reference, then lowest.
    static func bruteForceClearing(bids: [OrderBookState.PriceLevel], asks: [OrderBookState.PriceLevel], reference: Amount?) -> (price: Amount, volume: Amount)? {
        var candidates = [(price: Amount, volume: Amount, imbalance: Amount, distance: Amount)]()
        for price in Set(bids.map(\.price) + asks.map(\.price)) {
            var demand = Amount(0)
            for bid in bids where bid.price >= price { demand += bid.lots }
            var supply = Amount(0)
            for ask in asks where ask.price <= price { supply += ask.lots }
            let volume = min(demand, supply)
            guard volume > 0 else { continue }
            let distance = reference.map { max(price, $0) - min(price, $0) } ?? 0
            candidates.append((price, volume, max(demand, supply) - min(demand, supply), distance))
        }
        let best = candidates.min { a, b in
            if a.volume != b.volume { return a.volume > b.volume }
            if a.imbalance != b.imbalance { return a.imbalance < b.imbalance }
            if a.distance != b.distance { return a.distance < b.distance }
            return a.price < b.price
        }
        return best.map { ($0.price, $0.volume) }
    }
}
