import Foundation
import ChannelCore
import Yams

/// The order book in the lab (docs/apps/orderbook.md, "In the lab"): markets in scenario files,
/// order workloads, the order-book checkers and the report of fills and clearings.
struct OrderBookLab: LabApplication {
    var name: String { OrderBook.name }

    /// `applications.orderbook: {markets: [{id, base, quote, tick, lot, matching, makerFeeBps, takerFeeBps, feeRecipient}]}`.
    func config(_ node: Node, reader: YAMLReader, tokens: [TokenID], participants: Int) throws(ScenarioError) -> any ApplicationConfig {
        let map = try reader.mapping(node, "applications.orderbook", allowed: ["markets"])
        let list = try reader.sequence(try reader.require(map, "markets", in: "applications.orderbook", at: node), "orderbook.markets")
        guard !list.isEmpty, list.count <= OrderBookConfig.marketsMax else {
            throw reader.error(map["markets"], "orderbook.markets needs 1...\(OrderBookConfig.marketsMax) markets")
        }
        var markets = [Market]()
        for item in list {
            let m = try reader.mapping(item, "market", allowed: ["id", "base", "quote", "tick", "lot", "matching", "makerFeeBps", "takerFeeBps", "feeRecipient"])
            let id = UInt32(try reader.integer(try reader.require(m, "id", in: "market", at: item), "market.id", 0...UInt64(UInt32.max)))
            guard !markets.contains(where: { $0.id == id }) else { throw reader.error(m["id"], "market id \(id) appears twice") }
            func token(_ key: String) throws(ScenarioError) -> TokenID {
                let value = try reader.require(m, key, in: "market", at: item)
                let token = TokenID(try reader.integer(value, "market.\(key)", 0...UInt64(UInt32.max)))
                guard tokens.contains(token) else { throw reader.error(value, "market.\(key) \(token) is not one of the channel's tokens \(tokens)") }
                return token
            }
            let base = try token("base")
            let quote = try token("quote")
            guard base != quote else { throw reader.error(m["quote"], "market.quote must differ from market.base") }
            let amountMax = UInt64(1) << 60
            let tick = try m["tick"].map { node throws(ScenarioError) in try reader.integer(node, "market.tick", 1...amountMax) } ?? 1
            let lot = try m["lot"].map { node throws(ScenarioError) in try reader.integer(node, "market.lot", 1...amountMax) } ?? 1
            var matching = MatchingRule.continuous
            if let value = m["matching"] {
                if case let .scalar(scalar) = value, scalar.string == "continuous" {
                    matching = .continuous
                } else {
                    let rule = try reader.mapping(value, "market.matching (continuous or {batch: depths})", allowed: ["batch"])
                    let depths = try reader.integer(try reader.require(rule, "batch", in: "market.matching", at: value), "matching.batch (depths per round)", 1...Market.roundDepthsMax)
                    matching = .batch(roundDepths: depths)
                }
            }
            let feeMax = UInt64(Market.feeBpsMax)
            let maker = UInt32(try m["makerFeeBps"].map { node throws(ScenarioError) in try reader.integer(node, "market.makerFeeBps", 0...feeMax) } ?? 0)
            let taker = UInt32(try m["takerFeeBps"].map { node throws(ScenarioError) in try reader.integer(node, "market.takerFeeBps", 0...feeMax) } ?? 0)
            let recipient = try m["feeRecipient"].map { node throws(ScenarioError) in try reader.integer(node, "market.feeRecipient", 0...UInt64(participants - 1)) } ?? 0
            markets.append(
                Market(
                    id: id, base: base, quote: quote, tick: Amount(tick), lotSize: Amount(lot), matching: matching, makerFeeBps: maker, takerFeeBps: taker,
                    feeRecipient: ParticipantIndex(recipient)))
        }
        return OrderBookConfig(markets: markets)
    }

    /// A workload's `orderbook: {market, mix: {place, market, cancel}, price: [lo, hi], lots: [lo, hi], postOnly: %, expires: %}`.
    func workload(_ node: Node, reader: YAMLReader, config: any ApplicationConfig) throws(ScenarioError) -> any ApplicationWorkloadSpec {
        let books = config as! OrderBookConfig
        let map = try reader.mapping(node, "workload.orderbook", allowed: ["market", "mix", "price", "lots", "postOnly", "expires"])
        let marketNode = try reader.require(map, "market", in: "workload.orderbook", at: node)
        let id = UInt32(try reader.integer(marketNode, "orderbook.market", 0...UInt64(UInt32.max)))
        guard let market = books.market(id) else { throw reader.error(marketNode, "orderbook.market \(id) is not a market of applications.orderbook") }
        var spec = OrderWorkload(market: market, placeWeight: 70, marketWeight: 20, cancelWeight: 10, priceMin: market.tick * 90, priceMax: market.tick * 110, lotsMin: 1, lotsMax: 5, postOnlyPercent: 10, expiresPercent: 0)
        if let value = map["mix"] {
            let mix = try reader.mapping(value, "orderbook.mix", allowed: ["place", "market", "cancel"])
            spec.placeWeight = try mix["place"].map { node throws(ScenarioError) in try reader.integer(node, "mix.place", 0...1000) } ?? 0
            spec.marketWeight = try mix["market"].map { node throws(ScenarioError) in try reader.integer(node, "mix.market", 0...1000) } ?? 0
            spec.cancelWeight = try mix["cancel"].map { node throws(ScenarioError) in try reader.integer(node, "mix.cancel", 0...1000) } ?? 0
            guard spec.placeWeight + spec.marketWeight + spec.cancelWeight > 0 else { throw reader.error(value, "orderbook.mix needs a positive weight") }
        }
        func range(_ key: String, _ what: String) throws(ScenarioError) -> (UInt64, UInt64)? {
            guard let value = map[key] else { return nil }
            let bounds = try reader.sequence(value, "orderbook.\(key)")
            guard bounds.count == 2 else { throw reader.error(value, "orderbook.\(key) needs [min, max]") }
            let low = try reader.integer(bounds[0], "orderbook.\(key) min", 1...UInt64(1) << 40)
            let high = try reader.integer(bounds[1], "orderbook.\(key) max", 1...UInt64(1) << 40)
            guard low <= high else { throw reader.error(value, "orderbook.\(key) min exceeds max") }
            return (low, high)
        }
        if let (low, high) = try range("price", "price") {
            guard Amount(low) % market.tick == 0, Amount(high) % market.tick == 0 else {
                throw reader.error(map["price"], "orderbook.price bounds must be whole ticks (tick \(market.tick))")
            }
            spec.priceMin = Amount(low)
            spec.priceMax = Amount(high)
        }
        if let (low, high) = try range("lots", "lots") {
            spec.lotsMin = Amount(low)
            spec.lotsMax = Amount(high)
        }
        if let value = map["postOnly"] { spec.postOnlyPercent = try reader.integer(value, "orderbook.postOnly (per cent)", 0...100) }
        if let value = map["expires"] { spec.expiresPercent = try reader.integer(value, "orderbook.expires (per cent)", 0...100) }
        return spec
    }

    func checkers(config: ChannelConfig, honest: Set<Int>) -> [any ApplicationChecker] {
        guard let books = config.application(named: name) as? OrderBookConfig else { return [] }
        return [OrderBookChecker(config: books, honest: honest)]
    }

    func ownDebits(_ payload: ApplicationPayload, config: ChannelConfig) -> [(TokenID, Amount)] {
        guard let books = config.application(named: name) as? OrderBookConfig, let operation = try? OrderBook.operation(of: payload) else { return [] }
        switch operation {
        case let .place(id, side, price, amount, _, _), let .market(id, side, amount, price):
            guard let market = books.market(id) else { return [] }
            let lots = amount / market.lotSize
            switch side {
            case .buy: return [(market.quote, lots * (price + market.feePerLotMax(price)))]
            case .sell: return [(market.base, amount)]
            }
        case .cancel:
            return []
        }
    }

    func report(_ state: ChannelState) -> ApplicationReport? {
        guard let book = state.application(named: name) as? OrderBookState else { return nil }
        var entries = [[String: String]]()
        for market in book.config.markets {
            let fills = book.fills.filter { $0.market == market.id }
            let clearings = book.clearings.filter { $0.market == market.id }
            entries.append([
                "market": String(market.id),
                "matching": { if case let .batch(depths) = market.matching { return "batch:\(depths)" } else { return "continuous" } }(),
                "fills": String(fills.count),
                "lotsFilled": String(fills.reduce(Amount(0)) { $0 + $1.lots }),
                "fees": String(fills.reduce(Amount(0)) { $0 + $1.buyerFee + $1.sellerFee }),
                "openOrders": String(book.orders.values.filter { $0.market == market.id }.count),
                "prices": fills.suffix(OrderBookLab.reportPricesMax).map { String($0.price) }.joined(separator: " "),
                "clearingPrices": clearings.suffix(OrderBookLab.reportPricesMax).map { "r\($0.round):\($0.price)x\($0.lots)" }.joined(separator: " "),
            ])
        }
        return ApplicationReport(application: name, entries: entries)
    }

    /// Most prices per market a report lists (the latest).
    static let reportPricesMax = 64

    var strategies: [any ApplicationStrategy.Type] {
        [FrontRunner.self, Spoofer.self, WashTrader.self, CancelRacer.self, OrderOverspend.self, ForeignCancel.self]
    }

    var invariants: [Invariant] { [.orderBookFills, .orderBookEscrow, .orderBookClearing] }

    /// A market of base token 0 and quote token 1 in three of ten generated scenarios, half
    /// continuous and half batch (1–4 depths a round), tick 1–5, lot 1–10, fees up to 29/59
    /// bps, with orders of 1 to 10 lots (the smallest amounts, where rounding goes wrong).
    var experiments: [any LabExperiment] { [FrontRunningExperiment()] }

    var hasBench: Bool { true }

    func model(_ config: any ApplicationConfig) -> (any ApplicationModel)? {
        (config as? OrderBookConfig).map { OrderBookModel(config: $0) }
    }

    func bench(now: () -> UInt64, log: (String) -> Void) -> LabMeasurement? {
        let result = OrderBookBench.run(now: now, log: log)
        return LabMeasurement(
            lines: [
                String(format: "order-book apply over transfer apply: %.2fx", result.orderOverTransfer),
                String(
                    format: "merge cost ratio %d/%d with order-book operations: %.2fx (target <= 1.5x)", result.sizes.last!.operations,
                    result.sizes.first!.operations, result.mergeCostRatioLargeOverSmall),
            ],
            json: jsonText(result))
    }

    func generate(_ rng: inout SeededRandom) -> GeneratedApplication? {
        func on(_ percent: UInt64) -> Bool { rng.below(100) < percent }
        guard on(30) else { return nil }
        let batch = on(50) ? 1 + rng.index(4) : nil
        let tick = 1 + rng.index(5)
        let lot = 1 + rng.index(10)
        let makerFeeBps = rng.index(30)
        let takerFeeBps = rng.index(60)
        let rate = 2 + rng.index(9)
        let postOnly = rng.index(40)
        let matching = batch.map { "{batch: \($0)}" } ?? "continuous"
        return GeneratedApplication(
            application: name, tokens: [1],
            configLines: [
                "markets:",
                "  - {id: 1, base: 0, quote: 1, tick: \(tick), lot: \(lot), matching: \(matching), makerFeeBps: \(makerFeeBps), takerFeeBps: \(takerFeeBps), feeRecipient: 0}",
            ],
            workload: "{market: 1, mix: {place: 60, market: 25, cancel: 15}, price: [\(tick * 95), \(tick * 105)], lots: [1, 10], postOnly: \(postOnly), expires: 10}",
            ratePerSecond: rate)
    }
}

/// An order workload: limit orders (some post-only, some expiring), market orders and cancels
/// of the participant's own open orders, never escrowing more than its node may spend.
struct OrderWorkload: ApplicationWorkloadSpec {
    var market: Market
    var placeWeight: UInt64
    var marketWeight: UInt64
    var cancelWeight: UInt64
    var priceMin: Amount
    var priceMax: Amount
    var lotsMin: Amount
    var lotsMax: Amount
    var postOnlyPercent: UInt64
    var expiresPercent: UInt64

    var key: String {
        "market=\(market.id) mix=\(placeWeight)/\(marketWeight)/\(cancelWeight) price=\(priceMin)...\(priceMax) lots=\(lotsMin)...\(lotsMax) postOnly=\(postOnlyPercent) expires=\(expiresPercent)"
    }

    func next(node: ChannelNode, rng: inout SeededRandom) -> Payload? {
        guard let replica = node.replica else { return nil }
        let roll = rng.below(placeWeight + marketWeight + cancelWeight)
        let side: OrderBook.Side = rng.below(2) == 0 ? .buy : .sell
        let ticks = rng.below(UInt64((priceMax - priceMin) / market.tick) + 1)
        let price = priceMin + Amount(ticks) * market.tick
        var lots = lotsMin + Amount(rng.below(UInt64(lotsMax - lotsMin) + 1))
        let postOnly = rng.below(100) < postOnlyPercent
        let expires = rng.below(100) < expiresPercent
        let expiryBlocks = 1 + rng.below(5)
        if roll >= placeWeight + marketWeight {
            let book = replica.state.application(named: OrderBook.name) as? OrderBookState
            let mine = book?.orders.values.filter { $0.owner == node.index && $0.market == market.id }.map(\.id).sorted() ?? []
            if !mine.isEmpty { return .orderBook(.cancel(order: mine[rng.index(mine.count)])) }
        }
        let worst = side == .buy ? priceMax : priceMin
        let limit = roll >= placeWeight && roll < placeWeight + marketWeight ? worst : price
        // Escrow what the node may spend: fewer lots when it cannot cover them all.
        let perLot = side == .buy ? limit + market.feePerLotMax(limit) : market.lotSize
        let spendable = node.spendable(side == .buy ? market.quote : market.base)
        lots = min(lots, spendable / perLot)
        guard lots > 0 else { return nil }
        if roll >= placeWeight && roll < placeWeight + marketWeight {
            return .orderBook(.market(market: market.id, side: side, amount: lots * market.lotSize, worstPrice: worst))
        }
        let expiry = expires ? node.citedChainHeight() + expiryBlocks : 0
        return .orderBook(.place(market: market.id, side: side, price: price, amount: lots * market.lotSize, expiry: expiry, postOnly: postOnly))
    }
}

extension Invariant {
    /// Order book: no continuous fill has one owner on both sides; every fill respects both
    /// orders' limit prices, never exceeds what an order holds, never follows the order's
    /// cancel in the total order or its expiry, and charges fees of ceil(notional × bps ÷ 10⁴);
    /// every honest refusal is a concurrent conflict.
    static let orderBookFills = Invariant(registering: "orderbook-fills")
    /// Order book: every account's locked balance is its unreleased locks plus what its open
    /// orders escrow (nothing stranded, nothing double-counted), on every delivery.
    static let orderBookEscrow = Invariant(registering: "orderbook-escrow")
    /// Order book, batch markets: every fill of a round is at the round's one price, and that
    /// price is the one an independent brute-force clearer picks from the round's orders.
    static let orderBookClearing = Invariant(registering: "orderbook-clearing")
}
