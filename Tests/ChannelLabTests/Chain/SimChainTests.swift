import ChannelCore
import Testing

@testable import ChannelLab

/// Goal: block times are read by height, the genesis block being height 1 at time zero
/// (checkers once read `blockTimes[h]` for block h and so counted from one block late).
/// Method: a chain produces two blocks at known instants and is asked for each height.
@Suite struct SimChainTests {
    @Test func blockTimesAreReadByHeightFromGenesis() {
        let keys = (0..<2).map { KeyPair(labSeed: 3, index: UInt32($0)) }
        let funding = KeyPair(labSeed: 3, index: UInt32.max)
        let participants = keys.enumerated().map { Participant(index: ParticipantIndex($0.offset), publicKey: $0.element.publicKey, role: .trader) }
        let config = ChannelConfig(channel: OpSetGenerator.channelID(seed: 3), participants: participants, fundingKey: funding.publicKey, tokens: [0])
        let chain = SimChain(funding: funding, config: config, params: SettlementParams(threshold: 2, disputeWindowBlocks: 4))
        #expect(chain.height == 1)
        #expect(chain.time(ofBlock: 1) == .zero)
        _ = chain.produceBlock(at: SimInstant(micros: 500_000))
        _ = chain.produceBlock(at: SimInstant(micros: 1_000_000))
        #expect(chain.height == 3)
        #expect(chain.time(ofBlock: 2) == SimInstant(micros: 500_000))
        #expect(chain.time(ofBlock: 3) == SimInstant(micros: 1_000_000))
        #expect(chain.time(ofBlock: 4) == nil, "a block not produced yet")
        #expect(chain.time(ofBlock: 0) == nil, "there is no height 0")
    }
}
