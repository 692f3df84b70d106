/// The order book's planted bugs and domain tag, registered through `ChannelApplication`.
extension PlantedBugs {
    /// Order book: a maker fills one lot more than it holds when the taker wants more.
    public static let orderBookFillBeyondRemaining = PlantedBugs(rawValue: 1 << 9)
    /// Order book: a sell taker matches bids below its limit price.
    public static let orderBookIgnoreLimit = PlantedBugs(rawValue: 1 << 10)
    /// Order book: a cancel closes the order but keeps its escrow locked.
    public static let orderBookCancelKeepsEscrow = PlantedBugs(rawValue: 1 << 11)
    /// Order book: a batch round fills each pair at the maker's limit instead of the round's
    /// one clearing price.
    public static let orderBookNonUniformBatch = PlantedBugs(rawValue: 1 << 12)
    /// Order book: a taker fills its own author's resting orders (no self-trade prevention).
    public static let orderBookSelfTrade = PlantedBugs(rawValue: 1 << 13)
}

extension DomainTag {
    /// The order book's tie-break seed of one batch round: every operation id of the round.
    public static let orderBookRound = DomainTag(registering: "chanlab/orderbook-round/v1")
}

extension OrderBook {
    /// Never: any order-book operation may credit any participant by state alone (a fill pays
    /// the resting order's owner, and closing an expired or own resting order on the way
    /// releases its owner's escrow), so a tail holding one takes the full merge path.
    public static func tailCredit(_ payload: ApplicationPayload, to participant: ParticipantIndex, token: TokenID) -> Amount? { nil }

    public static var domainTags: [DomainTag] { [.orderBookRound] }

    public static var plants: [(name: String, bug: PlantedBugs, summary: String)] {
        [
            ("orderbook-fill-beyond-remaining", .orderBookFillBeyondRemaining, "order book: a maker fills one lot more than it holds"),
            ("orderbook-ignore-limit", .orderBookIgnoreLimit, "order book: a sell taker matches bids below its limit price"),
            ("orderbook-cancel-keeps-escrow", .orderBookCancelKeepsEscrow, "order book: a cancel keeps the order's escrow locked"),
            ("orderbook-non-uniform-batch", .orderBookNonUniformBatch, "order book: a batch round fills each pair at the maker's limit, not the round's price"),
            ("orderbook-self-trade", .orderBookSelfTrade, "order book: a taker fills its own author's resting orders"),
        ]
    }
}
