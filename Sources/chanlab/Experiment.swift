import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure an attack over many seeds: each application registers its experiments (front-running: the same workload and front-runner under continuous matching and batch auctions, with and without the front-runner; its gain and the victims' loss per 1,000 victim trades). Exit 2 on bad input.")

    @Argument(help: "The experiment (chanlab experiment list names them).")
    var name: String

    @Option(help: "Seeds, A..B.")
    var seeds: String = "1..20"

    @Flag(help: "Print the rows as JSON.")
    var json = false

    func run() throws {
        let known = LabMeasurements.experiments
        if name == "list" {
            for experiment in known { print("\(experiment.name): \(experiment.summary) (at most \(experiment.seedsMax) seeds)") }
            return
        }
        guard let experiment = known.first(where: { $0.name == name }) else {
            printError("unknown experiment '\(name)' (known: \(known.map(\.name).joined(separator: ", ")))")
            Foundation.exit(2)
        }
        let range = try parseSeeds(seeds, countMax: UInt64(experiment.seedsMax))
        let result: LabMeasurement?
        do {
            result = try LabMeasurements.experiment(name, seeds: range) { at in
                if !json { FileHandle.standardError.write(Data("\r\(at)".utf8)) }
            }
        } catch {
            printError("\(error)")
            Foundation.exit(2)
        }
        guard let result else { preconditionFailure("a listed experiment runs") }
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        print(json ? result.json : result.lines.joined(separator: "\n"))
    }
}
