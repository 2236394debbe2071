//! The `chanlab` command, with the implementations chanlab ships.

fn main() -> std::process::ExitCode {
    chanlab::Runner::new().main()
}
