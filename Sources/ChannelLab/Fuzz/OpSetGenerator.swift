import ChannelCore

/// What random operation sets to generate: shared by the property tests, the demo and the
/// merge benchmark, so all three exercise the same shapes.
public struct OpSetSpec: Sendable, Hashable {
    /// Participants (indices 0..<participants).
    public var participants: Int
    /// Participants whose operations may equivocate or overdraft.
    public var byzantine: [ParticipantIndex]
    /// Participants with the observer role (they only cite chain time).
    public var observers: [ParticipantIndex]
    /// Operations to generate (forks count once per branch).
    public var ops: Int
    /// Tokens of the channel.
    public var tokens: [TokenID]
    /// Most other authors' operations one operation cites.
    public var citeOthersMax: Int
    /// How far behind the newest operation an author's view may lag, in operations.
    public var viewLagOpsMax: Int
    /// Chance per Byzantine operation of an equivocating double spend (a forked chain).
    public var equivocationPerMille: Int
    /// Chance per Byzantine operation of an overdraft visible in its own causal past.
    public var overdraftPerMille: Int
    /// Chance per Byzantine operation of a side operation that breaks the author's chain (a
    /// seq that skips, or a seq above 1 that cites no own operation). Refused on record.
    public var brokenChainPerMille: Int
    /// Chance per Byzantine operation of a side operation that cites several operations
    /// already refused (a fan-in of rejections): refused as `predecessorRejected`, whose record
    /// must not depend on which refusal arrived first.
    public var rejectedFanInPerMille: Int

    public init(
        participants: Int = 4, byzantine: [ParticipantIndex] = [], observers: [ParticipantIndex] = [],
        ops: Int = 100, tokens: [TokenID] = [0, 1], citeOthersMax: Int = 3, viewLagOpsMax: Int = 8,
        equivocationPerMille: Int = 0, overdraftPerMille: Int = 0, brokenChainPerMille: Int = 0, rejectedFanInPerMille: Int = 0
    ) {
        precondition(participants >= 2 && participants <= ChannelConfig.participantsMax)
        precondition(ops >= 0)
        precondition(citeOthersMax >= 0 && citeOthersMax < WireLimits.predsMax)
        self.participants = participants
        self.byzantine = byzantine
        self.observers = observers
        self.ops = ops
        self.tokens = tokens
        self.citeOthersMax = citeOthersMax
        self.viewLagOpsMax = viewLagOpsMax
        self.equivocationPerMille = equivocationPerMille
        self.overdraftPerMille = overdraftPerMille
        self.brokenChainPerMille = brokenChainPerMille
        self.rejectedFanInPerMille = rejectedFanInPerMille
    }
}

/// A channel and a set of signed operations over it, in creation order (a causal order).
public struct GeneratedChannel: Sendable {
    public let seed: UInt64
    public let config: ChannelConfig
    /// The funding (chain) key that signs receipts and anchors.
    public let funding: KeyPair
    /// Participants' keys, by index.
    public let keys: [KeyPair]
    /// Operations in creation order: every operation comes after its predecessors.
    public let ops: [SignedOperation]
}

/// Generates random operation sets from a seed: honest authors spend only what their own
/// causal past shows them; Byzantine authors fork their chains to double spend and overdraft.
public enum OpSetGenerator {
    /// The channel id the lab derives from a seed.
    public static func channelID(seed: UInt64) -> ChannelID {
        var input = [UInt8]()
        input.appendBigEndian(seed)
        return Blake2b.hash256(domain: .channelID, input)
    }

    /// A channel configuration with deterministic keys for `participants`.
    public static func makeChannel(seed: UInt64, participants: Int, observers: [ParticipantIndex] = [], tokens: [TokenID])
        -> (config: ChannelConfig, funding: KeyPair, keys: [KeyPair])
    {
        let keys = (0..<participants).map { KeyPair(labSeed: seed, index: UInt32($0)) }
        let funding = KeyPair(labSeed: seed, index: UInt32.max)
        let members = keys.enumerated().map { index, key in
            Participant(
                index: ParticipantIndex(index), publicKey: key.publicKey,
                role: observers.contains(ParticipantIndex(index)) ? .observer : .trader)
        }
        let config = ChannelConfig(channel: channelID(seed: seed), participants: members, fundingKey: funding.publicKey, tokens: tokens)
        return (config, funding, keys)
    }

    /// Generates the operation set of `spec` for `seed`.
    /// - Complexity: O(ops · (citeOthersMax + log ops)) plus one signature per operation.
    public static func generate(_ spec: OpSetSpec, seed: UInt64) -> GeneratedChannel {
        var state = GeneratorState(spec: spec, seed: seed)
        while state.ops.count < spec.ops {
            state.step()
        }
        return GeneratedChannel(seed: seed, config: state.config, funding: state.funding, keys: state.keys, ops: state.ops)
    }
}

/// The generator's bookkeeping: each author's view, spendable estimate, locks and chain time.
private struct GeneratorState {
    struct AuthorView {
        var chain: AuthorChain
        var knownUpTo = 0
        var citedIndex: [Int]
        var creditCursor: [Int]
        var spendable: [TokenID: Int128] = [:]
        var locks: [(id: OperationID, token: TokenID, amount: Amount, until: UInt64)] = []
        var seenHeight: UInt64 = 0
    }

    struct Credit {
        let index: Int
        let token: TokenID
        let amount: Amount
    }

    let spec: OpSetSpec
    let config: ChannelConfig
    let funding: KeyPair
    let keys: [KeyPair]
    var rng: SeededRandom
    var ops: [SignedOperation] = []
    var views: [AuthorView]
    /// Per author, its adopted chain: (creation index, id, chain height).
    var chains: [[(index: Int, id: OperationID, height: UInt64)]]
    /// incoming[a][b]: credits to a from b's honest transfers, in creation order.
    var incoming: [[[Credit]]]
    var chainHeight: UInt64 = 1
    var nextNonce: UInt64 = 1
    /// Side operations every replica refuses (broken chains and their descendants), which
    /// later side operations may cite. Never cited by chain operations.
    var refused: [OperationID] = []

    init(spec: OpSetSpec, seed: UInt64) {
        self.spec = spec
        let channel = OpSetGenerator.makeChannel(seed: seed, participants: spec.participants, observers: spec.observers, tokens: spec.tokens)
        config = channel.config
        funding = channel.funding
        keys = channel.keys
        rng = SeededRandom(seed: seed, stream: "opset")
        let n = spec.participants
        views = (0..<n).map { index in
            AuthorView(
                chain: AuthorChain(channel: channel.config.channel, author: ParticipantIndex(index), key: channel.keys[index]),
                citedIndex: [Int](repeating: -1, count: n), creditCursor: [Int](repeating: 0, count: n))
        }
        chains = [[(index: Int, id: OperationID, height: UInt64)]](repeating: [], count: n)
        incoming = [[[Credit]]](repeating: [[Credit]](repeating: [], count: n), count: n)
    }

    var holders: [Int] { (0..<spec.participants).filter { !spec.observers.contains(ParticipantIndex($0)) } }

    mutating func step() {
        let index = ops.count
        if rng.chance(perMille: 50) { chainHeight += 1 }
        let author = rng.index(spec.participants)
        var view = views[author]
        view.knownUpTo = max(view.knownUpTo, index - rng.int(in: 0...spec.viewLagOpsMax))
        let cites = chooseCitations(author, &view)
        let isObserver = spec.observers.contains(ParticipantIndex(author))
        let isByzantine = spec.byzantine.contains(ParticipantIndex(author))
        let channel = config.channel
        if isObserver {
            emit(author, &view, view.chain.append(.chainAnchor(funding.signAnchor(channel: channel, height: chainHeight)), citing: cites), height: chainHeight)
        } else if isByzantine, rng.chance(perMille: spec.equivocationPerMille) {
            fork(author, &view, cites)
        } else if isByzantine, rng.chance(perMille: spec.brokenChainPerMille) {
            breakChain(author, &view, cites)
        } else if isByzantine, refused.count >= 2, rng.chance(perMille: spec.rejectedFanInPerMille) {
            fanIn(author, &view, cites)
        } else if isByzantine, rng.chance(perMille: spec.overdraftPerMille), let token = spec.tokens.first {
            let available = max(view.spendable[token] ?? 0, 0)
            let amount = Amount(available) + 1 + Amount(rng.below(100))
            let to = otherHolder(author)
            emit(author, &view, view.chain.append(.transfer(to: to, token: token, amount: amount), citing: cites), height: 0)
        } else {
            honestStep(author, &view, cites)
        }
        views[author] = view
    }

    /// Cites the newest operation each chosen author had when `view` was last refreshed.
    mutating func chooseCitations(_ author: Int, _ view: inout AuthorView) -> [OperationID] {
        var cites = [OperationID]()
        let count = rng.int(in: 0...spec.citeOthersMax)
        for _ in 0..<count {
            let other = rng.index(spec.participants)
            guard other != author else { continue }
            guard let entry = latest(of: other, before: view.knownUpTo) else { continue }
            cites.append(entry.id)
            view.seenHeight = max(view.seenHeight, entry.height)
            if entry.index > view.citedIndex[other] {
                view.citedIndex[other] = entry.index
                absorbCredits(from: other, into: &view, author: author)
            }
        }
        return cites
    }

    func latest(of author: Int, before limit: Int) -> (index: Int, id: OperationID, height: UInt64)? {
        let chain = chains[author]
        var low = 0
        var high = chain.count
        while low < high {
            let mid = (low + high) / 2
            if chain[mid].index < limit { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : chain[low - 1]
    }

    /// Counts honest credits from `other` that are now in the author's causal past.
    mutating func absorbCredits(from other: Int, into view: inout AuthorView, author: Int) {
        guard !spec.byzantine.contains(ParticipantIndex(other)) else { return }
        let credits = incoming[author][other]
        var cursor = view.creditCursor[other]
        while cursor < credits.count, credits[cursor].index <= view.citedIndex[other] {
            view.spendable[credits[cursor].token, default: 0] += Int128(credits[cursor].amount)
            cursor += 1
        }
        view.creditCursor[other] = cursor
    }

    mutating func honestStep(_ author: Int, _ view: inout AuthorView, _ cites: [OperationID]) {
        let channel = config.channel
        let funded = spec.tokens.filter { (view.spendable[$0] ?? 0) > 0 }
        let roll = rng.below(100)
        if funded.isEmpty || roll < 15 {
            let token = spec.tokens[rng.index(spec.tokens.count)]
            let amount = Amount(1 + rng.below(1000))
            let receipt = funding.signReceipt(
                channel: channel, participant: ParticipantIndex(author), token: token, amount: amount, nonce: nextNonce, height: chainHeight)
            nextNonce += 1
            view.spendable[token, default: 0] += Int128(amount)
            emit(author, &view, view.chain.append(.deposit(receipt), citing: cites), height: chainHeight)
            return
        }
        let token = funded[rng.index(funded.count)]
        let available = UInt64(view.spendable[token]!)
        let amount = Amount(1 + rng.below(max(available / 2, 1)))
        if roll < 65, holders.count > 1 {
            let to = otherHolder(author)
            view.spendable[token]! -= Int128(amount)
            let op = view.chain.append(.transfer(to: to, token: token, amount: amount), citing: cites)
            emit(author, &view, op, height: 0)
            if !spec.byzantine.contains(ParticipantIndex(author)) {
                incoming[Int(to)][author].append(Credit(index: ops.count - 1, token: token, amount: amount))
            }
        } else if roll < 75 {
            view.spendable[token]! -= Int128(amount)
            emit(author, &view, view.chain.append(.withdraw(token: token, amount: amount), citing: cites), height: 0)
        } else if roll < 85 {
            view.spendable[token]! -= Int128(amount)
            let until = view.seenHeight + 1 + rng.below(3)
            let op = view.chain.append(.lock(token: token, amount: amount, untilHeight: until), citing: cites)
            view.locks.append((op.id, token, amount, until))
            emit(author, &view, op, height: 0)
        } else if let position = view.locks.firstIndex(where: { $0.until <= view.seenHeight }) {
            let lock = view.locks.remove(at: position)
            view.spendable[lock.token, default: 0] += Int128(lock.amount)
            emit(author, &view, view.chain.append(.unlock(lockID: lock.id), citing: cites), height: 0)
        } else {
            emit(author, &view, view.chain.append(.chainAnchor(funding.signAnchor(channel: channel, height: chainHeight)), citing: cites), height: chainHeight)
        }
    }

    /// An equivocating double spend: two operations at the same seq, each spending everything
    /// (or, with nothing to spend, one deposit receipt used twice). The chain continues on one.
    mutating func fork(_ author: Int, _ view: inout AuthorView, _ cites: [OperationID]) {
        let token = spec.tokens[0]
        let available = view.spendable[token] ?? 0
        let left: Payload
        let right: Payload
        if available > 0, holders.count > 2 {
            let first = otherHolder(author)
            var second = otherHolder(author)
            while second == first { second = otherHolder(author) }
            left = .transfer(to: first, token: token, amount: Amount(available))
            right = .transfer(to: second, token: token, amount: Amount(available))
        } else {
            let receipt = funding.signReceipt(
                channel: config.channel, participant: ParticipantIndex(author), token: token, amount: 500, nonce: nextNonce, height: chainHeight)
            nextNonce += 1
            left = .deposit(receipt)
            right = .deposit(receipt)
            // Two identical payloads would be one operation; cite differently to differ.
            let a = view.chain.peek(left, citing: cites)
            let b = view.chain.peek(right, citing: [])
            if a.id != b.id {
                ops.append(b)
                emitAdopted(author, &view, a, height: chainHeight)
            } else {
                emitAdopted(author, &view, a, height: chainHeight)
            }
            view.spendable[token, default: 0] += 500
            return
        }
        let a = view.chain.peek(left, citing: cites)
        let b = view.chain.peek(right, citing: cites)
        ops.append(b)
        view.spendable[token] = 0
        emitAdopted(author, &view, a, height: 0)
    }

    /// A side operation that breaks the author's chain: its seq skips ahead of the next one,
    /// or (past seq 1) it cites no own operation. The chain continues without it.
    mutating func breakChain(_ author: Int, _ view: inout AuthorView, _ cites: [OperationID]) {
        let next = view.chain.nextSeq
        var preds = cites
        var seq = next + 1 + UInt64(rng.below(3))
        if let last = view.chain.last {
            if rng.chance(perMille: 500) { seq = next } else { preds.append(last) }
        }
        sideOperation(author, seq: seq, preds: preds)
    }

    /// A side operation at the author's next seq, citing its last operation and two or three
    /// refused ones: refused because a predecessor is, whichever of them arrives first.
    mutating func fanIn(_ author: Int, _ view: inout AuthorView, _ cites: [OperationID]) {
        var preds = cites
        if let last = view.chain.last { preds.append(last) }
        for _ in 0..<rng.int(in: 2...3) { preds.append(refused[rng.index(refused.count)]) }
        sideOperation(author, seq: view.chain.nextSeq, preds: preds)
    }

    mutating func sideOperation(_ author: Int, seq: UInt64, preds: [OperationID]) {
        let to = otherHolder(author)
        let op = UnsignedOperation(
            channel: config.channel, author: ParticipantIndex(author), seq: seq, preds: preds,
            payload: .transfer(to: to, token: spec.tokens[0], amount: 1)
        ).signed(by: keys[author])
        ops.append(op)
        refused.append(op.id)
    }

    mutating func emit(_ author: Int, _ view: inout AuthorView, _ op: SignedOperation, height: UInt64) {
        view.seenHeight = max(view.seenHeight, height)
        ops.append(op)
        chains[author].append((ops.count - 1, op.id, view.seenHeight))
    }

    mutating func emitAdopted(_ author: Int, _ view: inout AuthorView, _ op: SignedOperation, height: UInt64) {
        view.chain.adopt(op)
        emit(author, &view, op, height: height)
    }

    mutating func otherHolder(_ author: Int) -> ParticipantIndex {
        let candidates = holders.filter { $0 != author }
        return ParticipantIndex(candidates[rng.index(candidates.count)])
    }
}
