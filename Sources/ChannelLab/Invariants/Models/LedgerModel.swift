import ChannelCore

/// An independent model of a replica's ledger, written from docs/merge-and-ledger.md and
/// docs/wire-format.md, not from `BalanceLedger` or `Replica`: a checker that asked the
/// system's own code what was right could not see that code's bugs. From a closed set of
/// accepted operations it recomputes depth, chain time, the total order, every ledger rule in
/// its documented check order, the class of every refusal (by replaying the causal past), the
/// state leaves and the RFC 6962 root.
///
/// Deliberately simple: no undo journal, no incremental merge, no fast path; dictionaries and
/// one pass in the total order. It shares only crypto primitives (BLAKE2b, Ed25519 verify) and
/// the decoded operation types with the system under test; the digests, leaf bytes, rejection
/// record bytes and Merkle tree it builds itself.
struct LedgerModel {
    struct AccountID: Hashable, Comparable {
        let participant: UInt32
        let token: UInt32
        static func < (a: AccountID, b: AccountID) -> Bool { (a.participant, a.token) < (b.participant, b.token) }
    }

    struct AccountState: Equatable {
        var balance: Int128 = 0
        var locked: Int128 = 0
        var withdrawn: Int128 = 0
    }

    struct LockState: Equatable {
        let owner: UInt32
        let token: UInt32
        let amount: UInt128
        let until: UInt64
        var released: Bool
    }

    /// A refusal: the rejection record's reason code and parameters as documented bytes, and
    /// whether it depends on state (docs: `dependsOnState`).
    struct Refusal: Equatable {
        let reasonBytes: [UInt8]
        let dependsOnState: Bool
        /// An application's refusal that is not slashable (class void unless its causal past
        /// refuses it for a slashable reason).
        var void = false
    }

    /// What the model computes for a set of operations.
    struct Outcome {
        /// The enabled applications' models, in configuration order.
        var applications: [any ApplicationModel] = []
        var accounts: [AccountID: AccountState] = [:]
        var locks: [OperationID: LockState] = [:]
        var receipts: Set<UInt64> = []
        /// Per token, Σ amounts of the deposits applied.
        var deposits: [UInt32: Int128] = [:]
        /// Canonical bytes of every ledger refusal's record, by operation id.
        var records: [OperationID: [UInt8]] = [:]
        var leaves: [[UInt8]] = []
        var root = Digest32.zero
    }

    /// Most operations one model run takes (it is quadratic at worst in refusals to classify).
    static let operationsMax = 1 << 20

    let config: ChannelConfig
    let tokens: Set<UInt32>

    /// A fresh model of every application the channel enables, or `nil` when one has none.
    let applicationModels: [any ApplicationModel]?

    init(config: ChannelConfig) {
        self.config = config
        tokens = Set(config.tokens)
        var models = [any ApplicationModel]()
        for setup in config.applications {
            guard let model = LabApplications.named(setup.name)?.model(setup) else {
                applicationModels = nil
                return
            }
            models.append(model)
        }
        applicationModels = models
    }

    /// Whether the model knows every application the channel enables.
    var judgesEveryApplication: Bool { applicationModels != nil }

    /// An empty state: no accounts, and a fresh model of each enabled application.
    func empty() -> Outcome {
        precondition(judgesEveryApplication, "the model knows every enabled application")
        var outcome = Outcome()
        outcome.applications = applicationModels!
        return outcome
    }

    /// Ids compare as byte strings (docs), compared here byte by byte rather than through the
    /// system's own `Digest32` order.
    static func precedes(_ a: OperationID, _ b: OperationID) -> Bool { bytes(a).lexicographicallyPrecedes(bytes(b)) }

    // MARK: The documented digests, leaves and tree

    /// `H(tag, data)`: BLAKE2b-256 of `u8(len(tag)) ‖ tag ‖ data`.
    static func tagged(_ tag: String, _ data: [UInt8]) -> Digest32 {
        let tagBytes = Array(tag.utf8)
        return Blake2b.hash256([UInt8(tagBytes.count)] + tagBytes + data)
    }

    static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    static func bytes(_ digest: Digest32) -> [UInt8] {
        [digest.w0, digest.w1, digest.w2, digest.w3].flatMap { be($0) }
    }

    /// The canonical unsigned bytes of docs/wire-format.md ("Unsigned operation"), written
    /// here again so that a replica holding bytes the docs would not produce is seen.
    static func canonicalBytes(_ u: UnsignedOperation) -> [UInt8] {
        var out: [UInt8] = [1] + bytes(u.channel) + be(u.author) + be(u.seq) + [UInt8(truncatingIfNeeded: u.preds.count)]
        for pred in u.preds { out += bytes(pred) }
        switch u.payload {
        case let .deposit(r): out += [0x01] + be(r.token) + be(r.amount) + be(r.nonce) + be(r.height) + r.signature.bytes
        case let .transfer(to, token, amount): out += [0x02] + be(to) + be(token) + be(amount)
        case let .withdraw(token, amount): out += [0x03] + be(token) + be(amount)
        case let .lock(token, amount, until): out += [0x04] + be(token) + be(amount) + be(until)
        case let .unlock(lock): out += [0x05] + bytes(lock)
        case let .chainAnchor(anchor): out += [0x06] + be(anchor.height) + anchor.signature.bytes
        case let .application(payload): out += [payload.kind] + payload.body
        }
        return out
    }

    /// Why an accepted operation is not canonical (docs/wire-format.md), or `nil`: its bytes
    /// are the canonical encoding of its fields, its preds strictly ascending (at most 16), its
    /// seq at least 1, its amounts in `1...2^96 − 1`, and its id the hash of those bytes.
    static func nonCanonical(_ op: SignedOperation) -> String? {
        let u = op.unsigned
        guard op.unsignedBytes == canonicalBytes(u) else { return "its bytes are not the canonical encoding of its fields" }
        guard tagged("chanlab/op-id/v1", op.unsignedBytes) == op.id else { return "its id is not the hash of its bytes" }
        guard u.seq >= 1 else { return "seq 0" }
        guard u.preds.count <= 16, zip(u.preds, u.preds.dropFirst()).allSatisfy({ $0 < $1 }) else { return "its preds are not strictly ascending, at most 16" }
        let amounts: [UInt128]
        switch u.payload {
        case let .deposit(r): amounts = [r.amount]
        case let .transfer(_, _, amount), let .withdraw(_, amount), let .lock(_, amount, _): amounts = [amount]
        case .unlock, .chainAnchor, .application: amounts = []
        }
        guard amounts.allSatisfy({ $0 >= 1 && $0 <= (1 << 96) - 1 }) else { return "an amount outside 1...2^96-1" }
        return nil
    }

    /// An account leaf: `'A' ‖ u32 participant ‖ u32 token ‖ i128 balance ‖ i128 locked ‖ i128
    /// withdrawn`, the amounts as 16-byte big-endian two's complement.
    static func accountLeaf(_ key: AccountID, _ account: AccountState) -> [UInt8] {
        [0x41] + be(key.participant) + be(key.token) + be(UInt128(bitPattern: account.balance)) + be(UInt128(bitPattern: account.locked))
            + be(UInt128(bitPattern: account.withdrawn))
    }

    /// RFC 6962 Merkle tree hash, recursively: split at the largest power of two below n.
    static func merkleRoot(_ leaves: ArraySlice<[UInt8]>) -> Digest32 {
        if leaves.isEmpty { return Blake2b.hash256([]) }
        if leaves.count == 1 { return Blake2b.hash256([0x00] + leaves.first!) }
        var split = 1
        while split * 2 < leaves.count { split *= 2 }
        let left = merkleRoot(leaves.prefix(split))
        let right = merkleRoot(leaves.dropFirst(split))
        return Blake2b.hash256([0x01] + bytes(left) + bytes(right))
    }

    /// RFC 6962 audit path of leaf `m` (PATH(m, D[n])), recursively, as leaf-hash level
    /// digests from the bottom up.
    static func auditPath(_ m: Int, _ leaves: ArraySlice<[UInt8]>) -> [Digest32] {
        guard leaves.count > 1 else { return [] }
        var split = 1
        while split * 2 < leaves.count { split *= 2 }
        if m < split { return auditPath(m, leaves.prefix(split)) + [merkleRoot(leaves.dropFirst(split))] }
        return auditPath(m - split, leaves.dropFirst(split)) + [merkleRoot(leaves.prefix(split))]
    }

    /// Whether `path` proves `leafHash` at index `m` of a tree of `n` leaves with `root`, by
    /// the recursive definition (the path's last entry is the top-level sibling).
    static func verifiesInclusion(leafHash: Digest32, m: UInt64, n: UInt64, path: [Digest32], root: Digest32) -> Bool {
        func climb(_ m: UInt64, _ n: UInt64, _ path: ArraySlice<Digest32>) -> Digest32? {
            if n == 1 { return path.isEmpty ? leafHash : nil }
            guard let top = path.last else { return nil }
            var split: UInt64 = 1
            while split * 2 < n { split *= 2 }
            if m < split {
                return climb(m, split, path.dropLast()).map { Blake2b.hash256([0x01] + bytes($0) + bytes(top)) }
            }
            return climb(m - split, n - split, path.dropLast()).map { Blake2b.hash256([0x01] + bytes(top) + bytes($0)) }
        }
        guard m < n, n <= 1 << 62, path.count <= 64 else { return false }
        return climb(m, n, path[...]) == root
    }

    // MARK: Computing

    /// Whether every operation's predecessors are in the set (what `outcome` needs), or the
    /// first that cites one outside it.
    static func unclosed(_ ops: [SignedOperation]) -> (op: OperationID, missing: OperationID)? {
        let ids = Set(ops.map(\.id))
        for op in ops {
            if let missing = op.preds.first(where: { !ids.contains($0) }) { return (op.id, missing) }
        }
        return nil
    }

    /// The ledger after `ops` in the total order.
    /// - Parameters:
    ///   - ops: a set closed under predecessors (callers check with `unclosed` first: it comes
    ///     from the system under test).
    ///   - classifying: the one refusal to class and record (`nil`: every refusal); a verifier
    ///     of one piece of evidence needs only its operation's.
    /// - Complexity: O(n log n) plus a replay of the causal past per state-dependent refusal
    ///   classed.
    func outcome(of ops: [SignedOperation], classifying: OperationID? = nil) -> Outcome {
        precondition(ops.count <= Self.operationsMax, "the model takes at most \(Self.operationsMax) operations")
        precondition(Self.unclosed(ops) == nil, "the model takes a set closed under predecessors")
        let byID = Dictionary(ops.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let (depth, height, proofValid) = derive(byID)
        let inOrder = { (a: OperationID, b: OperationID) in depth[a]! != depth[b]! ? depth[a]! < depth[b]! : Self.precedes(a, b) }
        let order = byID.keys.sorted(by: inOrder)
        var state = empty()
        for id in order {
            let op = byID[id]!
            guard let refusal = apply(op, chainHeight: height[id]!, depth: depth[id]!, proofValid: proofValid[id]!, to: &state) else { continue }
            if let only = classifying, only != id { continue }
            // Invalid in its causal past: refused there for a slashable reason (a refusal that
            // does not depend on state and is not void is refused in any past).
            var invalid = !refusal.void
            if refusal.dependsOnState || refusal.void {
                // Replay exactly the causal past, in the same total order, from an empty state.
                var past = empty()
                for ancestor in ancestors(of: op, byID).sorted(by: inOrder) {
                    _ = apply(byID[ancestor]!, chainHeight: height[ancestor]!, depth: depth[ancestor]!, proofValid: proofValid[ancestor]!, to: &past)
                }
                invalid = apply(op, chainHeight: height[id]!, depth: depth[id]!, proofValid: proofValid[id]!, to: &past).map { !$0.void } ?? false
            }
            let classByte: UInt8 = invalid ? 0x01 : (refusal.void ? 0x03 : 0x02)
            state.records[id] = Self.bytes(id) + Self.be(op.author) + Self.be(op.seq) + [classByte] + refusal.reasonBytes
        }
        for key in state.accounts.keys.sorted() { state.leaves.append(Self.accountLeaf(key, state.accounts[key]!)) }
        for id in state.locks.keys.sorted(by: Self.precedes) {
            let lock = state.locks[id]!
            state.leaves.append(
                [0x4C] + Self.bytes(id) + Self.be(lock.owner) + Self.be(lock.token) + Self.be(lock.amount) + Self.be(lock.until) + [lock.released ? 1 : 0])
        }
        for nonce in state.receipts.sorted() { state.leaves.append([0x52] + Self.be(nonce)) }
        for application in state.applications { state.leaves += application.leaves() }
        state.root = Self.merkleRoot(state.leaves[...])
        return state
    }

    /// Depth, chain height and whether each operation's own receipt or anchor verifies, in an
    /// order where every operation comes after its predecessors (an explicit stack: no
    /// recursion over untrusted depth).
    func derive(_ byID: [OperationID: SignedOperation]) -> (depth: [OperationID: UInt64], height: [OperationID: UInt64], proofValid: [OperationID: Bool]) {
        var depth = [OperationID: UInt64]()
        var height = [OperationID: UInt64]()
        var proofValid = [OperationID: Bool]()
        for root in byID.keys.sorted(by: Self.precedes) where depth[root] == nil {
            var stack = [root]
            while let id = stack.last {
                if depth[id] != nil {
                    stack.removeLast()
                    continue
                }
                let op = byID[id]!
                let pending = op.preds.filter { depth[$0] == nil }
                precondition(pending.allSatisfy { byID[$0] != nil }, "the model takes a set closed under predecessors")
                if !pending.isEmpty {
                    stack.append(contentsOf: pending)
                    continue
                }
                stack.removeLast()
                depth[id] = 1 + (op.preds.map { depth[$0]! }.max() ?? 0)
                let (valid, cited) = chainProof(op)
                proofValid[id] = valid
                height[id] = max(op.preds.map { height[$0]! }.max() ?? 0, valid ? cited : 0)
            }
        }
        return (depth, height, proofValid)
    }

    /// Whether the funding key signed the operation's receipt or anchor, and the height it
    /// cites (true, 0 for other payloads).
    func chainProof(_ op: SignedOperation) -> (Bool, UInt64) {
        switch op.payload {
        case let .deposit(receipt):
            let digest = Self.tagged(
                "chanlab/deposit-receipt/v1",
                Self.bytes(config.channel) + Self.be(op.author) + Self.be(receipt.token) + Self.be(receipt.amount) + Self.be(receipt.nonce) + Self.be(receipt.height))
            return (config.fundingKey.verify(receipt.signature, digest: digest), receipt.height)
        case let .chainAnchor(anchor):
            let digest = Self.tagged("chanlab/chain-anchor/v1", Self.bytes(config.channel) + Self.be(anchor.height))
            return (config.fundingKey.verify(anchor.signature, digest: digest), anchor.height)
        case .transfer, .withdraw, .lock, .unlock, .application:
            return (true, 0)
        }
    }

    func ancestors(of op: SignedOperation, _ byID: [OperationID: SignedOperation]) -> Set<OperationID> {
        var seen = Set<OperationID>()
        var stack = op.preds
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            stack.append(contentsOf: byID[id]!.preds)
        }
        return seen
    }

    /// Role codes of docs/channel.md, and who may hold funds (everyone but observers).
    static func roleCode(_ role: Role) -> UInt8 {
        switch role {
        case .trader: return 1
        case .marketMaker: return 2
        case .liquidator: return 3
        case .oracle: return 4
        case .observer: return 5
        }
    }

    static func holdsFunds(_ role: Role) -> Bool { role != .observer }

    /// Applies one operation by the documented rules, in their documented order; the refusal,
    /// or `nil` when it applied.
    func apply(_ op: SignedOperation, chainHeight: UInt64, depth: UInt64, proofValid: Bool, to state: inout Outcome) -> Refusal? {
        let role = config.participants[Int(op.author)].role
        func refuse(_ code: UInt8, _ parameters: [UInt8] = [], stateful: Bool = false) -> Refusal {
            Refusal(reasonBytes: [code] + parameters, dependsOnState: stateful)
        }
        func add(_ participant: UInt32, _ token: UInt32, balance: Int128 = 0, locked: Int128 = 0, withdrawn: Int128 = 0) {
            var account = state.accounts[AccountID(participant: participant, token: token)] ?? AccountState()
            account.balance += balance
            account.locked += locked
            account.withdrawn += withdrawn
            state.accounts[AccountID(participant: participant, token: token)] = account
        }
        func balance(_ token: UInt32) -> Int128 { state.accounts[AccountID(participant: op.author, token: token)]?.balance ?? 0 }
        let notPermitted = refuse(0x11, [Self.roleCode(role)])
        switch op.payload {
        case let .deposit(receipt):
            guard Self.holdsFunds(role) else { return notPermitted }
            guard tokens.contains(receipt.token) else { return refuse(0x12, Self.be(receipt.token)) }
            guard proofValid else { return refuse(0x17) }
            guard !state.receipts.contains(receipt.nonce) else { return refuse(0x18, Self.be(receipt.nonce), stateful: true) }
            state.receipts.insert(receipt.nonce)
            state.deposits[receipt.token, default: 0] += Int128(receipt.amount)
            add(op.author, receipt.token, balance: Int128(receipt.amount))
        case let .transfer(to, token, amount):
            guard Self.holdsFunds(role) else { return notPermitted }
            guard tokens.contains(token) else { return refuse(0x12, Self.be(token)) }
            guard Int(to) < config.participants.count else { return refuse(0x13, Self.be(to)) }
            guard Self.holdsFunds(config.participants[Int(to)].role) else { return refuse(0x14, Self.be(to)) }
            guard to != op.author else { return refuse(0x15) }
            guard balance(token) >= Int128(amount) else {
                return refuse(0x16, Self.be(UInt128(bitPattern: balance(token))) + Self.be(amount), stateful: true)
            }
            add(op.author, token, balance: -Int128(amount))
            add(to, token, balance: Int128(amount))
        case let .withdraw(token, amount):
            guard Self.holdsFunds(role) else { return notPermitted }
            guard tokens.contains(token) else { return refuse(0x12, Self.be(token)) }
            guard balance(token) >= Int128(amount) else {
                return refuse(0x16, Self.be(UInt128(bitPattern: balance(token))) + Self.be(amount), stateful: true)
            }
            add(op.author, token, balance: -Int128(amount), withdrawn: Int128(amount))
        case let .lock(token, amount, until):
            guard Self.holdsFunds(role) else { return notPermitted }
            guard tokens.contains(token) else { return refuse(0x12, Self.be(token)) }
            guard balance(token) >= Int128(amount) else {
                return refuse(0x16, Self.be(UInt128(bitPattern: balance(token))) + Self.be(amount), stateful: true)
            }
            add(op.author, token, balance: -Int128(amount), locked: Int128(amount))
            state.locks[op.id] = LockState(owner: op.author, token: token, amount: amount, until: until, released: false)
        case let .unlock(lockID):
            guard Self.holdsFunds(role) else { return notPermitted }
            guard var lock = state.locks[lockID] else { return refuse(0x19, Self.bytes(lockID), stateful: true) }
            guard lock.owner == op.author else { return refuse(0x1A, Self.bytes(lockID)) }
            guard !lock.released else { return refuse(0x1B, Self.bytes(lockID), stateful: true) }
            guard chainHeight >= lock.until else { return refuse(0x1C, Self.be(chainHeight) + Self.be(lock.until)) }
            lock.released = true
            state.locks[lockID] = lock
            add(op.author, lock.token, balance: Int128(lock.amount), locked: -Int128(lock.amount))
        case .chainAnchor:
            guard proofValid else { return refuse(0x17) }
        case let .application(payload):
            // The enabled application owning the kind judges it (its own model); none: refused.
            guard let index = state.applications.firstIndex(where: { $0.kinds.contains(payload.kind) }) else { return refuse(0x1D, [payload.kind]) }
            return state.applications[index].apply(op, payload, chainHeight: chainHeight, depth: depth, role: role, accounts: &state.accounts)
        }
        return nil
    }
}
