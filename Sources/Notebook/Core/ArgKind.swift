/// What a command argument names, so completion can offer the right words.
///
/// `.path` completes file names, `.command` completes command names, `.choice`
/// offers fixed keywords, and every other kind asks `Workspace.names(_:)` for the
/// names defined in the session (models, configurations, datasets, layers, …).
public enum ArgKind: Hashable, Sendable {
    case path
    case command
    case dataset
    case model
    /// One configuration name (commands that take exactly one).
    case config
    /// Configuration names or `all` (commands that take `CONFIG… | all`).
    case configs
    case layer
    case metric
    /// A fixed set of keywords, e.g. `.choice(["all", "best"])`.
    case choice([String])
    /// Any other kind of session name the integrator wants to complete.
    case named(String)
}
