//! The server under test: `taina serve` as a child process on one data directory (and database),
//! killed with SIGKILL and started again by the killer, and what clients share with it: the URL
//! of the server now running, how many times it was started, the operations done, and failures.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::rng::Rng;

/// Versions kept per file on the server under test: low, so that pruning happens during the run.
pub const VERSIONS_KEPT: usize = 3;

/// Where the instance lives: its data directory, its database (PostgreSQL; SQLite inside the data
/// directory otherwise), and where each server's log goes.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The data directory (`TAINA_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `TAINA_DATABASE_URL`, for PostgreSQL.
    pub database_url: Option<String>,
    /// One `serve-{generation}.log` per server started.
    pub log_dir: PathBuf,
}

impl Instance {
    /// The `taina` binary on this instance, with nothing from the environment of the test.
    pub fn taina(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_taina"));
        command
            .current_dir(&self.log_dir)
            .env_remove("TAINA_CONFIG")
            .env("TAINA_DATA_DIR", &self.data_dir)
            .env("TAINA_PASSWORD_HASHING_THREADS", "1")
            .env("TAINA_FILE_VERSIONS_KEPT", VERSIONS_KEPT.to_string())
            .env("TAINA_POSTGRES_CONNECTIONS", "6")
            .env("TAINA_LOG", "warn");
        match &self.database_url {
            Some(url) => command.env("TAINA_DATABASE_URL", url),
            None => command.env_remove("TAINA_DATABASE_URL"),
        };
        command
    }

    /// Starts `taina serve` on a free port and waits for the URL it prints (printed once the
    /// instance is open, so after its start-up recovery).
    pub fn serve(&self, generation: u64) -> Result<Running, String> {
        let log_path = self.log_dir.join(format!("serve-{generation}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| format!("create the log: {e}"))?;
        let mut child = self
            .taina()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn taina serve: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(str::to_owned);
        match (read, url) {
            (Ok(_), Some(url)) => Ok(Running {
                child,
                _stdout: stdout,
                url,
            }),
            (read, _) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "server {generation} did not start ({read:?}, first line {line:?}); its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                ))
            }
        }
    }
}

/// A running `taina serve`.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// Kept open so that the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// Where it serves, e.g. `http://127.0.0.1:40123/`.
    pub url: String,
}

impl Running {
    /// SIGKILL, and waits until the process is gone (its sockets and locks with it).
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the killed server");
    }
}

/// What the killer and the clients share.
#[derive(Debug)]
pub struct Shared {
    /// The URL of the server now running and how many servers were started before it.
    server: Mutex<(String, u64)>,
    /// Operations the clients have done (whatever their outcome).
    pub ops_done: AtomicU64,
    /// Set once the killer has stopped killing (the server running now stays up).
    pub killing_over: AtomicBool,
    /// Set when the run cannot go on (a server that does not start): clients stop.
    pub aborted: AtomicBool,
    /// Everything found wrong, in words.
    failures: Mutex<Vec<String>>,
}

impl Shared {
    /// Shared state with the first server's URL.
    pub fn new(url: String) -> Shared {
        Shared {
            server: Mutex::new((url, 0)),
            ops_done: AtomicU64::new(0),
            killing_over: AtomicBool::new(false),
            aborted: AtomicBool::new(false),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// The URL of the server now running and its generation.
    pub fn server(&self) -> (String, u64) {
        self.server.lock().expect("server state").clone()
    }

    fn restarted(&self, url: String) {
        let mut server = self.server.lock().expect("server state");
        server.0 = url;
        server.1 += 1;
    }

    /// Records something wrong (the run goes on, so that one run shows every problem).
    pub fn fail(&self, what: String) {
        eprintln!("crash: FAILURE: {what}");
        self.failures.lock().expect("failures").push(what);
    }

    /// Everything recorded wrong so far.
    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().expect("failures").clone()
    }

    /// Whether clients should stop doing new operations.
    pub fn stopping(&self) -> bool {
        self.killing_over.load(Ordering::SeqCst) || self.aborted.load(Ordering::SeqCst)
    }
}

/// What the killer did.
#[derive(Debug, Default)]
pub struct KillReport {
    /// SIGKILLs sent.
    pub kills: u64,
    /// How long the restarts took, in total.
    pub restarting: Duration,
}

/// Kills the server after a random 100–1500 ms, starts it again on the same data, and repeats
/// until at least `kills` kills and `ops` operations are done; answers the server left running.
pub fn killer(
    instance: &Instance,
    mut running: Running,
    shared: &Shared,
    mut rng: Rng,
    kills: u64,
    ops: u64,
) -> (Option<Running>, KillReport) {
    let mut report = KillReport::default();
    let started = Instant::now();
    let mut last_progress = (0, Instant::now());
    loop {
        let done = shared.ops_done.load(Ordering::SeqCst);
        if report.kills >= kills && done >= ops {
            break;
        }
        if done != last_progress.0 {
            last_progress = (done, Instant::now());
        } else if last_progress.1.elapsed() > Duration::from_secs(120) {
            shared.fail(format!(
                "no operation finished for 2 minutes (at {done} operations, {} kills)",
                report.kills
            ));
            shared.aborted.store(true, Ordering::SeqCst);
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            shared.fail(format!(
                "the run took more than 15 minutes ({done} operations, {} kills)",
                report.kills
            ));
            shared.aborted.store(true, Ordering::SeqCst);
            break;
        }
        std::thread::sleep(Duration::from_millis(rng.between(100, 1500)));
        running.kill();
        report.kills += 1;
        let restart = Instant::now();
        let (_, generation) = shared.server();
        match instance.serve(generation + 1) {
            Ok(next) => {
                report.restarting += restart.elapsed();
                shared.restarted(next.url.clone());
                running = next;
            }
            Err(e) => {
                shared.fail(format!("after kill {}: {e}", report.kills));
                shared.aborted.store(true, Ordering::SeqCst);
                shared.killing_over.store(true, Ordering::SeqCst);
                return (None, report);
            }
        }
    }
    shared.killing_over.store(true, Ordering::SeqCst);
    (Some(running), report)
}
