/// The order book's state in one replica: open orders, each market's book in priority order,
/// the batch round waiting to clear, and the fills and clearings so far. Applies order-book
/// operations at their place in the total order (docs/apps/orderbook.md, "Rules").
public struct OrderBookState: ApplicationState {
    public let config: OrderBookConfig

    /// An order that is open: resting in its market's book, or waiting for its batch round.
    public struct Order: Hashable, Sendable {
        public let id: OperationID
        public let owner: ParticipantIndex
        public let market: UInt32
        public let side: OrderBook.Side
        /// Limit price, quote per lot (for a market order: its worst price).
        public let price: Amount
        /// Lots not filled yet.
        public internal(set) var lots: Amount
        /// What the owner's account still holds for it: quote for a buy, base for a sell.
        public internal(set) var escrow: Amount
        /// Position among the market's placements (time priority).
        public let arrival: UInt64
        /// Chain height from which it no longer fills (0: none).
        public let expiry: UInt64
        public let postOnly: Bool
        /// Immediate or cancel (a market order): never rests.
        public let immediate: Bool
        /// Batch markets: the round it was placed in (0 in continuous markets).
        public let round: UInt64
        /// Batch markets: waiting for its round's auction (not in the book yet).
        public internal(set) var waiting: Bool

        func expired(at height: UInt64) -> Bool { expiry != 0 && height >= expiry }
    }

    /// One fill: `lots` of the market at `price` between a buy and a sell order.
    public struct Fill: Hashable, Sendable {
        public let market: UInt32
        public let buy: OperationID
        public let sell: OperationID
        public let buyer: ParticipantIndex
        public let seller: ParticipantIndex
        public let price: Amount
        public let lots: Amount
        public let buyerFee: Amount
        public let sellerFee: Amount
        /// The maker: the order that rested first (the earlier arrival).
        public let maker: OperationID
        /// Batch markets: the round whose auction made it; `nil` for a continuous match.
        public let round: UInt64?
        /// The operation whose application made it (the taker, or the one that ended the round).
        public let at: OperationID
        /// The chain height expiries were judged at (the taker's, or the round's greatest).
        public let height: UInt64
    }

    /// One batch auction: the uniform price and the lots it executed.
    public struct Clearing: Hashable, Sendable {
        public let market: UInt32
        public let round: UInt64
        public let price: Amount
        public let lots: Amount
        /// What the auction saw: every participating bid and ask as (limit price, lots), and
        /// the reference price (the market's previous clearing price), so a checker can
        /// recompute the price independently.
        public let bids: [PriceLevel]
        public let asks: [PriceLevel]
        public let reference: Amount?
    }

    /// A limit price and a number of lots.
    public struct PriceLevel: Hashable, Sendable {
        public let price: Amount
        public let lots: Amount
    }

    /// A batch market's round waiting to clear.
    struct PendingRound: Hashable, Sendable {
        var round: UInt64
        /// Every order-book operation id of the round in this market (the tie-break seed).
        var operations: [OperationID]
        /// The greatest chain height the round's operations cite (expiries are judged at it).
        var chainHeight: UInt64
    }

    /// Most open orders on one side of one market.
    public static let ordersPerMarketMax = 4096
    /// Most resting orders one taker fills before the rest of it is dropped or rests.
    public static let fillsPerOperationMax = 64
    /// Most operations one batch round of one market takes (the rest are refused as book full).
    public static let roundOperationsMax = 4096

    public private(set) var orders: [OperationID: Order] = [:]
    /// Ids of orders that were open once and are not any more.
    public private(set) var closed: Set<OperationID> = []
    /// Per market, resting order ids in priority order: bids by price descending, asks by price
    /// ascending, then arrival.
    private(set) var bids: [UInt32: [OperationID]] = [:]
    private(set) var asks: [UInt32: [OperationID]] = [:]
    private(set) var pending: [UInt32: PendingRound] = [:]
    public private(set) var fills: [Fill] = []
    public private(set) var clearings: [Clearing] = []
    private(set) var nextArrival: UInt64 = 0
    private var ordersMix: UInt128 = 0

    enum Undo: Sendable {
        case order(OperationID, Order?)
        case closed(OperationID)
        case bookInsert(UInt32, OrderBook.Side, Int)
        case bookRemove(UInt32, OrderBook.Side, Int, OperationID)
        case pending(UInt32, PendingRound?)
        case fill
        case clearing
        case arrival
    }
    private var undo: [Undo]? = []
    /// Planted bugs of the operation being applied (tests and the lab only).
    private var bugs: PlantedBugs = []

    public init(config: OrderBookConfig) { self.config = config }

    public var name: String { OrderBook.name }
    public var kinds: ClosedRange<UInt8> { OrderBook.kinds }
    public var undoRecords: Int { undo?.count ?? 0 }
    public mutating func setJournaling(_ on: Bool) { undo = on ? (undo ?? []) : nil }
    public func empty() -> any ApplicationState {
        var state = OrderBookState(config: config)
        state.undo = undo == nil ? nil : []
        return state
    }

    /// The resting orders of `market` on `side`, best first.
    public func book(_ market: UInt32, _ side: OrderBook.Side) -> [Order] {
        (side == .buy ? bids[market] : asks[market])?.map { orders[$0]! } ?? []
    }

    // MARK: Apply

    public mutating func apply(
        _ op: SignedOperation, _ payload: ApplicationPayload, context: ApplyContext, config channel: ChannelConfig,
        accounts: inout ApplicationAccounts, bugs: PlantedBugs
    ) -> ApplicationRejection? {
        self.bugs = bugs
        guard let operation = try? OrderBook.operation(of: payload) else { return OrderBookRejection.malformed.rejection(kind: payload.kind) }
        let role = channel.participant(op.author)!.role
        guard role == .trader || role == .marketMaker else { return OrderBookRejection.notPermitted(role: role).rejection(kind: payload.kind) }
        let refusal: OrderBookRejection?
        switch operation {
        case let .place(market, side, price, amount, expiry, postOnly):
            refusal = place(
                op, market: market, side: side, price: price, amount: amount, expiry: expiry, postOnly: postOnly, immediate: false,
                context: context, accounts: &accounts)
        case let .market(market, side, amount, worst):
            refusal = place(
                op, market: market, side: side, price: worst, amount: amount, expiry: 0, postOnly: false, immediate: true,
                context: context, accounts: &accounts)
        case let .cancel(id):
            refusal = cancel(op, id, context: context, accounts: &accounts)
        }
        return refusal?.rejection(kind: payload.kind)
    }

    private mutating func place(
        _ op: SignedOperation, market id: UInt32, side: OrderBook.Side, price: Amount, amount: Amount, expiry: UInt64, postOnly: Bool,
        immediate: Bool, context: ApplyContext, accounts: inout ApplicationAccounts
    ) -> OrderBookRejection? {
        guard let market = config.market(id) else { return .unknownMarket(id) }
        guard price % market.tick == 0 else { return .priceOffTick(price) }
        guard amount % market.lotSize == 0 else { return .amountOffLot(amount) }
        let lots = amount / market.lotSize
        let escrow: Amount
        let token: TokenID
        switch side {
        case .buy:
            let (perLot, o1) = price.addingReportingOverflow(market.feePerLotMax(price))
            let (total, o2) = perLot.multipliedReportingOverflow(by: lots)
            guard !o1, !o2, total <= WireLimits.amountMax else { return .tooLarge }
            escrow = total
            token = market.quote
        case .sell:
            let (notional, overflow) = price.multipliedReportingOverflow(by: lots)
            guard !overflow, notional <= WireLimits.amountMax else { return .tooLarge }
            escrow = amount
            token = market.base
        }
        if expiry != 0, context.chainHeight >= expiry { return .expired(chainHeight: context.chainHeight, expiry: expiry) }
        // Housekeeping that any operation of the market at this place does, refused or not:
        // an earlier batch round clears first.
        let round = roundOf(market, context)
        settleRounds(before: round, market: market, at: op.id, accounts: &accounts)
        let available = accounts.balance(op.author, token)
        guard available >= Int128(escrow) else { return .insufficientBalance(token: token, available: available, needed: escrow) }
        if postOnly {
            let height = context.chainHeight
            let resting = orders
            if let best = book(side.opposite, market.id).lazy.map({ resting[$0]! }).first(where: { !$0.expired(at: height) }),
                Self.crosses(side, price, best.price)
            {
                return .wouldCross(bestPrice: best.price)
            }
        }
        let batch = round != nil
        if (!batch || postOnly), book(side, market.id).count >= Self.ordersPerMarketMax { return .bookFull(limit: Self.ordersPerMarketMax) }
        if batch, !postOnly, (pending[market.id]?.operations.count ?? 0) >= Self.roundOperationsMax { return .bookFull(limit: Self.roundOperationsMax) }

        accounts.hold(token, escrow)
        let order = Order(
            id: op.id, owner: op.author, market: market.id, side: side, price: price, lots: lots, escrow: escrow, arrival: nextArrival,
            expiry: expiry, postOnly: postOnly, immediate: immediate, round: round ?? 0, waiting: batch && !postOnly)
        nextArrival += 1
        undo?.append(.arrival)
        setOrder(op.id, order)
        if let round {
            note(op.id, round: round, market: market.id, height: context.chainHeight)
            if postOnly { rest(op.id) }
            return nil
        }
        if !postOnly { match(op.id, market: market, height: context.chainHeight, accounts: &accounts) }
        guard let left = orders[op.id] else { return nil }
        if left.lots == 0 || left.immediate {
            close(op.id, accounts: &accounts)
        } else {
            rest(op.id)
        }
        return nil
    }

    private mutating func cancel(_ op: SignedOperation, _ id: OperationID, context: ApplyContext, accounts: inout ApplicationAccounts) -> OrderBookRejection? {
        // Housekeeping first (as for a placement): the market's earlier round clears.
        if let order = orders[id], let market = config.market(order.market) {
            settleRounds(before: roundOf(market, context), market: market, at: op.id, accounts: &accounts)
        }
        guard let order = orders[id] else { return closed.contains(id) ? .orderClosed(id) : .unknownOrder(id) }
        guard order.owner == op.author else { return .orderNotOwned(id) }
        if let market = config.market(order.market), let round = roundOf(market, context) {
            note(op.id, round: round, market: market.id, height: context.chainHeight)
        }
        if !order.waiting { unrest(id) }
        if bugs.contains(.orderBookCancelKeepsEscrow) {
            var kept = order
            kept.escrow = 0
            setOrder(id, kept)
        }
        close(id, accounts: &accounts)
        return nil
    }

    // MARK: Continuous matching

    static func crosses(_ side: OrderBook.Side, _ price: Amount, _ restingPrice: Amount) -> Bool {
        side == .buy ? restingPrice <= price : restingPrice >= price
    }

    /// Matches the taker against the opposite side, best price first, then arrival; each fill
    /// at the resting order's price. Expired resting orders met on the way are closed, and a
    /// resting order of the taker's own owner is cancelled (self-trade prevention).
    private mutating func match(_ taker: OperationID, market: Market, height: UInt64, accounts: inout ApplicationAccounts) {
        var filled = 0
        while filled < Self.fillsPerOperationMax, let order = orders[taker], order.lots > 0,
            let top = book(order.side.opposite, market.id).first, let maker = orders[top]
        {
            if maker.expired(at: height) || (maker.owner == order.owner && !bugs.contains(.orderBookSelfTrade)) {
                unrest(top)
                close(top, accounts: &accounts)
                continue
            }
            guard Self.crosses(order.side, order.price, maker.price) || (bugs.contains(.orderBookIgnoreLimit) && order.side == .sell) else { break }
            let lots = bugs.contains(.orderBookFillBeyondRemaining) && order.lots > maker.lots ? maker.lots + 1 : min(order.lots, maker.lots)
            fill(
                buy: order.side == .buy ? taker : top, sell: order.side == .buy ? top : taker, lots: lots, price: maker.price, maker: top, round: nil,
                at: taker, height: height, market: market, accounts: &accounts)
            filled += 1
            if orders[top]!.lots == 0 {
                unrest(top)
                close(top, accounts: &accounts)
            }
        }
    }

    /// Moves one fill's value: the buyer's escrow pays the notional and its fee, the seller's
    /// escrow pays the base; the seller receives the notional less its fee, the fee recipient
    /// both fees. Maker fee for the maker, taker fee for the other.
    private mutating func fill(
        buy: OperationID, sell: OperationID, lots: Amount, price: Amount, maker: OperationID, round: UInt64?, at: OperationID, height: UInt64,
        market: Market, accounts: inout ApplicationAccounts
    ) {
        precondition(lots >= 1)
        var buyer = orders[buy]!
        var seller = orders[sell]!
        precondition(bugs.contains(.orderBookFillBeyondRemaining) || (lots <= buyer.lots && lots <= seller.lots), "a fill beyond an order's remaining lots")
        let notional = lots * price
        let buyerFee = Market.fee(notional, bps: buy == maker ? market.makerFeeBps : market.takerFeeBps)
        let sellerFee = Market.fee(notional, bps: sell == maker ? market.makerFeeBps : market.takerFeeBps)
        let base = lots * market.lotSize
        precondition(!bugs.isEmpty || (buyer.escrow >= notional + buyerFee && seller.escrow >= base), "escrow covers every fill")
        accounts.payHeld(from: buyer.owner, to: seller.owner, market.quote, notional - sellerFee)
        if buyerFee + sellerFee > 0 { accounts.payHeld(from: buyer.owner, to: market.feeRecipient, market.quote, buyerFee + sellerFee) }
        accounts.payHeld(from: seller.owner, to: buyer.owner, market.base, base)
        // Saturating only under a planted bug (which can fill beyond what an order holds).
        buyer.lots -= min(lots, buyer.lots)
        buyer.escrow -= min(notional + buyerFee, buyer.escrow)
        seller.lots -= min(lots, seller.lots)
        seller.escrow -= min(base, seller.escrow)
        // A buy that filled below its limit (or paid less fee than its escrow allows for) gets
        // the difference back at once: a buy's escrow is always its remaining lots × (limit +
        // the most fee per lot).
        let needed = buyer.lots * (buyer.price + market.feePerLotMax(buyer.price))
        if buyer.escrow > needed {
            accounts.release(buyer.owner, market.quote, buyer.escrow - needed)
            buyer.escrow = needed
        }
        setOrder(buy, buyer)
        setOrder(sell, seller)
        fills.append(
            Fill(
                market: market.id, buy: buy, sell: sell, buyer: buyer.owner, seller: seller.owner, price: price, lots: lots,
                buyerFee: buyerFee, sellerFee: sellerFee, maker: maker, round: round, at: at, height: height))
        undo?.append(.fill)
    }

    // MARK: Batch auctions

    /// The batch round of an operation of `market` at its depth; `nil` in a continuous market.
    private func roundOf(_ market: Market, _ context: ApplyContext) -> UInt64? {
        guard case let .batch(width) = market.matching else { return nil }
        return context.depth / width
    }

    private mutating func note(_ id: OperationID, round: UInt64, market: UInt32, height: UInt64) {
        let old = pending[market]
        var round = old.flatMap { $0.round == round ? $0 : nil } ?? PendingRound(round: round, operations: [], chainHeight: 0)
        round.operations.append(id)
        round.chainHeight = max(round.chainHeight, height)
        undo?.append(.pending(market, old))
        pending[market] = round
    }

    /// Clears the market's waiting round if it is earlier than `round` (`nil`: none pending).
    private mutating func settleRounds(before round: UInt64?, market: Market, at trigger: OperationID, accounts: inout ApplicationAccounts) {
        guard let round, let waiting = pending[market.id], waiting.round < round else { return }
        undo?.append(.pending(market.id, waiting))
        pending[market.id] = nil
        clear(waiting, market: market, at: trigger, accounts: &accounts)
    }

    /// The uniform-price auction of one round (docs/apps/orderbook.md, "Batch auctions").
    private mutating func clear(_ round: PendingRound, market: Market, at trigger: OperationID, accounts: inout ApplicationAccounts) {
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

    // MARK: Book and order storage

    private func book(_ side: OrderBook.Side, _ market: UInt32) -> [OperationID] {
        (side == .buy ? bids[market] : asks[market]) ?? []
    }

    /// Inserts a resting order at its priority position.
    private mutating func rest(_ id: OperationID) {
        let order = orders[id]!
        let list = book(order.side, order.market)
        var low = 0
        var high = list.count
        while low < high {
            let mid = (low + high) / 2
            if Self.priority(orders[list[mid]]!, order) { low = mid + 1 } else { high = mid }
        }
        insert(id, at: low, order.side, order.market)
        undo?.append(.bookInsert(order.market, order.side, low))
    }

    private mutating func unrest(_ id: OperationID) {
        let order = orders[id]!
        let index = book(order.side, order.market).firstIndex(of: id)!
        remove(at: index, order.side, order.market)
        undo?.append(.bookRemove(order.market, order.side, index, id))
    }

    /// Edits a book side in place (no copy of the array).
    private mutating func insert(_ id: OperationID, at index: Int, _ side: OrderBook.Side, _ market: UInt32) {
        if side == .buy { bids[market, default: []].insert(id, at: index) } else { asks[market, default: []].insert(id, at: index) }
    }

    private mutating func remove(at index: Int, _ side: OrderBook.Side, _ market: UInt32) {
        if side == .buy {
            bids[market]!.remove(at: index)
            if bids[market]!.isEmpty { bids[market] = nil }
        } else {
            asks[market]!.remove(at: index)
            if asks[market]!.isEmpty { asks[market] = nil }
        }
    }

    /// Closes an order (filled, cancelled, expired or dropped): its escrow goes back.
    private mutating func close(_ id: OperationID, accounts: inout ApplicationAccounts) {
        let order = orders[id]!
        if order.escrow > 0 {
            let market = config.market(order.market)!
            accounts.release(order.owner, order.side == .buy ? market.quote : market.base, order.escrow)
        }
        setOrder(id, nil)
        closed.insert(id)
        undo?.append(.closed(id))
    }

    private mutating func setOrder(_ id: OperationID, _ new: Order?) {
        let old = orders[id]
        undo?.append(.order(id, old))
        if let old { ordersMix &-= Self.mix(old) }
        orders[id] = new
        if let new { ordersMix &+= Self.mix(new) }
    }

    // MARK: Undo

    public mutating func undoLast() {
        guard let record = undo?.popLast() else { preconditionFailure("nothing to undo") }
        switch record {
        case let .order(id, old):
            if let current = orders[id] { ordersMix &-= Self.mix(current) }
            orders[id] = old
            if let old { ordersMix &+= Self.mix(old) }
        case let .closed(id): closed.remove(id)
        case let .bookInsert(market, side, index): remove(at: index, side, market)
        case let .bookRemove(market, side, index, id): insert(id, at: index, side, market)
        case let .pending(market, old): pending[market] = old
        case .fill: fills.removeLast()
        case .clearing: clearings.removeLast()
        case .arrival: nextArrival -= 1
        }
    }

    public mutating func forgetOldest(_ count: Int) {
        guard undo != nil else { return }
        precondition(count <= undo!.count)
        undo!.removeFirst(count)
    }

    // MARK: Commitment

    public func stateLeaves() -> [[UInt8]] {
        var leaves = [[UInt8]]()
        for id in orders.keys.sorted() {
            let order = orders[id]!
            var leaf: [UInt8] = [OrderBook.orderLeafTag]
            id.appendBytes(to: &leaf)
            leaf.appendBigEndian(order.owner)
            leaf.appendBigEndian(order.market)
            leaf.append(order.side.rawValue)
            leaf.appendBigEndian(order.price)
            leaf.appendBigEndian(order.lots)
            leaf.appendBigEndian(order.escrow)
            leaf.appendBigEndian(order.arrival)
            leaf.appendBigEndian(order.expiry)
            leaf.append((order.postOnly ? 1 : 0) | (order.immediate ? 2 : 0) | (order.waiting ? 4 : 0))
            leaf.appendBigEndian(order.round)
            leaves.append(leaf)
        }
        for market in config.markets {
            let marketFills = fills.lazy.filter { $0.market == market.id }
            let count = UInt64(marketFills.count)
            let round = pending[market.id]
            guard count > 0 || round != nil else { continue }
            var leaf: [UInt8] = [OrderBook.marketLeafTag]
            leaf.appendBigEndian(market.id)
            leaf.appendBigEndian(count)
            leaf.appendBigEndian(marketFills.reduce(Amount(0)) { $0 + $1.lots })
            leaf.appendBigEndian(round?.round ?? 0)
            leaf.appendBigEndian(UInt32(round?.operations.count ?? 0))
            leaves.append(leaf)
        }
        return leaves
    }

    /// Escrow still held per account, from the open orders.
    public func escrowed() -> [AccountKey: Amount] {
        var out = [AccountKey: Amount]()
        for order in orders.values where order.escrow > 0 {
            let market = config.market(order.market)!
            out[AccountKey(participant: order.owner, token: order.side == .buy ? market.quote : market.base), default: 0] += order.escrow
        }
        return out
    }

    /// The order book holds no pooled value: escrows stay in the owners' accounts (locked).
    public func pooled() -> [TokenID: Int128] { [:] }

    public var fingerprint: UInt128 {
        var mix = Mix128(tag: 0x4F)
        mix.add(UInt64(fills.count))
        mix.add(UInt64(clearings.count))
        mix.add(nextArrival)
        return ordersMix &+ mix.value
    }

    static func mix(_ order: Order) -> UInt128 {
        var mix = Mix128(tag: 0x6F)
        mix.add(order.id.w0)
        mix.add(order.id.w1)
        mix.add(order.id.w2)
        mix.add(order.id.w3)
        mix.addWide(Int128(order.lots))
        mix.addWide(Int128(order.escrow))
        mix.add(order.waiting ? 1 : 0)
        return mix.value
    }
}
