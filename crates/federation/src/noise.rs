//! Laplace noise for differentially private counts, drawn from an injected, seedable RNG.
//!
//! The draw is the inverse-CDF form of the reference implementation,
//! `-(sensitivity / epsilon) * sign(u) * ln(1 - 2|u|)` with `u` uniform in `(-1/2, 1/2)`, so a
//! replay with the same seed gives the same noise. Not a cryptographic guarantee against
//! floating-point side channels (see `docs/federation.md`, "Limits").

use crate::error::FederationError;
use rand::{Rng as _, RngCore, SeedableRng as _};
use rand_chacha::ChaCha20Rng;

/// The RNG bundles are noised with when the caller wants a replayable run: ChaCha20 seeded from
/// `seed`. The same seed gives the same noise, and so the same bundle bytes, on every machine.
pub fn seeded_rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// The RNG for production runs: ChaCha20 seeded from the operating system.
///
/// # Errors
/// [`FederationError::InvalidOptions`] if the operating system's random number generator fails.
pub fn os_seeded_rng() -> Result<ChaCha20Rng, FederationError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| {
        FederationError::options(format!(
            "expected the operating system's random number generator to seed the noise RNG: {e}"
        ))
    })?;
    Ok(ChaCha20Rng::from_seed(seed))
}

/// A Laplace distribution centred on 0 with scale `b = sensitivity / epsilon`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaplaceNoise {
    scale: f64,
}

impl LaplaceNoise {
    /// Noise for a query of `sensitivity` (how much one privacy unit can change the count) at
    /// privacy loss `epsilon`.
    ///
    /// ```
    /// use stellaops_federation::{LaplaceNoise, seeded_rng};
    /// let noise = LaplaceNoise::new(1.0, 0.5)?;
    /// assert_eq!(noise.scale(), 2.0);
    /// let a = noise.sample(&mut seeded_rng(7));
    /// assert_eq!(a, noise.sample(&mut seeded_rng(7))); // same seed, same draw
    /// # Ok::<(), stellaops_federation::FederationError>(())
    /// ```
    ///
    /// # Errors
    /// [`FederationError::InvalidOptions`] unless both are finite and greater than zero.
    pub fn new(sensitivity: f64, epsilon: f64) -> Result<Self, FederationError> {
        for (name, value) in [("sensitivity", sensitivity), ("epsilon", epsilon)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(FederationError::options(format!(
                    "expected {name} to be a finite number greater than 0, found {value}"
                )));
            }
        }
        let scale = sensitivity / epsilon;
        if !scale.is_finite() {
            return Err(FederationError::options(format!(
                "expected sensitivity / epsilon to be finite, found {sensitivity} / {epsilon}"
            )));
        }
        Ok(Self { scale })
    }

    /// The scale `b`: the mean absolute noise, `sqrt(2) * b` its standard deviation.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// One draw. Uses one `u64` of `rng` per draw (two in the rare case `u = -1/2`).
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            // [0, 1) - 1/2 = [-1/2, 1/2); -1/2 would give ln(0), so it is drawn again.
            let u: f64 = rng.random::<f64>() - 0.5;
            if u > -0.5 {
                return -self.scale * u.signum() * (1.0 - 2.0 * u.abs()).ln();
            }
        }
    }

    /// `count` plus one draw, rounded to the nearest integer and clamped at 0 (a count cannot
    /// be negative; the clamp biases small counts upwards, see the docs).
    pub fn noisy_count<R: RngCore + ?Sized>(&self, count: u64, rng: &mut R) -> u64 {
        round_clamp(count as f64 + self.sample(rng))
    }
}

/// Rounds half away from zero and clamps to `0..=u64::MAX` (NaN becomes 0).
pub(crate) fn round_clamp(value: f64) -> u64 {
    let rounded = value.round();
    if rounded.is_nan() || rounded <= 0.0 {
        0
    } else {
        // `as` saturates at u64::MAX.
        rounded as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_unusable_parameters() {
        for (s, e) in [
            (0.0, 1.0),
            (1.0, 0.0),
            (-1.0, 1.0),
            (1.0, f64::NAN),
            (f64::INFINITY, 1.0),
            (1.0, 1e-320),
        ] {
            let err = LaplaceNoise::new(s, e).unwrap_err();
            assert_eq!(err.code(), "federation.options.invalid", "{s} {e}");
        }
    }

    #[test]
    fn rounding_and_clamping() {
        assert_eq!(round_clamp(-3.2), 0);
        assert_eq!(round_clamp(-0.4), 0);
        assert_eq!(round_clamp(2.5), 3);
        assert_eq!(round_clamp(2.49), 2);
        assert_eq!(round_clamp(f64::NAN), 0);
        assert_eq!(round_clamp(1e300), u64::MAX);
    }

    /// A fixed seed and many draws: the sample statistics must match Laplace(0, b). For
    /// Laplace(0, b): E|X| = b, Var X = 2b^2, P(|X| > b) = 1/e, median 0.
    #[test]
    fn draws_have_the_laplace_scale_they_claim() {
        const N: usize = 200_000;
        for (sensitivity, epsilon) in [(1.0, 1.0), (1.0, 0.1), (2.0, 0.5), (1.0, 4.0)] {
            let noise = LaplaceNoise::new(sensitivity, epsilon).unwrap();
            let b = noise.scale();
            let mut rng = seeded_rng(0x5eed);
            let draws: Vec<f64> = (0..N).map(|_| noise.sample(&mut rng)).collect();
            let n = N as f64;
            let mean = draws.iter().sum::<f64>() / n;
            let mad = draws.iter().map(|x| x.abs()).sum::<f64>() / n;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            let beyond_b = draws.iter().filter(|x| x.abs() > b).count() as f64 / n;
            let positive = draws.iter().filter(|x| **x > 0.0).count() as f64 / n;
            // Tolerances are ~5 standard errors at N = 200,000.
            assert!(
                mean.abs() < 5.0 * (2.0f64).sqrt() * b / n.sqrt(),
                "mean {mean} b {b}"
            );
            assert!((mad / b - 1.0).abs() < 0.012, "E|X| {mad}, expected {b}");
            assert!((var / (2.0 * b * b) - 1.0).abs() < 0.03, "var {var}, b {b}");
            assert!(
                (beyond_b - (-1.0f64).exp()).abs() < 0.006,
                "P(|X|>b) {beyond_b}"
            );
            assert!((positive - 0.5).abs() < 0.006, "P(X>0) {positive}");
            // A scale off by 10% would fail the E|X| check by far.
            assert!(((mad / (1.1 * b)) - 1.0).abs() > 0.05);
        }
    }

    proptest! {
        #[test]
        fn noise_is_reproducible_per_seed(seed in any::<u64>(), count in 0u64..1_000_000, eps in 0.01f64..10.0) {
            let noise = LaplaceNoise::new(1.0, eps).unwrap();
            let mut a = seeded_rng(seed);
            let mut b = seeded_rng(seed);
            let xs: Vec<u64> = (0..16).map(|_| noise.noisy_count(count, &mut a)).collect();
            let ys: Vec<u64> = (0..16).map(|_| noise.noisy_count(count, &mut b)).collect();
            prop_assert_eq!(xs, ys);
        }

        #[test]
        fn different_seeds_give_different_noise(seed in any::<u64>()) {
            let noise = LaplaceNoise::new(1.0, 0.1).unwrap();
            let mut one = seeded_rng(seed);
            let xs: Vec<f64> = (0..8).map(|_| noise.sample(&mut one)).collect();
            let mut other = seeded_rng(seed.wrapping_add(1));
            let ys: Vec<f64> = (0..8).map(|_| noise.sample(&mut other)).collect();
            prop_assert_ne!(xs, ys);
        }
    }
}
