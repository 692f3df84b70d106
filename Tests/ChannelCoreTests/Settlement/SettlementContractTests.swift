import ChannelCore
import Testing

/// Goal: the settlement contract accepts the happy path and refuses every bad call with its
/// own error, leaving its state unchanged. Method: a 4-participant channel with threshold 3,
/// real replicas for state roots and proofs, one test per rejection path.
@Suite struct SettlementContractTests {
    struct Fixture {
        var channel = TestChannel(participants: 4)
        let replica: Replica
        var contract: SettlementContract

        init() {
            var channel = TestChannel(participants: 4)
            let replica = channel.replica()
            _ = replica.receive(channel.deposit(0, 500))
            _ = replica.receive(channel.deposit(1, 300))
            _ = replica.receive(channel.transfer(0, to: 2, 120))
            var contract = SettlementContract(config: channel.config, params: SettlementParams(threshold: 3, disputeWindowBlocks: 10))
            try! contract.deposit(0, token: 0, amount: 500)
            try! contract.deposit(1, token: 0, amount: 300)
            for p: ParticipantIndex in 0...3 { try! contract.bond(p, amount: 50) }
            self.channel = channel
            self.replica = replica
            self.contract = contract
        }

        func checkpoint(version: UInt64, signers: [ParticipantIndex] = [0, 1, 2]) -> SignedCheckpoint {
            let (_, leaves) = replica.balances.stateLeaves()
            let checkpoint = Checkpoint(channel: channel.config.channel, version: version, stateRoot: replica.stateRoot, treeSize: UInt64(leaves.count), heads: replica.heads)
            return SignedCheckpoint(checkpoint: checkpoint, signatures: signers.map { checkpoint.sign(as: $0, key: channel.keys[Int($0)]) })
        }
    }

    @Test func happyPathProposeChallengeFinalizeClaim() throws {
        var f = Fixture()
        try f.contract.registerCheckpoint(f.checkpoint(version: 1))
        try f.contract.propose(f.checkpoint(version: 1), height: 100, proposer: 0)
        try f.contract.challenge(f.checkpoint(version: 2), height: 105)
        try f.contract.finalize(height: 111)
        #expect(f.contract.isFinalized)
        let paid0 = try f.contract.claim(f.replica.balanceProof(0, 0)!)
        let paid2 = try f.contract.claim(f.replica.balanceProof(2, 0)!)
        #expect(paid0 == 380)
        #expect(paid2 == 120)
        #expect(f.contract.paidTotal <= f.contract.depositTotal)
    }

    @Test func signatureRulesRefuseTooFewDuplicateUnknownForgedAndForeign() {
        var f = Fixture()
        #expect(throws: ContractError.tooFewSignatures(have: 2, need: 3)) { try f.contract.registerCheckpoint(f.checkpoint(version: 1, signers: [0, 1])) }
        #expect(throws: ContractError.duplicateSigner(1)) { try f.contract.registerCheckpoint(f.checkpoint(version: 1, signers: [0, 1, 1])) }
        let good = f.checkpoint(version: 1)
        let stranger = SignedCheckpoint(checkpoint: good.checkpoint, signatures: good.signatures + [CheckpointSignature(signer: 9, signature: good.signatures[0].signature)])
        #expect(throws: ContractError.unknownSigner(9)) { try f.contract.registerCheckpoint(stranger) }
        let forged = SignedCheckpoint(checkpoint: good.checkpoint, signatures: [good.signatures[0], good.signatures[1], CheckpointSignature(signer: 3, signature: good.signatures[2].signature)])
        #expect(throws: ContractError.badSignature(3)) { try f.contract.registerCheckpoint(forged) }
        let other = TestChannel(participants: 4, seed: 5)
        let foreignCheckpoint = Checkpoint(channel: other.config.channel, version: 1, stateRoot: .zero, treeSize: 1, heads: [])
        let foreign = SignedCheckpoint(checkpoint: foreignCheckpoint, signatures: (0..<3).map { foreignCheckpoint.sign(as: ParticipantIndex($0), key: other.keys[$0]) })
        #expect(throws: ContractError.wrongChannel) { try f.contract.registerCheckpoint(foreign) }
        #expect(f.contract.latest == nil)
    }

    @Test func staleVersionsLateChallengesAndEarlyFinalizationAreRefused() throws {
        var f = Fixture()
        try f.contract.registerCheckpoint(f.checkpoint(version: 5))
        #expect(throws: ContractError.staleVersion(got: 5, current: 5)) { try f.contract.registerCheckpoint(f.checkpoint(version: 5)) }
        #expect(throws: ContractError.staleVersion(got: 4, current: 5)) { try f.contract.propose(f.checkpoint(version: 4), height: 10, proposer: 0) }
        #expect(throws: ContractError.noProposal) { try f.contract.finalize(height: 10) }
        try f.contract.propose(f.checkpoint(version: 5), height: 10, proposer: 0)
        #expect(throws: ContractError.alreadyProposed) { try f.contract.propose(f.checkpoint(version: 6), height: 11, proposer: 0) }
        #expect(throws: ContractError.staleVersion(got: 5, current: 5)) { try f.contract.challenge(f.checkpoint(version: 5), height: 12) }
        #expect(throws: ContractError.windowOpen(deadline: 20, height: 20)) { try f.contract.finalize(height: 20) }
        #expect(throws: ContractError.windowClosed(deadline: 20, height: 21)) { try f.contract.challenge(f.checkpoint(version: 9), height: 21) }
        try f.contract.finalize(height: 21)
        #expect(throws: ContractError.alreadyFinalized) { try f.contract.challenge(f.checkpoint(version: 9), height: 22) }
        #expect(throws: ContractError.alreadyFinalized) { try f.contract.registerCheckpoint(f.checkpoint(version: 9)) }
    }

    @Test func proofsMustMatchTheRootAndTreeAndPayOnce() throws {
        var f = Fixture()
        #expect(throws: ContractError.notFinalized) { try f.contract.claim(f.replica.balanceProof(0, 0)!) }
        try f.contract.propose(f.checkpoint(version: 2), height: 1, proposer: 0)
        try f.contract.finalize(height: 12)
        let proof = f.replica.balanceProof(0, 0)!
        let inflated = BalanceProof(key: proof.key, account: Account(balance: proof.account.balance + 1000), leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.path)
        #expect(throws: ContractError.badProof) { try f.contract.claim(inflated) }
        let otherSize = BalanceProof(key: proof.key, account: proof.account, leafIndex: proof.leafIndex, treeSize: proof.treeSize + 1, path: proof.path)
        #expect(throws: ContractError.badProof) { try f.contract.claim(otherSize) }
        // An inner node dressed as an account leaf: the verifier hashes leaf bytes itself.
        let hashes = f.replica.balances.stateLeaves().leaves.map(Merkle.leafHash)
        let inner = Merkle.nodeHash(hashes[0], hashes[1])
        let innerAsAccount = BalanceProof(key: proof.key, account: Account(balance: Int128(inner.w0 >> 1)), leafIndex: 0, treeSize: UInt64(hashes.count) - 1, path: Array(proof.path.dropFirst()))
        #expect(throws: ContractError.badProof) { try f.contract.claim(innerAsAccount) }
        #expect(try f.contract.claim(proof) == 380)
        #expect(throws: ContractError.alreadyPaid(proof.key)) { try f.contract.claim(proof) }
        #expect(try f.contract.claim(f.replica.balanceProof(2, 0)!) == 120)
    }

    /// An exit is a force close: it opens the dispute window on a checkpoint at least as new
    /// as the latest registered, a newer one can still win, and nothing is paid before the
    /// channel is final (paying one account at once let an exiter be paid a balance it had
    /// since spent: the fuzzer's seed 1386).
    @Test func anExitIsAForceCloseWithADisputeWindow() throws {
        var f = Fixture()
        try f.contract.registerCheckpoint(f.checkpoint(version: 3))
        #expect(throws: ContractError.staleVersion(got: 2, current: 3)) { try f.contract.exit(f.checkpoint(version: 2), height: 5, by: 1) }
        #expect(throws: ContractError.notAParticipant(9)) { try f.contract.exit(f.checkpoint(version: 3), height: 5, by: 9) }
        try f.contract.exit(f.checkpoint(version: 3), height: 5, by: 1)
        #expect(f.contract.exits == [1])
        #expect(f.contract.proposal?.deadline == 15)
        #expect(f.contract.proposals.last?.proposer == 1, "an exit is a proposal: stale-proposal evidence applies to it")
        #expect(throws: ContractError.alreadyProposed) { try f.contract.exit(f.checkpoint(version: 4), height: 6, by: 2) }
        #expect(throws: ContractError.notFinalized) { try f.contract.claim(f.replica.balanceProof(1, 0)!) }
        try f.contract.challenge(f.checkpoint(version: 7), height: 9)
        #expect(throws: ContractError.windowOpen(deadline: 15, height: 15)) { try f.contract.finalize(height: 15) }
        try f.contract.finalize(height: 16)
        #expect(f.contract.final?.checkpoint.version == 7)
        #expect(try f.contract.claim(f.replica.balanceProof(1, 0)!) > 0)
        #expect(throws: ContractError.alreadyFinalized) { try f.contract.exit(f.checkpoint(version: 8), height: 17, by: 0) }
    }

    @Test func slashingTakesTheBondOnceAndOnlyOnValidEvidence() throws {
        var f = Fixture()
        let left = f.channel.chains[3].peek(.withdraw(token: 0, amount: 1))
        let right = f.channel.chains[3].peek(.withdraw(token: 0, amount: 2))
        let evidence = Evidence.equivocation(EquivocationEvidence(left, right))
        let held = f.contract.heldTotal
        let result = try f.contract.slash(evidence)
        #expect(result.culprit == 3 && result.amount == 50)
        #expect(f.contract.compensationPool == 50)
        #expect(f.contract.heldTotal == held)
        #expect(throws: ContractError.replayedEvidence) { try f.contract.slash(evidence) }
        let fake = Evidence.equivocation(EquivocationEvidence(left, SignedOperation(unsigned: right.unsigned, signature: left.signature)))
        #expect(throws: ContractError.self) { try f.contract.slash(fake) }
        #expect(f.contract.slashed == [3: 50])
    }

    @Test func fundingRefusesStrangersAndAmountsOutOfRange() {
        var f = Fixture()
        #expect(throws: ContractError.notAParticipant(7)) { try f.contract.deposit(7, token: 0, amount: 1) }
        #expect(throws: ContractError.amountOutOfRange) { try f.contract.deposit(0, token: 0, amount: 0) }
        #expect(throws: ContractError.amountOutOfRange) { try f.contract.deposit(0, token: 9, amount: 1) }
        #expect(throws: ContractError.amountOutOfRange) { try f.contract.bond(0, amount: WireLimits.amountMax + 1) }
    }
}
