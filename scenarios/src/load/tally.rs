//! What each consumer saw, tallied in O(1) per message, and the oracle
//! that compares the tallies with what the producers sent.

use chanlab_workload::ParamError;
use hdrhistogram::Histogram;

use super::message::{LoadMessage, UNTIMED};
use super::schedule::Schedule;
use super::{LoadSpec, Measure};
use crate::ScenarioError;
use crate::oracle::{mix64, source_of, stamp};
use crate::outcome::ensure;

/// Highest latency a histogram records: 60 s, in nanoseconds. Longer
/// latencies are recorded as this value.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// What one consumer saw, tallied in O(1) per message.
pub(super) struct Received {
    pub(super) count: u64,
    /// Per producer: messages received from it, and the sequence number
    /// the next one must reach (its last one plus one).
    from: Vec<FromProducer>,
    /// Wrapping sum of [`mix64`] over every stamp received.
    digest: u64,
    /// The first message that broke its producer's order: (stamp, the
    /// sequence number it should have reached).
    out_of_order: Option<(u64, u64)>,
    /// The first stamp naming a producer that does not exist.
    unknown: Option<u64>,
    pub(super) latency: Option<Histogram<u64>>,
}

/// A consumer's tally of one producer's messages.
#[derive(Clone, Copy, Default)]
struct FromProducer {
    count: u64,
    next: u64,
}

impl Received {
    /// An empty tally for a run with `producers` producers, allocated
    /// before the clock starts, so recording allocates nothing.
    fn new(measure: Measure, producers: usize) -> Result<Self, ScenarioError> {
        let latency = if measure.records_latency() {
            Some(new_histogram()?)
        } else {
            None
        };
        Ok(Received {
            count: 0,
            from: vec![FromProducer::default(); producers],
            digest: 0,
            out_of_order: None,
            unknown: None,
            latency,
        })
    }

    pub(super) fn take<M: LoadMessage>(&mut self, message: M, schedule: Schedule<'_>) {
        if let Some(latency) = &mut self.latency
            && message.at_ns() != UNTIMED
        {
            let ns = schedule.now_ns().saturating_sub(message.at_ns());
            latency.saturating_record(ns.clamp(1, MAX_LATENCY_NS));
        }
        self.count += 1;
        if let Some(stamp) = message.stamp() {
            self.digest = self.digest.wrapping_add(mix64(stamp));
            match self.from.get_mut(source_of(stamp)) {
                Some(from) => {
                    let seq = stamp & u64::from(u32::MAX);
                    if seq < from.next && self.out_of_order.is_none() {
                        self.out_of_order = Some((stamp, from.next));
                    }
                    from.next = seq + 1;
                    from.count += 1;
                }
                None => {
                    self.unknown.get_or_insert(stamp);
                }
            }
        }
    }
}

/// A histogram for latencies in nanoseconds, 1 ns to 60 s.
pub fn new_histogram() -> Result<Histogram<u64>, ScenarioError> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).map_err(|err| {
        ParamError::new(
            "latency histogram bounds",
            "1 ns to 60 s at 3 significant digits",
            format!("bounds HdrHistogram accepts ({err})"),
        )
        .into()
    })
}

/// One empty tally per consumer, made before any thread starts so that a
/// failure cannot strand threads at a barrier.
pub(super) fn tallies(spec: &LoadSpec) -> Result<Vec<Received>, ScenarioError> {
    (0..spec.consumers)
        .map(|_| Received::new(spec.measure, spec.producers))
        .collect()
}

/// Checks the consumers' tallies against what each producer sent: each
/// consumer saw each producer's messages in order, no stamp names a
/// producer that does not exist, each producer's messages arrived as often
/// as it sent them, and the mixed stamps add up to the sum over every
/// message sent, so a lost message and another delivered twice in its
/// place (to any consumer) do not cancel out.
pub(super) fn check_tallies(sent_by: &[u64], received: &[Received]) -> Result<(), ScenarioError> {
    for (consumer, got) in received.iter().enumerate() {
        if let Some(stamp) = got.unknown {
            return Err(ScenarioError::Oracle(format!(
                "consumer {consumer}: {stamp:#x} was delivered but never sent (no producer {})",
                source_of(stamp)
            )));
        }
        if let Some((stamp, next)) = got.out_of_order {
            return Err(ScenarioError::Oracle(format!(
                "consumer {consumer}: {stamp:#x} arrived after message {} of producer {} \
                 (a message delivered twice, or out of order)",
                next - 1,
                source_of(stamp)
            )));
        }
    }
    let mut expected_digest = 0u64;
    for (producer, &sent) in sent_by.iter().enumerate() {
        let arrived: u64 = received.iter().map(|got| got.from[producer].count).sum();
        ensure(arrived == sent, || {
            format!("producer {producer}: {sent} messages sent, {arrived} received")
        })?;
        for seq in 0..sent as usize {
            expected_digest = expected_digest.wrapping_add(mix64(stamp(producer, seq)));
        }
    }
    let digest = received
        .iter()
        .fold(0u64, |sum, got| sum.wrapping_add(got.digest));
    ensure(digest == expected_digest, || {
        "as many messages arrived from each producer as it sent, but not the same ones: \
         at least one was lost and another delivered twice in its place"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::schedule::Shared;
    use super::*;

    /// The tallies of consumers that received `deliveries` (one list of
    /// (producer, seq) per consumer), in a run of `producers` producers.
    fn tallies_of(producers: usize, deliveries: &[&[(usize, usize)]]) -> Vec<Received> {
        let shared = Shared {
            items: 0,
            producers,
            measure: Measure::Throughput,
            interval_ns: 0.0,
        };
        let schedule = Schedule {
            shared: &shared,
            start: Instant::now(),
        };
        deliveries
            .iter()
            .map(|messages| {
                let mut tally = Received::new(Measure::Throughput, producers).unwrap();
                for &(producer, seq) in *messages {
                    tally.take(stamp(producer, seq), schedule);
                }
                tally
            })
            .collect()
    }

    const SENT: [u64; 2] = [4, 2];

    #[test]
    fn a_correct_delivery_passes() {
        let received = tallies_of(2, &[&[(0, 0), (1, 0), (0, 2)], &[(0, 1), (1, 1), (0, 3)]]);
        check_tallies(&SENT, &received).unwrap();
    }

    #[test]
    fn a_loss_and_a_duplicate_to_another_consumer_are_caught() {
        // Message 3 of producer 0 is lost, and message 2 arrives at both
        // consumers: each consumer's order holds and producer 0's count
        // adds up, so only the mixed sum can tell.
        let received = tallies_of(2, &[&[(0, 0), (1, 0), (0, 2)], &[(0, 1), (1, 1), (0, 2)]]);
        let err = check_tallies(&SENT, &received).unwrap_err().to_string();
        assert!(err.contains("not the same ones"), "{err}");
    }

    #[test]
    fn a_loss_and_a_duplicate_to_the_same_consumer_are_caught() {
        let received = tallies_of(2, &[&[(0, 0), (0, 1), (0, 1), (1, 0), (0, 2), (1, 1)]]);
        let err = check_tallies(&SENT, &received).unwrap_err().to_string();
        assert!(err.contains("delivered twice, or out of order"), "{err}");
    }

    #[test]
    fn a_loss_a_reorder_and_a_stranger_are_caught() {
        let lost = tallies_of(2, &[&[(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]]);
        let reordered = tallies_of(2, &[&[(0, 0), (0, 2), (0, 1), (0, 3), (1, 0), (1, 1)]]);
        let stranger = tallies_of(2, &[&[(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (7, 0)]]);
        for (what, received, says) in [
            ("lost", lost, "4 messages sent, 3 received"),
            ("reordered", reordered, "out of order"),
            ("stranger", stranger, "never sent"),
        ] {
            let err = check_tallies(&SENT, &received).unwrap_err().to_string();
            assert!(err.contains(says), "{what}: {err}");
        }
    }
}
