//! Writing to standard output the way command-line tools should: a closed
//! pipe (`chanlab list | head`) ends output quietly instead of panicking.

use std::io::{ErrorKind, Write};

use anyhow::Context;

/// Writes `text` to standard output; a closed pipe is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != ErrorKind::BrokenPipe => Err(err).context("writing to stdout"),
        _ => Ok(()),
    }
}
