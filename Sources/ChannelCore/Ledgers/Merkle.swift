/// RFC 6962 / RFC 9162 Merkle trees over BLAKE2b-256: leaf hash `H(0x00 ‖ leaf)`, node hash
/// `H(0x01 ‖ left ‖ right)`. The domain bytes make a leaf and an inner node impossible to
/// confuse, so a proof cannot pass an inner node off as a leaf.
public enum Merkle {
    /// The hash of a leaf.
    public static func leafHash(_ leaf: [UInt8]) -> Digest32 {
        var input: [UInt8] = [0x00]
        input.append(contentsOf: leaf)
        return Blake2b.hash256(input)
    }

    /// The hash of an inner node.
    public static func nodeHash(_ left: Digest32, _ right: Digest32) -> Digest32 {
        var input: [UInt8] = [0x01]
        input.reserveCapacity(65)
        left.appendBytes(to: &input)
        right.appendBytes(to: &input)
        return Blake2b.hash256(input)
    }

    /// The root of the tree over `leafHashes` (the hash of the empty string for none).
    /// Bottom-up: a level's unpaired last node moves up unchanged, which gives exactly the
    /// RFC 6962 tree (split at the largest power of two below n).
    /// - Complexity: O(n).
    public static func root(leafHashes: [Digest32]) -> Digest32 {
        if leafHashes.isEmpty { return Blake2b.hash256([]) }
        var level = leafHashes
        while level.count > 1 {
            var next = [Digest32]()
            next.reserveCapacity((level.count + 1) / 2)
            var index = 0
            while index + 1 < level.count {
                next.append(nodeHash(level[index], level[index + 1]))
                index += 2
            }
            if index < level.count { next.append(level[index]) }
            level = next
        }
        return level[0]
    }

    /// The audit path of leaf `index` (RFC 9162 section 2.1.3.1), bottom to top.
    /// - Complexity: O(n).
    public static func inclusionPath(leafHashes: [Digest32], index: Int) -> [Digest32] {
        precondition(index >= 0 && index < leafHashes.count, "leaf index out of range")
        var path = [Digest32]()
        var level = leafHashes
        var position = index
        while level.count > 1 {
            if position % 2 == 1 {
                path.append(level[position - 1])
            } else if position + 1 < level.count {
                path.append(level[position + 1])
            }
            var next = [Digest32]()
            next.reserveCapacity((level.count + 1) / 2)
            var cursor = 0
            while cursor + 1 < level.count {
                next.append(nodeHash(level[cursor], level[cursor + 1]))
                cursor += 2
            }
            if cursor < level.count { next.append(level[cursor]) }
            level = next
            position /= 2
        }
        return path
    }

    /// Verifies an audit path (RFC 9162 section 2.1.3.2). Never traps on hostile input.
    /// - Complexity: O(`path.count`).
    public static func verifyInclusion(
        leafHash: Digest32, index: UInt64, treeSize: UInt64, path: [Digest32], root: Digest32
    ) -> Bool {
        guard index < treeSize, path.count <= 64 else { return false }
        var fn = index
        var sn = treeSize - 1
        var result = leafHash
        for sibling in path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                result = nodeHash(sibling, result)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                result = nodeHash(result, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && result == root
    }
}

/// A proof that one account (participant, token, amounts) is a leaf of a state root. It
/// verifies on its own: the verifier hashes the leaf itself.
public struct BalanceProof: Hashable, Sendable {
    public let key: AccountKey
    public let account: Account
    public let leafIndex: UInt64
    public let treeSize: UInt64
    public let path: [Digest32]

    public init(key: AccountKey, account: Account, leafIndex: UInt64, treeSize: UInt64, path: [Digest32]) {
        self.key = key
        self.account = account
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.path = path
    }

    /// Whether the proof shows this account under `root`.
    public func verify(root: Digest32) -> Bool {
        let leaf = BalanceLedger.accountLeaf(key, account)
        return Merkle.verifyInclusion(
            leafHash: Merkle.leafHash(leaf), index: leafIndex, treeSize: treeSize, path: path, root: root)
    }
}
