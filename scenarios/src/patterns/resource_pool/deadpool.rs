//! deadpool's managed pool as the pattern's pool for tasks: connections
//! made by the pattern's registry on demand, a broken one taken out of
//! the pool with `Object::take`, so the pool makes a new one.

use std::convert::Infallible;
use std::time::Duration;

use ::deadpool::managed::{Manager, Metrics, Object, Pool, RecycleResult};
use chanlab_sync::Arc;

use super::tasks::AsyncLender;
use super::{FakeConnection, Pooling, Registry};
use crate::coord::{AcquireTimeout, Executor};
use crate::{ParamError, ScenarioError};

/// Makes connections through the pattern's registry; any idle one is fit
/// to lend again.
pub(super) struct Factory(Arc<Registry>);

impl Manager for Factory {
    type Type = FakeConnection;
    type Error = Infallible;

    async fn create(&self) -> Result<FakeConnection, Infallible> {
        Ok(self.0.create())
    }

    async fn recycle(&self, _: &mut FakeConnection, _: &Metrics) -> RecycleResult<Infallible> {
        Ok(())
    }
}

/// A deadpool of at most `size` connections made by `registry`.
pub(super) fn new_pool(
    size: usize,
    registry: &Arc<Registry>,
) -> Result<Pool<Factory>, ScenarioError> {
    Pool::builder(Factory(Arc::clone(registry)))
        .max_size(size)
        .build()
        .map_err(|err| {
            ParamError::new("capacity", size, format!("a size deadpool accepts ({err})")).into()
        })
}

impl Pooling for Pool<Factory> {
    type Lease = Object<Factory>;

    fn discard(lease: Self::Lease) {
        drop(Object::take(lease));
    }

    fn live(&self) -> usize {
        self.status().size
    }

    fn idle(&self) -> usize {
        self.status().available
    }
}

impl AsyncLender for Pool<Factory> {
    async fn lend<E: Executor>(&self, timeout: Duration) -> Result<Self::Lease, AcquireTimeout> {
        match E::timeout(timeout, self.get()).await {
            Some(Ok(conn)) => Ok(conn),
            // The factory cannot fail and the pool is never closed, so an
            // error here is only the wait running out.
            Some(Err(_)) | None => Err(AcquireTimeout(timeout)),
        }
    }
}
