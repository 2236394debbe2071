//! tokio-util's `CancellationToken` as the pattern's token, over tokio's
//! mpsc channels: the flavor the `tokio-mpsc` row runs with chanlab's own
//! token, so the two rows differ only in the token.
//!
//! The crate's token carries neither a deadline nor a reason. As its users
//! do, a deadline is kept beside it and observed when asked, which then
//! cancels the token (and its children); the reason is whether that
//! happened. Cancelling, the tree and the async wait are the crate's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ::tokio_util::sync::CancellationToken;
use chanlab_impls::TokioMpsc;

use super::tasks::{AsyncToken, run_async_on};
use crate::coord::CancelReason;
use crate::{Outcome, Params, ScenarioError};

/// A `CancellationToken` with the deadline kept beside it.
#[derive(Clone)]
struct Token {
    token: CancellationToken,
    deadline: Option<Instant>,
    /// Set when this token was cancelled for its deadline.
    expired: Arc<AtomicBool>,
}

impl Token {
    fn root() -> Self {
        Token {
            token: CancellationToken::new(),
            deadline: None,
            expired: Arc::new(AtomicBool::new(false)),
        }
    }

    fn child_until(&self, deadline: Option<Instant>) -> Self {
        Token {
            token: self.token.child_token(),
            deadline,
            expired: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl AsyncToken for Token {
    fn child(&self) -> Self {
        self.child_until(self.deadline)
    }

    fn child_with_timeout(&self, timeout: Duration) -> Self {
        let at = Instant::now().checked_add(timeout);
        let deadline = match (self.deadline, at) {
            (Some(parent), Some(at)) => Some(parent.min(at)),
            (parent, at) => parent.or(at),
        };
        self.child_until(deadline)
    }

    fn cancel(&self) {
        self.token.cancel();
    }

    fn reason(&self) -> Option<CancelReason> {
        if !self.token.is_cancelled() {
            match self.deadline {
                Some(at) if Instant::now() >= at => {
                    self.expired.store(true, Ordering::SeqCst);
                    self.token.cancel();
                }
                _ => return None,
            }
        }
        Some(if self.expired.load(Ordering::SeqCst) {
            CancelReason::DeadlineExceeded
        } else {
            CancelReason::Cancelled
        })
    }

    fn until_deadline(&self) -> Option<Duration> {
        self.deadline
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    async fn cancelled(&self) {
        self.token.cancelled().await;
    }
}

/// The pattern on tokio's mpsc under a tree of tokio-util tokens.
pub(super) async fn run(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<TokioMpsc, Token>(params, Token::root()).await
}
