/// Why the order book refused an operation (docs/apps/orderbook.md, "Rejections"). The code
/// and parameters are the `ApplicationRejection`'s, so rejection records carry them.
public enum OrderBookRejection: Hashable, Sendable {
    /// The author's role may not trade (traders and market makers may).
    case notPermitted(role: Role)
    case unknownMarket(UInt32)
    /// The price is not a whole number of ticks.
    case priceOffTick(Amount)
    /// The amount is not a whole number of lots.
    case amountOffLot(Amount)
    /// What the order could spend exceeds `WireLimits.amountMax`.
    case tooLarge
    /// The order's expiry is at or below the chain height it cites.
    case expired(chainHeight: UInt64, expiry: UInt64)
    /// The author's balance cannot cover the escrow.
    case insufficientBalance(token: TokenID, available: Int128, needed: Amount)
    /// A post-only order would cross the book at `bestPrice`.
    case wouldCross(bestPrice: Amount)
    /// The market's side holds `OrderBookState.ordersPerMarketMax` orders.
    case bookFull(limit: Int)
    /// No order with this id was ever placed here.
    case unknownOrder(OperationID)
    /// The order was filled, cancelled or expired before.
    case orderClosed(OperationID)
    /// The order belongs to another participant.
    case orderNotOwned(OperationID)
    /// The payload is not canonical (never reaches a replica that validated it).
    case malformed

    public var code: UInt8 {
        switch self {
        case .notPermitted: return 0x01
        case .unknownMarket: return 0x02
        case .priceOffTick: return 0x03
        case .amountOffLot: return 0x04
        case .tooLarge: return 0x05
        case .expired: return 0x06
        case .insufficientBalance: return 0x07
        case .wouldCross: return 0x08
        case .bookFull: return 0x09
        case .unknownOrder: return 0x0A
        case .orderClosed: return 0x0B
        case .orderNotOwned: return 0x0C
        case .malformed: return 0x0D
        }
    }

    /// Whether the verdict depends on the operations before it (a race) rather than on the
    /// operation, its causal chain time and the configuration alone.
    public var dependsOnState: Bool {
        switch self {
        case .insufficientBalance, .wouldCross, .bookFull, .unknownOrder, .orderClosed: return true
        case .notPermitted, .unknownMarket, .priceOffTick, .amountOffLot, .tooLarge, .expired, .orderNotOwned, .malformed: return false
        }
    }

    /// Whether the refusal can be evidence. Void (never): a condition of the order's own
    /// (post-only, expiry), a cancel of an order that is gone, a full book: refused, harming
    /// nobody. Slashable: trading without the role, spending more than the author holds,
    /// touching another's order, orders the market's terms forbid.
    public var slashable: Bool {
        switch self {
        case .wouldCross, .expired, .bookFull, .unknownOrder, .orderClosed: return false
        case .notPermitted, .unknownMarket, .priceOffTick, .amountOffLot, .tooLarge, .insufficientBalance, .orderNotOwned, .malformed: return true
        }
    }

    /// The canonical parameter bytes.
    public var parameters: [UInt8] {
        var out = [UInt8]()
        switch self {
        case let .notPermitted(role): out.append(role.code)
        case let .unknownMarket(market): out.appendBigEndian(market)
        case let .priceOffTick(price): out.appendBigEndian(price)
        case let .amountOffLot(amount): out.appendBigEndian(amount)
        case .tooLarge, .malformed: break
        case let .expired(height, expiry):
            out.appendBigEndian(height)
            out.appendBigEndian(expiry)
        case let .insufficientBalance(token, available, needed):
            out.appendBigEndian(token)
            out.appendBigEndian(UInt128(bitPattern: available))
            out.appendBigEndian(needed)
        case let .wouldCross(best): out.appendBigEndian(best)
        case let .bookFull(limit): out.appendBigEndian(UInt32(limit))
        case let .unknownOrder(id), let .orderClosed(id), let .orderNotOwned(id): id.appendBytes(to: &out)
        }
        return out
    }

    public var description: String {
        switch self {
        case let .notPermitted(role): return "order book: role \(role.rawValue) may not trade"
        case let .unknownMarket(market): return "order book: unknown market \(market)"
        case let .priceOffTick(price): return "order book: price \(price) is not a whole number of ticks"
        case let .amountOffLot(amount): return "order book: amount \(amount) is not a whole number of lots"
        case .tooLarge: return "order book: the order could spend more than an amount may be"
        case let .expired(height, expiry): return "order book: expiry \(expiry) at or below chain height \(height)"
        case let .insufficientBalance(token, available, needed): return "order book: token \(token) balance \(available) < escrow \(needed)"
        case let .wouldCross(best): return "order book: post-only order would cross at \(best)"
        case let .bookFull(limit): return "order book: the market side holds \(limit) orders"
        case let .unknownOrder(id): return "order book: unknown order \(id.short)"
        case let .orderClosed(id): return "order book: order \(id.short) already closed"
        case let .orderNotOwned(id): return "order book: order \(id.short) not the author's"
        case .malformed: return "order book: malformed payload"
        }
    }

    /// As an application rejection of payload `kind`.
    public func rejection(kind: UInt8) -> ApplicationRejection {
        ApplicationRejection(kind: kind, code: code, parameters: parameters, dependsOnState: dependsOnState, slashable: slashable, description: description)
    }
}
