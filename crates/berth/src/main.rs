//! `berth`: the command line. Wiring only — every behaviour lives in the library crates.

mod cli;
mod duration;
mod logs_cli;
mod serve;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    init_logging(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve::run(cli.command))
}

/// Berth's log lines go to stderr, filtered by `BERTH_LOG` (default `info`): plain text,
/// coloured only when stderr is a terminal (a file or a pipe gets no escape sequences), or
/// one JSON object a line.
fn init_logging(format: cli::LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        cli::LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}
