//! The `taina` command: runs and administers a Tainá instance.
//!
//! Thin by design: every command opens the `taina` library on the same data directory and
//! configuration as the server (safe while the server runs: SQLite in WAL mode with a busy timeout,
//! or PostgreSQL) and calls it; no SQL and no rule live here.
#![forbid(unsafe_code)]

mod admin;
mod app_password;
mod cli;
mod data;
mod database;
mod failure;
mod output;
mod progress;
mod secret;
mod storage;
mod switch;
mod tui;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use taina::{Config, Taina};
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    // The server runs this very program, with a hidden first argument, to decode untrusted images
    // in a child process under limits (`taina::decoder`): before any runtime or thread starts.
    if taina::decoder::is_child() {
        return taina::decoder::child_main();
    }
    command()
}

#[tokio::main]
async fn command() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("TAINA_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,taina_server=info,taina_cli=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let mut config = Config::load(cli.config.as_deref()).map_err(Failure::config)?;
    let config_file = Config::file(cli.config.as_deref());
    if config.decoder.is_none() {
        // This program is its own image decoder (see `main`).
        config.decoder = std::env::current_exe().ok();
    }
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    let out = output::Output { json: cli.json };
    let community = cli.community.as_deref();
    match cli.command {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                config.listen = addr;
            }
            serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "taina", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| Failure::io("cannot write the man page", e))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { source } => {
            data::restore(config, &source, &out).await?;
            Ok(ExitCode::SUCCESS)
        }
        command => {
            // Commands beside a running server: no background jobs of their own.
            config.job_workers = 0;
            let taina = open(config).await?;
            let result = match command {
                Command::Admin(admin) => admin::run(&taina, community, admin, &out).await,
                Command::Fsck { deep, repair } => data::fsck(&taina, deep, repair, &out).await,
                Command::Backup { dest, thumbnails } => {
                    data::backup(&taina, &dest, thumbnails, &out).await
                }
                Command::Thumbnails(cli::Thumbnails::Regenerate { all, photo_id }) => {
                    data::regenerate(&taina, community, all, photo_id.as_deref(), &out).await
                }
                Command::AppPassword(command) => {
                    app_password::run(&taina, community, command, &out).await
                }
                Command::Import(import) => data::import(&taina, community, import, &out).await,
                Command::Db(cli::Db::Migrate { to }) => {
                    database::migrate(&taina, config_file.as_deref(), &to, &out).await
                }
                Command::Storage(cli::Storage::Migrate(to)) => {
                    storage::migrate(&taina, config_file.as_deref(), to, &out).await
                }
                Command::Export { dest, user } => {
                    data::export(&taina, community, &dest, user.as_deref(), &out).await
                }
                Command::Tui => tui::run(&taina).await,
                Command::Serve { .. }
                | Command::Completions { .. }
                | Command::Man
                | Command::Restore { .. } => Ok(ExitCode::SUCCESS),
            };
            taina.close().await;
            result
        }
    }
}

/// Opens the instance, or says why not and what to check.
async fn open(config: Config) -> Result<Taina, Failure> {
    let dir = config.data_dir.clone();
    Taina::open(config).await.map_err(|e| {
        Failure::new(
            failure::Code::Unavailable,
            format!("cannot open the instance in {}: {e}", dir.display()),
            "check --data-dir (or TAINA_DATA_DIR) and TAINA_DATABASE_URL",
        )
    })
}

async fn serve(config: Config) -> Result<(), Failure> {
    let listen = config.listen;
    let scheme = if config.tls() { "https" } else { "http" };
    let taina = open(config).await?;
    let _serving = taina.claim_serving().map_err(|e| {
        Failure::new(
            failure::Code::Unavailable,
            format!("cannot serve: {e}"),
            "stop the other server first, or move to PostgreSQL to run several",
        )
    })?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        Failure::new(
            failure::Code::Unavailable,
            format!("cannot listen on {listen}: {e}"),
            "pick another address with --listen (or TAINA_LISTEN)",
        )
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::io("cannot read the listening address", e))?;
    println!(
        "Tainá is serving at {scheme}://{addr}/ (data in {}, {} database, blobs in {})",
        taina.data_dir().display(),
        taina.backend().name(),
        taina.blobs().url()
    );
    let feeds = taina.clone();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        // The instance stops: its sockets close with 1012 while requests drain.
        feeds.end_feeds();
    };
    taina_server::serve(listener, taina.clone(), shutdown)
        .await
        .map_err(|e| {
            Failure::new(
                failure::Code::Unavailable,
                format!("server failed: {e}"),
                "see the log above",
            )
        })?;
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
