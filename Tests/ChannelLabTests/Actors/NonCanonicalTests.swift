import ChannelCore
import Foundation
@testable import ChannelLab
import Testing

/// Goal: `invalid: non-canonical` sends each of its ten defects with a signature that holds
/// for exactly the bytes sent, so that only the decoder stands between them and a replica; a
/// correct replica drops every one with the documented error; the independent model flags an
/// accepted operation that is not canonical.
/// Method: one own operation re-encoded ten ways, received as wire bytes by a fresh replica.
@Suite struct NonCanonicalTests {
    @Test func everyDefectIsDroppedWithItsDocumentedError() {
        let channel = OpSetGenerator.makeChannel(seed: 9, participants: 3, tokens: [0])
        var chain = AuthorChain(channel: channel.config.channel, author: 2, key: channel.keys[2])
        let first = chain.append(.deposit(channel.funding.signReceipt(channel: channel.config.channel, participant: 2, token: 0, amount: 50, nonce: 1, height: 1)))
        var other = AuthorChain(channel: channel.config.channel, author: 1, key: channel.keys[1])
        let foreign = other.append(.chainAnchor(channel.funding.signAnchor(channel: channel.config.channel, height: 1)))
        let op = chain.peek(.transfer(to: 0, token: 0, amount: 5), citing: [foreign.id])
        #expect(op.preds.count == 2)
        let actor = ByzantineActor(config: channel.config, seed: 1, siblingSigners: channel.keys)
        var errors = [String]()
        for variant in 0..<10 {
            let replica = Replica(config: channel.config)
            _ = replica.receive(first)
            _ = replica.receive(foreign)
            let bytes = actor.nonCanonical(variant: variant, of: op, key: channel.keys[2])
            guard case let .rejected(.malformed(error)) = replica.receive(wireBytes: bytes) else {
                Issue.record("variant \(variant) was not dropped as malformed")
                continue
            }
            errors.append("\(error)".components(separatedBy: CharacterSet(charactersIn: " :(")).first!)
            #expect(replica.operationCount == 2 && replica.rejections.isEmpty)
        }
        #expect(errors == [
            "predecessor", "predecessor", "1", "unsupported", "transfer.amount", "transfer.amount", "seq", "17", "unknown", "truncated",
        ], "\(errors)")
    }

    /// Built in memory and sent decoded (as honest operations travel), seq 0 and amounts out
    /// of range meet only the replica's own validation, which drops them.
    @Test func inMemoryOperationsWithFieldsOutOfRangeAreDropped() {
        let channel = OpSetGenerator.makeChannel(seed: 9, participants: 3, tokens: [0])
        let id = channel.config.channel
        let cases: [UnsignedOperation] = [
            UnsignedOperation(channel: id, author: 2, seq: 0, preds: [], payload: .withdraw(token: 0, amount: 1)),
            UnsignedOperation(channel: id, author: 2, seq: 1, preds: [], payload: .transfer(to: 0, token: 0, amount: 0)),
            UnsignedOperation(channel: id, author: 2, seq: 1, preds: [], payload: .transfer(to: 0, token: 0, amount: UInt128(1) << 120)),
        ]
        for unsigned in cases {
            let replica = Replica(config: channel.config)
            let outcome = replica.receive(unsigned.signed(by: channel.keys[2]))
            guard case .rejected(.malformed) = outcome else {
                Issue.record("\(unsigned) was \(outcome)")
                continue
            }
            #expect(replica.operationCount == 0)
        }
    }

    @Test func theModelFlagsANonCanonicalOperation() {
        let channel = OpSetGenerator.makeChannel(seed: 9, participants: 3, tokens: [0])
        var chain = AuthorChain(channel: channel.config.channel, author: 0, key: channel.keys[0])
        let good = chain.append(.withdraw(token: 0, amount: 1))
        #expect(LedgerModel.nonCanonical(good) == nil)
        let seqZero = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 0, preds: [], payload: .withdraw(token: 0, amount: 1)).signed(by: channel.keys[0])
        #expect(LedgerModel.nonCanonical(seqZero) == "seq 0")
        let tooMuch = UnsignedOperation(channel: channel.config.channel, author: 0, seq: 1, preds: [], payload: .withdraw(token: 0, amount: 1 << 96)).signed(by: channel.keys[0])
        #expect(LedgerModel.nonCanonical(tooMuch) == "an amount outside 1...2^96-1")
    }
}
