//! `leetchat`, the LeetChat terminal client: scriptable, offline-first, built
//! on the client core's `Client` (store, outbox, resuming connection).
//!
//! Map of the crate:
//! - [`args`]: the command line (clap).
//! - [`commands`]: one module per idea (account, rooms, messages, tail) and
//!   what they share (opening the client, foreground sync, ROOM arguments).
//! - [`room_arg`]: which stored room a ROOM argument names.
//! - [`output`]: human lines or one JSON value per line.
//! - [`safe`]: other people's text made safe for a terminal.
//! - [`error`]: why a command failed.
//!
//! Every failure prints `error: <message>` on stderr and exits with 1.

mod args;
mod commands;
mod error;
mod output;
mod room_arg;
mod safe;

use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Read while the process has one thread: later the platform refuses.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let cli = args::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let out = output::Output::new(cli.global.json, offset);
    match run(cli, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(error::Error::Output(io)) = e.downcast_ref::<error::Error>()
                && io.kind() == ErrorKind::BrokenPipe
            {
                // The reader went away (`leetchat history x | head`): not a failure.
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", safe::guard(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: args::Cli, out: output::Output) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(commands::run(cli, out))?;
    Ok(())
}
