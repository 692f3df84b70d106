// libFuzzer target: merge of random operation bytes. The input is cut into chunks that are
// fed to two replicas in opposite orders (both signature-checked); neither may crash, and
// once both have everything they must hold the same graph and state.

let fuzzChannel = FuzzChannel()

struct FuzzChannel {
    let config: ChannelConfig
    let keys: [KeyPair]
    let ops: [SignedOperation]

    init() {
        let keys = (0..<3).map { KeyPair(labSeed: 7, index: UInt32($0)) }
        let funding = KeyPair(labSeed: 7, index: UInt32.max)
        let participants = keys.enumerated().map { Participant(index: ParticipantIndex($0.offset), publicKey: $0.element.publicKey, role: .trader) }
        // The order book is enabled (a continuous and a batch market), so fuzzed operations of
        // its kinds reach matching, auctions, escrows and their undo journal.
        let markets = [
            Market(id: 1, base: 0, quote: 1, tick: 1, lotSize: 1, matching: .continuous, makerFeeBps: 10, takerFeeBps: 30, feeRecipient: 2),
            Market(id: 2, base: 1, quote: 0, tick: 2, lotSize: 3, matching: .batch(roundDepths: 2), makerFeeBps: 0, takerFeeBps: 5, feeRecipient: 0),
        ]
        let config = ChannelConfig(
            channel: Blake2b.hash256([7]), participants: participants, fundingKey: funding.publicKey, tokens: [0, 1],
            applications: [OrderBookConfig(markets: markets)])
        self.keys = keys
        self.config = config
        // A few valid operations the fuzzer can splice and mutate.
        var chains = keys.enumerated().map { AuthorChain(channel: config.channel, author: ParticipantIndex($0.offset), key: $0.element) }
        var made = [SignedOperation]()
        for (index, _) in keys.enumerated() {
            let receipt = funding.signReceipt(channel: config.channel, participant: ParticipantIndex(index), token: 0, amount: 100, nonce: UInt64(index + 1), height: 1)
            made.append(chains[index].append(.deposit(receipt)))
        }
        made.append(chains[0].append(.transfer(to: 1, token: 0, amount: 30), citing: [made[1].id]))
        for (index, _) in keys.enumerated() {
            let receipt = funding.signReceipt(channel: config.channel, participant: ParticipantIndex(index), token: 1, amount: 1000, nonce: UInt64(index + 10), height: 1)
            made.append(chains[index].append(.deposit(receipt)))
        }
        made.append(chains[0].append(.orderBook(.place(market: 1, side: .sell, price: 5, amount: 20, expiry: 0, postOnly: true))))
        made.append(chains[1].append(.orderBook(.place(market: 1, side: .buy, price: 6, amount: 10, expiry: 0, postOnly: false)), citing: [made.last!.id]))
        made.append(chains[2].append(.orderBook(.place(market: 2, side: .buy, price: 4, amount: 9, expiry: 9, postOnly: false))))
        made.append(chains[1].append(.orderBook(.place(market: 2, side: .sell, price: 2, amount: 6, expiry: 0, postOnly: false)), citing: [made.last!.id]))
        made.append(chains[0].append(.orderBook(.cancel(order: made[made.count - 4].id)), citing: [made.last!.id]))
        ops = made
    }
}

/// Most bytes one chunk of the input may take.
let chunkBytesMax = 1024

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMerge(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    var items = fuzzChannel.ops.map(\.wireBytes)
    // Chunks: a 2-byte little-endian length (mod `chunkBytesMax`), then that many bytes.
    var index = 0
    while index + 1 < bytes.count {
        let length = (Int(bytes[index]) | Int(bytes[index + 1]) << 8) % chunkBytesMax
        let chunk = Array(bytes[(index + 2)..<min(bytes.count, index + 2 + length)])
        items.append(chunk)
        // A chunk that decodes is also moved into this channel and re-signed with its
        // author's key, so arbitrary fields reach the graph and the ledger, not only the
        // signature check.
        if let op = try? WireDecoder.decodeSigned(chunk), Int(op.author) < fuzzChannel.keys.count {
            var unsigned = op.unsigned
            unsigned.channel = fuzzChannel.config.channel
            items.append(unsigned.signed(by: fuzzChannel.keys[Int(op.author)]).wireBytes)
        }
        index += 2 + length
    }
    let a = Replica(config: fuzzChannel.config)
    let b = Replica(config: fuzzChannel.config)
    for item in items { _ = a.receive(wireBytes: item) }
    for item in items.reversed() { _ = b.receive(wireBytes: item) }
    precondition(a.heads == b.heads && a.stateRoot == b.stateRoot, "two replicas with the same operations agree")
    return 0
}
