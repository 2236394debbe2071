//! Token bucket: two callers at the same instant never get more than the
//! burst.

use super::*;

/// What the rate model needs.
trait Bucket: Send + Sync + 'static {
    fn new(burst: u32) -> Self;
    fn try_acquire(&self) -> bool;
}

impl Bucket for TokenBucket<ManualClock> {
    fn new(burst: u32) -> Self {
        TokenBucket::new(ManualClock::new(), 1.0, burst).unwrap()
    }
    fn try_acquire(&self) -> bool {
        TokenBucket::try_acquire(self).is_ok()
    }
}

/// Broken: counts tokens, checks and takes them under two separate locks.
struct TakesLate(Mutex<u32>);

impl Bucket for TakesLate {
    fn new(burst: u32) -> Self {
        TakesLate(Mutex::new(burst))
    }
    fn try_acquire(&self) -> bool {
        let available = *self.0.lock() > 0;
        if available {
            let mut tokens = self.0.lock();
            *tokens = tokens.wrapping_sub(1);
        }
        available
    }
}

/// Two callers, a burst of one, no time passing: one admission in all.
fn bucket_model<B: Bucket>() {
    let bucket = Arc::new(B::new(1));
    let admitted = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (bucket, admitted) = (Arc::clone(&bucket), Arc::clone(&admitted));
            thread::spawn(move || {
                if bucket.try_acquire() {
                    admitted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
    let admitted = admitted.load(Ordering::SeqCst);
    assert_eq!(
        admitted, 1,
        "{admitted} admissions with a burst of 1 and no time passing"
    );
}

#[test]
fn token_bucket_admits_no_more_than_its_burst() {
    model(bucket_model::<TokenBucket<ManualClock>>);
}

#[test]
fn token_bucket_twin_that_checks_then_takes_admits_two() {
    let report = loom_finds(
        "token_bucket::token_bucket_twin_that_checks_then_takes_admits_two",
        bucket_model::<TakesLate>,
    );
    assert!(report.contains("admissions with a burst of 1"), "{report}");
}
