import Testing
@testable import Formatting

/// Every unit and number format of the tables, value by value.
@Suite struct QuantityTests {
    @Test func countsAreExactAndGrouped() {
        #expect(Quantity.parameters.format(105_962) == "105,962")
        #expect(Quantity.bops.format(15_294_464) == "15,294,464")
        #expect(Quantity.macs.format(999) == "999")
        #expect(Quantity.grouped(1000) == "1,000")
        #expect(Quantity.grouped(-1234) == "−1,234")
        #expect(Quantity.grouped(0) == "0")
        #expect(Quantity.grouped(Int.min) == "−9,223,372,036,854,775,808")
    }

    @Test func unitsConvertFromTheirInputUnit() {
        // 3,258,400 bits = 397.75 KiB; 66,928,820.4 pJ = 66.929 µJ; 0.074 = 7.40 points.
        #expect(Quantity.memory.format(3_258_400) == "397.8")
        #expect(Quantity.memory.withUnit(3_258_400) == "397.8 KiB")
        #expect(Quantity.energy.format(66_928_820.4129) == "66.929")
        #expect(Quantity.points.withUnit(0.074) == "7.40 points")
        #expect(Quantity.compression.format(28.64) == "28.6×")
        #expect(Quantity.accuracy.format(0.89521) == "0.8952")
        #expect(Quantity.seconds.format(12.34) == "12.3 s")
    }

    @Test func smallEnergiesKeepThreeSignificantDigits() {
        // A w1a1 layer's compute: 742 pJ = 0.000742 µJ, which 3 decimals printed as 0.000.
        #expect(Quantity.energy.format(742.0) == "0.000742")
        #expect(Quantity.energy.format(74_213.0) == "0.0742")
        #expect(Quantity.energy.format(50_000.0) == "0.0500")
        #expect(Quantity.energy.format(100_000.0) == "0.100")
        #expect(Quantity.energy.format(999.6) == "0.00100")      // rounding carries into a new digit
        #expect(Quantity.energy.format(0) == "0.000")
        #expect(Quantity.energy.format(-742.0) == "-0.000742")
        #expect(Quantity.energy.withUnit(1_000) == "0.00100 µJ")
        // No nonzero energy from 1 fJ to 1 J prints as zero.
        var pj = 1e-3
        while pj < 1e12 {
            #expect(Quantity.energy.format(pj).contains { "123456789".contains($0) }, "\(pj) pJ → \(Quantity.energy.format(pj))")
            pj *= 1.7
        }
    }

    @Test func nonFiniteValuesAreMarked() {
        #expect(Quantity.energy.format(Double.nan) == "—")
        #expect(Quantity.bops.format(Double.infinity) == "∞")
    }

    @Test func noScientificNotationAnywhere() {
        for q in Quantity.allCases {
            for v in [1e-9, 1.5e7, 9.9e15] {
                #expect(!q.format(v).contains("e+") && !q.format(v).contains("e-"), "\(q) \(v) → \(q.format(v))")
            }
        }
    }
}
