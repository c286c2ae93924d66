//! The server under soak: the real `taina serve` as a child process on a loopback port, read from
//! outside the way an operator would — its resident memory (`VmRSS` in `/proc/<pid>/status`) and
//! open file descriptors (`/proc/<pid>/fd`) sampled every second, and its `/metrics` (open
//! sockets, pending jobs) to know when it has settled after the load.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::stats::ProcSample;

/// A running `taina serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// Kept open so that the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// Where it serves, ending in `/`: `http://127.0.0.1:PORT/`.
    pub url: String,
    /// Its process id.
    pub pid: u32,
    /// Its log (standard error).
    pub log_path: PathBuf,
    /// When it was started: the origin of every time in the run.
    pub started: Instant,
}

impl Server {
    /// Starts `binary serve --listen 127.0.0.1:0` on `data_dir` (and `database_url`, for
    /// PostgreSQL) and waits for the URL it prints once the instance is open.
    pub fn start(
        binary: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        log_path: &Path,
    ) -> Result<Server, String> {
        let log = std::fs::File::create(log_path).map_err(|e| format!("create the log: {e}"))?;
        let mut command = Command::new(binary);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(data_dir.parent().unwrap_or(data_dir))
            .env_remove("TAINA_CONFIG")
            .env("TAINA_DATA_DIR", data_dir)
            .env("TAINA_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log);
        match database_url {
            Some(url) => command.env("TAINA_DATABASE_URL", url),
            None => command.env_remove("TAINA_DATABASE_URL"),
        };
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("spawn {} serve: {e}", binary.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .map(|url| format!("{}/", url.trim_end_matches('/')));
        match (read, url) {
            (Ok(_), Some(url)) => Ok(Server {
                pid: child.id(),
                child,
                _stdout: stdout,
                url,
                log_path: log_path.to_path_buf(),
                started,
            }),
            (read, _) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the server did not start ({read:?}, first line {line:?}); its log:\n{}",
                    std::fs::read_to_string(log_path).unwrap_or_default()
                ))
            }
        }
    }

    /// `Some(why)` if the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("the server exited during the run: {status}")),
            Ok(None) => None,
            Err(e) => Some(format!("cannot wait for the server: {e}")),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process's resident memory in KiB (`VmRSS`), if it still runs.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// How many file descriptors the process has open, if it still runs.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// The process's open descriptors by kind (`socket`, `pipe`, `anon_inode:[eventpoll]`, or the
/// file's folder), for the report when a leak is suspected.
pub fn fd_kinds(pid: u32) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return kinds;
    };
    for entry in entries.flatten() {
        let target = std::fs::read_link(entry.path())
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "?".to_owned());
        // `socket:[123]` is a socket, `/path/to/file` counts under its folder, and
        // `anon_inode:[eventpoll]` (or anything else) under its own name.
        let kind = match target.split_once(':') {
            _ if target.starts_with('/') => Path::new(&target)
                .parent()
                .map_or(target.clone(), |p| format!("{}/", p.display())),
            Some((kind, _)) if kind != "anon_inode" => kind.to_owned(),
            _ => target,
        };
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

/// Reads the server every second on a thread of its own until stopped.
pub struct Sampler {
    samples: Arc<Mutex<Vec<ProcSample>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pid`; times count from `origin`.
    pub fn start(pid: u32, origin: Instant) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut next = Instant::now();
                while !stop.load(Ordering::SeqCst) {
                    if let (Some(rss_kib), Some(fds)) = (rss_kib(pid), open_fds(pid)) {
                        samples.lock().expect("the samples").push(ProcSample {
                            at_secs: origin.elapsed().as_secs_f64(),
                            rss_kib,
                            fds,
                        });
                    }
                    next += Duration::from_secs(1);
                    while !stop.load(Ordering::SeqCst) && Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
        };
        Sampler {
            samples,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling and answers every sample, in order.
    pub fn finish(mut self) -> Vec<ProcSample> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the sampler thread");
        }
        std::mem::take(&mut *self.samples.lock().expect("the samples"))
    }
}

/// The value of a gauge in the Prometheus text `metrics`, e.g. `taina_websockets_open`.
fn gauge(metrics: &str, name: &str) -> Option<i64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// How long the server may take to close its sockets and finish its jobs once the clients have
/// gone: not a measure of anything, a bound so that a server that never settles fails the run
/// instead of hanging it.
const SETTLE_PATIENCE: Duration = Duration::from_secs(180);

/// Waits until the server has no socket open and no job pending (asking `/metrics`, open to this
/// machine, over a connection that is not kept), then answers its open descriptors: the fewest of
/// five readings half a second apart, so that the connection just used to ask has surely gone.
pub async fn settle(url: &str, pid: u32) -> Result<usize, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let since = Instant::now();
    loop {
        let answer = http.get(format!("{url}metrics")).send().await;
        let last = match answer {
            Ok(response) if response.status().is_success() => {
                let text = response.text().await.unwrap_or_default();
                let sockets = gauge(&text, "taina_websockets_open");
                let jobs = gauge(&text, "taina_jobs_pending");
                if sockets == Some(0) && jobs == Some(0) {
                    break;
                }
                format!("{sockets:?} sockets open, {jobs:?} jobs pending")
            }
            Ok(response) => format!("/metrics answered {}", response.status()),
            Err(e) => format!("/metrics: {e}"),
        };
        if since.elapsed() > SETTLE_PATIENCE {
            return Err(format!(
                "the server did not settle within {SETTLE_PATIENCE:?}: {last}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(http);
    let mut fewest = usize::MAX;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        fewest = fewest.min(open_fds(pid).ok_or("the server is gone")?);
    }
    Ok(fewest)
}
