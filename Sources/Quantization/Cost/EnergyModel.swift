import Foundation

/// Energy per operation at 45 nm, in picojoules: Horowitz, "Computing's energy
/// problem (and what we can do about it)", ISSCC 2014, as QKeras's qtools encodes
/// the figures (`qenergy.py`, `settings.py`, `multiplier_impl.py`).
public enum EnergyModel {
    /// Integer multiply of b-bit operands: 0.0029948·b² + 0.0010417·b pJ
    /// (qtools' quadratic fit through Horowitz's 8-bit 0.2 pJ and 32-bit 3.1 pJ).
    public static func integerMultiply(bits b: Int) -> Double {
        0.0029948 * Double(b * b) + 0.0010417 * Double(b)
    }
    /// Integer add of b-bit operands: 0.003125 pJ per bit (32-bit add 0.1 pJ).
    public static func integerAdd(bits b: Int) -> Double { 0.003125 * Double(b) }
    /// A gate-level "multiplier" of `bits` bits as qtools prices it: `factor` × the
    /// energy of a `bits`-bit add. A binary weight (±1) times a k-bit input is a
    /// multiplexer choosing x or −x (factor 0.3, k bits); a ternary weight a
    /// multiplexer with a zero input (factor 0.6, k bits); binary × binary one XOR
    /// gate (factor 0.3, 1 bit).
    public static func gate(factor: Double, bits: Int) -> Double { factor * integerAdd(bits: bits) }
    /// qtools' gate factors, relative to an adder.
    public static let binaryMuxFactor = 0.3
    public static let ternaryMuxFactor = 0.6
    public static let xorFactor = 0.3
    /// fp32 multiply.
    public static let floatMultiply = 3.7
    /// fp32 add.
    public static let floatAdd = 0.9
    /// DRAM read, per bit (640 pJ per 32-bit word).
    public static let dramPerBit = 20.3125
    /// SRAM size assumed for activations, in bits (qtools' examples: 16 MiB).
    public static let sramBits = 8 * 16 * 1024 * 1024
    /// Reading or writing `bits` bits of one tensor in an SRAM of at least `sramBits`:
    /// ⌈bits/64⌉ accesses of 64 bits, each 0.02455·s² − 0.2656·s + 0.8661 pJ with
    /// s = log₂ max(bits, sramBits) (qtools' `sram_rd` fit, `sram_mul_factor` 1/64).
    /// At 16 MiB, s = 27 and an access costs 11.592 pJ.
    public static func sramAccess(bits: Int, sramBits: Int = sramBits) -> Double {
        guard bits > 0 else { return 0 }
        let s = log2(Double(max(bits, sramBits)))
        let perAccess = max(0, 0.02455 * s * s - 0.2656 * s + 0.8661)
        return Double((bits + 63) / 64) * perAccess
    }
    /// The source line every report ends with.
    public static let source = "45 nm figures from Horowitz (ISSCC 2014) as encoded in QKeras qtools"
}
