//! A `recv_timeout` for the flavors whose blocking API lacks one: the
//! library's receive future under a tokio timer, on a per-thread runtime.
//! Never call it from inside an async task.

use std::future::Future;
use std::time::Duration;

use chanlab_contract::{RecvError, RecvTimeoutError};

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        // Building a current-thread runtime with only a timer opens no files
        // or sockets; failure here means the process cannot work at all.
        .expect("failed to build the per-thread tokio runtime for recv_timeout");
}

/// Waits at most `timeout` for a receive future. When the timer fires, the
/// library's receive future is dropped, so this relies on it being
/// cancel-safe (a value is never taken by a dropped receive).
pub(crate) fn recv_timeout<T>(
    timeout: Duration,
    receive: impl Future<Output = Result<T, RecvError>>,
) -> Result<T, RecvTimeoutError> {
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            match tokio::time::timeout(timeout, receive).await {
                Ok(received) => Ok(received?),
                Err(_) => Err(RecvTimeoutError::Timeout),
            }
        })
    })
}
