/// The order book (docs/apps/orderbook.md): limit and market orders on markets of a base and
/// a quote token, matched continuously (price–time priority, time = position in the total
/// order) or in frequent batch auctions per round of graph depths (one uniform price).
///
/// Integers throughout. An amount of base is a whole number of lots; a price is quote units
/// per lot, a whole number of ticks; a fill of `n` lots at price `p` moves `n × p` quote, so
/// no fill rounds. Fees are basis points of that notional, rounded up (toward the fee
/// recipient). What an order could spend is held in its owner's account (balance to locked)
/// when it is placed; fills draw on what maker and taker escrowed, never on anyone's balance.
public enum OrderBook: ChannelApplication {
    public static let name = "orderbook"
    /// Kinds: 0x10 place, 0x11 cancel, 0x12 market order.
    public static let kinds: ClosedRange<UInt8> = 0x10...0x12
    /// First byte of every order-book leaf ('O' orders, 'M' markets).
    public static let orderLeafTag: UInt8 = 0x4F
    public static let marketLeafTag: UInt8 = 0x4D

    /// The payload kinds, by wire tag.
    public enum Kind: UInt8, CaseIterable, Sendable {
        case place = 0x10
        case cancel = 0x11
        case market = 0x12
    }

    /// Buy (bid) or sell (ask).
    public enum Side: UInt8, Hashable, Sendable, CaseIterable {
        case buy = 0
        case sell = 1

        public var opposite: Side { self == .buy ? .sell : .buy }
    }

    /// An order-book operation.
    public enum Operation: Hashable, Sendable {
        /// A limit order: `amount` base units (whole lots) at `price` quote per lot (whole
        /// ticks); `expiry` a chain height from which it no longer fills (0: none); post-only
        /// orders never take (refused if they would cross).
        case place(market: UInt32, side: Side, price: Amount, amount: Amount, expiry: UInt64, postOnly: Bool)
        /// Cancels an open order of the author's (the id of the operation that placed it).
        case cancel(order: OperationID)
        /// Takes up to `amount` base units at prices no worse than `worstPrice`; what does not
        /// fill at once is dropped (immediate or cancel).
        case market(market: UInt32, side: Side, amount: Amount, worstPrice: Amount)
    }

    public static func decode(kind byte: UInt8, from reader: inout ByteReader) throws(WireError) -> Operation {
        guard let kind = Kind(rawValue: byte) else { throw .unknownPayloadKind(byte) }
        switch kind {
        case .place:
            let market = try reader.u32(field: "place.market")
            let side = try side(&reader, field: "place.side")
            let price = try reader.amount(field: "place.price")
            let amount = try reader.amount(field: "place.amount")
            let expiry = try reader.u64(field: "place.expiry")
            let flags = try reader.u8(field: "place.flags")
            guard flags <= 1 else { throw .invalidField(field: "place.flags", reason: "only bit 0 (post-only) may be set") }
            return .place(market: market, side: side, price: price, amount: amount, expiry: expiry, postOnly: flags == 1)
        case .cancel:
            return .cancel(order: try reader.digest(field: "cancel.order"))
        case .market:
            let market = try reader.u32(field: "market.market")
            let side = try side(&reader, field: "market.side")
            let amount = try reader.amount(field: "market.amount")
            let worst = try reader.amount(field: "market.worstPrice")
            return .market(market: market, side: side, amount: amount, worstPrice: worst)
        }
    }

    private static func side(_ reader: inout ByteReader, field: String) throws(WireError) -> Side {
        let byte = try reader.u8(field: field)
        guard let side = Side(rawValue: byte) else { throw .invalidField(field: field, reason: "side must be 0 (buy) or 1 (sell)") }
        return side
    }

    public static func payload(_ operation: Operation) -> ApplicationPayload {
        var out = [UInt8]()
        switch operation {
        case let .place(market, side, price, amount, expiry, postOnly):
            out.appendBigEndian(market)
            out.append(side.rawValue)
            out.appendBigEndian(price)
            out.appendBigEndian(amount)
            out.appendBigEndian(expiry)
            out.append(postOnly ? 1 : 0)
            return ApplicationPayload(kind: Kind.place.rawValue, body: out)
        case let .cancel(order):
            order.appendBytes(to: &out)
            return ApplicationPayload(kind: Kind.cancel.rawValue, body: out)
        case let .market(market, side, amount, worst):
            out.appendBigEndian(market)
            out.append(side.rawValue)
            out.appendBigEndian(amount)
            out.appendBigEndian(worst)
            return ApplicationPayload(kind: Kind.market.rawValue, body: out)
        }
    }
}

extension Payload {
    /// An order-book operation as a payload.
    public static func orderBook(_ operation: OrderBook.Operation) -> Payload { .application(OrderBook.payload(operation)) }

    /// The order-book operation this payload carries, if it is one (and canonical).
    public var orderBookOperation: OrderBook.Operation? {
        guard case let .application(payload) = self, OrderBook.kinds.contains(payload.kind) else { return nil }
        return try? OrderBook.operation(of: payload)
    }
}

/// How a market matches.
public enum MatchingRule: Hashable, Sendable {
    /// Price–time priority at each order's place in the total order.
    case continuous
    /// A uniform-price auction per round: operations at graph depths
    /// `[r × roundDepths, (r + 1) × roundDepths)` form round `r`.
    case batch(roundDepths: UInt64)
}

/// One market of the order book.
public struct Market: Hashable, Sendable {
    public let id: UInt32
    public let base: TokenID
    public let quote: TokenID
    /// Prices are whole multiples of `tick` (quote units per lot).
    public let tick: Amount
    /// Amounts are whole multiples of `lotSize` (base units).
    public let lotSize: Amount
    public let matching: MatchingRule
    /// Fees in basis points of the notional (at most `feeBpsMax`), rounded up.
    public let makerFeeBps: UInt32
    public let takerFeeBps: UInt32
    /// Who receives the fees (the fee pool is this participant's account).
    public let feeRecipient: ParticipantIndex

    /// Highest fee (10 %).
    public static let feeBpsMax: UInt32 = 1000
    /// Most rounds of depths a batch round spans.
    public static let roundDepthsMax: UInt64 = 1 << 20

    public init(
        id: UInt32, base: TokenID, quote: TokenID, tick: Amount, lotSize: Amount, matching: MatchingRule,
        makerFeeBps: UInt32, takerFeeBps: UInt32, feeRecipient: ParticipantIndex
    ) {
        precondition(base != quote, "a market trades two distinct tokens")
        precondition(tick >= 1 && tick <= WireLimits.amountMax && lotSize >= 1 && lotSize <= WireLimits.amountMax, "tick and lot in 1...amountMax")
        precondition(makerFeeBps <= Self.feeBpsMax && takerFeeBps <= Self.feeBpsMax, "fees above the limit")
        if case let .batch(depths) = matching { precondition(depths >= 1 && depths <= Self.roundDepthsMax, "round width out of range") }
        self.id = id
        self.base = base
        self.quote = quote
        self.tick = tick
        self.lotSize = lotSize
        self.matching = matching
        self.makerFeeBps = makerFeeBps
        self.takerFeeBps = takerFeeBps
        self.feeRecipient = feeRecipient
    }

    /// The fee on `notional` at `bps`, rounded up (toward the fee recipient).
    public static func fee(_ notional: Amount, bps: UInt32) -> Amount {
        guard bps > 0, notional > 0 else { return 0 }
        let (product, overflow) = notional.multipliedReportingOverflow(by: Amount(bps))
        precondition(!overflow, "notional bounded by amountMax")
        return (product + 9_999) / 10_000
    }

    /// The most fee a buy at `price` per lot may pay per lot: what its escrow holds per lot
    /// beyond the price (ceil(price × max fee ÷ 10⁴) ≥ the fee share of any fill at ≤ price).
    public func feePerLotMax(_ price: Amount) -> Amount { Self.fee(price, bps: max(makerFeeBps, takerFeeBps)) }
}

/// The order book's configuration in a channel: its markets.
public struct OrderBookConfig: ApplicationConfig, Hashable {
    public let markets: [Market]
    public var name: String { OrderBook.name }

    /// Most markets.
    public static let marketsMax = 64

    public init(markets: [Market]) {
        precondition(markets.count <= Self.marketsMax, "too many markets")
        precondition(Set(markets.map(\.id)).count == markets.count, "market ids must be distinct")
        self.markets = markets.sorted { $0.id < $1.id }
    }

    public func makeState() -> any ApplicationState { OrderBookState(config: self) }

    public func market(_ id: UInt32) -> Market? { markets.first { $0.id == id } }
}
