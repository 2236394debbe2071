//! [`CancelToken`]: Go's `context` for threads. Cancelling a token cancels
//! every token derived from it, never its parent or siblings, and a token
//! may carry a deadline on a [`Clock`].

use std::fmt;
use std::future::poll_fn;
use std::mem;
use std::task::Poll;
use std::time::{Duration, Instant};

use chanlab_sync::{Arc, Condvar, Mutex};

use super::SharedClock;
use super::waiters::{Waiters, wake};

/// Why a token is cancelled (Go's `context.Canceled` and
/// `context.DeadlineExceeded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// [`CancelToken::cancel`] was called on it or an ancestor.
    Cancelled,
    /// Its deadline, or an ancestor's, has passed.
    DeadlineExceeded,
}

/// A handle on one node of a cancellation tree. Clones share the node.
///
/// A deadline is observed when the token is asked ([`reason`],
/// [`is_cancelled`], [`wait_timeout`]); nothing runs in the background.
///
/// [`reason`]: CancelToken::reason
/// [`is_cancelled`]: CancelToken::is_cancelled
/// [`wait_timeout`]: CancelToken::wait_timeout
#[derive(Clone)]
pub struct CancelToken {
    node: Arc<Node>,
}

struct Node {
    state: Mutex<State>,
    /// Signalled once, when the node is cancelled.
    cancelled: Condvar,
    deadline: Option<Deadline>,
}

struct State {
    reason: Option<CancelReason>,
    /// Derived nodes still to cancel with this one. When a child is added,
    /// children that no longer need it are pruned: cancelled ones, ones past
    /// their deadline, and ones nobody holds any more that have no children
    /// of their own. The list is emptied on cancel. Nodes hold no cycles.
    children: Vec<Arc<Node>>,
    /// Tasks waiting in [`CancelToken::cancelled`].
    tasks: Waiters,
    /// Run once, when the node is cancelled ([`CancelToken::on_cancel`]).
    callbacks: Vec<Box<dyn FnOnce() + Send>>,
}

#[derive(Clone)]
struct Deadline {
    clock: SharedClock,
    at: Duration,
}

impl CancelToken {
    /// A root token: cancelled only by [`cancel`](CancelToken::cancel).
    pub fn new() -> Self {
        CancelToken {
            node: Node::new(None),
        }
    }

    /// A token cancelled with this one (and its deadline), or on its own.
    pub fn child(&self) -> CancelToken {
        self.derive(self.node.deadline.clone())
    }

    /// A child that is also cancelled `timeout` from now on `clock`. The
    /// earlier of this deadline and the parent's applies; a tree should use
    /// one clock.
    pub fn child_with_timeout(&self, clock: SharedClock, timeout: Duration) -> CancelToken {
        let at = clock.now().saturating_add(timeout);
        let deadline = match &self.node.deadline {
            Some(parent) if parent.at <= at => parent.clone(),
            _ => Deadline { clock, at },
        };
        self.derive(Some(deadline))
    }

    fn derive(&self, deadline: Option<Deadline>) -> CancelToken {
        let child = Node::new(deadline);
        let mut state = self.node.state.lock();
        match state.reason {
            Some(reason) => child.state.lock().reason = Some(reason),
            None => {
                state.children.retain(Node::still_needed);
                state.children.push(Arc::clone(&child));
            }
        }
        drop(state);
        CancelToken { node: child }
    }

    /// Cancels this token and every token derived from it. Idempotent.
    pub fn cancel(&self) {
        self.node.cancel(CancelReason::Cancelled);
    }

    /// Why the token is cancelled, or `None` while it is not.
    pub fn reason(&self) -> Option<CancelReason> {
        if let Some(reason) = self.node.state.lock().reason {
            return Some(reason);
        }
        let deadline = self.node.deadline.as_ref()?;
        if deadline.clock.now() >= deadline.at {
            self.node.cancel(CancelReason::DeadlineExceeded);
            return self.node.state.lock().reason;
        }
        None
    }

    /// A guard that cancels this token when dropped: on every way out of a
    /// scope, a panic included.
    pub fn drop_guard(&self) -> DropGuard {
        DropGuard(self.clone())
    }

    /// Whether the token is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Blocks until the token is cancelled. A deadline alone does not end
    /// the wait; use [`wait_timeout`](CancelToken::wait_timeout) for that.
    pub fn wait(&self) -> CancelReason {
        let mut state = self.node.state.lock();
        loop {
            if let Some(reason) = state.reason {
                return reason;
            }
            state = self.node.cancelled.wait(state);
        }
    }

    /// Runs `callback` once when the token is cancelled, or now if it
    /// already is (Go's `context.AfterFunc`). It runs on the thread that
    /// cancels, outside the token's lock. A deadline runs it only once the
    /// deadline is observed: a caller that waits on it should wait at most
    /// [`until_deadline`](CancelToken::until_deadline).
    pub fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) {
        let mut state = self.node.state.lock();
        if state.reason.is_none() {
            state.callbacks.push(Box::new(callback));
            return;
        }
        drop(state);
        callback();
    }

    /// How long until the token's deadline, if it has one.
    pub fn until_deadline(&self) -> Option<Duration> {
        self.node.until_deadline()
    }

    /// Waits as a task until the token is cancelled (tokio-util's
    /// `CancellationToken::cancelled`). As with [`wait`](CancelToken::wait),
    /// a deadline alone does not end it.
    pub async fn cancelled(&self) -> CancelReason {
        poll_fn(|cx| {
            let mut state = self.node.state.lock();
            match state.reason {
                Some(reason) => Poll::Ready(reason),
                None => {
                    state.tasks.register(cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Blocks until the token is cancelled, its deadline passes, or
    /// `timeout` of real time has passed, then reports
    /// [`reason`](CancelToken::reason).
    pub fn wait_timeout(&self, timeout: Duration) -> Option<CancelReason> {
        let timeout = self
            .node
            .until_deadline()
            .map_or(timeout, |left| left.min(timeout));
        let deadline = Instant::now() + timeout;
        let mut state = self.node.state.lock();
        while state.reason.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.node.cancelled.wait_timeout(state, left).0;
        }
        drop(state);
        self.reason()
    }
}

/// Cancels its token when dropped; see [`CancelToken::drop_guard`].
#[derive(Debug)]
#[must_use = "the token is cancelled as soon as the guard is dropped"]
pub struct DropGuard(CancelToken);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("reason", &self.node.state.lock().reason)
            .finish_non_exhaustive()
    }
}

impl Node {
    fn new(deadline: Option<Deadline>) -> Arc<Node> {
        Arc::new(Node {
            state: Mutex::new(State {
                reason: None,
                children: Vec::new(),
                tasks: Waiters::default(),
                callbacks: Vec::new(),
            }),
            cancelled: Condvar::new(),
            deadline,
        })
    }

    /// Whether a parent must keep `node` to cancel it later. (A plain
    /// function: loom's `Arc` cannot be a method receiver.)
    fn still_needed(node: &Arc<Node>) -> bool {
        let state = node.state.lock();
        let past_deadline = node
            .deadline
            .as_ref()
            .is_some_and(|deadline| deadline.clock.now() >= deadline.at);
        let orphan = Arc::strong_count(node) == 1 && state.children.is_empty();
        state.reason.is_none() && !past_deadline && !orphan
    }

    /// How long until this node's deadline, if it has one.
    fn until_deadline(&self) -> Option<Duration> {
        let deadline = self.deadline.as_ref()?;
        Some(deadline.at.saturating_sub(deadline.clock.now()))
    }

    fn cancel(&self, reason: CancelReason) {
        let (children, tasks, callbacks) = {
            let mut state = self.state.lock();
            if state.reason.is_some() {
                return;
            }
            state.reason = Some(reason);
            (
                mem::take(&mut state.children),
                state.tasks.take(),
                mem::take(&mut state.callbacks),
            )
        };
        self.cancelled.notify_all();
        wake(tasks);
        for callback in callbacks {
            callback();
        }
        for child in children {
            child.cancel(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::ManualClock;

    #[test]
    fn cancel_reaches_descendants_only() {
        let root = CancelToken::new();
        let left = root.child();
        let right = root.child();
        let grandchild = left.child();
        left.cancel();
        assert_eq!(grandchild.reason(), Some(CancelReason::Cancelled));
        assert!(!root.is_cancelled() && !right.is_cancelled());
        root.cancel();
        assert!(right.is_cancelled());
        assert!(
            root.child().is_cancelled(),
            "a child of a cancelled token starts cancelled"
        );
    }

    #[test]
    fn a_callback_runs_once_on_cancel_and_at_once_when_already_cancelled() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let runs = std::sync::Arc::new(AtomicUsize::new(0));
        let count = |runs: &std::sync::Arc<AtomicUsize>| {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, Ordering::SeqCst);
            }
        };
        let token = CancelToken::new();
        token.on_cancel(count(&runs));
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        token.cancel();
        token.cancel();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "once, on the first cancel");
        token.on_cancel(count(&runs));
        assert_eq!(runs.load(Ordering::SeqCst), 2, "at once when cancelled");
    }

    #[test]
    fn a_dropped_guard_cancels_its_token() {
        let token = CancelToken::new();
        drop(token.drop_guard());
        assert_eq!(token.reason(), Some(CancelReason::Cancelled));
    }

    #[test]
    fn until_deadline_counts_down_on_the_tokens_clock() {
        let clock = std::sync::Arc::new(ManualClock::new());
        assert_eq!(CancelToken::new().until_deadline(), None);
        let token = CancelToken::new().child_with_timeout(clock.clone(), Duration::from_secs(1));
        assert_eq!(token.until_deadline(), Some(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(300));
        assert_eq!(token.until_deadline(), Some(Duration::from_millis(700)));
        clock.advance(Duration::from_secs(2));
        assert_eq!(token.until_deadline(), Some(Duration::ZERO));
    }

    #[test]
    fn wait_timeout_waits_its_time_and_reports_why_it_ended() {
        let token = CancelToken::new();
        let timeout = Duration::from_millis(20);
        let started = Instant::now();
        assert_eq!(token.wait_timeout(timeout), None);
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
        token.cancel();
        assert_eq!(
            token.wait_timeout(Duration::from_secs(3600)),
            Some(CancelReason::Cancelled)
        );
        let clock = std::sync::Arc::new(ManualClock::new());
        let timed = CancelToken::new().child_with_timeout(clock.clone(), Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            timed.wait_timeout(Duration::from_secs(3600)),
            Some(CancelReason::DeadlineExceeded)
        );
    }

    #[test]
    fn a_child_before_its_deadline_is_kept_for_its_parent_to_cancel() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let root = CancelToken::new();
        let timed = root.child_with_timeout(clock, Duration::from_secs(1));
        // Deriving another child prunes the children the root no longer
        // needs; the timed one, before its deadline, is not among them.
        let _other = root.child();
        root.cancel();
        assert_eq!(timed.reason(), Some(CancelReason::Cancelled));
    }

    #[test]
    fn debug_shows_the_reason() {
        let token = CancelToken::new();
        assert!(format!("{token:?}").contains("reason: None"), "{token:?}");
        token.cancel();
        assert!(
            format!("{token:?}").contains("reason: Some(Cancelled)"),
            "{token:?}"
        );
    }

    #[test]
    fn deadline_is_inherited_and_earliest_wins() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let root = CancelToken::new();
        let soon = root.child_with_timeout(clock.clone(), Duration::from_secs(1));
        let later = soon.child_with_timeout(clock.clone(), Duration::from_secs(5));
        let plain = soon.child();
        // A child's own deadline applies when it is the earlier one.
        let tighter = soon.child_with_timeout(clock.clone(), Duration::from_millis(500));
        clock.advance(Duration::from_millis(500));
        assert_eq!(tighter.reason(), Some(CancelReason::DeadlineExceeded));
        assert!(!soon.is_cancelled() && !later.is_cancelled());
        clock.advance(Duration::from_millis(499));
        assert!(!later.is_cancelled() && !plain.is_cancelled());
        clock.advance(Duration::from_millis(1));
        assert_eq!(later.reason(), Some(CancelReason::DeadlineExceeded));
        assert_eq!(plain.reason(), Some(CancelReason::DeadlineExceeded));
        assert!(!root.is_cancelled());
    }

    #[test]
    fn abandoned_and_expired_children_are_pruned() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let root = CancelToken::new();
        for _ in 0..100 {
            drop(root.child());
            let _ = root.child_with_timeout(clock.clone(), Duration::from_secs(1));
        }
        let kept = root.child();
        let grandchild = kept.child();
        clock.advance(Duration::from_secs(2));
        drop(kept);
        let _ = root.child();
        assert!(root.node.state.lock().children.len() <= 2);
        root.cancel();
        assert!(
            grandchild.is_cancelled(),
            "a dropped child with live children is kept"
        );
    }

    #[test]
    fn wait_wakes_on_cancel() {
        let token = CancelToken::new();
        let waiter = {
            let token = token.clone();
            std::thread::spawn(move || token.wait())
        };
        token.child();
        token.cancel();
        assert_eq!(waiter.join().ok(), Some(CancelReason::Cancelled));
    }
}
