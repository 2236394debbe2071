//! `async_singleflight`'s `Group` as the pattern's table for tasks.

use std::future::Future;

use super::{Answer, AsyncTable, Execution, Failed, Value};

/// The crate's group, keyed as the pattern keys its calls.
pub(super) type Group = ::async_singleflight::Group<usize, Execution, Failed>;

impl AsyncTable for Group {
    /// `work` returns the execution's error itself to the call that ran it;
    /// the calls that joined a failed execution get `Err(None)`.
    async fn call(&self, key: usize, work: impl Future<Output = Value> + Send) -> Answer {
        let value = match self.work(&key, work).await {
            Ok(execution) => Some(Ok(execution)),
            Err(Some(failed)) => Some(Err(failed)),
            Err(None) => None,
        };
        Answer {
            value,
            shared: None,
        }
    }
}
