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
        let config = ChannelConfig(channel: Blake2b.hash256([7]), participants: participants, fundingKey: funding.publicKey, tokens: [0])
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
        ops = made
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMerge(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    var items = fuzzChannel.ops.map(\.wireBytes)
    var index = 0
    while index < bytes.count {
        let length = Int(bytes[index]) % 200
        items.append(Array(bytes[(index + 1)..<min(bytes.count, index + 1 + length)]))
        index += 1 + length
    }
    let a = Replica(config: fuzzChannel.config)
    let b = Replica(config: fuzzChannel.config)
    for item in items { _ = a.receive(wireBytes: item) }
    for item in items.reversed() { _ = b.receive(wireBytes: item) }
    precondition(a.heads == b.heads && a.stateRoot == b.stateRoot, "two replicas with the same operations agree")
    return 0
}
