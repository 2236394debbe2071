//! The written spec: every rule a channel must keep, numbered so a failure
//! names exactly what was broken, and the known failures a flavor declares
//! against it. The conformance suite (`chanlab-conformance`) checks the
//! rules; a flavor's [`FlavorInfo`](crate::FlavorInfo) lists where it is
//! known to break one.

use std::fmt;

use serde::Serialize;

/// One rule of channel behaviour. Checks report violations by rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Rule {
    /// R1: the declared capabilities are true. A declared capacity builds a
    /// channel; an undeclared one fails with `UnsupportedError` and does not
    /// panic; `try_clone` on a receiver succeeds exactly when
    /// `multi_consumer` is declared; a blocking flavor's `select` works
    /// exactly when `select` is declared.
    Capabilities,
    /// R2: messages from one sender are received in the order they were
    /// sent, by every receiver (each receiver sees an increasing subsequence
    /// of each sender's messages).
    Fifo,
    /// R3: every message whose send succeeded is received exactly once: none
    /// lost, none duplicated, none invented; receivers that are clones share
    /// one queue.
    ExactlyOnce,
    /// R4: a bounded channel of capacity n > 0 holds exactly n messages:
    /// with no receive in between, n `try_send`s succeed and the next fails
    /// with `Full`, handing the value back; a blocking `send` on a full
    /// channel waits until a receive makes room. An unbounded channel never
    /// reports `Full`.
    Capacity,
    /// R5: a rendezvous channel (capacity 0) buffers nothing: `try_send`
    /// fails with `Full` while no receiver is waiting and succeeds once one
    /// is blocked in `recv`, and a blocking `send` does not return before a
    /// receiver has taken the value or is committed to take it.
    Rendezvous,
    /// R6: when every sender is gone, receivers still get every buffered
    /// message, then `Disconnected` from `recv`, `try_recv` and
    /// `recv_timeout`; every receiver blocked at that moment in `recv` or
    /// `recv_timeout` wakes up, not only one. While one sender clone lives,
    /// the channel stays connected.
    SendersGone,
    /// R7: when every receiver is gone, `send` and `try_send` fail with
    /// `Disconnected` and hand back the very value (also when the channel is
    /// full); every sender blocked at that moment wakes up with the error and
    /// its own value, not only one. While one receiver clone lives, the
    /// channel stays connected.
    ReceiversGone,
    /// R8: `recv_timeout` on a channel that stays empty returns `Timeout`,
    /// not before the timeout has elapsed and not long after it; a message
    /// that arrives during the wait is returned. For every duration, from
    /// zero to `Duration::MAX` (past what `Instant` can represent), it never
    /// panics, returns a ready message at once, reports `Disconnected` once
    /// every sender is gone, and a timeout too large to represent waits like
    /// `recv`.
    RecvTimeout,
    /// R9: every value is dropped exactly once: values received, values
    /// handed back by a failed send, values still buffered when the channel
    /// goes away, values handed directly from a blocked sender to a receiver,
    /// with many producers and consumers at once and receivers leaving
    /// mid-traffic, for heap-owning and zero-sized values alike.
    DropOnce,
    /// R10: every operation returns (no hang past the watchdog) and nothing
    /// panics.
    Liveness,
    /// R11: concurrent `try_send` and `try_recv` calls are linearizable: they
    /// return what some sequential order of them, keeping their real-time
    /// order, returns on a FIFO queue of the channel's capacity. A spurious
    /// `Full` or `Empty` breaks it as surely as a lost message.
    Linearizable,
    /// R12: a blocked operation is woken by the single event that unblocks
    /// it: a receiver blocked in `recv` or `recv_timeout` by one `send` or
    /// `try_send`, a sender blocked on a full channel by one `recv`,
    /// `try_recv` or `recv_timeout`, with no later event needed to rescue
    /// it. (Waking every blocked party on disconnection is R6 and R7.)
    Wakeup,
}

impl Rule {
    /// Every rule, in spec order.
    pub const ALL: [Rule; 12] = [
        Rule::Capabilities,
        Rule::Fifo,
        Rule::ExactlyOnce,
        Rule::Capacity,
        Rule::Rendezvous,
        Rule::SendersGone,
        Rule::ReceiversGone,
        Rule::RecvTimeout,
        Rule::DropOnce,
        Rule::Liveness,
        Rule::Linearizable,
        Rule::Wakeup,
    ];

    /// The rule's number and short name, e.g. `R3 exactly-once`.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Capabilities => "R1 capabilities",
            Rule::Fifo => "R2 fifo",
            Rule::ExactlyOnce => "R3 exactly-once",
            Rule::Capacity => "R4 capacity",
            Rule::Rendezvous => "R5 rendezvous",
            Rule::SendersGone => "R6 senders-gone",
            Rule::ReceiversGone => "R7 receivers-gone",
            Rule::RecvTimeout => "R8 recv-timeout",
            Rule::DropOnce => "R9 drop-once",
            Rule::Liveness => "R10 liveness",
            Rule::Linearizable => "R11 linearizable",
            Rule::Wakeup => "R12 wake-up",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A declared deviation from the spec: where a flavor is known to break a
/// rule, and why. The suite goes on past a violation that matches one
/// (same check, same rule, and `case` found in the violation's detail) and
/// fails on any other; a declared failure that stops showing up fails too,
/// so the list stays true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KnownFailure {
    /// The check that finds it (its `#[test]` name).
    pub check: &'static str,
    /// The rule broken.
    pub rule: Rule,
    /// Text the violation's detail contains, naming the case.
    pub case: &'static str,
    /// Why, with the library version it was seen in.
    pub why: &'static str,
    /// It shows only under some interleavings (a thread preempted at one
    /// moment), so a run that does not show it proves nothing: the suite
    /// does not require it to show.
    pub intermittent: bool,
}

impl KnownFailure {
    /// Whether a violation of `rule` with `detail`, found by `check`, is
    /// this known failure.
    pub fn matches(&self, check: &str, rule: Rule, detail: &str) -> bool {
        self.check == check && self.rule == rule && detail.contains(self.case)
    }
}
