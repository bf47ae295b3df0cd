import Tensors

/// Seeded data augmentation for image batches (the usual CIFAR recipe).
///
/// Per sample, in this order of random draws: a crop offset dy, dx each uniform in
/// −cropPadding…cropPadding (the image is shifted as if zero-padded by `cropPadding`
/// on every side and cropped back to H×W; padded pixels are raw 0, i.e. −mean/std
/// after normalisation, as torchvision's RandomCrop(padding:) then Normalize does),
/// then, when `flip`, a fair coin for a horizontal mirror. Draws come from the rng
/// passed to `fillBatch`, so a seed fixes every augmented batch.
public struct Augmentation: Sendable, Equatable {
    public var cropPadding: Int
    public var flip: Bool

    public init(cropPadding: Int = 4, flip: Bool = true) {
        precondition(cropPadding >= 0, "Augmentation: cropPadding must be >= 0")
        self.cropPadding = cropPadding
        self.flip = flip
    }

    /// Random crop with padding 4 and horizontal flip: for 32×32 colour sets.
    public static let standard = Augmentation(cropPadding: 4, flip: true)

    /// The draws for one sample: (dy, dx, mirrored).
    @inline(__always)
    func draw(_ rng: inout SplitMix64) -> (Int, Int, Bool) {
        var dy = 0, dx = 0
        if cropPadding > 0 {
            dy = rng.nextInt(below: 2 * cropPadding + 1) - cropPadding
            dx = rng.nextInt(below: 2 * cropPadding + 1) - cropPadding
        }
        let mirrored = flip && rng.next() & 1 == 1
        return (dy, dx, mirrored)
    }
}
