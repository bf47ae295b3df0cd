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
        #expect(Quantity.seconds.format(12.34) == "12.3")
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

    /// In prose and progress lines a value that is not finite is a word; printf wrote `-nan`
    /// for the NaN x86 arithmetic makes (sign bit set), as `train loss -nan`.
    @Test func nonFiniteValuesAreWordsInProse() {
        #expect(Quantity.loss.prose(-.nan) == "nan")
        #expect(Quantity.loss.prose(.nan) == "nan")
        #expect(Quantity.accuracy.prose(.infinity) == "inf")
        #expect(Quantity.accuracy.prose(-.infinity) == "-inf")
        #expect(Quantity.loss.prose(0.31544) == "0.3154")
        #expect(Quantity.throughput.prose(812.4) == "812")
        #expect(Quantity.word(ifNotFinite: 1) == nil)
    }

    @Test func noScientificNotationAnywhere() {
        for q in Quantity.allCases {
            for v in [1e-9, 1.5e7, 9.9e15] {
                #expect(!q.format(v).contains("e+") && !q.format(v).contains("e-"), "\(q) \(v) → \(q.format(v))")
            }
        }
    }
}

/// The quantities added for the analysis tables (correlate, sensitivity, search compare).
@Suite struct AnalysisQuantityTests {
    @Test func smallMemoriesKeepTwoSignificantDigits() {
        // 3,680 bits = 0.449 KiB; 128 bits = 0.0156 KiB; 3,258,400 bits = 397.75 KiB.
        #expect(Quantity.memory.format(3_680) == "0.45")
        #expect(Quantity.memory.format(128) == "0.016")
        #expect(Quantity.memory.format(3_258_400) == "397.8")
        #expect(Quantity.memory.format(0) == "0.0")
    }

    @Test func statisticsFormats() {
        #expect(Quantity.coefficient.format(0.97312) == "0.973")
        #expect(Quantity.coefficient.interval(0.5214...0.9701) == "[0.521, 0.970]")
        #expect(Quantity.pValue.format(0.0267) == "0.0267")
        #expect(Quantity.pValue.format(0.007384) == "0.00738")
        #expect(Quantity.pValue.format(0.157) == "0.157")
        #expect(Quantity.pValue.format(1.0) == "1.000")
        #expect(Quantity.pValue.format(3e-7) == "< 0.0001")
        #expect(Quantity.loss.format(0.31544) == "0.3154")
    }

    @Test func sharesSecondsAndRates() {
        #expect(Quantity.share.format(0.1875) == "18.8")
        #expect(Quantity.share.withUnit(0.1875) == "18.8%")
        #expect(Quantity.seconds.format(12.34) == "12.3")
        #expect(Quantity.seconds.withUnit(12.34) == "12.3 s")
        #expect(Quantity.rate(46.2963) == "46.30")
        #expect(Quantity.rate(0.012345) == "0.0123")
        #expect(Quantity.rate(.nan) == "—")
        #expect(Quantity.memory.rateUnit.divisor == 8192 && Quantity.memory.rateUnit.name == "KiB")
        #expect(Quantity.bops.rateUnit.divisor == 1e6 && Quantity.bops.rateUnit.name == "M BOPs")
        #expect(Quantity.ratio.format(0.01432) == "0.0143")
        #expect(Quantity.ratio.format(0.00001234) == "0.0000123")
    }

    /// Teaching views' values read as `%.4g` printed them wherever that had no exponent
    /// (so the golden transcripts keep their numbers), and in plain decimals where it had.
    @Test func valuesReadAsFourSignificantDigitsWithoutExponents() {
        var v = 1.0e-4
        while v < 9.9e3 {
            for x in [v, -v, v * 1.000049, v * 0.99996] where abs(x) >= 1e-4 && abs(x) < 9999.5 {
                #expect(Quantity.value.format(x) == String(format: "%.4g", x), "\(x)")
            }
            v *= 1.37
        }
        #expect(Quantity.value.format(0) == "0")
        #expect(Quantity.value.format(0.5) == "0.5")
        #expect(Quantity.value.format(-0.06667) == "-0.06667")
        #expect(Quantity.value.format(0.99996) == "1")
        #expect(Quantity.value.format(1.234e-5) == "0.00001234")     // %.4g: 1.234e-05
        #expect(Quantity.value.format(-3.0e-7) == "-0.0000003")       // %.4g: -3e-07
        #expect(Quantity.value.format(12345.6) == "12346")            // %.4g: 1.235e+04
    }

    @Test func meanAndSDOverSeeds() {
        // mean 0.9, sample sd of (0.89, 0.91) = 0.01414.
        #expect(Quantity.accuracy.meanSD([0.89, 0.91]) == "0.9000 ± 0.0141")
        #expect(Quantity.accuracy.meanSD([0.89]) == "0.8900")
        #expect(Quantity.accuracy.meanSD([]) == "")
    }

    /// For programs (CSV): the shown unit, every digit, no grouping, integers without ".0".
    @Test func plainNumbersForPrograms() {
        #expect(Quantity.bops.plain(1_106_432) == "1106432")
        #expect(Quantity.bops.plain(553_216.5) == "553216.5")
        #expect(Quantity.memory.plain(3_258_400) == "397.75390625")      // bits → KiB (397.8 in a table)
        #expect(Quantity.energy.plain(742) == "0.000742")                // pJ → µJ
        #expect(Quantity.accuracy.plain(2.0 / 3) == "0.6666666666666666")
        #expect(Quantity.accuracy.plain(0.00001234) == "1.234e-05")
        #expect(Quantity.points.plain(0.074) == "7.3999999999999995")     // × 100, as the Double holds it
        #expect(Quantity.loss.plain(-.nan) == "nan")
        #expect(Quantity.energy.plain(-.infinity) == "-inf")
        #expect(Quantity.meanAndSD([0.5, 0.75])! == (0.625, 0.03125.squareRoot()))
        #expect(Quantity.meanAndSD([0.5])! == (0.5, nil))
        #expect(Quantity.meanAndSD([]) == nil)
    }

    @Test func shownValuesRoundTrip() {
        for q in Quantity.allCases {
            #expect(abs(q.unscaled(q.scaled(1234.5)) - 1234.5) < 1e-9, "\(q)")
        }
        #expect(Quantity.memory.formatShown(397.75) == "397.8")
        #expect(Quantity.energy.formatShown(66.928820) == "66.929")
    }
}
