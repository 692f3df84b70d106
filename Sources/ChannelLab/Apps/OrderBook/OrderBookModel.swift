import ChannelCore

/// An independent model of the order book, written from docs/apps/orderbook.md ("Rules",
/// "Rejections", "State leaves") and not from the system's code: it decodes bodies itself,
/// keeps its own book (a dictionary of orders, sorted when needed), matches, clears batch
/// rounds with its own search and allocation, and writes its own leaves and refusal bytes. The
/// ledger model runs it beside the ledger's rules, so that channels with the order book get
/// their leaves, state root and every refusal (with its class) judged like payment channels.
struct OrderBookModel: ApplicationModel {
    struct Spec {
        let id: UInt32
        let base: UInt32
        let quote: UInt32
        let tick: UInt128
        let lot: UInt128
        /// Depths per round; `nil`: continuous.
        let roundDepths: UInt64?
        let makerBps: UInt128
        let takerBps: UInt128
        let feeRecipient: UInt32
    }

    struct Order {
        let id: OperationID
        let owner: UInt32
        let market: UInt32
        /// 0 buy, 1 sell (the wire's side byte).
        let side: UInt8
        let price: UInt128
        var lots: UInt128
        var escrow: UInt128
        let arrival: UInt64
        let expiry: UInt64
        let postOnly: Bool
        let immediate: Bool
        var waiting: Bool
        let round: UInt64
    }

    struct Waiting {
        var round: UInt64
        var operations: [OperationID]
        var height: UInt64
    }

    let kinds: ClosedRange<UInt8> = 0x10...0x12
    let specs: [UInt32: Spec]
    var orders: [OperationID: Order] = [:]
    var closed: Set<OperationID> = []
    var nextArrival: UInt64 = 0
    var fillCounts: [UInt32: (fills: UInt64, lots: UInt128)] = [:]
    var waiting: [UInt32: Waiting] = [:]
    var lastPrice: [UInt32: UInt128] = [:]

    /// The docs' limits: amounts below 2^96, 64 fills per operation, 4096 orders per side and
    /// operations per round.
    static let amountMax: UInt128 = (1 << 96) - 1
    static let fillsMax = 64
    static let sideOrdersMax = 4096
    static let roundOperationsMax = 4096

    init(config: OrderBookConfig) {
        var specs = [UInt32: Spec]()
        for m in config.markets {
            let depths: UInt64?
            switch m.matching {
            case .continuous: depths = nil
            case let .batch(width): depths = width
            }
            specs[m.id] = Spec(
                id: m.id, base: m.base, quote: m.quote, tick: m.tick, lot: m.lotSize, roundDepths: depths, makerBps: UInt128(m.makerFeeBps),
                takerBps: UInt128(m.takerFeeBps), feeRecipient: m.feeRecipient)
        }
        self.specs = specs
    }

    // MARK: Arithmetic and accounts (docs/apps/README.md, "Applying")

    /// ceil(x × bps ÷ 10⁴); 0 when either is 0.
    static func fee(_ x: UInt128, _ bps: UInt128) -> UInt128 { x == 0 || bps == 0 ? 0 : (x * bps + 9999) / 10000 }
    static func feePerLot(_ spec: Spec, _ price: UInt128) -> UInt128 { fee(price, max(spec.makerBps, spec.takerBps)) }

    typealias Accounts = [LedgerModel.AccountID: LedgerModel.AccountState]

    static func touch(_ accounts: inout Accounts, _ p: UInt32, _ t: UInt32, balance: Int128 = 0, locked: Int128 = 0) {
        let key = LedgerModel.AccountID(participant: p, token: t)
        var account = accounts[key] ?? LedgerModel.AccountState()
        account.balance += balance
        account.locked += locked
        accounts[key] = account
    }

    func escrowToken(_ o: Order) -> UInt32 { o.side == 0 ? specs[o.market]!.quote : specs[o.market]!.base }

    mutating func close(_ id: OperationID, _ accounts: inout Accounts) {
        let o = orders.removeValue(forKey: id)!
        if o.escrow > 0 { Self.touch(&accounts, o.owner, escrowToken(o), balance: Int128(o.escrow), locked: -Int128(o.escrow)) }
        closed.insert(id)
    }

    func expired(_ o: Order, _ height: UInt64) -> Bool { o.expiry != 0 && height >= o.expiry }

    /// Resting (not waiting) orders of a side, best first: price, then arrival.
    func book(_ market: UInt32, _ side: UInt8) -> [Order] {
        orders.values.filter { $0.market == market && $0.side == side && !$0.waiting }.sorted { a, b in
            a.price != b.price ? (side == 0 ? a.price > b.price : a.price < b.price) : a.arrival < b.arrival
        }
    }

    static func crosses(_ side: UInt8, _ limit: UInt128, _ other: UInt128) -> Bool { side == 0 ? other <= limit : other >= limit }

    // MARK: Refusals (docs/apps/orderbook.md, "Rejections")

    static func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { LedgerModel.be(v) }

    /// The record's reason bytes: `0x1E ‖ kind ‖ code ‖ length ‖ parameters`.
    static func refusal(_ kind: UInt8, _ code: UInt8, _ parameters: [UInt8] = [], state: Bool, slashable: Bool) -> LedgerModel.Refusal {
        LedgerModel.Refusal(reasonBytes: [0x1E, kind, code, UInt8(parameters.count)] + parameters, dependsOnState: state, void: !slashable)
    }

    // MARK: Applying

    mutating func apply(
        _ op: SignedOperation, _ payload: ApplicationPayload, chainHeight: UInt64, depth: UInt64, role: Role, accounts: inout Accounts
    ) -> LedgerModel.Refusal? {
        let kind = payload.kind
        guard let body = Self.decode(kind, payload.body) else { return Self.refusal(kind, 0x0D, state: false, slashable: true) }
        guard role == .trader || role == .marketMaker else {
            return Self.refusal(kind, 0x01, [LedgerModel.roleCode(role)], state: false, slashable: true)
        }
        switch body {
        case let .cancel(id): return cancel(op, id, kind: kind, chainHeight: chainHeight, depth: depth, accounts: &accounts)
        case let .place(market, side, price, amount, expiry, postOnly, immediate):
            return place(
                op, kind: kind, market: market, side: side, price: price, amount: amount, expiry: expiry, postOnly: postOnly, immediate: immediate,
                chainHeight: chainHeight, depth: depth, accounts: &accounts)
        }
    }

    enum Body {
        case place(market: UInt32, side: UInt8, price: UInt128, amount: UInt128, expiry: UInt64, postOnly: Bool, immediate: Bool)
        case cancel(OperationID)
    }

    /// The canonical bodies (docs/apps/orderbook.md, "Wire format"), read byte by byte.
    static func decode(_ kind: UInt8, _ b: [UInt8]) -> Body? {
        func int<T: FixedWidthInteger>(_ at: Int, _ type: T.Type) -> T {
            b[at..<(at + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
        }
        switch kind {
        case 0x10:
            guard b.count == 46, b[4] <= 1, b[45] <= 1 else { return nil }
            let price = int(5, UInt128.self)
            let amount = int(21, UInt128.self)
            guard (1...amountMax).contains(price), (1...amountMax).contains(amount) else { return nil }
            return .place(market: int(0, UInt32.self), side: b[4], price: price, amount: amount, expiry: int(37, UInt64.self), postOnly: b[45] == 1, immediate: false)
        case 0x11:
            guard b.count == 32 else { return nil }
            return .cancel(Digest32(bytes: b))
        case 0x12:
            guard b.count == 37, b[4] <= 1 else { return nil }
            let amount = int(5, UInt128.self)
            let worst = int(21, UInt128.self)
            guard (1...amountMax).contains(amount), (1...amountMax).contains(worst) else { return nil }
            return .place(market: int(0, UInt32.self), side: b[4], price: worst, amount: amount, expiry: 0, postOnly: false, immediate: true)
        default:
            return nil
        }
    }

    mutating func place(
        _ op: SignedOperation, kind: UInt8, market: UInt32, side: UInt8, price: UInt128, amount: UInt128, expiry: UInt64, postOnly: Bool,
        immediate: Bool, chainHeight: UInt64, depth: UInt64, accounts: inout Accounts
    ) -> LedgerModel.Refusal? {
        // 1. market, tick, lot
        guard let spec = specs[market] else { return Self.refusal(kind, 0x02, Self.be(market), state: false, slashable: true) }
        guard price % spec.tick == 0 else { return Self.refusal(kind, 0x03, Self.be(price), state: false, slashable: true) }
        guard amount % spec.lot == 0 else { return Self.refusal(kind, 0x04, Self.be(amount), state: false, slashable: true) }
        let lots = amount / spec.lot
        // 2. the escrow fits
        let escrow: UInt128
        let token: UInt32
        if side == 0 {
            let perLot = price + Self.feePerLot(spec, price)
            let (total, overflow) = lots.multipliedReportingOverflow(by: perLot)
            guard !overflow, total <= Self.amountMax else { return Self.refusal(kind, 0x05, state: false, slashable: true) }
            (escrow, token) = (total, spec.quote)
        } else {
            let (notional, overflow) = lots.multipliedReportingOverflow(by: price)
            guard !overflow, notional <= Self.amountMax else { return Self.refusal(kind, 0x05, state: false, slashable: true) }
            (escrow, token) = (amount, spec.base)
        }
        // 3. expiry
        guard expiry == 0 || expiry > chainHeight else {
            return Self.refusal(kind, 0x06, Self.be(chainHeight) + Self.be(expiry), state: false, slashable: false)
        }
        // 4. housekeeping
        let round = spec.roundDepths.map { depth / $0 }
        if let round { clearIfEarlier(than: round, spec, accounts: &accounts) }
        // 5. balance
        let balance = accounts[LedgerModel.AccountID(participant: op.author, token: token)]?.balance ?? 0
        guard balance >= Int128(escrow) else {
            return Self.refusal(kind, 0x07, Self.be(token) + Self.be(UInt128(bitPattern: balance)) + Self.be(escrow), state: true, slashable: true)
        }
        // 6. post-only never crosses the best non-expired resting order of the other side
        if postOnly, let best = book(market, 1 - side).first(where: { !expired($0, chainHeight) }), Self.crosses(side, price, best.price) {
            return Self.refusal(kind, 0x08, Self.be(best.price), state: true, slashable: false)
        }
        // 7. room
        let batchTaker = round != nil && !postOnly
        if !batchTaker, book(market, side).count >= Self.sideOrdersMax {
            return Self.refusal(kind, 0x09, Self.be(UInt32(Self.sideOrdersMax)), state: true, slashable: false)
        }
        if batchTaker, (waiting[market]?.operations.count ?? 0) >= Self.roundOperationsMax {
            return Self.refusal(kind, 0x09, Self.be(UInt32(Self.roundOperationsMax)), state: true, slashable: false)
        }
        Self.touch(&accounts, op.author, token, balance: -Int128(escrow), locked: Int128(escrow))
        orders[op.id] = Order(
            id: op.id, owner: op.author, market: market, side: side, price: price, lots: lots, escrow: escrow, arrival: nextArrival,
            expiry: expiry, postOnly: postOnly, immediate: immediate, waiting: batchTaker, round: round ?? 0)
        nextArrival += 1
        if let round {
            join(round: round, market: market, op.id, height: chainHeight)
            return nil
        }
        if !postOnly { take(op.id, spec, height: chainHeight, accounts: &accounts) }
        if let left = orders[op.id], left.lots == 0 || left.immediate { close(op.id, &accounts) }
        return nil
    }

    mutating func cancel(_ op: SignedOperation, _ id: OperationID, kind: UInt8, chainHeight: UInt64, depth: UInt64, accounts: inout Accounts) -> LedgerModel.Refusal? {
        if let order = orders[id], let spec = specs[order.market], let width = spec.roundDepths {
            clearIfEarlier(than: depth / width, spec, accounts: &accounts)
        }
        guard let order = orders[id] else {
            return Self.refusal(kind, closed.contains(id) ? 0x0B : 0x0A, LedgerModel.bytes(id), state: true, slashable: false)
        }
        guard order.owner == op.author else { return Self.refusal(kind, 0x0C, LedgerModel.bytes(id), state: false, slashable: true) }
        if let width = specs[order.market]!.roundDepths { join(round: depth / width, market: order.market, op.id, height: chainHeight) }
        close(id, &accounts)
        return nil
    }

    mutating func join(round: UInt64, market: UInt32, _ id: OperationID, height: UInt64) {
        var w = waiting[market].flatMap { $0.round == round ? $0 : nil } ?? Waiting(round: round, operations: [], height: 0)
        w.operations.append(id)
        w.height = max(w.height, height)
        waiting[market] = w
    }

    /// Continuous matching of a taker against the other side.
    mutating func take(_ taker: OperationID, _ spec: Spec, height: UInt64, accounts: inout Accounts) {
        var fills = 0
        while fills < Self.fillsMax, let t = orders[taker], t.lots > 0, let r = book(spec.id, 1 - t.side).first {
            if expired(r, height) || r.owner == t.owner {
                close(r.id, &accounts)
                continue
            }
            guard Self.crosses(t.side, t.price, r.price) else { break }
            let n = min(t.lots, r.lots)
            fill(buy: t.side == 0 ? taker : r.id, sell: t.side == 0 ? r.id : taker, lots: n, price: r.price, maker: r.id, spec, accounts: &accounts)
            fills += 1
            if orders[r.id]!.lots == 0 { close(r.id, &accounts) }
        }
    }

    mutating func fill(buy: OperationID, sell: OperationID, lots n: UInt128, price p: UInt128, maker: OperationID, _ spec: Spec, accounts: inout Accounts) {
        var b = orders[buy]!
        var s = orders[sell]!
        let x = n * p
        let fB = Self.fee(x, buy == maker ? spec.makerBps : spec.takerBps)
        let fS = Self.fee(x, sell == maker ? spec.makerBps : spec.takerBps)
        // The buyer's escrow pays the seller the notional less its fee, the fee recipient both
        // fees (no payment for a zero total); the seller's escrow pays the buyer the base.
        Self.touch(&accounts, b.owner, spec.quote, locked: -Int128(x - fS))
        Self.touch(&accounts, s.owner, spec.quote, balance: Int128(x - fS))
        if fB + fS > 0 {
            Self.touch(&accounts, b.owner, spec.quote, locked: -Int128(fB + fS))
            Self.touch(&accounts, spec.feeRecipient, spec.quote, balance: Int128(fB + fS))
        }
        Self.touch(&accounts, s.owner, spec.base, locked: -Int128(n * spec.lot))
        Self.touch(&accounts, b.owner, spec.base, balance: Int128(n * spec.lot))
        b.escrow -= x + fB
        s.escrow -= n * spec.lot
        b.lots -= n
        s.lots -= n
        let target = b.lots * (b.price + Self.feePerLot(spec, b.price))
        if b.escrow > target {
            Self.touch(&accounts, b.owner, spec.quote, balance: Int128(b.escrow - target), locked: -Int128(b.escrow - target))
            b.escrow = target
        }
        orders[buy] = b
        orders[sell] = s
        var count = fillCounts[spec.id] ?? (0, 0)
        count.fills += 1
        count.lots += n
        fillCounts[spec.id] = count
    }

    // MARK: Batch auctions

    mutating func clearIfEarlier(than round: UInt64, _ spec: Spec, accounts: inout Accounts) {
        guard let w = waiting[spec.id], w.round < round else { return }
        waiting[spec.id] = nil
        for o in orders.values where o.market == spec.id && !o.waiting && expired(o, w.height) { close(o.id, &accounts) }
        let all = orders.values.filter { $0.market == spec.id }
        let buys = all.filter { $0.side == 0 }
        let sells = all.filter { $0.side == 1 }
        // The price: most volume, then least imbalance, then closest to the last clearing
        // price, then lowest.
        var best: (key: (UInt128, UInt128, UInt128, UInt128), price: UInt128, volume: UInt128)?
        for p in Set(all.map(\.price)).sorted() {
            let d = buys.filter { $0.price >= p }.reduce(UInt128(0)) { $0 + $1.lots }
            let s = sells.filter { $0.price <= p }.reduce(UInt128(0)) { $0 + $1.lots }
            let v = min(d, s)
            guard v > 0 else { continue }
            let distance = lastPrice[spec.id].map { p > $0 ? p - $0 : $0 - p } ?? 0
            let key = (UInt128.max - v, d > s ? d - s : s - d, distance, p)
            if best == nil || key < best!.key { best = (key, p, v) }
        }
        if let (_, p, v) = best {
            var seedInput = [UInt8]()
            for id in w.operations.sorted(by: LedgerModel.precedes) { seedInput += LedgerModel.bytes(id) }
            let seed = LedgerModel.bytes(LedgerModel.tagged("chanlab/orderbook-round/v1", seedInput))
            let bought = Self.allocate(buys, v, p, better: { $0 > p }, seed: seed)
            let sold = Self.allocate(sells, v, p, better: { $0 < p }, seed: seed)
            var bi = 0
            var si = 0
            var bl = bought
            var sl = sold
            while bi < bl.count, si < sl.count {
                let n = min(bl[bi].lots, sl[si].lots)
                let (b, s) = (orders[bl[bi].id]!, orders[sl[si].id]!)
                fill(buy: b.id, sell: s.id, lots: n, price: p, maker: b.arrival < s.arrival ? b.id : s.id, spec, accounts: &accounts)
                bl[bi].lots -= n
                sl[si].lots -= n
                if bl[bi].lots == 0 { bi += 1 }
                if sl[si].lots == 0 { si += 1 }
            }
            lastPrice[spec.id] = p
        }
        for o in orders.values.filter({ $0.market == spec.id }).sorted(by: { $0.arrival < $1.arrival }) {
            if o.lots == 0 || (o.waiting && o.immediate) {
                close(o.id, &accounts)
            } else if o.waiting {
                orders[o.id]!.waiting = false
            }
        }
    }

    /// One side's allocation of `v` lots at `p`, in priority order (price, then arrival):
    /// strictly better limits and resting orders at `p` first, then the round's own orders at
    /// `p` pro rata, remainders one lot each by `H(seed ‖ id)`.
    static func allocate(_ side: [Order], _ v: UInt128, _ p: UInt128, better: (UInt128) -> Bool, seed: [UInt8]) -> [(id: OperationID, lots: UInt128)] {
        let priority = { (a: Order, b: Order) in a.price != b.price ? (a.side == 0 ? a.price > b.price : a.price < b.price) : a.arrival < b.arrival }
        var given = [OperationID: UInt128]()
        var left = v
        for o in side.filter({ better($0.price) || ($0.price == p && !$0.waiting) }).sorted(by: priority) {
            let n = min(o.lots, left)
            given[o.id] = n
            left -= n
        }
        let level = side.filter { $0.price == p && $0.waiting }
        let levelLots = level.reduce(UInt128(0)) { $0 + $1.lots }
        if left > 0, levelLots > 0 {
            if left >= levelLots {
                for o in level { given[o.id] = o.lots }
            } else {
                var rest = left
                for o in level {
                    let share = left.multipliedFullWidth(by: o.lots)
                    let part = levelLots.dividingFullWidth(share).quotient
                    given[o.id] = part
                    rest -= part
                }
                let byHash = level.sorted {
                    LedgerModel.precedes(LedgerModel.tagged("chanlab/orderbook-round/v1", seed + LedgerModel.bytes($0.id)), LedgerModel.tagged("chanlab/orderbook-round/v1", seed + LedgerModel.bytes($1.id)))
                }
                while rest > 0 {
                    for o in byHash where rest > 0 && given[o.id]! < o.lots {
                        given[o.id]! += 1
                        rest -= 1
                    }
                }
            }
        }
        return side.filter { (given[$0.id] ?? 0) > 0 }.sorted(by: priority).map { ($0.id, given[$0.id]!) }
    }

    // MARK: Leaves (docs/apps/orderbook.md, "State leaves")

    func leaves() -> [[UInt8]] {
        var out = [[UInt8]]()
        for id in orders.keys.sorted(by: LedgerModel.precedes) {
            let o = orders[id]!
            let flags: UInt8 = (o.postOnly ? 1 : 0) | (o.immediate ? 2 : 0) | (o.waiting ? 4 : 0)
            var leaf: [UInt8] = [0x4F] + LedgerModel.bytes(id) + Self.be(o.owner) + Self.be(o.market) + [o.side]
            leaf += Self.be(o.price) + Self.be(o.lots) + Self.be(o.escrow) + Self.be(o.arrival) + Self.be(o.expiry) + [flags] + Self.be(o.round)
            out.append(leaf)
        }
        for market in specs.keys.sorted() {
            let counts = fillCounts[market]
            let w = waiting[market]
            guard counts != nil || w != nil else { continue }
            out.append(
                [0x4D] + Self.be(market) + Self.be(counts?.fills ?? 0) + Self.be(counts?.lots ?? 0) + Self.be(w?.round ?? 0)
                    + Self.be(UInt32(w?.operations.count ?? 0)))
        }
        return out
    }
}
