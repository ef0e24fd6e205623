//! The ratio rule of OpenTelemetry's `TraceIdRatioBased` sampler, so every service (whatever
//! its SDK) keeps the same ordinary traces.
//!
//! Not a sampler on its own: the tail sampler applies it after the keep-always rules.

/// Keeps a trace when the lower 8 bytes of its id (big-endian, shifted right by one) are
/// below `ratio × 2^63`, exactly as `opentelemetry_sdk::trace::Sampler::TraceIdRatioBased`.
///
/// ```
/// use stellaops_telemetry_core::sampling::TraceIdRatio;
///
/// let r = TraceIdRatio::new(0.5);
/// assert!(r.keeps(&[0; 16]));
/// assert!(!r.keeps(&[0xff; 16]));
/// assert!(TraceIdRatio::new(1.0).keeps(&[0xff; 16]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceIdRatio {
    ratio: f64,
    upper_bound: u64,
}

impl TraceIdRatio {
    /// The rule for `ratio` (values below 0 act as 0, at or above 1 keep everything, NaN
    /// keeps nothing — the SDK's behaviour; `SamplingConfig::validate` refuses them).
    pub fn new(ratio: f64) -> Self {
        // The SDK's computation, cast included (saturating float-to-int).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let upper_bound = (ratio.max(0.0) * (1u64 << 63) as f64) as u64;
        Self { ratio, upper_bound }
    }

    /// The configured ratio.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Whether the trace with this 16-byte id is kept.
    pub fn keeps(&self, trace_id: &[u8; 16]) -> bool {
        if self.ratio >= 1.0 {
            return true;
        }
        let [_, _, _, _, _, _, _, _, a, b, c, d, e, f, g, h] = *trace_id;
        (u64::from_be_bytes([a, b, c, d, e, f, g, h]) >> 1) < self.upper_bound
    }
}
