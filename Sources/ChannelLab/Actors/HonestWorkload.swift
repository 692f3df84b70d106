import ChannelCore

/// An honest participant's workload: at random intervals around its rate it deposits,
/// transfers or withdraws, never spending more than its node says it safely can.
struct HonestWorkload {
    let spec: WorkloadSpec
    let participant: Int
    let holders: [Int]
    var rng: SeededRandom

    init(spec: WorkloadSpec, participant: Int, holders: [Int], seed: UInt64, index: Int) {
        self.spec = spec
        self.participant = participant
        self.holders = holders
        rng = SeededRandom(seed: seed, stream: "workload-\(index)-\(participant)")
    }

    /// Delay to the next operation: uniform in `1...2/rate` seconds, mean `1/rate`.
    mutating func nextDelay() -> SimDuration? {
        guard spec.ratePerSecond > 0 else { return nil }
        return SimDuration(micros: 1 + rng.below(2_000_000 / spec.ratePerSecond))
    }

    enum Action {
        case transfer(to: ParticipantIndex, amount: Amount)
        case deposit(Amount)
        case withdraw(Amount)
        /// Lock until `blocks` past the cited chain height (`nil`: a height the run never reaches).
        case lock(Amount, blocks: UInt64?)
        case anchor
        case unlock
        case nothing
    }

    /// The next operation of the workload's application, if it has one (`nil`: skip this turn).
    mutating func nextApplication(node: ChannelNode) -> Payload? {
        spec.application?.spec.next(node: node, rng: &rng)
    }

    /// Chooses the next action given what the node may spend.
    mutating func next(spendable: Amount) -> Action {
        let total = spec.transferWeight + spec.depositWeight + spec.withdrawWeight + spec.lockWeight + spec.anchorWeight + spec.unlockWeight
        let roll = rng.below(total)
        // Chain-time actions first, drawn from the top of the roll, so that a mix without
        // them draws exactly as before.
        let spending = spec.transferWeight + spec.depositWeight + spec.withdrawWeight + spec.lockWeight
        if roll >= spending { return roll < spending + spec.anchorWeight ? .anchor : .unlock }
        let amount = Amount(spec.amountMin + rng.below(spec.amountMax - spec.amountMin + 1))
        if roll < spec.depositWeight { return .deposit(amount) }
        let spend = min(amount, spendable)
        guard spend > 0 else { return spec.depositWeight > 0 ? .deposit(amount) : .nothing }
        if roll < spec.depositWeight + spec.transferWeight {
            let candidates = (spec.targets.isEmpty ? holders : spec.targets).filter { $0 != participant }
            guard !candidates.isEmpty else { return .nothing }
            return .transfer(to: ParticipantIndex(candidates[rng.index(candidates.count)]), amount: spend)
        }
        if roll < spec.depositWeight + spec.transferWeight + spec.withdrawWeight { return .withdraw(spend) }
        // Locks that a workload also unlocks expire soon: one to three blocks past the height
        // the lock cites, so unlocks meet their expiry at and just after the edge.
        return .lock(spend, blocks: spec.unlockWeight > 0 ? 1 + rng.below(3) : nil)
    }
}
