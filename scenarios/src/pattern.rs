//! The three ways to run a pattern, generated from the patterns' one table
//! (`chanlab_workload::pattern_table!`) as exhaustive matches: a row
//! naming an entry point that does not exist fails to compile.

use chanlab_contract::{AsyncFlavor, SyncFlavor};

use crate::patterns::{
    cancellation, errgroup, event_loop, fan_out_in, map_reduce, pipeline, producer_consumer,
    pubsub, rate_limit, resource_pool, select, semaphore, shared_state, singleflight, supervisor,
    worker_pool,
};
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

/// A call to a row's entry point, or the refusal for a row without one.
macro_rules! entry {
    (sync $pattern:ident, $params:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::UsesNoChannel {
            pattern: Pattern::$pattern,
        }))
    };
    (sync $pattern:ident, $params:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $module::$run::<F>($params)
    }};
    (async $pattern:ident, $params:ident, $runtime:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::NoAsyncVersion {
            pattern: Pattern::$pattern,
        }))
    };
    (async $pattern:ident, $params:ident, $runtime:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $runtime.block_on($module::$run::<F>($params))
    }};
    (primitive $pattern:ident, $params:ident, $primitive:ident, $runtime:ident, ) => {
        Err(ScenarioError::NotApplicable(Refusal::NotOnPrimitive {
            pattern: Pattern::$pattern,
            primitive: $primitive,
        }))
    };
    (primitive $pattern:ident, $params:ident, $primitive:ident, $runtime:ident, $module:ident $run:ident) => {{
        $params.validate(Pattern::$pattern)?;
        $module::$run($primitive, $params, $runtime)
    }};
}

/// [`run_sync`], [`run_async`] and [`run_primitive`], from the table.
macro_rules! dispatch {
    ($(
        $variant:ident => $name:literal in $module:ident: $summary:literal {
            $(sync: $sync_run:ident,)?
            $(async: $async_run:ident,)?
            $(primitives: [$($each:ident),+] => $each_run:ident,)?
            $(most_items: $most_items:expr, because $why:literal,)?
        }
    )+) => {
        /// Runs `pattern` on blocking flavor `F`, on threads. A pattern
        /// that does not run there is refused before its parameters are
        /// checked.
        pub fn run_sync<F: SyncFlavor>(
            pattern: Pattern,
            params: &Params,
        ) -> Result<Outcome, ScenarioError> {
            match pattern {
                $(Pattern::$variant => entry!(sync $variant, params, $($module $sync_run)?),)+
            }
        }

        /// Runs `pattern` on async flavor `F`, as tasks on a fresh tokio
        /// `runtime`.
        pub fn run_async<F: AsyncFlavor>(
            pattern: Pattern,
            params: &Params,
            runtime: Runtime,
        ) -> Result<Outcome, ScenarioError> {
            match pattern {
                $(Pattern::$variant => entry!(async $variant, params, runtime, $($module $async_run)?),)+
            }
        }

        /// Runs `pattern` on `primitive`, one of [`Pattern::primitives`]:
        /// on threads, or as tasks on a fresh tokio `runtime` for a
        /// primitive of `World::Tasks` (a primitive on threads ignores
        /// `runtime`).
        pub fn run_primitive(
            pattern: Pattern,
            primitive: Primitive,
            params: &Params,
            runtime: Runtime,
        ) -> Result<Outcome, ScenarioError> {
            if !pattern.primitives().contains(&primitive) {
                return Err(Refusal::not_on(pattern, primitive));
            }
            match pattern {
                $(Pattern::$variant => entry!(
                    primitive $variant, params, primitive, runtime,
                    $($module $each_run)?
                ),)+
            }
        }
    };
}

chanlab_workload::pattern_table!(dispatch);
