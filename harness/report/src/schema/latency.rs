//! Latency percentiles, the histogram they come from as HdrHistogram V2
//! (deflated, base64), and a cell's merged histogram.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::{CellResult, Repetition};
use crate::error::{ReportError, Result};

/// Latency of one repetition: its percentiles in nanoseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    /// Messages recorded.
    pub count: u64,
    /// Mean, in nanoseconds.
    pub mean_ns: f64,
    /// Percentiles, in nanoseconds: `p50`, `p90`, `p99`, `p99.9`,
    /// `p99.99`, `max`.
    pub percentiles_ns: BTreeMap<String, u64>,
    /// The repetition's histogram, HdrHistogram V2 with deflate, base64,
    /// on its way from the worker to the runner, which adds it to the
    /// cell's [`CellResult::latency_histogram_v2`] and keeps no copy here:
    /// results of schema 7 or later have none per repetition (earlier ones
    /// have one in each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram_v2: Option<String>,
}

/// Significant digits of a cell's merged histogram: values within 1%,
/// at a tenth of the size of a repetition's own (3 digits).
pub const MERGED_DIGITS: u8 = 2;

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
            histogram_v2: Some(encode(histogram)?),
        })
    }
}

impl CellResult {
    /// Moves the histograms `repetitions` carry, if any, into the cell's
    /// merged one, at [`MERGED_DIGITS`] significant digits, which it decodes
    /// and encodes once.
    pub fn merge_histograms<'a>(
        &mut self,
        repetitions: impl IntoIterator<Item = &'a mut Repetition>,
    ) -> Result<()> {
        let failed = |detail: String| ReportError::Histogram {
            what: format!("merging a latency histogram into {}", self.id),
            detail,
        };
        let mut merged: Option<Histogram<u64>> = None;
        for repetition in repetitions {
            let Some(encoded) = repetition
                .latency
                .as_mut()
                .and_then(|latency| latency.histogram_v2.take())
            else {
                continue;
            };
            let histogram = decode(&encoded)?;
            if merged.is_none() {
                let mut start = match &self.latency_histogram_v2 {
                    Some(merged) => decode(merged)?,
                    None => {
                        Histogram::new(MERGED_DIGITS).map_err(|err| failed(format!("{err:?}")))?
                    }
                };
                // A decoded histogram keeps the bounds it was written with.
                start.auto(true);
                merged = Some(start);
            }
            if let Some(merged) = &mut merged {
                for value in histogram.iter_recorded() {
                    merged
                        .record_n(value.value_iterated_to(), value.count_at_value())
                        .map_err(|err| failed(format!("{err:?}")))?;
                }
            }
        }
        if let Some(merged) = merged {
            self.latency_histogram_v2 = Some(encode(&merged)?);
        }
        Ok(())
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
