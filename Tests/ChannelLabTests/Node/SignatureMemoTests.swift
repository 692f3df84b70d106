import ChannelCore
@testable import ChannelLab
import Testing

/// Goal: the run-wide memo of verified signatures answers exactly what verification would, and
/// the structures around it never let hash order reach behaviour.
/// Method: one operation checked against its author's key and then another key; a set of
/// misbehaviour records sorted in two processes' worth of insertion orders.
@Suite struct SignatureMemoTests {
    @Test func aVerdictForOneKeyNeverAnswersForAnother() {
        let channel = OpSetGenerator.makeChannel(seed: 3, participants: 2, tokens: [0])
        var chain = AuthorChain(channel: channel.config.channel, author: 0, key: channel.keys[0])
        let op = chain.append(.withdraw(token: 0, amount: 1))
        let memo = SignatureMemo()
        #expect(memo.verify(op, key: channel.keys[0].publicKey))
        #expect(memo.verify(op, key: channel.keys[0].publicKey))
        #expect(memo.hits == 1)
        // Before the memo keyed on the public key, this came from memory as `true`.
        #expect(!memo.verify(op, key: channel.keys[1].publicKey))
    }

    /// `Attributable`'s order is total and agrees with `==`: acts that differ only in their
    /// operations still sort the same way from any starting order.
    @Test func attributableActsSortTheSameFromAnyInsertionOrder() {
        let ids = (0..<6).map { Digest32(w0: UInt64(100 - $0), w1: 0, w2: 0, w3: 0) }
        let acts = [
            Attributable(participant: 1, kind: "equivocation", ops: [ids[0], ids[1]]),
            Attributable(participant: 1, kind: "equivocation", ops: [ids[2], ids[3]]),
            Attributable(participant: 1, kind: "equivocation", ops: [ids[4], ids[5]]),
            Attributable(participant: 0, kind: "broken-chain", ops: [ids[1]]),
        ]
        let expected = acts.sorted()
        var rng = SeededRandom(seed: 1, stream: "t")
        for _ in 0..<50 {
            var shuffled = acts
            rng.shuffle(&shuffled)
            #expect(shuffled.sorted() == expected)
            #expect(Set(shuffled).sorted() == expected)
        }
        for (a, b) in zip(expected, expected.dropFirst()) { #expect(a < b && !(b < a)) }
    }
}
