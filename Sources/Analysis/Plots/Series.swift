/// One named curve or point set: y against x.
public struct Series: Equatable, Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]

    public init(name: String, x: [Double], y: [Double]) {
        precondition(x.count == y.count, "Series \(name): \(x.count) x values but \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
    }

    /// A series over epochs 1, 2, …, y.count.
    public init(name: String, y: [Double]) {
        self.init(name: name, x: y.indices.map { Double($0 + 1) }, y: y)
    }

    /// The (x, y) pairs, in order, up to the shorter of the two arrays. Pairs with a
    /// NaN or infinite coordinate are kept as nil so line plots can break there.
    var points: [(x: Double, y: Double)?] {
        (0..<min(x.count, y.count)).map { i in
            x[i].isFinite && y[i].isFinite ? (x[i], y[i]) : nil
        }
    }
}
