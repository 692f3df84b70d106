// libFuzzer target: the scenario loader. Any bytes must load or fail with a positioned
// `ScenarioError` (line and column at least 1), never crash. Built with
// `scripts/libfuzzer loader` (swift build -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING).
import ChannelLab

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenarioLoader(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    do {
        _ = try ScenarioLoader.parse(text, file: "fuzz.yaml")
    } catch {
        precondition(error.line >= 1 && error.column >= 1, "a scenario error has a position")
    }
    return 0
}

/// SwiftPM links an executable's entry point under this name; hand control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("fuzz_scenario_loader_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runLibFuzzer(&count, &arguments, fuzzScenarioLoader)
}
#else
@main
struct NotAFuzzBuild {
    static func main() {
        print("This target is a libFuzzer harness; build and run it with: scripts/libfuzzer loader")
    }
}
#endif
