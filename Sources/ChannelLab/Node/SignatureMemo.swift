import ChannelCore

/// A memo of verified signatures shared by the nodes of one run. Verification is a pure
/// function of the public key and the signed bytes, so remembering a verdict keyed by them (the
/// key, the operation id, which is the hash of the unsigned bytes, and the signature) is exact,
/// and each distinct operation is verified once per run instead of once per node. The key is
/// part of the memo key so that a verdict for one key can never answer for another (two
/// channels, or a caller that resolves an author to another key).
public final class SignatureMemo {
    private struct Key: Hashable {
        let publicKey: PublicKey
        let id: OperationID
        let signature: Signature

        /// The id alone spreads keys (it is a BLAKE2b output); equality still compares the
        /// signature too, so two signatures over one operation are two entries.
        func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    private var verified: Set<Key> = []
    /// Most remembered verdicts; the memo starts over beyond it (a cost, never a wrong answer).
    public static let entriesMax = 1 << 22
    public private(set) var verifications = 0
    public private(set) var hits = 0

    /// What signatures must cover in this run (`.channelBound` except under a planted bug).
    public let scope: SignatureScope

    public init(scope: SignatureScope = .channelBound) { self.scope = scope }

    /// Whether `op`'s signature verifies under `key`, from memory when possible.
    public func verify(_ op: SignedOperation, key: PublicKey) -> Bool {
        let memoKey = Key(publicKey: key, id: op.id, signature: op.signature)
        if verified.contains(memoKey) {
            hits += 1
            return true
        }
        verifications += 1
        guard op.verifySignature(key: key, scope: scope) else { return false }
        if verified.count >= SignatureMemo.entriesMax { verified.removeAll(keepingCapacity: true) }
        verified.insert(memoKey)
        return true
    }

}
