import ArgumentParser
import ChannelCore
import ChannelLab
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise a trace file: the run, operations per node, messages, violations, evidence and a timeline. Exit 2 on a bad trace.")

    @Argument(help: "A trace file written by `chanlab run FILE --trace PATH`.")
    var path: String

    func run() throws {
        do { print(try TraceInspector.summary(path)) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}
