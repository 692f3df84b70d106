/// The application seam (DESIGN.md, "Applications: DeFi in the channel"; docs/apps/README.md).
///
/// An application is one folder `Sources/ChannelCore/Apps/<App>/`: a `ChannelApplication`
/// type that owns a range of payload kinds and their canonical codec, and an
/// `ApplicationState` that applies its operations in the total order. The replica composes
/// the applications a channel enables (`ChannelConfig.applications`) with the balance ledger
/// in one `ChannelState`: one total order, one undo journal, one state root.
///
/// Value moves between accounts and an application only through `ApplicationAccounts`:
/// `escrow` debits an account's balance into the application's pool (only for the
/// operation's author: only an owner moves its funds), `pay` credits an account from the pool.
/// The ledger counts what applications hold per token (`BalanceLedger.pooledTotals`), so
/// conservation reads Σ accounts + Σ pools = Σ deposits.

/// An application's operation as it travels: a payload kind the application owns and the
/// canonical bytes of its body (what follows the kind byte on the wire). Canonical bytes make
/// equality and hashing exact; the owning application decodes them into its typed operation.
public struct ApplicationPayload: Hashable, Sendable {
    /// The payload kind (wire tag), in the owning application's `kinds`.
    public let kind: UInt8
    /// The canonical body bytes.
    public let body: [UInt8]

    /// A payload from bytes the application's encoder produced.
    public init(kind: UInt8, body: [UInt8]) {
        precondition(body.count <= WireLimits.operationBytesMax, "an application body larger than an operation may be")
        self.kind = kind
        self.body = body
    }
}

/// An application of the channel: its name, its payload kinds and their canonical codec.
public protocol ChannelApplication {
    /// The application's typed operation.
    associatedtype Operation: Hashable & Sendable
    /// Its name in configurations, scenarios and reports (lowercase, unique).
    static var name: String { get }
    /// The payload kinds it owns (disjoint from every other application's and from the
    /// balance ledger's 0x01...0x06).
    static var kinds: ClosedRange<UInt8> { get }
    /// Reads the body of a payload of `kind` (one of `kinds`) at the reader's position,
    /// exactly as the canonical encoding lays it out; refuses anything else with a typed
    /// `WireError` (never a trap).
    static func decode(kind: UInt8, from reader: inout ByteReader) throws(WireError) -> Operation
    /// The canonical payload of `operation`.
    static func payload(_ operation: Operation) -> ApplicationPayload
    /// The application's domain separation tags (for the hashes it computes).
    static var domainTags: [DomainTag] { get }
    /// Its planted bugs (bits from `PlantedBugs.applicationBitsFrom` up, distinct from every
    /// other application's), by name, with one line on what each breaks.
    static var plants: [(name: String, bug: PlantedBugs, summary: String)] { get }
    /// Whether a late transfer or withdrawal may go in before a tail holding `payload` without
    /// a rollback (the merge's fast path, docs/merge-and-ledger.md): the most this operation,
    /// authored by someone else and applied anywhere after the late one, can credit
    /// `participant`'s balance in `token` in any state, given that its own effect does not
    /// depend on that balance; `nil` when it cannot say (the fast path then takes the full
    /// path).
    static func tailCredit(_ payload: ApplicationPayload, to participant: ParticipantIndex, token: TokenID) -> Amount?
}

extension ChannelApplication {
    /// The typed operation of a payload this application owns, or the reason it is not
    /// canonical.
    public static func operation(of payload: ApplicationPayload) throws(WireError) -> Operation {
        guard kinds.contains(payload.kind) else { throw .unknownPayloadKind(payload.kind) }
        var reader = ByteReader(payload.body)
        let operation = try decode(kind: payload.kind, from: &reader)
        guard reader.remaining == 0 else { throw .trailingBytes(count: reader.remaining) }
        return operation
    }
}

/// Why an application refused an operation: the payload kind, the application's reason code
/// and its canonical parameter bytes (docs/apps/<app>.md lists them), whether the verdict
/// depends on state (as `LedgerRejection.dependsOnState`), and a description for people.
public struct ApplicationRejection: Hashable, Sendable, CustomStringConvertible {
    public let kind: UInt8
    public let code: UInt8
    public let parameters: [UInt8]
    public let dependsOnState: Bool
    /// `false` for a void refusal (`RejectionClass.void`): on the operation's own terms,
    /// harming nobody, never evidence.
    public let slashable: Bool
    public let description: String

    /// Most parameter bytes a rejection carries.
    public static let parametersBytesMax = 255

    public init(kind: UInt8, code: UInt8, parameters: [UInt8] = [], dependsOnState: Bool, slashable: Bool = true, description: String) {
        precondition(parameters.count <= Self.parametersBytesMax, "rejection parameters beyond the limit")
        self.kind = kind
        self.code = code
        self.parameters = parameters
        self.dependsOnState = dependsOnState
        self.slashable = slashable
        self.description = description
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.kind == b.kind && a.code == b.code && a.parameters == b.parameters && a.dependsOnState == b.dependsOnState && a.slashable == b.slashable
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(code)
        hasher.combine(parameters)
    }
}

/// What an application's state sees of the accounts while it applies one operation: the
/// author's balances, and the only two ways value crosses between accounts and the
/// application's pool. Every move is journaled, so a rollback undoes it.
public struct ApplicationAccounts {
    var ledger: BalanceLedger
    /// The operation's author: the only account `escrow` may debit.
    public let author: ParticipantIndex

    init(ledger: BalanceLedger, author: ParticipantIndex) {
        self.ledger = ledger
        self.author = author
    }

    /// The spendable balance of `participant` in `token`.
    public func balance(_ participant: ParticipantIndex, _ token: TokenID) -> Int128 {
        ledger.account(participant, token).balance
    }

    /// Holds `amount` of `token` of the author's balance for the application (balance to
    /// locked in the author's own account: an escrow that stays the owner's, so settlement and
    /// exit pay it with the account). The caller has checked the balance covers it.
    public mutating func hold(_ token: TokenID, _ amount: Amount) {
        ledger.hold(author, token, amount)
    }

    /// Returns `amount` of `token` that the application held for `owner` to its balance.
    public mutating func release(_ owner: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        ledger.release(owner, token, amount)
    }

    /// Pays `amount` of `token` that the application held for `owner` (which the owner
    /// escrowed by an operation of its own) to `recipient`'s balance: a fill.
    public mutating func payHeld(from owner: ParticipantIndex, to recipient: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        ledger.payHeld(from: owner, to: recipient, token, amount)
    }

    /// Moves `amount` of `token` from the author's balance into the application's pool (value
    /// no single participant owns: reserves, dust). The caller has checked the balance.
    public mutating func escrowToPool(_ token: TokenID, _ amount: Amount) {
        ledger.moveToPool(author, token, amount)
    }

    /// Pays `amount` of `token` from the application's pool to `participant`'s balance.
    public mutating func payFromPool(_ participant: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        ledger.moveFromPool(participant, token, amount)
    }
}

/// An application's state in one replica: applies its operations in the total order, undoes
/// them in reverse, and commits to its state with Merkle leaves.
public protocol ApplicationState: Sendable {
    /// The application's name (`ChannelApplication.name`).
    var name: String { get }
    /// The payload kinds it applies.
    var kinds: ClosedRange<UInt8> { get }
    /// Applies `payload` (one of `kinds`) by `op`'s author at its place in the total order, or
    /// refuses it. A refusal has no effect of the operation's own; housekeeping due at that
    /// place whatever the operation (a batch round that ends) may happen before the verdict.
    /// Every change to its own state pushes one undo record (popped by `undoLast`) and is
    /// counted in `undoRecords`.
    mutating func apply(
        _ op: SignedOperation, _ payload: ApplicationPayload, context: ApplyContext, config: ChannelConfig,
        accounts: inout ApplicationAccounts, bugs: PlantedBugs
    ) -> ApplicationRejection?
    /// Undo records held (forward changes not yet undone or forgotten).
    var undoRecords: Int { get }
    /// Undoes the newest change.
    mutating func undoLast()
    /// Forgets the oldest `count` undo records (their changes can no longer be undone).
    mutating func forgetOldest(_ count: Int)
    /// Turns undo recording on or off (off for one-shot views replayed from scratch).
    mutating func setJournaling(_ on: Bool)
    /// The state's Merkle leaves in canonical order; each leaf starts with the application's
    /// leaf tag, so they never collide with the ledger's ('A', 'L', 'R') or another's.
    func stateLeaves() -> [[UInt8]]
    /// Per token, the value the application holds in its pools (escrows, reserves, dust),
    /// computed from its own records (not from the ledger's count of moves).
    func pooled() -> [TokenID: Int128]
    /// A cheap multiset fingerprint of the state (equal states, equal fingerprints).
    var fingerprint: UInt128 { get }
    /// A fresh, empty state of the same application and configuration.
    func empty() -> any ApplicationState
}

/// The applications a channel enables: one value per application, carrying its configuration.
public protocol ApplicationConfig: Sendable {
    /// The application's name.
    var name: String { get }
    /// An empty state of the application under this configuration.
    func makeState() -> any ApplicationState
}

/// Every application ChannelCore knows, by payload kind: what the decoder consults. Adding an
/// application adds one line here.
public enum ApplicationRegistry {
    /// The applications, in kind order.
    public static let all: [any ChannelApplication.Type] = [OrderBook.self]

    /// The most an application's operation in a tail can credit `participant` in `token`
    /// (`ChannelApplication.tailCredit`); `nil` for a kind no application owns.
    static func tailCredit(_ payload: ApplicationPayload, to participant: ParticipantIndex, token: TokenID) -> Amount? {
        application(ofKind: payload.kind)?.tailCredit(payload, to: participant, token: token)
    }

    /// The application owning payload kind `kind`, if any.
    public static func application(ofKind kind: UInt8) -> (any ChannelApplication.Type)? {
        all.first { $0.kinds.contains(kind) }
    }

    /// Reads the body of an application payload of `kind` and returns the payload with its
    /// canonical body bytes (exactly those the application's decoder read).
    static func decodePayload(kind: UInt8, from reader: inout ByteReader) throws(WireError) -> ApplicationPayload {
        guard let app = application(ofKind: kind) else { throw .unknownPayloadKind(kind) }
        let start = reader.offset
        try decodeBody(app, kind: kind, from: &reader)
        return ApplicationPayload(kind: kind, body: reader.bytes(from: start))
    }

    private static func decodeBody<App: ChannelApplication>(_ app: App.Type, kind: UInt8, from reader: inout ByteReader) throws(WireError) {
        _ = try App.decode(kind: kind, from: &reader)
    }

    /// Checks a payload built in memory is canonical: its owner decodes it exactly.
    static func validate(_ payload: ApplicationPayload) throws(WireError) {
        guard let app = application(ofKind: payload.kind) else { throw .unknownPayloadKind(payload.kind) }
        try validate(app, payload)
    }

    private static func validate<App: ChannelApplication>(_ app: App.Type, _ payload: ApplicationPayload) throws(WireError) {
        _ = try App.operation(of: payload)
    }
}
