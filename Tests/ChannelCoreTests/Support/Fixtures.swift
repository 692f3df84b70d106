import ChannelCore
import Foundation

/// Loads files from the repository's `fixtures/` folder.
enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")

    static func json(_ name: String) throws -> Any {
        let data = try Data(contentsOf: root.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data)
    }

    static func bytes(_ hex: Any?) -> [UInt8] {
        guard let text = hex as? String, let bytes = Hex.decode(text) else {
            fatalError("fixture field is not hex: \(String(describing: hex))")
        }
        return bytes
    }
}
