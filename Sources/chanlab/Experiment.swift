import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure an attack: front-running runs the same workload and front-runner under continuous matching and batch auctions, with and without the front-runner, and prints its gain and the victims' loss per 1,000 victim trades. Exit 2 on bad input.")

    @Argument(help: "The experiment: front-running.")
    var name: String

    @Option(help: "Seeds, A..B (at most 1000).")
    var seeds: String = "1..20"

    @Flag(help: "Print the rows as JSON.")
    var json = false

    func run() throws {
        guard name == "front-running" else {
            printError("unknown experiment '\(name)' (known: front-running)")
            Foundation.exit(2)
        }
        let range = try parseSeeds(seeds, countMax: UInt64(FrontRunningExperiment.seedsMax))
        let rows: [FrontRunningExperiment.Row]
        do {
            rows = try FrontRunningExperiment.run(seeds: range) { rule, seed in
                if !json { FileHandle.standardError.write(Data("\r\(rule) seed \(seed)".utf8)) }
            }
        } catch {
            printError("\(error)")
            Foundation.exit(2)
        }
        if json {
            try printJSON(rows)
            return
        }
        FileHandle.standardError.write(Data("\n".utf8))
        print("| rule | seeds | victim trades (control) | ahead / missed | front-runner gain | per 1,000 victim trades | victims' cost per 1,000 trades (control) | victims' loss per 1,000 trades |")
        print("|---|---|---|---|---|---|---|---|")
        for row in rows {
            let cost = row.victimTrades == 0 ? 0 : Double(row.victimCost) * 1000 / Double(row.victimTrades)
            let control = row.controlTrades == 0 ? 0 : Double(row.controlCost) * 1000 / Double(row.controlTrades)
            print(
                "| \(row.rule) | \(row.seeds) | \(row.victimTrades) (\(row.controlTrades)) | \(row.frontRuns) / \(row.missed) | \(row.frontRunnerGain) | \(String(format: "%.0f", row.gainPerThousand)) | \(String(format: "%.0f", cost)) (\(String(format: "%.0f", control))) | \(String(format: "%.0f", row.lossPerThousand)) |"
            )
        }
    }
}
