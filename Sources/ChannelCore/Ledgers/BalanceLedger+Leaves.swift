/// The ledger's Merkle leaves (docs/wire-format.md, "State root").
extension BalanceLedger {
    /// The Merkle leaves of the state, in canonical order: accounts sorted by key, then locks
    /// sorted by id, then used receipt nonces ascending (docs/wire-format.md, "State root").
    public func stateLeaves() -> (accounts: [AccountKey], leaves: [[UInt8]]) {
        let all = accounts
        let accountKeys = all.keys.sorted()
        var leaves = [[UInt8]]()
        leaves.reserveCapacity(all.count + locks.count + usedReceipts.count)
        for key in accountKeys {
            leaves.append(BalanceLedger.accountLeaf(key, all[key]!))
        }
        for id in locks.keys.sorted() {
            leaves.append(BalanceLedger.lockLeaf(id, locks[id]!))
        }
        for nonce in usedReceipts.sorted() {
            leaves.append(BalanceLedger.receiptLeaf(nonce))
        }
        return (accountKeys, leaves)
    }

    /// The leaf bytes of one lock: `'L' ‖ lockID ‖ owner ‖ token ‖ amount ‖ untilHeight ‖ released`.
    public static func lockLeaf(_ id: OperationID, _ lock: LockRecord) -> [UInt8] {
        var leaf: [UInt8] = [0x4C]
        id.appendBytes(to: &leaf)
        leaf.appendBigEndian(lock.owner)
        leaf.appendBigEndian(lock.token)
        leaf.appendBigEndian(lock.amount)
        leaf.appendBigEndian(lock.untilHeight)
        leaf.append(lock.released ? 1 : 0)
        return leaf
    }

    /// The leaf bytes of one used receipt nonce: `'R' ‖ nonce`.
    public static func receiptLeaf(_ nonce: UInt64) -> [UInt8] {
        var leaf: [UInt8] = [0x52]
        leaf.appendBigEndian(nonce)
        return leaf
    }

    /// The leaf bytes of one account: `'A' ‖ participant ‖ token ‖ balance ‖ locked ‖ withdrawn`,
    /// amounts as 16-byte two's complement.
    public static func accountLeaf(_ key: AccountKey, _ account: Account) -> [UInt8] {
        var leaf: [UInt8] = [0x41]
        leaf.appendBigEndian(key.participant)
        leaf.appendBigEndian(key.token)
        leaf.appendBigEndian(UInt128(bitPattern: account.balance))
        leaf.appendBigEndian(UInt128(bitPattern: account.locked))
        leaf.appendBigEndian(UInt128(bitPattern: account.withdrawn))
        return leaf
    }
}
