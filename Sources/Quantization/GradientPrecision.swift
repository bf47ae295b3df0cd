/// The precision of the gradients a weighted layer's backward pass computes with:
/// the `g` part of a precision (`w8a8g8`, `w8a8gbf16`; absent means `g32`).
///
/// - `32` (default): float backward, today's semantics.
/// - `bf16`: the backward GEMMs read their operands (∂L/∂y, the layer's input and
///   Q(W)) rounded to bfloat16 (round to nearest even) and accumulate in fp32, as
///   mixed-precision training does; oneDNN's bf16 GEMM where the CPU has avx512_bf16.
/// - `8`: ∂L/∂y is quantized to 8 bits, symmetric per tensor (s = max|g|/127), with
///   seeded stochastic rounding, as in cyclic-precision training (Fu et al., ICLR
///   2021); every use of ∂L/∂y in the layer's backward reads Q(∂L/∂y), so the backward
///   GEMMs run in int8 where the other operand has integer codes too.
public enum GradientPrecision: Hashable, Sendable {
    case float
    case bf16
    case int8

    /// Parses `32`, `bf16`, `8`.
    public init?(token: String) {
        switch token {
        case "32", "f", "fp32": self = .float
        case "bf16": self = .bf16
        case "8": self = .int8
        default: return nil
        }
    }

    /// The token in the notation: `32`, `bf16`, `8`.
    public var token: String {
        switch self {
        case .float: return "32"
        case .bf16: return "bf16"
        case .int8: return "8"
        }
    }

    /// Bits of one gradient value as the backward GEMMs read it.
    public var bits: Int {
        switch self {
        case .float: return 32
        case .bf16: return 16
        case .int8: return 8
        }
    }
}
