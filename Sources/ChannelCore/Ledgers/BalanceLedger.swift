/// One participant's holdings of one token.
///
/// Signed so that a broken ledger (a planted bug) shows up as a negative value that the
/// checkers report, instead of trapping on unsigned underflow.
public struct Account: Hashable, Sendable {
    /// Spendable.
    public var balance: Int128 = 0
    /// Held by the author's unreleased locks.
    public var locked: Int128 = 0
    /// Taken out of the channel, to be paid at settlement.
    public var withdrawn: Int128 = 0

    public init(balance: Int128 = 0, locked: Int128 = 0, withdrawn: Int128 = 0) {
        self.balance = balance
        self.locked = locked
        self.withdrawn = withdrawn
    }

    /// Everything the account accounts for: the conservation sum.
    public var total: Int128 { balance + locked + withdrawn }

    /// Whether any field is below zero (only a broken ledger gets there).
    public var isNegative: Bool { balance < 0 || locked < 0 || withdrawn < 0 }
}

/// Key of an account: participant, then token.
public struct AccountKey: Hashable, Comparable, Sendable {
    public let participant: ParticipantIndex
    public let token: TokenID

    public init(participant: ParticipantIndex, token: TokenID) {
        self.participant = participant
        self.token = token
    }

    public static func < (lhs: AccountKey, rhs: AccountKey) -> Bool {
        (lhs.participant, lhs.token) < (rhs.participant, rhs.token)
    }
}

/// A lock created by a `lock` operation; its id is that operation's id.
public struct LockRecord: Hashable, Sendable {
    public let owner: ParticipantIndex
    public let token: TokenID
    public let amount: Amount
    public let untilHeight: UInt64
    public var released: Bool
}

/// Why the ledger refused an operation in the total order.
public enum LedgerRejection: Hashable, Sendable, CustomStringConvertible {
    case notPermitted(role: Role)
    case unknownToken(TokenID)
    case unknownRecipient(ParticipantIndex)
    case recipientCannotHoldFunds(ParticipantIndex)
    case selfTransfer
    case insufficientBalance(available: Int128, needed: Amount)
    case badChainSignature
    case receiptAlreadyUsed(nonce: UInt64)
    case unknownLock(OperationID)
    case lockNotOwned(OperationID)
    case lockAlreadyReleased(OperationID)
    case lockNotExpired(chainHeight: UInt64, untilHeight: UInt64)
    /// An application's operation in a channel that does not enable that application (or a
    /// kind no application owns): fixed by the configuration, so invalid in the causal past.
    case applicationNotEnabled(kind: UInt8)
    /// An application refused the operation, for its own reason.
    case application(ApplicationRejection)

    /// Whether the verdict depends on what other operations applied before (and so may differ
    /// between the total order and the author's causal past). The others are fixed by the
    /// operation and the configuration alone.
    public var dependsOnState: Bool {
        switch self {
        case .insufficientBalance, .receiptAlreadyUsed, .unknownLock, .lockAlreadyReleased: return true
        case .notPermitted, .unknownToken, .unknownRecipient, .recipientCannotHoldFunds, .selfTransfer, .badChainSignature, .lockNotOwned, .lockNotExpired,
            .applicationNotEnabled:
            return false
        case let .application(rejection): return rejection.dependsOnState
        }
    }

    /// Whether the refusal is void (`RejectionClass.void`): an application's refusal on the
    /// operation's own terms, never evidence.
    public var isVoid: Bool {
        if case let .application(rejection) = self { return !rejection.slashable }
        return false
    }

    public var description: String {
        switch self {
        case let .notPermitted(role): return "role \(role.rawValue) not permitted"
        case let .unknownToken(token): return "unknown token \(token)"
        case let .unknownRecipient(to): return "unknown recipient \(to)"
        case let .recipientCannotHoldFunds(to): return "recipient \(to) cannot hold funds"
        case .selfTransfer: return "transfer to self"
        case let .insufficientBalance(available, needed): return "insufficient balance: \(available) < \(needed)"
        case .badChainSignature: return "bad chain signature on receipt or anchor"
        case let .receiptAlreadyUsed(nonce): return "deposit receipt \(nonce) already used"
        case let .unknownLock(id): return "unknown lock \(id.short)"
        case let .lockNotOwned(id): return "lock \(id.short) not owned by author"
        case let .lockAlreadyReleased(id): return "lock \(id.short) already released"
        case let .lockNotExpired(height, until): return "lock not expired: chain height \(height) < \(until)"
        case let .applicationNotEnabled(kind): return "payload kind 0x\(String(kind, radix: 16)): no application of the channel owns it"
        case let .application(rejection): return rejection.description
        }
    }
}

/// What the graph knows about an operation that ledger rules may use: the chain time of its
/// causal past and whether its own chain signature (receipt or anchor) verified.
public struct ApplyContext: Sendable {
    public let chainHeight: UInt64
    public let chainProofValid: Bool
    /// The operation's graph depth (its place in the total order is `(depth, id)`); batch
    /// auctions group operations by depth.
    public let depth: UInt64

    public init(chainHeight: UInt64, chainProofValid: Bool, depth: UInt64 = 1) {
        self.chainHeight = chainHeight
        self.chainProofValid = chainProofValid
        self.depth = depth
    }
}

/// The balance ledger: deposits, transfers, withdrawals, locks. Only an account's owner
/// debits it, and every debit is an operation on the owner's chain (DESIGN.md, "Why author
/// chains"), so honest operations never conflict with each other.
public struct BalanceLedger: Sendable {
    /// Accounts in a dense grid, `grid[slot][participant]`, where a token's slot is its
    /// position in `slots` (learned on first use). Participants and tokens are few and
    /// bounded, so lookups are two array indexings instead of a hash.
    private var slots: [TokenID] = []
    private var grid: [[Account?]] = []
    /// Accounts ever touched.
    public private(set) var accountCount = 0

    /// Every touched account by key (built on demand, for checkers and reports).
    /// - Complexity: O(participants × tokens).
    public var accounts: [AccountKey: Account] {
        var out = [AccountKey: Account]()
        for (slot, token) in slots.enumerated() {
            for (participant, account) in grid[slot].enumerated() {
                if let account { out[AccountKey(participant: ParticipantIndex(participant), token: token)] = account }
            }
        }
        return out
    }

    @inline(__always)
    private func slot(of token: TokenID) -> Int? {
        for index in slots.indices where slots[index] == token { return index }
        return nil
    }

    @inline(__always)
    private func storedAccount(_ key: AccountKey) -> Account? {
        guard let slot = slot(of: key.token) else { return nil }
        let row = grid[slot]
        return Int(key.participant) < row.count ? row[Int(key.participant)] : nil
    }
    public private(set) var locks: [OperationID: LockRecord] = [:]
    public private(set) var usedReceipts: Set<UInt64> = []
    /// Per token, Σ (balance + locked + withdrawn) over accounts, kept incrementally.
    public var tokenTotals: [TokenID: Int128] {
        var out = [TokenID: Int128]()
        for (slot, token) in slots.enumerated() { out[token] = slotTotals[slot] }
        return out
    }
    /// `tokenTotals` by slot (the storage).
    private var slotTotals: [Int128] = []

    /// Σ (balance + locked + withdrawn) over the accounts of `token`, kept incrementally.
    public func tokenTotal(_ token: TokenID) -> Int128 {
        slot(of: token).map { slotTotals[$0] } ?? 0
    }
    /// Per token, Σ applied deposits, kept incrementally from deposit operations alone (not
    /// from account arithmetic), so that `tokenTotals == depositTotals` is a real check.
    public private(set) var depositTotals: [TokenID: Int128] = [:]
    /// Per token, the value applications hold in their pools (escrows, reserves, dust): what
    /// `moveToPool` took from accounts minus what `moveFromPool` paid back. Conservation:
    /// `tokenTotals + pooledTotals == depositTotals`.
    public private(set) var pooledTotals: [TokenID: Int128] = [:]
    /// Accounts with a negative field; 0 unless the ledger is broken.
    public private(set) var negativeAccounts = 0
    /// An incremental multiset hash of the state entries (the wrapping sum of a 128-bit mix of
    /// each entry's fields): equal states have equal fingerprints, and it costs a few
    /// multiplications per mutation, so checkers can compare replicas on every delivery. It is
    /// not collision resistant against an adversary: the Merkle `stateRoot` is the commitment,
    /// this is only a cheap witness of (in)equality for the lab.
    public private(set) var fingerprint: UInt128 = 0
    /// Undo records of every mutation, when journaling is on (`nil` when off). The replica
    /// rolls back by reverting them, at a cost proportional to what is undone, never to the
    /// size of the state.
    var journal: [UndoEntry]?

    /// How to revert one mutation.
    enum UndoEntry: Sendable {
        case account(AccountKey, Account?)
        case lock(OperationID, LockRecord?)
        case receipt(UInt64)
        case deposited(TokenID, Amount)
        /// `pooledTotals[token]` changed by this much.
        case pooled(TokenID, Int128)
        /// Application `index` of the channel state pushed one undo record of its own.
        case application(Int)
    }

    /// Undo-journal entries that stand for an application's records (so trimming can skip
    /// the scan when there are none).
    private var applicationEntries = 0

    /// An empty ledger.
    /// - Parameter journaling: record undo entries so that `revert(toJournalCount:)` works.
    public init(journaling: Bool = false) {
        journal = journaling ? [] : nil
    }

    /// Entries in the undo journal (0 when journaling is off).
    var journalCount: Int { journal?.count ?? 0 }

    /// Reverts every mutation recorded after the journal held `count` entries; an
    /// application's entry calls `undoApplication` with the application's index, newest first.
    mutating func revert(toJournalCount count: Int, undoApplication: (Int) -> Void = { _ in preconditionFailure("no applications") }) {
        precondition(journal != nil, "revert needs journaling")
        precondition(count <= journal!.count)
        while journal!.count > count {
            switch journal!.removeLast() {
            case let .account(key, old): storeAccount(key, old)
            case let .lock(id, old): storeLock(id, old)
            case let .receipt(nonce): storeReceipt(nonce, used: false)
            case let .deposited(token, amount): depositTotals[token, default: 0] -= Int128(amount)
            case let .pooled(token, delta): pooledTotals[token, default: 0] -= delta
            case let .application(index):
                applicationEntries -= 1
                undoApplication(index)
            }
        }
    }

    /// Forgets the oldest `count` journal entries (their mutations can no longer be undone).
    /// - Returns: per application index, how many of its undo records those entries stood for
    ///   (the caller forgets them too); empty when there were none.
    @discardableResult
    mutating func trimJournal(first count: Int) -> [Int: Int] {
        precondition(journal != nil && count <= journal!.count)
        var forgotten = [Int: Int]()
        if applicationEntries > 0 {
            for entry in journal![..<count] {
                if case let .application(index) = entry { forgotten[index, default: 0] += 1 }
            }
            applicationEntries -= forgotten.values.reduce(0, +)
        }
        journal!.removeFirst(count)
        return forgotten
    }

    /// Records that application `index` pushed one undo record (no-op without journaling).
    mutating func noteApplicationUndo(_ index: Int) {
        guard journal != nil else { return }
        journal!.append(.application(index))
        applicationEntries += 1
    }

    /// Holds `amount` of `token` of `owner` for an application: balance to locked, in the
    /// owner's own account (an order's escrow stays the owner's, so a settlement pays it).
    mutating func hold(_ owner: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        credit(AccountKey(participant: owner, token: token), balance: -Int128(amount), locked: Int128(amount))
    }

    /// Releases `amount` of `token` an application held for `owner`: locked back to balance.
    mutating func release(_ owner: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        credit(AccountKey(participant: owner, token: token), balance: Int128(amount), locked: -Int128(amount))
    }

    /// Pays `amount` of `token` that an application held for `owner` to `recipient`'s balance.
    mutating func payHeld(from owner: ParticipantIndex, to recipient: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        credit(AccountKey(participant: owner, token: token), locked: -Int128(amount))
        credit(AccountKey(participant: recipient, token: token), balance: Int128(amount))
    }

    /// Moves `amount` of `token` from `owner`'s balance into an application's pool.
    mutating func moveToPool(_ owner: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        credit(AccountKey(participant: owner, token: token), balance: -Int128(amount))
        journal?.append(.pooled(token, Int128(amount)))
        pooledTotals[token, default: 0] += Int128(amount)
    }

    /// Pays `amount` of `token` from an application's pool into `participant`'s balance.
    mutating func moveFromPool(_ participant: ParticipantIndex, _ token: TokenID, _ amount: Amount) {
        credit(AccountKey(participant: participant, token: token), balance: Int128(amount))
        journal?.append(.pooled(token, -Int128(amount)))
        pooledTotals[token, default: 0] -= Int128(amount)
    }

    private mutating func credit(_ key: AccountKey, balance: Int128 = 0, locked: Int128 = 0, withdrawn: Int128 = 0) {
        let old = storedAccount(key)
        journal?.append(.account(key, old))
        var account = old ?? Account()
        account.balance += balance
        account.locked += locked
        account.withdrawn += withdrawn
        storeAccount(key, account)
    }

    private mutating func setLock(_ id: OperationID, _ lock: LockRecord) {
        journal?.append(.lock(id, locks[id]))
        storeLock(id, lock)
    }

    private mutating func useReceipt(_ nonce: UInt64, token: TokenID, amount: Amount) {
        journal?.append(.receipt(nonce))
        journal?.append(.deposited(token, amount))
        storeReceipt(nonce, used: true)
        depositTotals[token, default: 0] += Int128(amount)
    }

    // The three stores below are the only writers of state: they keep totals, the negative
    // count and the fingerprint in step with every change, forward and in revert.

    private mutating func storeAccount(_ key: AccountKey, _ new: Account?) {
        let slot: Int
        if let known = self.slot(of: key.token) {
            slot = known
        } else {
            precondition(slots.count < ChannelConfig.tokensMax, "more tokens than a channel may hold")
            slots.append(key.token)
            grid.append([])
            slotTotals.append(0)
            slot = slots.count - 1
        }
        let participant = Int(key.participant)
        precondition(participant < ChannelConfig.participantsMax, "participant beyond the channel limit")
        if grid[slot].count <= participant {
            grid[slot].append(contentsOf: repeatElement(nil, count: participant + 1 - grid[slot].count))
        }
        if let old = grid[slot][participant] {
            slotTotals[slot] -= old.total
            if old.isNegative { negativeAccounts -= 1 }
            fingerprint &-= Self.fingerprint(key, old)
            accountCount -= 1
        }
        grid[slot][participant] = new
        if let new {
            slotTotals[slot] += new.total
            if new.isNegative { negativeAccounts += 1 }
            fingerprint &+= Self.fingerprint(key, new)
            accountCount += 1
        }
    }

    private mutating func storeLock(_ id: OperationID, _ new: LockRecord?) {
        if let old = locks[id] { fingerprint &-= Self.fingerprint(id, old) }
        locks[id] = new
        if let new { fingerprint &+= Self.fingerprint(id, new) }
    }

    private mutating func storeReceipt(_ nonce: UInt64, used: Bool) {
        var mix = Mix128(tag: 0x52)
        mix.add(nonce)
        if used {
            precondition(usedReceipts.insert(nonce).inserted)
            fingerprint &+= mix.value
        } else {
            precondition(usedReceipts.remove(nonce) != nil)
            fingerprint &-= mix.value
        }
    }

    static func fingerprint(_ key: AccountKey, _ account: Account) -> UInt128 {
        var mix = Mix128(tag: 0x41)
        mix.add(UInt64(key.participant) << 32 | UInt64(key.token))
        mix.addWide(account.balance)
        mix.addWide(account.locked)
        mix.addWide(account.withdrawn)
        return mix.value
    }

    static func fingerprint(_ id: OperationID, _ lock: LockRecord) -> UInt128 {
        var mix = Mix128(tag: 0x4C)
        mix.add(id.w0)
        mix.add(id.w1)
        mix.add(id.w2)
        mix.add(id.w3)
        mix.add(UInt64(lock.owner) << 32 | UInt64(lock.token))
        mix.addWide(Int128(lock.amount))
        mix.add(lock.untilHeight)
        mix.add(lock.released ? 1 : 0)
        return mix.value
    }

    /// The account of `participant` in `token` (zero if never touched).
    public func account(_ participant: ParticipantIndex, _ token: TokenID) -> Account {
        storedAccount(AccountKey(participant: participant, token: token)) ?? Account()
    }

    /// Applies `op` or explains why not. On rejection the ledger is unchanged.
    /// - Parameters:
    ///   - op: the operation, already accepted into the graph.
    ///   - context: graph facts about the operation.
    ///   - config: the channel configuration.
    ///   - bugs: planted bugs to switch in (none in production).
    public mutating func apply(
        _ op: SignedOperation, context: ApplyContext, config: ChannelConfig, bugs: PlantedBugs
    ) -> LedgerRejection? {
        guard let author = config.participant(op.author) else {
            preconditionFailure("the graph accepts only participants' operations")
        }
        let permissions = author.role.permissions
        switch op.payload {
        case let .deposit(receipt):
            guard permissions.contains(.holdFunds) else { return .notPermitted(role: author.role) }
            guard config.hasToken(receipt.token) else { return .unknownToken(receipt.token) }
            guard context.chainProofValid else { return .badChainSignature }
            guard !usedReceipts.contains(receipt.nonce) else { return .receiptAlreadyUsed(nonce: receipt.nonce) }
            useReceipt(receipt.nonce, token: receipt.token, amount: receipt.amount)
            credit(AccountKey(participant: op.author, token: receipt.token), balance: Int128(receipt.amount))
            return nil
        case let .transfer(to, token, amount):
            guard permissions.contains(.holdFunds) else { return .notPermitted(role: author.role) }
            guard config.hasToken(token) else { return .unknownToken(token) }
            guard let recipient = config.participant(to) else { return .unknownRecipient(to) }
            guard recipient.role.permissions.contains(.holdFunds) else { return .recipientCannotHoldFunds(to) }
            guard to != op.author else { return .selfTransfer }
            if let rejection = checkBalance(op.author, token, amount, bugs) { return rejection }
            if !bugs.contains(.creditWithoutDebit) {
                credit(AccountKey(participant: op.author, token: token), balance: -Int128(amount))
            }
            credit(AccountKey(participant: to, token: token), balance: Int128(amount))
            return nil
        case let .withdraw(token, amount):
            guard permissions.contains(.holdFunds) else { return .notPermitted(role: author.role) }
            guard config.hasToken(token) else { return .unknownToken(token) }
            if let rejection = checkBalance(op.author, token, amount, bugs) { return rejection }
            credit(AccountKey(participant: op.author, token: token), balance: -Int128(amount), withdrawn: Int128(amount))
            return nil
        case let .lock(token, amount, untilHeight):
            guard permissions.contains(.holdFunds) else { return .notPermitted(role: author.role) }
            guard config.hasToken(token) else { return .unknownToken(token) }
            if let rejection = checkBalance(op.author, token, amount, bugs) { return rejection }
            let counted = bugs.contains(.countLockedTwice) ? Int128(amount) * 2 : Int128(amount)
            credit(AccountKey(participant: op.author, token: token), balance: -Int128(amount), locked: counted)
            setLock(op.id, LockRecord(owner: op.author, token: token, amount: amount, untilHeight: untilHeight, released: false))
            return nil
        case let .unlock(lockID):
            guard permissions.contains(.holdFunds) else { return .notPermitted(role: author.role) }
            guard let lock = locks[lockID] else { return .unknownLock(lockID) }
            guard lock.owner == op.author else { return .lockNotOwned(lockID) }
            guard !lock.released else { return .lockAlreadyReleased(lockID) }
            guard context.chainHeight >= lock.untilHeight else {
                return .lockNotExpired(chainHeight: context.chainHeight, untilHeight: lock.untilHeight)
            }
            var released = lock
            released.released = true
            setLock(lockID, released)
            credit(AccountKey(participant: op.author, token: lock.token), balance: Int128(lock.amount), locked: -Int128(lock.amount))
            return nil
        case .chainAnchor:
            guard permissions.contains(.citeChainTime) else { return .notPermitted(role: author.role) }
            guard context.chainProofValid else { return .badChainSignature }
            return nil
        case let .application(payload):
            // Applications apply through `ChannelState`; a bare ledger owns none of them.
            return .applicationNotEnabled(kind: payload.kind)
        }
    }

    private func checkBalance(_ owner: ParticipantIndex, _ token: TokenID, _ amount: Amount, _ bugs: PlantedBugs) -> LedgerRejection? {
        if bugs.contains(.skipBalanceCheck) { return nil }
        let available = account(owner, token).balance
        guard available >= Int128(amount) else { return .insufficientBalance(available: available, needed: amount) }
        return nil
    }

    /// The sum of every account's conservation total for `token`, recomputed from the accounts
    /// (checkers compare it with `tokenTotals` and `depositTotals`).
    /// - Complexity: O(accounts).
    public func total(of token: TokenID) -> Int128 {
        guard let slot = slot(of: token) else { return 0 }
        var sum: Int128 = 0
        for account in grid[slot] { if let account { sum += account.total } }
        return sum
    }
}
