//! Writing to standard output and error the way command-line tools
//! should: a closed pipe (`chanlab list | head`, `chanlab run | tee` cut
//! short) ends output quietly instead of panicking, and stops a measuring
//! run as Ctrl-C does; colour follows `--color` and `NO_COLOR`
//! (<https://no-color.org>).

use std::io::{ErrorKind, IsTerminal, Write};
use std::sync::OnceLock;

use anyhow::Context;
use comfy_table::{Cell, Color, Table};

/// When to colour what chanlab prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

static COLOR: OnceLock<bool> = OnceLock::new();

/// Decides once, for the whole process, whether output is coloured.
pub fn set_color(choice: ColorChoice) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let colored = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    let _ = COLOR.set(colored);
}

fn colored() -> bool {
    *COLOR.get().unwrap_or(&false)
}

/// Lets a table carry colour wherever it is printed, when colour is on.
pub fn style(table: &mut Table) {
    if colored() {
        table.enforce_styling();
    }
}

/// `cell` in `color`, when colour is on.
pub fn paint(cell: Cell, color: Color) -> Cell {
    if colored() { cell.fg(color) } else { cell }
}

/// Writes `text` to standard error, never panicking: when it cannot be
/// written (a closed pipe, a closed terminal), nobody is reading, and a
/// measuring run stops after the job under way, as on Ctrl-C, keeping its
/// results and writing its partial report.
pub fn say(text: &str) {
    let mut stderr = std::io::stderr().lock();
    if stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush())
        .is_err()
    {
        crate::interrupt::stop();
    }
}

/// Writes `text` to standard output; a closed pipe is not an error, and
/// stops a measuring run as [`say`] does.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != ErrorKind::BrokenPipe => Err(err).context("writing to stdout"),
        Err(_) => {
            crate::interrupt::stop();
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}
