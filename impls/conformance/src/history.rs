//! Linearizability of concurrent histories, after Wing and Gong (1993) with
//! Lowe's memoization (2017): a history of `try_send` and `try_recv` calls,
//! each with the logical time it was invoked and returned, is linearizable
//! when some order of the calls that respects real time (a call that
//! returned before another was invoked comes first) is a legal run of the
//! sequential channel: a FIFO queue of the channel's capacity.
//!
//! The search linearizes one pending call at a time, choosing only among
//! calls invoked before the earliest return of any pending call, and
//! remembers every (calls done, queue) pair already explored, so it stays
//! small for the short histories the check records.

use std::collections::{HashSet, VecDeque};
use std::fmt;

/// One call in a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Call {
    /// The thread that made it.
    pub(crate) thread: usize,
    /// Logical time just before the call.
    pub(crate) invoked: u64,
    /// Logical time just after it returned.
    pub(crate) returned: u64,
    /// What it was and what it returned.
    pub(crate) op: Op,
}

/// A call and its result. Values are unique within a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `try_send(value)` succeeded.
    Sent(u64),
    /// `try_send(value)` found the channel full.
    Full(u64),
    /// `try_recv()` returned this value.
    Received(u64),
    /// `try_recv()` found the channel empty.
    Empty,
    /// Either call reported the channel disconnected, which it never is in
    /// a recorded history (both ends live throughout): no sequential run
    /// returns it.
    Disconnected,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Sent(v) => format!("try_send({v}) = Ok"),
            Op::Full(v) => format!("try_send({v}) = Full"),
            Op::Received(v) => format!("try_recv() = Ok({v})"),
            Op::Empty => "try_recv() = Empty".to_owned(),
            Op::Disconnected => "= Disconnected".to_owned(),
        };
        write!(
            f,
            "t{} [{}, {}] {op}",
            self.thread, self.invoked, self.returned
        )
    }
}

/// The sequential channel: the queue after a call, or `None` if the call
/// could not have returned what it did.
fn apply(queue: &VecDeque<u64>, capacity: Option<usize>, op: Op) -> Option<VecDeque<u64>> {
    let full = capacity.is_some_and(|capacity| queue.len() >= capacity);
    match op {
        Op::Sent(value) if !full => {
            let mut next = queue.clone();
            next.push_back(value);
            Some(next)
        }
        Op::Full(_) if full => Some(queue.clone()),
        Op::Received(value) if queue.front() == Some(&value) => {
            let mut next = queue.clone();
            next.pop_front();
            Some(next)
        }
        Op::Empty if queue.is_empty() => Some(queue.clone()),
        _ => None,
    }
}

/// Whether `history` (at most 128 calls) is linearizable for a channel of
/// `capacity` (`None`: unbounded) that starts empty.
pub(crate) fn linearizable(history: &[Call], capacity: Option<usize>) -> bool {
    assert!(
        history.len() <= 128,
        "histories are checked in pieces of at most 128 calls"
    );
    let mut seen = HashSet::new();
    search(history, capacity, 0, &VecDeque::new(), &mut seen)
}

fn search(
    history: &[Call],
    capacity: Option<usize>,
    done: u128,
    queue: &VecDeque<u64>,
    seen: &mut HashSet<(u128, VecDeque<u64>)>,
) -> bool {
    let pending = || (0..history.len()).filter(move |&i| done & (1 << i) == 0);
    let Some(earliest_return) = pending().map(|i| history[i].returned).min() else {
        return true;
    };
    for i in pending().filter(|&i| history[i].invoked < earliest_return) {
        let Some(next) = apply(queue, capacity, history[i].op) else {
            continue;
        };
        let done = done | (1 << i);
        if seen.insert((done, next.clone())) && search(history, capacity, done, &next, seen) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(thread: usize, invoked: u64, returned: u64, op: Op) -> Call {
        Call {
            thread,
            invoked,
            returned,
            op,
        }
    }

    #[test]
    fn overlapping_calls_may_take_either_order() {
        // t1's receive overlaps t0's send, so it may see the value.
        let history = [call(0, 0, 3, Op::Sent(1)), call(1, 1, 2, Op::Received(1))];
        assert!(linearizable(&history, None));
    }

    #[test]
    fn real_time_order_is_kept() {
        // The receive returned before the send was invoked.
        let history = [call(1, 0, 1, Op::Received(1)), call(0, 2, 3, Op::Sent(1))];
        assert!(!linearizable(&history, None));
    }

    #[test]
    fn fifo_and_capacity_are_the_model() {
        let reordered = [
            call(0, 0, 1, Op::Sent(1)),
            call(0, 2, 3, Op::Sent(2)),
            call(1, 4, 5, Op::Received(2)),
        ];
        assert!(!linearizable(&reordered, None));
        let over_capacity = [call(0, 0, 1, Op::Sent(1)), call(0, 2, 3, Op::Sent(2))];
        assert!(!linearizable(&over_capacity, Some(1)));
        assert!(linearizable(&over_capacity, Some(2)));
        let spurious_full = [call(0, 0, 1, Op::Full(1))];
        assert!(!linearizable(&spurious_full, Some(1)));
        let spurious_empty = [call(0, 0, 1, Op::Sent(1)), call(1, 2, 3, Op::Empty)];
        assert!(!linearizable(&spurious_empty, None));
    }
}
