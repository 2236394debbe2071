//! What can go wrong reading, summarising and writing results.

use std::path::PathBuf;

/// An error of the report crate. Its `Display` says what was being done;
/// the underlying error, where there is one, is its `source`.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be read, written or created.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done: `reading`, `writing`, `creating`, ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The file is not JSON of the results schema.
    #[error("{} is not a chanlab results file", path.display())]
    NotResults {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// The file is not JSON of `chanlab fidelity`'s figures.
    #[error("{} is not a chanlab fidelity file", path.display())]
    NotFidelity {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// The file was written by a newer chanlab.
    #[error(
        "{} has results schema {found}, newer than this chanlab's {readable}: update chanlab",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The schema version this chanlab reads and writes.
        readable: u32,
    },
    /// The file was written by an older chanlab, whose fields this one
    /// cannot read.
    #[error(
        "{} has results schema {found}, older than this chanlab's {readable}, and cannot \
         be read as it: render or compare it with the chanlab that wrote it, or measure again",
        path.display()
    )]
    OlderSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The schema version this chanlab reads and writes.
        readable: u32,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// The file reads as results, but holds figures no run writes.
    #[error("{} holds {what}: refused, as no run writes that", path.display())]
    Implausible {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the cell.
        what: String,
    },
    /// A report was asked of no results file.
    #[error("no results file given")]
    NoResults,
    /// A latency histogram could not be encoded, decoded or merged.
    #[error("{what}: {detail}")]
    Histogram {
        /// What was being done, and to which cell where known.
        what: String,
        /// What the histogram library said.
        detail: String,
    },
    /// plotters could not draw a chart.
    #[error("drawing a chart: {0}")]
    Chart(String),
    /// Results could not be serialized.
    #[error("serializing {what}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// What serde said.
        source: serde_json::Error,
    },
}

impl ReportError {
    /// An I/O failure while `action`ing `path`.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ReportError::Io {
            action,
            path,
            source,
        }
    }
}

/// A result of the report crate.
pub type Result<T> = std::result::Result<T, ReportError>;
