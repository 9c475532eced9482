//! Python's `round(x, ndigits)` for floats: the exact binary value of `x` is
//! rounded to `ndigits` decimals, ties to even, and the result is the double
//! nearest to that decimal. The sign of zero is kept (`round(-0.0001, 3)` is
//! `-0.0`).

/// `round(x, 3)` in Python.
#[inline]
pub(crate) fn round3(x: f64) -> f64 {
    round_scaled(x, 1000.0)
}

/// `round(x, 4)` in Python.
#[inline]
pub(crate) fn round4(x: f64) -> f64 {
    round_scaled(x, 10000.0)
}

/// Rounds `x` to a multiple of `1/scale` (`scale` is 1e3 or 1e4).
#[inline(always)]
fn round_scaled(x: f64, scale: f64) -> f64 {
    let y = x * scale;
    if !y.is_finite() || y.abs() >= 4.5e15 {
        // Too large to have decimals at this scale (or NaN): Python returns x.
        return x;
    }
    // floor(y) without a libm call (x86-64 has no SSE4.1 `roundsd` by default).
    let t = y as i64 as f64;
    let floor = if t > y { t - 1.0 } else { t };
    let frac = y - floor;
    // `y` differs from the exact product by at most half an ulp (< 1e-11
    // here), so unless `y` is that close to a tie, rounding `y` rounds the
    // exact product.
    let up = if (frac - 0.5).abs() > 1e-9 {
        frac > 0.5
    } else {
        near_tie_rounds_up(x, scale, y, floor)
    };
    let k = floor + up as u8 as f64;
    // A zero result keeps the sign of x, as Python's (via dtoa) does.
    (k / scale).copysign(x)
}

/// Whether the exact value of `x * scale` rounds up from `floor`, when the
/// computed product `y` lies within 1e-9 of `floor + 0.5`. The product's
/// rounding error `x * scale - y` is exact with a fused multiply-add, and
/// `y - (floor + 0.5)` is exact (same binade, or Sterbenz); ties go to even.
#[cold]
fn near_tie_rounds_up(x: f64, scale: f64, y: f64, floor: f64) -> bool {
    let err = x.mul_add(scale, -y);
    let d = (y - (floor + 0.5)) + err;
    d > 0.0 || (d == 0.0 && floor % 2.0 != 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_ties_go_to_even() {
        assert_eq!(round3(13.0 / 16.0), 0.812);
        assert_eq!(round3(3.0 / 80.0), 0.037);
        assert_eq!(round3(0.0625), 0.062);
        assert_eq!(round3(0.1875), 0.188);
        assert_eq!(round4(0.03125), 0.0312);
    }

    #[test]
    fn near_ties_follow_the_exact_binary_value() {
        // 0.0005 is slightly above 1/2000 in binary: rounds up.
        assert_eq!(round3(0.0005), 0.001);
        // 1.0005 is slightly below: rounds down.
        assert_eq!(round3(1.0005), 1.0);
        // 2.675 is 2.67499999...: 2.67.
        assert_eq!(round_scaled(2.675, 100.0), 2.67);
        assert_eq!(round3(0.2345), 0.234); // 0.23449999999999998623...
        assert_eq!(round4(0.00015), 0.0001); // 1.49999999999999993e-4
    }

    #[test]
    fn zero_keeps_its_sign() {
        assert!(round4(-0.00001).is_sign_negative());
        assert_eq!(round4(-0.00001), 0.0);
        assert!(round4(0.00001).is_sign_positive());
        assert!(round3(-0.0).is_sign_negative());
    }

    #[test]
    fn matches_format_on_a_sweep() {
        // `format!("{:.N}")` rounds the exact binary value half-to-even too.
        let mut x = 0.123_456_789_f64;
        for i in 0..200_000u64 {
            x = (x * 1.618_033_988_749 + (i as f64) * 1e-7).fract()
                * if i % 3 == 0 { -1.0 } else { 1.0 };
            let k = (i % 20_000) as f64;
            for v in [x, k / 2000.0, k / 20000.0, -k / 2000.0, (k + 0.5) / 1000.0] {
                let want3: f64 = format!("{v:.3}").parse().unwrap();
                let want4: f64 = format!("{v:.4}").parse().unwrap();
                assert_eq!(round3(v).to_bits(), want3.to_bits(), "round3({v:e})");
                assert_eq!(round4(v).to_bits(), want4.to_bits(), "round4({v:e})");
            }
        }
    }
}
