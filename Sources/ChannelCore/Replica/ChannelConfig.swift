/// A participant's role. Roles carry permissions; a permission violation is invalid in the
/// author's causal past (the role is fixed in the channel configuration).
public enum Role: String, Sendable, CaseIterable, Hashable {
    case trader
    case marketMaker
    case liquidator
    case oracle
    case observer

    /// What the role may do.
    public var permissions: Permissions {
        switch self {
        case .trader, .marketMaker, .liquidator, .oracle: return [.holdFunds, .citeChainTime]
        case .observer: return [.citeChainTime]
        }
    }
}

/// Permissions a role grants.
public struct Permissions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Deposit, receive, transfer, withdraw, lock and unlock funds.
    public static let holdFunds = Permissions(rawValue: 1 << 0)
    /// Publish chain-time anchors.
    public static let citeChainTime = Permissions(rawValue: 1 << 1)
}

/// One member of a channel.
public struct Participant: Sendable, Hashable {
    public let index: ParticipantIndex
    public let publicKey: PublicKey
    public let role: Role

    public init(index: ParticipantIndex, publicKey: PublicKey, role: Role) {
        self.index = index
        self.publicKey = publicKey
        self.role = role
    }
}

/// Everything every replica of one channel agrees on before the first operation.
public struct ChannelConfig: Sendable {
    public let channel: ChannelID
    /// Participants; `participants[i].index == i`.
    public let participants: [Participant]
    /// The settlement contract's key, which signs deposit receipts and chain-time anchors.
    public let fundingKey: PublicKey
    /// Tokens the channel holds, sorted.
    public let tokens: [TokenID]
    /// The applications the channel enables beside the balance ledger, each with its
    /// configuration (at most one per application).
    public let applications: [any ApplicationConfig]

    /// Most participants in one channel.
    public static let participantsMax = 4096
    /// Most tokens in one channel.
    public static let tokensMax = 64

    /// Most applications one channel enables.
    public static let applicationsMax = 8

    public init(channel: ChannelID, participants: [Participant], fundingKey: PublicKey, tokens: [TokenID], applications: [any ApplicationConfig] = []) {
        precondition(!participants.isEmpty, "a channel needs participants")
        precondition(participants.count <= ChannelConfig.participantsMax, "too many participants")
        for (position, participant) in participants.enumerated() {
            precondition(participant.index == ParticipantIndex(position), "participant indices must be 0..<n in order")
        }
        precondition(!tokens.isEmpty && tokens.count <= ChannelConfig.tokensMax, "a channel needs 1...64 tokens")
        precondition(Set(tokens).count == tokens.count, "tokens must be distinct")
        self.channel = channel
        self.participants = participants
        self.fundingKey = fundingKey
        self.tokens = tokens.sorted()
        precondition(applications.count <= ChannelConfig.applicationsMax, "too many applications")
        precondition(Set(applications.map(\.name)).count == applications.count, "an application enabled twice")
        self.applications = applications
    }

    /// The configuration of the application named `name`, if the channel enables it.
    public func application(named name: String) -> (any ApplicationConfig)? {
        applications.first { $0.name == name }
    }

    /// The participant with `index`, or `nil` when there is none.
    public func participant(_ index: ParticipantIndex) -> Participant? {
        Int(index) < participants.count ? participants[Int(index)] : nil
    }

    /// Whether `token` is one of the channel's tokens.
    public func hasToken(_ token: TokenID) -> Bool {
        tokens.contains(token)
    }
}
