import Foundation
import ChannelCore

/// `chanlab experiment front-running`: the same workload and front-runner under continuous
/// matching and under batch auctions, each seed run twice (with the front-runner, and with
/// it idle as the control), measuring what the front-runner gains and what its victims lose
/// per 1,000 victim trades (docs/apps/orderbook.md, "Front-running, measured").
public struct FrontRunningExperiment: LabExperiment {
    /// One matching rule's totals over the seeds.
    public struct Row: Sendable, Codable {
        public let rule: String
        public let seeds: Int
        /// Fills with a victim on either side, in the runs with the front-runner.
        public let victimTrades: Int
        /// Victims' orders the front-runner got ahead of (same depth, smaller id), and those
        /// it could not (its own chain already as deep as the victim).
        public let frontRuns: Int
        public let missed: Int
        /// Front-runner's gain against the control runs (quote units, inventory marked at the
        /// reference price), in total.
        public let frontRunnerGain: Int64
        /// Victims' execution cost per fill (what they paid above, or received below, the
        /// reference price, plus fees), in the attacked runs and in the control runs.
        public let victimCost: Int64
        public let controlTrades: Int
        public let controlCost: Int64

        public var gainPerThousand: Double { victimTrades == 0 ? 0 : Double(frontRunnerGain) * 1000 / Double(victimTrades) }
        /// The victims' extra cost per 1,000 of their trades: attacked minus control.
        public var lossPerThousand: Double {
            guard victimTrades > 0, controlTrades > 0 else { return 0 }
            return Double(victimCost) * 1000 / Double(victimTrades) - Double(controlCost) * 1000 / Double(controlTrades)
        }
    }

    /// The reference price (quote per lot) inventory is marked at: the middle of the price range.
    public static let referencePrice: Int64 = 100
    /// Most seeds one experiment runs.
    public static let seedsMax = 1000

    /// The scenario: a market maker quoting 95...105 post-only, two takers buying and selling
    /// at 100...110 (buys) / 90...100 (sells) limits, and the front-runner (participant 3).
    static func yaml(rule: String, frontRunner: Bool) -> String {
        """
        name: front-running-\(rule)
        seed: 1
        duration: 20s
        tokens: [0, 1]
        participants: {count: 4, deposit: 100000, roles: {0: marketMaker}}
        network:
          latency: {uniform: [5ms, 40ms]}
        applications:
          orderbook:
            markets:
              - {id: 1, base: 0, quote: 1, tick: 1, lot: 1, matching: \(rule == "continuous" ? "continuous" : "{batch: 3}"), makerFeeBps: 0, takerFeeBps: 5, feeRecipient: 0}
        workloads:
          - participants: [0]
            rate: 12
            orderbook: {market: 1, mix: {place: 100}, price: [95, 105], lots: [1, 10], postOnly: 100}
          - participants: [1, 2]
            rate: 4
            orderbook: {market: 1, mix: {place: 70, market: 30}, price: [98, 102], lots: [1, 5]}
        \(frontRunner ? "byzantine:\n  - {participant: 3, do: front-run, from: 1s, until: 19s, every: 20ms}" : "")
        liveness: {bound: 30s}

        """
    }

    var name: String { "front-running" }
    var summary: String {
        "the same workload and front-runner under continuous matching and batch auctions, with and without the front-runner: its gain and the victims' loss per 1,000 victim trades"
    }
    var seedsMax: Int { Self.seedsMax }

    func run(seeds: ClosedRange<UInt64>, progress: (String) -> Void) throws(ScenarioError) -> LabMeasurement {
        let rows = try Self.run(seeds: seeds) { rule, seed in progress("\(rule) seed \(seed)") }
        var lines = [
            "| rule | seeds | victim trades (control) | ahead / missed | front-runner gain | per 1,000 victim trades | victims' cost per 1,000 trades (control) | victims' loss per 1,000 trades |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            let cost = row.victimTrades == 0 ? 0 : Double(row.victimCost) * 1000 / Double(row.victimTrades)
            let control = row.controlTrades == 0 ? 0 : Double(row.controlCost) * 1000 / Double(row.controlTrades)
            lines.append(
                "| \(row.rule) | \(row.seeds) | \(row.victimTrades) (\(row.controlTrades)) | \(row.frontRuns) / \(row.missed) | \(row.frontRunnerGain) | \(String(format: "%.0f", row.gainPerThousand)) | \(String(format: "%.0f", cost)) (\(String(format: "%.0f", control))) | \(String(format: "%.0f", row.lossPerThousand)) |"
            )
        }
        return LabMeasurement(lines: lines, json: jsonText(rows))
    }

    /// Runs seeds `seeds` under both rules; `progress` is called after each seed.
    public static func run(seeds: ClosedRange<UInt64>, progress: (String, UInt64) -> Void = { _, _ in }) throws(ScenarioError) -> [Row] {
        precondition(seeds.count <= seedsMax, "at most \(seedsMax) seeds")
        var rows = [Row]()
        for rule in ["continuous", "batch"] {
            let attack = try ScenarioLoader.parse(yaml(rule: rule, frontRunner: true), file: "front-running-\(rule).yaml")
            let control = try ScenarioLoader.parse(yaml(rule: rule, frontRunner: false), file: "front-running-\(rule)-control.yaml")
            var trades = 0
            var ahead = 0
            var missed = 0
            var gain: Int64 = 0
            var cost: Int64 = 0
            var controlTrades = 0
            var controlCost: Int64 = 0
            for seed in seeds {
                let attacked = outcome(attack, seed: seed)
                let quiet = outcome(control, seed: seed)
                trades += attacked.victimTrades
                ahead += attacked.ahead
                missed += attacked.missed
                gain += attacked.values[3] - quiet.values[3]
                cost += attacked.victimCost
                controlTrades += quiet.victimTrades
                controlCost += quiet.victimCost
                progress(rule, seed)
            }
            rows.append(
                Row(
                    rule: rule, seeds: seeds.count, victimTrades: trades, frontRuns: ahead, missed: missed, frontRunnerGain: gain, victimCost: cost,
                    controlTrades: controlTrades, controlCost: controlCost))
        }
        return rows
    }

    struct Outcome {
        var values: [Int64]
        var victimTrades: Int
        var victimCost: Int64
        var ahead: Int
        var missed: Int
    }

    /// Runs one seed and marks every participant's accounts at the reference price.
    static func outcome(_ scenario: Scenario, seed: UInt64) -> Outcome {
        let run = LabRun(scenario: scenario, seed: seed)
        _ = run.run()
        let replica = run.nodes.first { run.honest.contains(Int($0.index)) && $0.replica != nil }!.replica!
        let values = (0..<scenario.participantCount).map { p -> Int64 in
            let base = replica.account(ParticipantIndex(p), 0)
            let quote = replica.account(ParticipantIndex(p), 1)
            return Int64(base.balance + base.locked + base.withdrawn) * referencePrice + Int64(quote.balance + quote.locked + quote.withdrawn)
        }
        let book = replica.state.application(named: OrderBook.name) as? OrderBookState
        var trades = 0
        var cost: Int64 = 0
        for fill in book?.fills ?? [] {
            let lots = Int64(fill.lots)
            let price = Int64(fill.price)
            if [1, 2].contains(fill.buyer) {
                trades += 1
                cost += (price - referencePrice) * lots + Int64(fill.buyerFee)
            }
            if [1, 2].contains(fill.seller) {
                trades += 1
                cost += (referencePrice - price) * lots + Int64(fill.sellerFee)
            }
        }
        let frontRunner = run.byzantineActor.applicationStrategies.values.compactMap { $0 as? FrontRunner }.first
        return Outcome(values: values, victimTrades: trades, victimCost: cost, ahead: frontRunner?.ahead ?? 0, missed: frontRunner?.missed ?? 0)
    }
}
