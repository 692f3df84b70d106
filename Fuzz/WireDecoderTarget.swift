// libFuzzer target: the wire decoder. Every input is a typed error or a canonical operation
// that re-encodes to exactly the same bytes. Built by scripts/libfuzzer (docs/fuzzing.md).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let op = try? WireDecoder.decodeSigned(bytes) {
        precondition(op.wireBytes == bytes, "a decoded operation re-encodes to its input")
    }
    return 0
}
