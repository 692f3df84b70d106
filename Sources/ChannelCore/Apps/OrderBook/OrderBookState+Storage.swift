/// The book sides, order storage, undo records and the commitment.
extension OrderBookState {
    // MARK: Book and order storage

    func book(_ side: OrderBook.Side, _ market: UInt32) -> [OperationID] {
        (side == .buy ? bids[market] : asks[market]) ?? []
    }

    /// Inserts a resting order at its priority position.
    mutating func rest(_ id: OperationID) {
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

    mutating func unrest(_ id: OperationID) {
        let order = orders[id]!
        let index = book(order.side, order.market).firstIndex(of: id)!
        remove(at: index, order.side, order.market)
        undo?.append(.bookRemove(order.market, order.side, index, id))
    }

    /// Edits a book side in place (no copy of the array).
    mutating func insert(_ id: OperationID, at index: Int, _ side: OrderBook.Side, _ market: UInt32) {
        if side == .buy { bids[market, default: []].insert(id, at: index) } else { asks[market, default: []].insert(id, at: index) }
    }

    mutating func remove(at index: Int, _ side: OrderBook.Side, _ market: UInt32) {
        if side == .buy {
            bids[market]!.remove(at: index)
            if bids[market]!.isEmpty { bids[market] = nil }
        } else {
            asks[market]!.remove(at: index)
            if asks[market]!.isEmpty { asks[market] = nil }
        }
    }

    /// Closes an order (filled, cancelled, expired or dropped): its escrow goes back.
    mutating func close(_ id: OperationID, accounts: inout ApplicationAccounts) {
        let order = orders[id]!
        if order.escrow > 0 {
            let market = config.market(order.market)!
            accounts.release(order.owner, order.side == .buy ? market.quote : market.base, order.escrow)
        }
        setOrder(id, nil)
        closed.insert(id)
        undo?.append(.closed(id))
    }

    mutating func setOrder(_ id: OperationID, _ new: Order?) {
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
