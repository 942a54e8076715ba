//! `leetchat-server`: parse the configuration, set up logging, run until
//! SIGTERM or Ctrl-C.

use leetchat_server::admin::{self, Command};
use leetchat_server::{Application, Config};
use tracing_subscriber::EnvFilter;

/// mimalloc: a server's many small, short-lived allocations (frames,
/// rows, futures) cost glibc malloc a large share of the CPU under load
/// (profiled in a reconnect storm: docs/benchmarks/README.md), and its
/// arenas hold on to freed memory.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// No transparent huge pages for this process. mimalloc asks for them on its
/// regions and hands freed pages back to the kernel every few milliseconds;
/// each fault after that zeroes a 2 MiB page, first compacting memory to
/// find one. In a 1,000-member fan-out that put the p99 to the last
/// recipient at 660 ms instead of 32 ms, and cost ~4 µs of CPU per delivery
/// (docs/benchmarks/README.md). Redis and most databases advise the same.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(error = %e, "cannot turn off transparent huge pages");
    }
}

#[tokio::main]
async fn main() {
    let mut config = match Config::parse_from_args(std::env::args_os()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(Command::Admin(args)) = config.command.take() {
        // Quiet: the command's own output is what the operator reads.
        tracing_subscriber::fmt()
            .with_env_filter(
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error")),
            )
            .with_writer(std::io::stderr)
            .init();
        let mut out = std::io::stdout();
        if let Err(e) = admin::run(&config, &args, &mut out).await {
            eprintln!("leetchat-server admin: {e}");
            std::process::exit(1);
        }
        return;
    }
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    if config.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    no_transparent_huge_pages();
    // One line that says what is wrong (each error names its cause).
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("leetchat-server: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = app.run_until_stopped(shutdown_signal()).await {
        eprintln!("leetchat-server: {e}");
        std::process::exit(1);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
