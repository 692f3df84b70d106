import ChannelCore

extension Payload {
    /// The canonical text of a payload in trace files (docs/traces.md, "Payload text"): the
    /// kind's wire name, then `field=value` pairs in wire order, separated by single spaces.
    /// Integers are decimal, ids lower-case hex; signatures are left out (the `bytes` column
    /// holds the whole signed operation). Written by hand, never by Swift's default
    /// description, whose format may change between toolchains.
    public var traceText: String {
        switch self {
        case let .deposit(receipt):
            return "deposit token=\(receipt.token) amount=\(receipt.amount) nonce=\(receipt.nonce) height=\(receipt.height)"
        case let .transfer(to, token, amount):
            return "transfer to=\(to) token=\(token) amount=\(amount)"
        case let .withdraw(token, amount):
            return "withdraw token=\(token) amount=\(amount)"
        case let .lock(token, amount, untilHeight):
            return "lock token=\(token) amount=\(amount) untilHeight=\(untilHeight)"
        case let .unlock(lockID):
            return "unlock lockID=\(lockID.hex)"
        case let .chainAnchor(anchor):
            return "chainAnchor height=\(anchor.height)"
        case let .application(payload):
            return "application kind=\(payload.kind) body=\(Hex.encode(payload.body))"
        }
    }
}
