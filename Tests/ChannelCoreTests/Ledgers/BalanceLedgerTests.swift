import ChannelCore
import Testing

/// Goal: every ledger rule, accepted and refused, with the refusal's class.
@Suite struct BalanceLedgerTests {
    @Test func depositNeedsAValidUnusedReceiptFromTheFundingKey() {
        var channel = TestChannel()
        let good = channel.receipt(0, amount: 100)
        let replica = channel.replica()
        let d1 = channel.append(0, .deposit(good))
        _ = replica.receive(d1)
        #expect(replica.account(0, 0).balance == 100)
        // The same receipt again (a new operation, same nonce): refused, and the author knew.
        let reuse = channel.append(0, .deposit(good))
        _ = replica.receive(reuse)
        #expect(replica.ledgerRejection(of: reuse.id) == .receiptAlreadyUsed(nonce: good.nonce))
        // A receipt the funding key never signed.
        let forgedReceipt = DepositReceipt(token: 0, amount: 1_000_000, nonce: 77, height: 1, signature: channel.keys[0].sign([1, 2, 3]))
        let forged = channel.append(0, .deposit(forgedReceipt))
        _ = replica.receive(forged)
        #expect(replica.ledgerRejection(of: forged.id) == .badChainSignature)
        // Participant 1 presenting participant 0's receipt: the digest names the author.
        let stolen = channel.append(1, .deposit(channel.receipt(0, amount: 5)))
        _ = replica.receive(stolen)
        #expect(replica.ledgerRejection(of: stolen.id) == .badChainSignature)
        #expect(replica.account(0, 0).balance == 100)
        #expect(replica.rejections.allSatisfy { $0.kind == .invalidInCausalPast })
        #expect(replica.rejections.count == 3)
    }

    @Test func transfersAndWithdrawalsNeedBalanceAndAValidRecipient() {
        var channel = TestChannel(participants: 4, observers: [3])
        let replica = channel.replica()
        let ops = [
            channel.deposit(0, 100),
            channel.transfer(0, to: 1, 60),
            channel.transfer(0, to: 1, 41),  // overdraft: 40 left
            channel.transfer(0, to: 0, 1),  // self
            channel.transfer(0, to: 3, 1),  // observer cannot hold funds
            channel.transfer(0, to: 9, 1),  // unknown
            channel.append(0, .transfer(to: 1, token: 5, amount: 1)),  // unknown token
            channel.append(0, .withdraw(token: 0, amount: 40)),
            channel.append(3, .withdraw(token: 0, amount: 1)),  // observer may not
        ]
        for op in ops { _ = replica.receive(op) }
        #expect(replica.ledgerRejection(of: ops[2].id) == .insufficientBalance(available: 40, needed: 41))
        #expect(replica.ledgerRejection(of: ops[3].id) == .selfTransfer)
        #expect(replica.ledgerRejection(of: ops[4].id) == .recipientCannotHoldFunds(3))
        #expect(replica.ledgerRejection(of: ops[5].id) == .unknownRecipient(9))
        #expect(replica.ledgerRejection(of: ops[6].id) == .unknownToken(5))
        #expect(replica.ledgerRejection(of: ops[8].id) == .notPermitted(role: .observer))
        #expect(replica.account(0, 0) == Account(balance: 0, locked: 0, withdrawn: 40))
        #expect(replica.account(1, 0).balance == 60)
        #expect(replica.balances.total(of: 0) == 100)
        #expect(replica.rejections.allSatisfy { $0.kind == .invalidInCausalPast })
    }

    @Test func locksReleaseOnlyWhenCitedChainTimeReachesTheirHeight() {
        var channel = TestChannel()
        let replica = channel.replica()
        let d = channel.deposit(0, 100)  // receipt cites height 1
        let lock = channel.append(0, .lock(token: 0, amount: 30, untilHeight: 5))
        let early = channel.append(0, .unlock(lockID: lock.id))
        let anchor4 = channel.append(1, .chainAnchor(channel.anchor(4)), citing: [early.id])
        let stillEarly = channel.append(0, .unlock(lockID: lock.id), citing: [anchor4.id])
        let anchor5 = channel.append(1, .chainAnchor(channel.anchor(5)))
        let onTime = channel.append(0, .unlock(lockID: lock.id), citing: [anchor5.id])
        let twice = channel.append(0, .unlock(lockID: lock.id))
        let fakeAnchor = channel.append(2, .chainAnchor(ChainAnchor(height: 1000, signature: channel.keys[2].sign([9]))))
        let notMine = channel.append(2, .unlock(lockID: lock.id), citing: [onTime.id])
        for op in [d, lock, early, anchor4, stillEarly, anchor5, onTime, twice, fakeAnchor, notMine] { _ = replica.receive(op) }
        #expect(replica.ledgerRejection(of: early.id) == .lockNotExpired(chainHeight: 1, untilHeight: 5))
        #expect(replica.ledgerRejection(of: stillEarly.id) == .lockNotExpired(chainHeight: 4, untilHeight: 5))
        #expect(replica.ledgerRejection(of: onTime.id) == nil)
        #expect(replica.ledgerRejection(of: twice.id) == .lockAlreadyReleased(lock.id))
        #expect(replica.ledgerRejection(of: fakeAnchor.id) == .badChainSignature)
        #expect(replica.chainHeight(of: fakeAnchor.id) == 0)
        #expect(replica.ledgerRejection(of: notMine.id) == .lockNotOwned(lock.id))
        #expect(replica.account(0, 0) == Account(balance: 100))
        #expect(replica.rejections.allSatisfy { $0.kind == .invalidInCausalPast })
    }

    /// An honest author spends money received from an equivocator; the equivocator's other
    /// branch sorts first, so the honest transfer fails only because of a concurrent operation:
    /// a concurrent conflict (Byzantine taint), not slashable.
    @Test func spendingFundsFromAnEquivocatorIsAConcurrentConflict() throws {
        var channel = TestChannel()
        let d = channel.deposit(0, 100)
        let toOne = channel.chains[0].peek(.transfer(to: 1, token: 0, amount: 100))
        let toTwo = channel.chains[0].peek(.transfer(to: 2, token: 0, amount: 100))
        // Participant 1 sees only its half and passes it on.
        let onward = channel.transfer(1, to: 2, 100, citing: [toOne.id])
        let replica = channel.replica()
        for op in [d, toOne, toTwo, onward] { _ = replica.receive(op) }
        let loser = toOne.id < toTwo.id ? toTwo : toOne
        let records = replica.rejections
        #expect(records.contains { $0.id == loser.id && $0.kind == .concurrentConflict })
        if loser.id == toOne.id {
            #expect(records.contains { $0.id == onward.id && $0.kind == .concurrentConflict })
        }
        #expect(replica.evidence.count == 1)
        #expect(replica.balances.total(of: 0) == 100)
    }

    /// An overdraft the author could see in its own causal past is invalid there.
    @Test func anOverdraftVisibleInTheCausalPastIsInvalidInTheCausalPast() {
        var channel = TestChannel()
        let d = channel.deposit(0, 10)
        let over = channel.transfer(0, to: 1, 11)
        // Concurrently participant 1 pays participant 0 enough; it sorts before `over` only if
        // its depth is lower, but even then `over` is judged on its own past.
        let replica = channel.replica()
        for op in [d, over] { _ = replica.receive(op) }
        #expect(replica.rejections.map(\.kind) == [.invalidInCausalPast])
    }
}
