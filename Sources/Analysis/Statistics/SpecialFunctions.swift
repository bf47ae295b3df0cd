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

    /// Standard normal CDF Φ(z) = ½ · erfc(−z / √2) (`scipy.special.ndtr`).
    public static func normalCDF(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// Standard normal quantile Φ⁻¹(p) (`scipy.special.ndtri`): −∞ at 0, +∞ at 1.
    ///
    /// Acklam's rational approximation (relative error 1.15e−9), then one Halley
    /// step on Φ(z) − p with erfc, which brings it to about 1e−15.
    public static func normalQuantile(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        // The upper half by symmetry, refined on the small tail 1 − p as ndtri does.
        if p > 0.5 { return -normalQuantile(1 - p) }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        // Halley refinement: e = Φ(x) − p, u = e·√(2π)·exp(x²/2).
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }
}
