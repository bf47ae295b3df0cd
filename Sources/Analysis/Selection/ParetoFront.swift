/// Indices of the Pareto-optimal points for maximising accuracy and minimising cost,
/// sorted by cost (then by index).
///
/// Point q dominates p when acc_q ≥ acc_p and cost_q ≤ cost_p, one of them strictly.
/// Exact duplicates do not dominate each other, so all copies of a front point are
/// returned. Points with a NaN or infinite coordinate are ignored.
///
/// One sweep after sorting by (cost ↑, accuracy ↓, index ↑): a point is on the front
/// when its accuracy beats every cheaper-or-equal point seen so far, or equals the
/// best at the same cost (a duplicate). O(n log n).
public func paretoFront(accuracy: [Double], cost: [Double]) -> [Int] {
    precondition(accuracy.count == cost.count, "paretoFront: \(accuracy.count) accuracies but \(cost.count) costs")
    let order = accuracy.indices
        .filter { accuracy[$0].isFinite && cost[$0].isFinite }
        .sorted { a, b in
            if cost[a] != cost[b] { return cost[a] < cost[b] }
            if accuracy[a] != accuracy[b] { return accuracy[a] > accuracy[b] }
            return a < b
        }
    var front: [Int] = []
    var bestAccuracy = -Double.infinity
    var costOfBest = -Double.infinity
    for i in order {
        if accuracy[i] > bestAccuracy {
            bestAccuracy = accuracy[i]
            costOfBest = cost[i]
            front.append(i)
        } else if accuracy[i] == bestAccuracy && cost[i] == costOfBest {
            front.append(i)
        }
    }
    return front
}
