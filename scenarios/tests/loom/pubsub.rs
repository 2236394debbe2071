//! Pub/sub registry: unsubscribing never waits for a publisher blocked on a
//! full subscriber, and the subscription then closes.

use chanlab_contract::{Capacity, Receiver};
use chanlab_impls::Reference;
use chanlab_scenarios::patterns::pubsub::{Broker, SlowSubscriber, Subscription, Threads};
use chanlab_sync::{Arc, Mutex, thread};

use super::{loom_finds, model};

/// What the registry model needs.
trait Registry: Send + Sync + 'static {
    fn new() -> Self;
    fn subscribe(&self) -> Subscription<Threads<Reference>, u64>;
    fn unsubscribe(&self, id: u64);
    fn publish(&self, message: u64);
}

impl Registry for Broker<Reference, u64> {
    fn new() -> Self {
        Broker::new(Capacity::Bounded(1)).unwrap()
    }
    fn subscribe(&self) -> Subscription<Threads<Reference>, u64> {
        Broker::subscribe(self, "t", SlowSubscriber::Block).unwrap()
    }
    fn unsubscribe(&self, id: u64) {
        Broker::unsubscribe(self, "t", id);
    }
    fn publish(&self, message: u64) {
        Broker::publish(self, "t", message);
    }
}

/// Broken: publishes and unsubscribes under one big lock, as a broker
/// that sends while holding its registry would.
struct BigLock(Broker<Reference, u64>, Mutex<()>);

impl Registry for BigLock {
    fn new() -> Self {
        BigLock(Registry::new(), Mutex::new(()))
    }
    fn subscribe(&self) -> Subscription<Threads<Reference>, u64> {
        Registry::subscribe(&self.0)
    }
    fn unsubscribe(&self, id: u64) {
        let _registry = self.1.lock();
        Registry::unsubscribe(&self.0, id);
    }
    fn publish(&self, message: u64) {
        let _registry = self.1.lock();
        Registry::publish(&self.0, message);
    }
}

/// A publisher sends two messages into a subscription of one slot
/// whose subscriber unsubscribes before it reads anything.
fn unsubscribe_model<R: Registry>() {
    let broker = Arc::new(R::new());
    let mut subscription = broker.subscribe();
    let publisher = {
        let broker = Arc::clone(&broker);
        thread::spawn(move || {
            broker.publish(1);
            broker.publish(2);
        })
    };
    broker.unsubscribe(subscription.id);
    drop(broker);
    let mut received = 0;
    while subscription.receiver.recv().is_ok() {
        received += 1;
    }
    assert!(received <= 2);
    publisher.join().unwrap();
}

#[test]
fn unsubscribing_never_waits_for_a_blocked_publisher() {
    model(unsubscribe_model::<Broker<Reference, u64>>);
}

#[test]
fn registry_twin_that_sends_under_its_lock_deadlocks() {
    let report = loom_finds(
        "pubsub::registry_twin_that_sends_under_its_lock_deadlocks",
        unsubscribe_model::<BigLock>,
    );
    assert!(report.contains("deadlock"), "{report}");
}
