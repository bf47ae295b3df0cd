import Foundation

/// The special functions behind the p-values: the regularized incomplete beta
/// function, Student's t tail and the normal tail.
///
/// Pure Swift on `lgamma`, `log`, `exp` and `erfc` from the C library; accurate to
/// roughly 1e-13 relative for the arguments quantlab meets (ν up to a few thousand).
public enum SpecialFunctions {
    /// Regularized incomplete beta function
    ///
    ///     I_x(a, b) = B(x; a, b) / B(a, b),  B(x; a, b) = ∫₀ˣ t^(a−1) (1−t)^(b−1) dt,
    ///
    /// for a, b > 0 and 0 ≤ x ≤ 1. Evaluated by the continued fraction of
    /// Numerical Recipes §6.4 (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges faster.
    /// Returns NaN only for a NaN `x`.
    public static func regularizedIncompleteBeta(_ a: Double, _ b: Double, _ x: Double) -> Double {
        regularizedIncompleteBeta(a, b, x: x, complement: 1 - x)
    }

    /// I_x(a, b) given both x and y = 1 − x, so callers that know y exactly
    /// (Student's t: y = t²/(ν+t²)) avoid the cancellation in 1 − x.
    static func regularizedIncompleteBeta(_ a: Double, _ b: Double, x: Double, complement y: Double) -> Double {
        precondition(a > 0 && b > 0, "regularizedIncompleteBeta needs a > 0 and b > 0")
        if x.isNaN || y.isNaN { return .nan }
        if x <= 0 { return 0 }
        if y <= 0 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y)
        let front = exp(logFront)
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(a, b, x) / a
        } else {
            return 1 - front * continuedFraction(b, a, y) / b
        }
    }

    /// The continued fraction for I_x(a, b) (NR `betacf`):
    /// 1/(1+ d₁/(1+ d₂/(1+ …))) with
    /// d₂ₘ₊₁ = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)),  d₂ₘ = m(b−m)x / ((a+2m−1)(a+2m)).
    private static func continuedFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let tiny = 1e-300, eps = 1e-16
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for step in 1...10_000 {
            let m = Double(step), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < eps { break }
        }
        return h
    }

    /// Survival function of Student's t with ν degrees of freedom, P(T > t):
    ///
    ///     sf(t) = ½ · I_{ν/(ν+t²)}(ν/2, ½)   for t ≥ 0,   sf(t) = 1 − sf(−t) for t < 0.
    ///
    /// Matches `scipy.stats.t.sf(t, ν)`.
    public static func studentTSurvival(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "Student's t needs ν > 0")
        if t.isNaN { return .nan }
        let half = 0.5 * studentTTwoSided(t, degreesOfFreedom: nu)
        return t >= 0 ? half : 1 - half
    }

    /// Two-sided tail P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½), the p-value of a t statistic.
    public static func studentTTwoSided(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "Student's t needs ν > 0")
        if t.isNaN { return .nan }
        if t.isInfinite { return 0 }
        let t2 = t * t
        return regularizedIncompleteBeta(nu / 2, 0.5, x: nu / (nu + t2), complement: t2 / (nu + t2))
    }

    /// Survival function of the standard normal, P(Z > z) = ½ · erfc(z / √2).
    public static func normalSurvival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// Two-sided normal tail P(|Z| ≥ |z|) = erfc(|z| / √2).
    public static func normalTwoSided(_ z: Double) -> Double {
        erfc(abs(z) / 2.0.squareRoot())
    }
}
