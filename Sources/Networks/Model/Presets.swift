/// Reference networks (DESIGN.md), by name.
public enum Presets {
    /// name → (spec text, input shape, what it is).
    public static let all: [(name: String, spec: String, input: [Int], about: String)] = [
        ("cifar3",
         "conv 32 k3 | relu | maxpool 2 | conv 64 k3 | relu | maxpool 2 | conv 128 k3 | relu | maxpool 2 | dense 100",
         [3, 32, 32], "the seed paper's CIFAR-100 network shape: 3 convs, a float dense 2048→100"),
        ("fmnist2",
         "conv 32 k3 | relu | maxpool 2 | conv 64 k3 | relu | maxpool 2 | dense 128 | relu | dense 10",
         [1, 28, 28], "2 convs and 2 dense layers for 28×28 grayscale"),
        ("seedcnn",
         "conv 16 k3 | bn | relu | maxpool 2 | conv 32 k3 | bn | relu | maxpool 2 | dense 64 | bn | relu | dense 10",
         [1, 28, 28], "the seed protocol's small CNN with BatchNorm (conv16, conv32, dense64, dense10)"),
        ("svhn",
         "conv 32 k3 | bn | relu | maxpool 2 | conv 64 k3 | bn | relu | conv 64 k3 | bn | relu | conv 64 k3 | bn | relu | maxpool 2 | conv 128 k3 | bn | relu | conv 128 k3 | bn | relu | conv 128 k3 | bn | relu | maxpool 2 | dense 10",
         [3, 32, 32], "the seed paper's SVHN network: one conv, two groups of three convs, a float dense layer"),
    ]

    public static func spec(_ name: String) -> ModelSpec? {
        guard let p = all.first(where: { $0.name == name }) else { return nil }
        return try? ModelSpec(parsing: p.spec)
    }

    public static func inputShape(_ name: String) -> [Int]? { all.first { $0.name == name }?.input }
}
