/// Selection quality inside one group of configurations (e.g. a quantizer family).
public struct GroupSelection: Equatable, Sendable {
    /// The group label, e.g. "binary", "ternary", "k-bit", "float".
    public var group: String
    /// Indices (in the caller's order) of the configurations in the group.
    public var members: [Int]
    /// Selection rows computed among the members only; indices stay global.
    public var rows: [SelectionRow]

    public init(group: String, members: [Int], rows: [SelectionRow]) {
        self.group = group
        self.members = members
        self.rows = rows
    }
}

/// Selection quality broken down by group label: within each group, the early pick
/// is compared with the group's own best final accuracy and top-k.
///
/// Groups appear in the order their labels first occur in `groups`.
public func selectionQuality(early: [[Double]], final: [Double], k: Int, groups: [String], epochs: [Int]? = nil) -> [GroupSelection] {
    precondition(early.count == final.count, "selectionQuality: \(early.count) early rows but \(final.count) final values")
    precondition(groups.count == final.count, "selectionQuality: \(groups.count) group labels for \(final.count) configurations")
    var order: [String] = []
    var members: [String: [Int]] = [:]
    for (i, g) in groups.enumerated() {
        if members[g] == nil { order.append(g) }
        members[g, default: []].append(i)
    }
    return order.map { g in
        let m = members[g]!
        return GroupSelection(group: g, members: m,
                              rows: selectionRows(early: early, final: final, k: k, members: m, epochs: epochs))
    }
}
