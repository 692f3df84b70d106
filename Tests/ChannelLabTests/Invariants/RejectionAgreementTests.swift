import ChannelCore
@testable import ChannelLab
import Testing

/// Goal: the end-of-run convergence check compares rejection records with all their parameters,
/// catches two replicas that name different predecessors for the same refusal, and forgives
/// only what a difference in the operations held explains.
/// Method: the fan-in of the issue (two refused operations, a third citing both) delivered to
/// two replicas in opposite orders, with and without the old naming rule planted; then one
/// replica that never got the second refused operation.
@Suite struct RejectionAgreementTests {
    struct FanIn {
        let config: ChannelConfig
        let base: [SignedOperation]
        let brokenA: SignedOperation
        let brokenB: SignedOperation
        let fanIn: SignedOperation
    }

    static func fanIn() -> FanIn {
        let channel = OpSetGenerator.makeChannel(seed: 21, participants: 3, tokens: [0])
        let id = channel.config.channel
        var a = AuthorChain(channel: id, author: 0, key: channel.keys[0])
        var b = AuthorChain(channel: id, author: 1, key: channel.keys[1])
        let a1 = a.append(.chainAnchor(channel.funding.signAnchor(channel: id, height: 1)))
        let b1 = b.append(.chainAnchor(channel.funding.signAnchor(channel: id, height: 1)))
        func broken(_ author: ParticipantIndex, after pred: SignedOperation) -> SignedOperation {
            UnsignedOperation(channel: id, author: author, seq: 5, preds: [pred.id], payload: .withdraw(token: 0, amount: 1))
                .signed(by: channel.keys[Int(author)])
        }
        let brokenA = broken(0, after: a1)
        let brokenB = broken(1, after: b1)
        let fanIn = UnsignedOperation(channel: id, author: 2, seq: 1, preds: [brokenA.id, brokenB.id], payload: .withdraw(token: 0, amount: 2))
            .signed(by: channel.keys[2])
        return FanIn(config: channel.config, base: [a1, b1], brokenA: brokenA, brokenB: brokenB, fanIn: fanIn)
    }

    static func replica(_ ops: [SignedOperation], config: ChannelConfig, bugs: PlantedBugs = []) -> Replica {
        let replica = Replica(config: config, bugs: bugs)
        for op in ops { _ = replica.receive(op) }
        return replica
    }

    @Test func theOldNamingRuleIsCaughtAndTheRuleItselfAgrees() {
        let f = Self.fanIn()
        let one = f.base + [f.fanIn, f.brokenA, f.brokenB]
        let other = f.base + [f.fanIn, f.brokenB, f.brokenA]
        let planted = RejectionAgreement.disagreements(
            Self.replica(one, config: f.config, bugs: .nameArrivalOrderPredecessor),
            Self.replica(other, config: f.config, bugs: .nameArrivalOrderPredecessor))
        #expect(planted.count == 1)
        #expect(planted.first?.contains("records of \(f.fanIn.id.short) differ") == true)
        #expect(RejectionAgreement.disagreements(Self.replica(one, config: f.config), Self.replica(other, config: f.config)).isEmpty)
    }

    /// A node that never received one of the refused operations names the other one; that is
    /// explained by what it holds, not a divergence.
    @Test func aRecordExplainedByWhatANodeHoldsIsNoDisagreement() {
        let f = Self.fanIn()
        let full = Self.replica(f.base + [f.brokenA, f.brokenB, f.fanIn], config: f.config)
        // Only the refused operation with the larger id: its record of the fan-in names that one.
        let larger = f.brokenA.id > f.brokenB.id ? f.brokenA : f.brokenB
        let partial = Self.replica(f.base + [larger, f.fanIn], config: f.config)
        #expect(partial.graphRejection(of: f.fanIn.id)?.reason == .graph(.predecessorRejected(larger.id)))
        #expect(full.graphRejection(of: f.fanIn.id) != partial.graphRejection(of: f.fanIn.id))
        #expect(RejectionAgreement.disagreements(full, partial).isEmpty)
        #expect(RejectionAgreement.disagreements(partial, full).isEmpty)
    }

    /// Ledger refusals are compared with their parameters: the same overdraft refused at two
    /// replicas with a different balance available is a disagreement, although the two lists
    /// hold the same ids, reasons and classes.
    @Test func ledgerRefusalsAreComparedWithTheirParameters() throws {
        let channel = OpSetGenerator.makeChannel(seed: 22, participants: 2, tokens: [0])
        let id = channel.config.channel
        var a = AuthorChain(channel: id, author: 0, key: channel.keys[0])
        let deposit = a.append(.deposit(channel.funding.signReceipt(channel: id, participant: 0, token: 0, amount: 10, nonce: 1, height: 1)))
        let overdraft = a.append(.transfer(to: 1, token: 0, amount: 20))
        // A concurrent credit to 0 that sorts before the overdraft (same depth, smaller id): at
        // the replica that holds it, the overdraft is refused with 13 available, not 10.
        var found: [SignedOperation]?
        for nonce: UInt64 in 2...500 {
            var b = AuthorChain(channel: id, author: 1, key: channel.keys[1])
            let funds = b.append(.deposit(channel.funding.signReceipt(channel: id, participant: 1, token: 0, amount: 100, nonce: nonce, height: 1)))
            let credit = b.append(.transfer(to: 0, token: 0, amount: 3))
            if credit.id < overdraft.id {
                found = [funds, credit]
                break
            }
        }
        let credit = try #require(found)
        let plain = Self.replica([deposit, overdraft], config: channel.config)
        let credited = Self.replica([deposit] + credit + [overdraft], config: channel.config)
        let mine = plain.rejections.filter(\.isLedgerRefusal)
        let theirs = credited.rejections.filter(\.isLedgerRefusal)
        #expect(mine.map(\.id) == theirs.map(\.id) && mine.map(\.kind) == theirs.map(\.kind))
        #expect(mine.first?.reason == .ledger(.insufficientBalance(available: 10, needed: 20)))
        #expect(theirs.first?.reason == .ledger(.insufficientBalance(available: 13, needed: 20)))
        let found2 = RejectionAgreement.disagreements(plain, credited)
        #expect(found2.contains { $0.hasPrefix("ledger refusals differ") && $0.contains("10 < 20") && $0.contains("13 < 20") }, "\(found2)")
    }
}
