//! What a soak run measured, summed up: per-operation counts, errors and latency percentiles, the
//! server's memory and open file descriptors over the run, and the two checks that must hold
//! whatever the machine's speed — no file descriptor leaked, no memory that keeps growing. (Their
//! unit tests are in `tests/soak.rs`.)

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `p`-th percentile (0 < `p` ≤ 100) of `sorted` (ascending) by the nearest-rank method: the
/// smallest value with at least `p` % of the values at or below it. `None` when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// One operation done by one person during the load.
#[derive(Debug, Clone)]
pub struct OpSample {
    /// Which operation (a name from `ops::Op::name`, or "message delivery").
    pub op: &'static str,
    /// When it started, in seconds since the server started.
    pub at_secs: f64,
    /// How long it took, in milliseconds.
    pub millis: f64,
    /// Whether it did what it should (the right status, the right bytes).
    pub ok: bool,
}

/// One reading of the server process, taken every second.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// Seconds since the server started.
    pub at_secs: f64,
    /// Resident memory (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Open file descriptors (entries of `/proc/<pid>/fd`).
    pub fds: usize,
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct OpSummary {
    /// The operation.
    pub op: &'static str,
    /// How many were done.
    pub count: usize,
    /// How many failed.
    pub errors: usize,
    /// Latency percentiles in milliseconds (of every attempt, failed ones too).
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// The table's lines, one per operation, in name order.
pub fn summarize(samples: &[OpSample]) -> Vec<OpSummary> {
    let mut by_op: BTreeMap<&'static str, (Vec<f64>, usize)> = BTreeMap::new();
    for sample in samples {
        let entry = by_op.entry(sample.op).or_default();
        entry.0.push(sample.millis);
        if !sample.ok {
            entry.1 += 1;
        }
    }
    by_op
        .into_iter()
        .map(|(op, (mut millis, errors))| {
            millis.sort_by(f64::total_cmp);
            let at = |p| percentile(&millis, p).unwrap_or(f64::NAN);
            OpSummary {
                op,
                count: millis.len(),
                errors,
                p50: at(50.0),
                p95: at(95.0),
                p99: at(99.0),
            }
        })
        .collect()
}

/// Start, peak and end of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// The first value.
    pub start: u64,
    /// The largest.
    pub peak: u64,
    /// The last.
    pub end: u64,
}

impl Span {
    /// Of `values`, in order; zeros when there are none.
    pub fn of(values: impl Iterator<Item = u64>) -> Span {
        let mut span: Option<Span> = None;
        for value in values {
            span = Some(match span {
                None => Span {
                    start: value,
                    peak: value,
                    end: value,
                },
                Some(s) => Span {
                    start: s.start,
                    peak: s.peak.max(value),
                    end: value,
                },
            });
        }
        span.unwrap_or(Span {
            start: 0,
            peak: 0,
            end: 0,
        })
    }
}

/// The table of operations, then memory and descriptors, as printed.
pub fn table(ops: &[OpSummary], rss_kib: Span, fds: Span) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<18} {:>7} {:>6} {:>9} {:>9} {:>9}",
        "operation", "count", "errors", "p50 ms", "p95 ms", "p99 ms"
    );
    for line in ops {
        let _ = writeln!(
            out,
            "  {:<18} {:>7} {:>6} {:>9.1} {:>9.1} {:>9.1}",
            line.op, line.count, line.errors, line.p50, line.p95, line.p99
        );
    }
    let mib = |kib: u64| kib as f64 / 1024.0;
    let _ = writeln!(
        out,
        "  server RSS (MiB):   start {:.1}, peak {:.1}, end {:.1}",
        mib(rss_kib.start),
        mib(rss_kib.peak),
        mib(rss_kib.end)
    );
    let _ = writeln!(
        out,
        "  server open fds:    start {}, peak {}, end {}",
        fds.start, fds.peak, fds.end
    );
    out
}

/// File descriptors the server may hold after the load beyond what it held before it, without a
/// leak. Its database pools open connections lazily and keep them while they are used: SQLite's
/// read pool (4 connections, each holding the database, its `-wal` and its `-shm`: 12) or
/// PostgreSQL's pool (10 sockets) may not all be open yet at the start. The rest is slack for a
/// descriptor in passing (a decoder child being reaped, a log line's file). A leak per request,
/// per upload or per socket shows as hundreds or thousands after a run, far past this.
pub const FD_MARGIN: usize = 16;

/// The leak check: after the clients have gone and the server has settled, it holds no more than
/// it held before the load began, plus [`FD_MARGIN`].
pub fn fd_leak(before_load: usize, after_settle: usize) -> Option<String> {
    (after_settle > before_load + FD_MARGIN).then(|| {
        format!(
            "file descriptors leaked: {before_load} open before the load, {after_settle} after the \
             clients disconnected and the server settled (more than {FD_MARGIN} over)"
        )
    })
}

/// Growth of resident memory allowed from the first third of the load to the last third, at least:
/// room for the allocator's per-thread arenas of threads first started late (blocking I/O threads),
/// SQLite's page caches filling, and buffers sized by the largest request seen so far.
pub const RSS_GROWTH_FLOOR_KIB: u64 = 48 * 1024;

/// The memory check over the samples taken during the load, in order.
///
/// Not a timing check: it compares memory with memory, and a slow machine only does less work in
/// the same time (so grows less), never more. The load is cut in thirds by sample; the first
/// third's *peak* (after warm-up, with every kind of request seen) is the reference, and the check
/// fails only if even the *lowest* reading of the last third is above that peak by more than half
/// of it, or [`RSS_GROWTH_FLOOR_KIB`] if that is more. Comparing the last third's low with the
/// first third's high makes a passing spike (a burst of uploads at the end) harmless, and a
/// plateau reached late harmless too as long as it is bounded; what fails is memory that sits
/// well above anything seen early and stays there for a third of the run: growth that keeps
/// going. The short run catches gross leaks (state kept per request, per message or per socket);
/// the long run's plot shows slow ones.
pub fn memory_growth(during_load: &[ProcSample]) -> Option<String> {
    if during_load.len() < 6 {
        return Some(format!(
            "only {} memory samples during the load: too few to judge",
            during_load.len()
        ));
    }
    let third = during_load.len() / 3;
    let first_peak = during_load[..third]
        .iter()
        .map(|s| s.rss_kib)
        .max()
        .unwrap_or(0);
    let last = &during_load[during_load.len() - third..];
    let last_low = last.iter().map(|s| s.rss_kib).min().unwrap_or(0);
    let allowed = first_peak + (first_peak / 2).max(RSS_GROWTH_FLOOR_KIB);
    (last_low > allowed).then(|| {
        format!(
            "memory keeps growing: the first third of the load peaked at {:.1} MiB, the last third \
             never went below {:.1} MiB (allowed: {:.1} MiB)",
            first_peak as f64 / 1024.0,
            last_low as f64 / 1024.0,
            allowed as f64 / 1024.0
        )
    })
}
