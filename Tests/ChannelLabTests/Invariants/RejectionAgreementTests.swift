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

    /// Ledger refusals are compared with their parameters: the same refusal with another
    /// balance is a disagreement.
    @Test func ledgerRefusalsAreComparedWithTheirParameters() {
        let channel = OpSetGenerator.makeChannel(seed: 22, participants: 2, tokens: [0])
        let id = channel.config.channel
        var a = AuthorChain(channel: id, author: 0, key: channel.keys[0])
        let deposit = a.append(.deposit(channel.funding.signReceipt(channel: id, participant: 0, token: 0, amount: 10, nonce: 1, height: 1)))
        let overdraft = a.append(.transfer(to: 1, token: 0, amount: 11))
        let same = RejectionAgreement.disagreements(
            Self.replica([deposit, overdraft], config: channel.config), Self.replica([overdraft, deposit], config: channel.config))
        #expect(same.isEmpty)
        // A replica that saw a different deposit amount refuses the same overdraft with other
        // parameters: compare two channels' worth of records through the function.
        var c = AuthorChain(channel: id, author: 0, key: channel.keys[0])
        let smaller = c.append(.deposit(channel.funding.signReceipt(channel: id, participant: 0, token: 0, amount: 5, nonce: 1, height: 1)))
        let overdraft2 = c.append(.transfer(to: 1, token: 0, amount: 11))
        let found = RejectionAgreement.disagreements(
            Self.replica([deposit, overdraft], config: channel.config), Self.replica([smaller, overdraft2], config: channel.config))
        #expect(found.contains { $0.hasPrefix("ledger refusals differ") })
    }
}
