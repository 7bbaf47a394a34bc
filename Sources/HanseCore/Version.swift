/// The version of this build of Hanse, printed by `hanse version` and sent in the `Server` header.
public enum HanseVersion {
    /// Semantic version of the release.
    public static let current = "0.1.0"
}
