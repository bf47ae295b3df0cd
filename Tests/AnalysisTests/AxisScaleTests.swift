import Testing
@testable import Analysis

@Suite struct AxisScaleTests {
    @Test func niceNumbersAreOneTwoFive() {
        #expect(AxisScale.niceNumber(0.13, round: true) == 0.1)
        #expect(AxisScale.niceNumber(0.26, round: true) == 0.2)
        #expect(AxisScale.niceNumber(4.2, round: true) == 5)
        #expect(AxisScale.niceNumber(8, round: true) == 10)
        #expect(AxisScale.niceNumber(1.2, round: false) == 2)
        #expect(AxisScale.niceNumber(330, round: false) == 500)
    }

    @Test func linearTicks() {
        let s = AxisScale.linear([0.43, 0.87], targetTicks: 5)
        #expect(s.ticks == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        #expect(s.ticks.map(s.label) == ["0.4", "0.5", "0.6", "0.7", "0.8", "0.9"])
        #expect(s.fraction(0.4) == 0 && s.fraction(0.9) == 1)
        let epochs = AxisScale.linear([1, 2], targetTicks: 10, integral: true)
        #expect(epochs.ticks == [1, 2])
        let flat = AxisScale.linear([0.5, 0.5])
        #expect(flat.lower < 0.5 && flat.upper > 0.5)
        #expect(AxisScale.linear([]).ticks.first == 0)
    }

    @Test func largeValuesUseSuffixes() {
        let s = AxisScale.linear([0, 3.1e9], targetTicks: 4)
        #expect(s.ticks.map(s.label) == ["0", "1G", "2G", "3G", "4G"])
        let log = AxisScale.logarithmic([2e6, 3e9])
        #expect(log.ticks.map(log.label) == ["1M", "10M", "100M", "1G", "10G"])
        let small = AxisScale.logarithmic([0.002, 0.5])
        #expect(small.ticks.map(small.label) == ["0.001", "0.01", "0.1", "1"])
        #expect(log.fraction(-1) == nil && log.fraction(.nan) == nil)
    }
}
