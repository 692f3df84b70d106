import ChannelCore
import Testing

/// Goal: the state root is RFC 6962's Merkle tree hash and its proofs verify alone, while
/// tampered, misplaced and inner-node proofs fail. Method: compare with the RFC's recursive
/// definition for every size up to 70, and verify every proof of every leaf.
@Suite struct MerkleTests {
    /// RFC 6962 section 2.1 MTH, written recursively from the RFC text.
    static func referenceRoot(_ leaves: ArraySlice<[UInt8]>) -> Digest32 {
        if leaves.isEmpty { return Blake2b.hash256([]) }
        if leaves.count == 1 { return Merkle.leafHash(leaves.first!) }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let start = leaves.startIndex
        return Merkle.nodeHash(referenceRoot(leaves[start..<start + k]), referenceRoot(leaves[(start + k)...]))
    }

    static func leaves(_ n: Int) -> [[UInt8]] { (0..<n).map { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8), 0xAB] } }

    @Test func rootMatchesTheRecursiveDefinitionAndEveryProofVerifies() {
        for n in 0...70 {
            let leaves = Self.leaves(n)
            let hashes = leaves.map(Merkle.leafHash)
            let root = Merkle.root(leafHashes: hashes)
            #expect(root == Self.referenceRoot(leaves[...]), "size \(n)")
            for index in 0..<n {
                let path = Merkle.inclusionPath(leafHashes: hashes, index: index)
                #expect(Merkle.verifyInclusion(leafHash: hashes[index], index: UInt64(index), treeSize: UInt64(n), path: path, root: root), "size \(n) leaf \(index)")
                // Wrong index, wrong size, tampered path, wrong leaf: all refused.
                if n > 1 {
                    #expect(!Merkle.verifyInclusion(leafHash: hashes[index], index: UInt64((index + 1) % n), treeSize: UInt64(n), path: path, root: root))
                    #expect(!Merkle.verifyInclusion(leafHash: hashes[(index + 1) % n], index: UInt64(index), treeSize: UInt64(n), path: path, root: root))
                    var bad = path
                    bad[0].w3 ^= 1
                    #expect(!Merkle.verifyInclusion(leafHash: hashes[index], index: UInt64(index), treeSize: UInt64(n), path: bad, root: root))
                }
                // (A different tree size can share the same path shape; the size is bound to the
                // root by whoever signs the root, as in RFC 9162.)
                #expect(!Merkle.verifyInclusion(leafHash: hashes[index], index: UInt64(n), treeSize: UInt64(n), path: path, root: root))
            }
        }
    }

    /// An inner node presented as a leaf must not verify: the verifier hashes the leaf bytes
    /// itself with the 0x00 prefix, and inner nodes carry 0x01, so no leaf bytes can hash to an
    /// inner node. (Handed over as a ready-made leaf hash it would pass, which is why proofs
    /// carry leaf bytes, never leaf hashes.)
    @Test func anInnerNodeCannotPassAsALeaf() {
        let leaves = Self.leaves(8)
        let hashes = leaves.map(Merkle.leafHash)
        let root = Merkle.root(leafHashes: hashes)
        let inner = Merkle.nodeHash(hashes[0], hashes[1])
        // The upper levels over pair hashes are the same tree, so the attacker's path is real.
        let pairs = (0..<4).map { Merkle.nodeHash(hashes[2 * $0], hashes[2 * $0 + 1]) }
        let path = Merkle.inclusionPath(leafHashes: pairs, index: 0)
        #expect(Merkle.root(leafHashes: pairs) == root)
        #expect(Merkle.verifyInclusion(leafHash: inner, index: 0, treeSize: 4, path: path, root: root))
        // Every way of presenting the inner node as leaf bytes fails.
        #expect(!Merkle.verifyInclusion(leafHash: Merkle.leafHash(inner.bytes), index: 0, treeSize: 4, path: path, root: root))
        #expect(!Merkle.verifyInclusion(leafHash: Merkle.leafHash([0x01] + hashes[0].bytes + hashes[1].bytes), index: 0, treeSize: 4, path: path, root: root))
        #expect(!Merkle.verifyInclusion(leafHash: Merkle.leafHash(hashes[0].bytes + hashes[1].bytes), index: 0, treeSize: 4, path: path, root: root))
    }

    @Test func aBalanceProofFromAReplicaVerifiesAloneAndFailsWhenTheAmountIsChanged() {
        var channel = TestChannel()
        let replica = channel.replica()
        _ = replica.receive(channel.deposit(0, 500))
        _ = replica.receive(channel.deposit(1, 300))
        _ = replica.receive(channel.transfer(0, to: 2, 120))
        let root = replica.stateRoot
        for participant: ParticipantIndex in 0...2 {
            let proof = replica.balanceProof(participant, 0)!
            #expect(proof.verify(root: root))
            let inflated = BalanceProof(
                key: proof.key, account: Account(balance: proof.account.balance + 1, locked: proof.account.locked, withdrawn: proof.account.withdrawn),
                leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.path)
            #expect(!inflated.verify(root: root))
        }
        #expect(replica.balanceProof(0, 1) == nil)
        #expect(replica.balanceProof(2, 0)!.account.balance == 120)
    }
}
