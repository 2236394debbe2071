//! Latency percentiles, and the histogram they come from as HdrHistogram
//! V2 (deflated, base64).

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};

/// Latency of one repetition: percentiles in nanoseconds and the whole
/// histogram, so a report can be re-cut later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    /// Messages recorded.
    pub count: u64,
    /// Mean, in nanoseconds.
    pub mean_ns: f64,
    /// Percentiles, in nanoseconds: `p50`, `p90`, `p99`, `p99.9`,
    /// `p99.99`, `max`.
    pub percentiles_ns: BTreeMap<String, u64>,
    /// The histogram, HdrHistogram V2 with deflate, base64.
    pub histogram_v2: String,
}

/// The percentiles a [`Latency`] reports, by name.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("p99.99", 99.99),
];

impl Latency {
    /// A percentile by name (`p99`), in nanoseconds.
    pub fn percentile_ns(&self, name: &str) -> Option<u64> {
        self.percentiles_ns.get(name).copied()
    }

    /// Percentiles and an encoded copy of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Result<Latency> {
        let mut percentiles_ns: BTreeMap<String, u64> = PERCENTILES
            .iter()
            .map(|&(name, q)| (name.to_owned(), histogram.value_at_percentile(q)))
            .collect();
        percentiles_ns.insert("max".into(), histogram.max());
        Ok(Latency {
            count: histogram.len(),
            mean_ns: histogram.mean(),
            percentiles_ns,
            histogram_v2: encode(histogram)?,
        })
    }
}

/// `histogram` as HdrHistogram V2 with deflate, base64.
pub fn encode(histogram: &Histogram<u64>) -> Result<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|err| ReportError::Histogram {
            what: "encoding a latency histogram".into(),
            detail: format!("{err:?}"),
        })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A histogram from its base64 V2 encoding.
pub fn decode(encoded: &str) -> Result<Histogram<u64>> {
    use base64::Engine as _;
    let failed = |detail: String| ReportError::Histogram {
        what: "decoding a latency histogram".into(),
        detail,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|err| failed(format!("base64: {err}")))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|err| failed(format!("{err:?}")))
}
