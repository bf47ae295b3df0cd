/// Energy per operation at 45 nm, in picojoules: Horowitz, "Computing's energy
/// problem (and what we can do about it)", ISSCC 2014, as QKeras's qtools encodes
/// the figures (`qenergy.py`).
public enum EnergyModel {
    /// Integer multiply of b-bit operands: 0.0029948·b² + 0.0010417·b pJ
    /// (qtools' quadratic fit through Horowitz's 8-bit 0.2 pJ and 32-bit 3.1 pJ).
    public static func integerMultiply(bits b: Int) -> Double {
        0.0029948 * Double(b * b) + 0.0010417 * Double(b)
    }
    /// Integer add of b-bit operands: 0.003125 pJ per bit (32-bit add 0.1 pJ).
    public static func integerAdd(bits b: Int) -> Double { 0.003125 * Double(b) }
    /// fp32 multiply.
    public static let floatMultiply = 3.7
    /// fp32 add.
    public static let floatAdd = 0.9
    /// DRAM read, per bit (640 pJ per 32-bit word).
    public static let dramPerBit = 20.3125
    /// The source line every report ends with.
    public static let source = "45 nm figures from Horowitz (ISSCC 2014) as encoded in QKeras qtools"
}
