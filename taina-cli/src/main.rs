//! The `taina` command: runs and administers a Tainá instance.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taina::{Config, Taina};
use tracing_subscriber::EnvFilter;

/// Tainá: a community-owned digital home — files, photos and messages on one server.
#[derive(Debug, Parser)]
#[command(name = "taina", version, about)]
struct Cli {
    /// A TOML configuration file (default: $TAINA_CONFIG, or ./taina.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The data directory (default ./taina-data; or TAINA_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        /// The address to listen on (default 127.0.0.1:8080; or TAINA_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TAINA_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("taina: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    match cli.command {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                config.listen = addr;
            }
            serve(config).await
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listen = config.listen;
    let taina = Taina::open(config)
        .await
        .map_err(|e| format!("cannot open the instance: {e}"))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "Tainá is serving at http://{addr}/ (data in {})",
        taina.data_dir().display()
    );
    let shutdown = async {
        shutdown_signal().await;
        tracing::info!("shutting down");
    };
    taina_server::serve(listener, taina.clone(), shutdown)
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    taina.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
