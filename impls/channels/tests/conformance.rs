//! The conformance suites on every flavor chanlab ships, from the
//! registry's table (`chanlab_impls::shipped_flavors!`): one module per
//! flavor, one test per check, under the conformance crate's harness
//! (`harness = false` in Cargo.toml). Known failures are declared with each
//! flavor, in its `INFO`. Async flavors are checked through their blocking
//! view (which drives the library's own futures) and by the async suite;
//! libraries with both ends on one channel, by the mixed suite.

/// The blocking suite on a blocking flavor, or on an async flavor's
/// blocking view.
macro_rules! blocking_suite {
    (visit_sync $name:ident: $flavor:ty) => {
        chanlab_conformance::conformance_tests!($name: $flavor);
    };
    (visit_async $name:ident: $flavor:ty) => {
        chanlab_conformance::conformance_tests!($name: chanlab_conformance::BlockOn<$flavor>);
    };
}

/// The async suite on an async flavor; no tests for a blocking one.
macro_rules! async_suite {
    (visit_sync $name:ident: $flavor:ty) => {
        pub mod $name {
            pub fn tests() -> Vec<chanlab_conformance::ConformanceTest> {
                Vec::new()
            }
        }
    };
    (visit_async $name:ident: $flavor:ty) => {
        chanlab_conformance::async_conformance_tests!($name: $flavor);
    };
}

/// Every suite on every flavor and bridge of the table.
macro_rules! suites {
    (
        flavors: [$($visit:ident $name:ident: $flavor:ty,)+],
        bridges: [$($bridge_name:ident: $bridge:ty,)+],
    ) => {
        mod blocking {
            $(blocking_suite!($visit $name: $flavor);)+
        }

        mod futures {
            $(async_suite!($visit $name: $flavor);)+
        }

        mod mixed {
            $(chanlab_conformance::bridge_conformance_tests!($bridge_name: $bridge);)+
        }

        fn main() -> std::process::ExitCode {
            chanlab_conformance::run_tests(
                [$(blocking::$name::tests(), futures::$name::tests(),)+]
                    .into_iter()
                    .chain([$(mixed::$bridge_name::tests(),)+]),
            )
        }
    };
}

chanlab_impls::shipped_flavors!(suites);
