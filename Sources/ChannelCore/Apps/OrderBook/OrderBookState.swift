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

    public internal(set) var orders: [OperationID: Order] = [:]
    /// Ids of orders that were open once and are not any more.
    public internal(set) var closed: Set<OperationID> = []
    /// Per market, resting order ids in priority order: bids by price descending, asks by price
    /// ascending, then arrival.
    var bids: [UInt32: [OperationID]] = [:]
    var asks: [UInt32: [OperationID]] = [:]
    var pending: [UInt32: PendingRound] = [:]
    public internal(set) var fills: [Fill] = []
    public internal(set) var clearings: [Clearing] = []
    var nextArrival: UInt64 = 0
    var ordersMix: UInt128 = 0

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
    var undo: [Undo]? = []
    /// Planted bugs of the operation being applied (tests and the lab only).
    var bugs: PlantedBugs = []

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

    mutating func place(
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

    mutating func cancel(_ op: SignedOperation, _ id: OperationID, context: ApplyContext, accounts: inout ApplicationAccounts) -> OrderBookRejection? {
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
    mutating func match(_ taker: OperationID, market: Market, height: UInt64, accounts: inout ApplicationAccounts) {
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
    mutating func fill(
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
}
