import CSodium

/// One-time initialisation of libsodium. Every entry point into the crypto layer calls
/// `Sodium.ready()` first; `sodium_init` is itself idempotent and thread-safe.
enum Sodium {
    private static let initialised: Bool = {
        let status = sodium_init()
        // 0: initialised now; 1: already initialised. Anything else is a broken installation.
        precondition(status >= 0, "sodium_init failed: libsodium is unusable")
        return true
    }()

    @inline(__always)
    static func ready() {
        precondition(initialised)
    }
}
