/// Reference networks (DESIGN.md and the papers' standard networks), by name.
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
        ("resnet20", resNet(blocksPerStage: 3), [3, 32, 32],
         "He et al. 2016's CIFAR-10 ResNet-20: conv 16, 3 stages of 3 blocks (16, 32, 64 channels), global average pooling, "
            + "dense 10; option A shortcuts (identity, parameter-free zero-padding where the stage widens): 269,722 parameters (0.27 M)"),
        ("vgg-small",
         "conv 128 k3 nobias | bn | relu | conv 128 k3 nobias | bn | relu | maxpool 2 | conv 256 k3 nobias | bn | relu | conv 256 k3 nobias | bn | relu | maxpool 2 | conv 512 k3 nobias | bn | relu | conv 512 k3 nobias | bn | relu | maxpool 2 | dense 10",
         [3, 32, 32], "the CIFAR-10 VGG-Small of LQ-Nets (128C3-128C3-MP2-256C3-256C3-MP2-512C3-512C3-MP2-FC10) with BatchNorm: "
            + "4,656,512 weights + 10 biases + 3,584 BatchNorm parameters = 4,660,106 (4.66 M)"),
        ("lenet5",
         "conv 6 k5 p2 | relu | maxpool 2 | conv 16 k5 p0 | relu | maxpool 2 | dense 120 | relu | dense 84 | relu | dense 10",
         [1, 28, 28], "LeNet-5 for 28×28 MNIST (6C5 with padding 2, S2, 16C5, S2, 120, 84, 10) in its common modern form: "
            + "ReLU and max pooling in place of tanh and trainable subsampling, dense 10 in place of the RBF layer; 61,706 parameters"),
    ]

    /// The CIFAR ResNet-6n+2 of He et al. 2016 (section 4.2): a 3×3 conv with 16 filters,
    /// three stages of n blocks (two 3×3 convs each) at 16, 32 and 64 filters, the first
    /// block of stages 2 and 3 with stride 2 and an option-A shortcut (`pad`), then global
    /// average pooling and a 10-way dense layer. Convs carry no bias (BatchNorm follows).
    static func resNet(blocksPerStage n: Int) -> String {
        var parts = ["conv 16 k3 nobias | bn | relu"]
        for (stage, width) in [16, 32, 64].enumerated() {
            for b in 0..<n {
                let down = stage > 0 && b == 0
                let main = "conv \(width) k3\(down ? " s2" : "") nobias | bn | relu | conv \(width) k3 nobias | bn"
                parts.append("res(" + main + (down ? " ; pad \(width) s2" : "") + ") | relu")
            }
        }
        parts.append("gap | dense 10")
        return parts.joined(separator: " | ")
    }

    public static func spec(_ name: String) -> ModelSpec? {
        guard let p = all.first(where: { $0.name == name }) else { return nil }
        return try? ModelSpec(parsing: p.spec)
    }

    public static func inputShape(_ name: String) -> [Int]? { all.first { $0.name == name }?.input }
}
