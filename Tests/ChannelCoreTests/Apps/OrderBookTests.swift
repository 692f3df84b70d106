import ChannelCore
import ChannelLab
import Testing

/// Goal: the order book's codec refuses every non-canonical body with a typed error; its rules
/// (escrow, price–time priority, fees rounded up, post-only, self-trade prevention, expiry,
/// cancel, immediate-or-cancel, batch auctions at one volume-maximising price) hold at their
/// edges; value is conserved and every escrow is the owner's locked balance; and the state
/// does not depend on the delivery order (the undo journal spans ledger and application).
/// Method: hand-written operations through a replica; a brute-force clearer; random delivery
/// orders of generated order flow.
@Suite struct OrderBookTests {
    static let base: TokenID = 0
    static let quote: TokenID = 1

    static func market(_ matching: MatchingRule = .continuous, maker: UInt32 = 10, taker: UInt32 = 30) -> Market {
        Market(id: 7, base: base, quote: quote, tick: 5, lotSize: 10, matching: matching, makerFeeBps: maker, takerFeeBps: taker, feeRecipient: 3)
    }

    static func channel(_ matching: MatchingRule = .continuous, participants: Int = 4, observers: [ParticipantIndex] = []) -> TestChannel {
        TestChannel(participants: participants, observers: observers, applications: [OrderBookConfig(markets: [market(matching)])])
    }

    static func place(_ side: OrderBook.Side, price: Amount, lots: Amount, expiry: UInt64 = 0, postOnly: Bool = false) -> Payload {
        .orderBook(.place(market: 7, side: side, price: price, amount: lots * 10, expiry: expiry, postOnly: postOnly))
    }

    /// Funds: participants 0...2 get 1,000,000 quote and 10,000 base.
    /// Funds the traders; returns their last deposits (what later operations cite).
    static func funded(_ channel: inout TestChannel, _ replica: Replica) -> [SignedOperation] {
        let ops = fundingOps(&channel)
        for op in ops { _ = replica.receive(op) }
        return ops.filter { $0.seq == 2 }
    }

    /// The ids of `ops` by authors other than `author` (an author cites its own last
    /// operation once, which `AuthorChain` adds).
    static func cite(_ ops: [SignedOperation], for author: ParticipantIndex) -> [OperationID] {
        ops.filter { $0.author != author }.map(\.id)
    }

    static func fundingOps(_ channel: inout TestChannel) -> [SignedOperation] {
        (0...2).flatMap { (p: ParticipantIndex) in [channel.deposit(p, 1_000_000, token: quote), channel.deposit(p, 10_000, token: base)] }
    }

    static func orderBook(_ replica: Replica) -> OrderBookState { replica.state.application(named: "orderbook") as! OrderBookState }

    /// Σ accounts equals Σ deposits per token, and every account's locked balance is what its
    /// open orders escrow (no locks in these tests).
    static func checkConservation(_ replica: Replica, _ comment: Comment? = nil) {
        let ledger = replica.balances
        for token in [base, quote] {
            #expect(ledger.tokenTotal(token) == ledger.depositTotals[token] ?? 0, comment)
        }
        let escrowed = orderBook(replica).escrowed()
        for (key, account) in ledger.accounts {
            #expect(account.locked == Int128(escrowed[key] ?? 0), "locked of \(key.participant)/\(key.token) \(comment.map { "\($0)" } ?? "")")
            #expect(account.balance >= 0)
        }
    }

    // MARK: Codec

    @Test func everyOperationRoundTripsAndNonCanonicalBodiesAreTypedErrors() throws {
        let ops: [OrderBook.Operation] = [
            .place(market: 7, side: .buy, price: 100, amount: 50, expiry: 0, postOnly: false),
            .place(market: 1, side: .sell, price: WireLimits.amountMax, amount: 1, expiry: 99, postOnly: true),
            .cancel(order: Digest32(w0: 1, w1: 2, w2: 3, w3: 4)),
            .market(market: 7, side: .sell, amount: 10, worstPrice: 1),
        ]
        var channel = Self.channel()
        for op in ops {
            let signed = channel.append(0, .orderBook(op))
            let decoded = try WireDecoder.decodeSigned(signed.wireBytes)
            #expect(decoded.payload.orderBookOperation == op)
            #expect(decoded.id == signed.id)
        }
        func body(_ op: OrderBook.Operation) -> [UInt8] { OrderBook.payload(op).body }
        var flags = body(ops[0])
        flags[flags.count - 1] = 2
        #expect(throws: WireError.invalidField(field: "place.flags", reason: "only bit 0 (post-only) may be set")) {
            try OrderBook.operation(of: ApplicationPayload(kind: 0x10, body: flags))
        }
        var side = body(ops[0])
        side[4] = 2
        #expect(throws: WireError.invalidField(field: "place.side", reason: "side must be 0 (buy) or 1 (sell)")) {
            try OrderBook.operation(of: ApplicationPayload(kind: 0x10, body: side))
        }
        var zero = body(ops[0])
        for index in 5..<21 { zero[index] = 0 }
        #expect(throws: WireError.amountOutOfRange(field: "place.price")) { try OrderBook.operation(of: ApplicationPayload(kind: 0x10, body: zero)) }
        #expect(throws: WireError.truncated(field: "cancel.order", offset: 0)) { try OrderBook.operation(of: ApplicationPayload(kind: 0x11, body: [1, 2])) }
        #expect(throws: WireError.trailingBytes(count: 1)) { try OrderBook.operation(of: ApplicationPayload(kind: 0x12, body: body(ops[3]) + [0])) }
        #expect(throws: WireError.unknownPayloadKind(0x13)) { try OrderBook.operation(of: ApplicationPayload(kind: 0x13, body: [])) }
        // A kind nobody owns, on the wire: the decoder names it.
        var bytes = channel.append(0, .orderBook(ops[2])).wireBytes
        let kindOffset = 1 + 32 + 4 + 8 + 1 + 32
        bytes[kindOffset] = 0x7F
        #expect(throws: WireError.unknownPayloadKind(0x7F)) { try WireDecoder.decodeSigned(bytes) }
    }

    // MARK: Continuous matching

    @Test func aTakerFillsAtTheMakersPriceWithFeesRoundedUp() {
        var channel = Self.channel()
        let replica = channel.replica()
        let funds = Self.funded(&channel, replica)
        let ask = channel.append(0, Self.place(.sell, price: 105, lots: 10), citing: Self.cite(funds, for: 0))
        _ = replica.receive(ask)
        #expect(replica.account(0, Self.base).locked == 100)
        // Buys 4 lots at up to 110: fills at 105 (the maker's price).
        let bid = channel.append(1, Self.place(.buy, price: 110, lots: 4), citing: [ask.id])
        _ = replica.receive(bid)
        let fills = Self.orderBook(replica).fills
        #expect(fills.count == 1)
        let fill = fills[0]
        #expect(fill.price == 105 && fill.lots == 4 && fill.maker == ask.id)
        // Notional 420; taker (buyer) fee ceil(420 × 30 / 10⁴) = ceil(1.26) = 2; maker (seller) ceil(0.42) = 1.
        #expect(fill.buyerFee == 2 && fill.sellerFee == 1)
        #expect(replica.account(1, Self.quote).balance == 1_000_000 - 420 - 2)
        #expect(replica.account(1, Self.base).balance == 10_000 + 40)
        #expect(replica.account(0, Self.quote).balance == 1_000_000 + 420 - 1)
        #expect(replica.account(0, Self.base).locked == 60)
        #expect(replica.account(3, Self.quote).balance == 3)
        #expect(Self.orderBook(replica).book(7, .sell).map(\.lots) == [6])
        #expect(Self.orderBook(replica).orders[bid.id] == nil)
        Self.checkConservation(replica)
    }

    @Test func priceThenTimePriorityAndTheRestRests() {
        var channel = Self.channel()
        let replica = channel.replica()
        let funds = Self.funded(&channel, replica)
        let a1 = channel.append(0, Self.place(.sell, price: 100, lots: 2), citing: Self.cite(funds, for: 0))
        let a2 = channel.append(2, Self.place(.sell, price: 95, lots: 2), citing: [a1.id])
        let a3 = channel.append(0, Self.place(.sell, price: 95, lots: 2), citing: [a2.id])
        for op in [a1, a2, a3] { _ = replica.receive(op) }
        let bid = channel.append(1, Self.place(.buy, price: 100, lots: 7), citing: [a3.id])
        _ = replica.receive(bid)
        let fills = Self.orderBook(replica).fills
        #expect(fills.map(\.sell) == [a2.id, a3.id, a1.id])
        #expect(fills.map(\.price) == [95, 95, 100])
        // 6 of 7 lots filled; one rests as the best bid at 100 with the escrow of one lot (the
        // price improvement of the fills at 95 went back at once).
        let resting = Self.orderBook(replica).book(7, .buy)
        #expect(resting.map(\.lots) == [1] && resting[0].escrow == 100 + 1)
        #expect(replica.account(1, Self.quote).locked == 101)
        Self.checkConservation(replica)
    }

    @Test func postOnlySelfTradeExpiryCancelAndImmediateOrCancel() {
        var channel = Self.channel()
        let replica = channel.replica()
        var recent = Self.funded(&channel, replica)
        func add(_ author: ParticipantIndex, _ payload: Payload) -> SignedOperation {
            let op = channel.append(author, payload, citing: Self.cite(recent, for: author))
            recent = [op]
            _ = replica.receive(op)
            return op
        }
        let ask = add(0, Self.place(.sell, price: 100, lots: 3))
        let crossing = add(1, Self.place(.buy, price: 100, lots: 1, postOnly: true))
        #expect(replica.ledgerRejection(of: crossing.id) == .application(OrderBookRejection.wouldCross(bestPrice: 100).rejection(kind: 0x10)))
        #expect(replica.rejections.first { $0.id == crossing.id }?.kind == .void)
        // The owner's own bid meets its own ask: the resting ask is cancelled, nothing fills.
        _ = add(0, Self.place(.buy, price: 100, lots: 1))
        #expect(Self.orderBook(replica).fills.isEmpty)
        #expect(Self.orderBook(replica).orders[ask.id] == nil && Self.orderBook(replica).closed.contains(ask.id))
        // An ask expiring at height 1 (the chain time every operation here cites): refused.
        let stale = add(2, Self.place(.sell, price: 100, lots: 1, expiry: 1))
        #expect(replica.ledgerRejection(of: stale.id) == .application(OrderBookRejection.expired(chainHeight: 1, expiry: 1).rejection(kind: 0x10)))
        // Cancel: only the owner; twice is a closed order.
        let ask2 = add(2, Self.place(.sell, price: 120, lots: 2))
        let foreign = add(1, .orderBook(.cancel(order: ask2.id)))
        #expect(replica.ledgerRejection(of: foreign.id) == .application(OrderBookRejection.orderNotOwned(ask2.id).rejection(kind: 0x11)))
        _ = add(2, .orderBook(.cancel(order: ask2.id)))
        #expect(replica.account(2, Self.base).locked == 0)
        let again = add(2, .orderBook(.cancel(order: ask2.id)))
        #expect(replica.ledgerRejection(of: again.id) == .application(OrderBookRejection.orderClosed(ask2.id).rejection(kind: 0x11)))
        // A new ask of 2 lots fills participant 0's resting bid (1 lot); a market order takes
        // the other lot and drops the rest of its 5.
        _ = add(2, Self.place(.sell, price: 100, lots: 2))
        #expect(Self.orderBook(replica).fills.map(\.lots) == [1])
        let take = add(1, .orderBook(.market(market: 7, side: .buy, amount: 50, worstPrice: 100)))
        #expect(Self.orderBook(replica).fills.map(\.lots) == [1, 1] && Self.orderBook(replica).fills.last?.buyer == 1)
        #expect(Self.orderBook(replica).orders[take.id] == nil)
        Self.checkConservation(replica)
    }

    @Test func rulesAtTheirEdges() {
        var channel = Self.channel(participants: 5, observers: [4])
        let replica = channel.replica()
        let funds = Self.funded(&channel, replica)
        let cases: [(ParticipantIndex, Payload, OrderBookRejection?)] = [
            (0, Self.place(.buy, price: 101, lots: 1), .priceOffTick(101)),
            (0, .orderBook(.place(market: 7, side: .buy, price: 100, amount: 15, expiry: 0, postOnly: false)), .amountOffLot(15)),
            (0, .orderBook(.place(market: 8, side: .buy, price: 100, amount: 10, expiry: 0, postOnly: false)), .unknownMarket(8)),
            (4, Self.place(.buy, price: 100, lots: 1), .notPermitted(role: .observer)),
            // 1,000,000 quote escrows at most 9,900 lots at 100 (+1 fee per lot at 30 bps): 9,901 is one too many.
            (1, Self.place(.buy, price: 100, lots: 9_901), .insufficientBalance(token: Self.quote, available: 1_000_000, needed: 1_000_001)),
            (1, Self.place(.buy, price: 100, lots: 9_900), nil),
            (2, Self.place(.sell, price: 5, lots: 1_001), .insufficientBalance(token: Self.base, available: 10_000, needed: 10_010)),
            (2, .orderBook(.place(market: 7, side: .buy, price: WireLimits.amountMax / 5 * 5, amount: 10, expiry: 0, postOnly: false)), .tooLarge),
            (2, .orderBook(.cancel(order: Digest32(w0: 9, w1: 9, w2: 9, w3: 9))), .unknownOrder(Digest32(w0: 9, w1: 9, w2: 9, w3: 9))),
        ]
        for (author, payload, expected) in cases {
            let op = channel.append(author, payload, citing: Self.cite(funds, for: author))
            _ = replica.receive(op)
            let kind: UInt8 = if case let .application(p) = payload { p.kind } else { 0 }
            #expect(replica.ledgerRejection(of: op.id) == expected.map { .application($0.rejection(kind: kind)) }, "\(payload.traceText)")
        }
        Self.checkConservation(replica)
    }

    @Test func aChannelWithoutTheOrderBookRefusesItsOperations() {
        var channel = TestChannel()
        let replica = channel.replica()
        let op = channel.append(0, Self.place(.buy, price: 100, lots: 1))
        _ = replica.receive(op)
        #expect(replica.ledgerRejection(of: op.id) == .applicationNotEnabled(kind: 0x10))
        #expect(replica.rejections.first?.kind == .invalidInCausalPast)
    }

    // MARK: Batch auctions

    @Test func aBatchRoundClearsAtOneVolumeMaximisingPrice() {
        var channel = Self.channel(.batch(roundDepths: 10))
        let replica = channel.replica()
        let funds = Self.funded(&channel, replica)  // depth 2
        // Round 0 (depths 0...9): three bids and two asks, all citing the funds (depth 3).
        let orders = [
            channel.append(0, Self.place(.buy, price: 110, lots: 3), citing: Self.cite(funds, for: 0)),
            channel.append(1, Self.place(.buy, price: 100, lots: 4), citing: Self.cite(funds, for: 1)),
            channel.append(2, Self.place(.sell, price: 95, lots: 2), citing: Self.cite(funds, for: 2)),
            channel.append(2, Self.place(.sell, price: 100, lots: 4), citing: Self.cite(funds, for: 2)),
        ]
        for op in orders { _ = replica.receive(op) }
        #expect(Self.orderBook(replica).fills.isEmpty, "nothing clears before the round ends")
        // A chain of operations of participant 0 climbing to depth 10 ends round 0.
        var head = orders[0].id
        for _ in 0..<8 {
            let op = channel.append(0, .transfer(to: 1, token: Self.base, amount: 1), citing: [head])
            _ = replica.receive(op)
            head = op.id
        }
        let trigger = channel.append(0, Self.place(.sell, price: 200, lots: 1), citing: [head])
        _ = replica.receive(trigger)
        let book = Self.orderBook(replica)
        #expect(book.clearings.count == 1)
        // Demand at 100: 7 lots, supply 6 → 6 at 100 (at 95: demand 7, supply 2; at 110: 3).
        #expect(book.clearings.first.map { ($0.price, $0.lots) } ?? (0, 0) == (100, 6))
        #expect(Set(book.fills.map(\.price)) == [100])
        // The bid at 110 fills in full (3), the bid at 100 rations the rest (3 of 4).
        let bought = Dictionary(grouping: book.fills, by: \.buy).mapValues { $0.reduce(Amount(0)) { $0 + $1.lots } }
        #expect(bought[orders[0].id] == 3 && bought[orders[1].id] == 3)
        #expect(book.book(7, .buy).map(\.lots) == [1])
        Self.checkConservation(replica)
    }

    /// The clearing rule against a brute force over every price, on random books.
    @Test func theClearingPriceMaximisesVolumeThenMinimisesImbalance() {
        var rng = SeededRandom(seed: 5, stream: "clearing")
        for _ in 0..<500 {
            let buys = (0..<Int(rng.next() % 6)).map { _ in (price: Amount(1 + rng.next() % 12), lots: Amount(1 + rng.next() % 5)) }
            let sells = (0..<Int(rng.next() % 6)).map { _ in (price: Amount(1 + rng.next() % 12), lots: Amount(1 + rng.next() % 5)) }
            var best: (Amount, Amount, Amount)?
            for price in Amount(1)...12 where (buys + sells).contains(where: { $0.price == price }) {
                let d = buys.filter { $0.price >= price }.reduce(Amount(0)) { $0 + $1.lots }
                let s = sells.filter { $0.price <= price }.reduce(Amount(0)) { $0 + $1.lots }
                let v = min(d, s)
                let imbalance = d > s ? d - s : s - d
                if v > 0, best == nil || v > best!.1 || (v == best!.1 && imbalance < best!.2) { best = (price, v, imbalance) }
            }
            let found = OrderBookState.clearingPrice(buys: buys, sells: sells)
            #expect(found?.price == best?.0 && found?.volume == best?.1, "\(buys) \(sells)")
        }
    }

    // MARK: Merge

    /// Concurrent order flow from three traders, delivered in many orders: the state root,
    /// the fills and every rejection are the same, and value is conserved at every step.
    @Test(arguments: [MatchingRule.continuous, .batch(roundDepths: 3)])
    func theStateDoesNotDependOnTheDeliveryOrder(matching: MatchingRule) {
        var channel = Self.channel(matching)
        let reference = channel.replica()
        let fundOps = Self.fundingOps(&channel)
        for op in fundOps { _ = reference.receive(op) }
        let funds = fundOps.filter { $0.seq == 2 }
        var rng = SeededRandom(seed: 11, stream: "orderflow")
        var ops = [SignedOperation]()
        var lastOwn: [ParticipantIndex: OperationID] = [:]
        var placed: [ParticipantIndex: [OperationID]] = [:]
        for _ in 0..<90 {
            let author = ParticipantIndex(rng.next() % 3)
            let side: OrderBook.Side = rng.next() % 2 == 0 ? .buy : .sell
            let payload: Payload
            let price = Amount(5 * (18 + rng.next() % 5))
            let lots = Amount(1 + rng.next() % 4)
            let mine = placed[author] ?? []
            switch rng.next() % 10 {
            case 0 where !mine.isEmpty:
                payload = .orderBook(.cancel(order: mine[Int(rng.next() % UInt64(mine.count))]))
            case 1: payload = .orderBook(.market(market: 7, side: side, amount: 10 * lots, worstPrice: price))
            default: payload = Self.place(side, price: price, lots: lots, postOnly: rng.next() % 5 == 0)
            }
            // Cite a few recent operations of anyone (concurrency), and the funds.
            var citing = Set(Self.cite(funds, for: author))
            for _ in 0..<2 where !ops.isEmpty {
                let other = ops[ops.count - 1 - Int(rng.next() % UInt64(min(6, ops.count)))]
                if other.author != author { citing.insert(other.id) }
            }
            let op = channel.append(author, payload, citing: Array(citing))
            lastOwn[author] = op.id
            if case .application = payload, payload.orderBookOperation.map({ if case .place = $0 { true } else { false } }) == true {
                placed[author, default: []].append(op.id)
            }
            ops.append(op)
        }
        for op in ops { _ = reference.receive(op) }
        Self.checkConservation(reference, "in order")
        #expect(!Self.orderBook(reference).fills.isEmpty)
        for trial in 0..<12 {
            var shuffled = ops
            var order = SeededRandom(seed: UInt64(trial), stream: "delivery")
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(order.next() % UInt64(i + 1))) }
            let replica = Replica(config: channel.config, limits: ReplicaLimits(undoOpsMax: trial % 3 == 0 ? 4 : 4096))
            for op in fundOps { _ = replica.receive(op) }
            if trial % 2 == 0 {
                for op in shuffled { _ = replica.receive(op) }
            } else {
                _ = replica.receive(batch: shuffled)
            }
            #expect(replica.stateRoot == reference.stateRoot, "trial \(trial)")
            let sameFills = Self.orderBook(replica).fills == Self.orderBook(reference).fills
            let sameRejections = replica.rejections == reference.rejections
            #expect(sameFills, "trial \(trial): fills differ")
            #expect(sameRejections, "trial \(trial): rejections differ")
            Self.checkConservation(replica, "trial \(trial)")
        }
    }
}
