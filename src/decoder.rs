//! Untrusted images and documents are decoded in a child process under limits, never in the
//! server: a crafted file that crashes or exhausts its decoder (libheif, a C library, decodes HEIC;
//! poppler's `pdftoppm` renders PDFs) takes down that child only.
//!
//! The child is a program that calls [`child_main`] when its first argument is [`CHILD_ARG`]: the
//! `taina` command (which `taina serve` uses, installed or run from `target/`), or the small
//! `taina-decode` program of this crate (which the library's and front ends' tests use, found
//! beside the test executable). [`locate`] says which. At its start the child limits its own
//! address space ([`Config::decoder_memory_bytes`]), turns off core dumps (they would hold
//! people's photos), bounds the files it may write, and asks to be killed if the server goes;
//! the server kills it after [`Config::decoder_timeout_secs`] and reads at most
//! [`wire::MAX_OUTPUT_BYTES`] of its answer. Two uses:
//!
//! - `previews`: the image's bytes on standard input, its thumbnails (and JPEG rendition) back on
//!   standard output in the [`taina_jaci::wire`] format. The pipeline is the very one
//!   ([`taina_jaci::thumbnail::previews`]) the server ran in process before, so the thumbnails
//!   are the same bytes.
//! - `exec`: the limits, then the given program in place of the child (`exec`, so the limits are
//!   inherited): how `pdftoppm` runs.
//!
//! A decoder that dies (a signal, its memory limit), runs out of time or answers nonsense has
//! crashed: the file's doing, so its job is given up at once rather than retried, and the file
//! says it has no preview. A decoder that cannot be started is the server's problem: the job is
//! retried, and the log says what to fix.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::Duration;

use taina_jaci::thumbnail::Previews;
use taina_jaci::wire;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::Config;

/// The first argument that makes a program run as a decoder child ([`child_main`]).
pub const CHILD_ARG: &str = "__taina-decoder";

/// The dedicated decoder program's name, looked for beside the running executable.
pub const DECODER_PROGRAM: &str = "taina-decode";

/// The default limit on a decoder's address space: 2 GiB, room for a photo of
/// [`taina_jaci::thumbnail::MAX_PIXELS`] pixels decoded, resized and encoded again.
pub const DEFAULT_MEMORY_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The least address space a decoder may be given: 128 MiB (the program alone takes about 50).
pub const MIN_MEMORY_BYTES: u64 = 128 * 1024 * 1024;

/// The default time a decoder may take: 120 s (a 100-megapixel PNG takes about that in a debug
/// build; a photo, a second or two).
pub const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// How much of a decoder's standard error is kept for the log.
const STDERR_KEPT: usize = 4096;

/// The exit code of a child that could not run the program it was to become.
const EXEC_FAILED: u8 = 127;
/// The exit code of a child started with arguments it does not understand.
const BAD_ARGUMENTS: u8 = 64;

/// Why a decoder gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failed {
    /// The decoder could not be started (missing, not executable): the server's problem, not the
    /// file's; the details (with paths) are logged, not shown.
    Unavailable,
    /// The decoder died, ran out of time or memory, or answered nonsense: the file's doing. The
    /// text says how, with no path in it.
    Crashed(String),
}

/// Whether this process was started as a decoder child (its first argument is [`CHILD_ARG`]).
pub fn is_child() -> bool {
    std::env::args_os().nth(1).is_some_and(|a| a == CHILD_ARG)
}

/// Runs this process as a decoder child and answers its exit code; call it first thing in `main`
/// when [`is_child`] says so (before starting any runtime or thread).
pub fn child_main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let text = |i: usize| args.get(i).and_then(|a| a.to_str());
    let number = |i: usize| text(i).and_then(|t| t.parse::<u64>().ok());
    match (text(0), number(1)) {
        (Some("previews"), Some(memory)) if args.len() == 2 => {
            if let Err(e) = limit_self(memory, 0) {
                eprintln!("the decoder cannot limit itself: {e}");
                return ExitCode::from(1);
            }
            decode_previews()
        }
        (Some("exec"), Some(memory)) if args.len() >= 4 => {
            let Some(file_size) = number(2) else {
                return ExitCode::from(BAD_ARGUMENTS);
            };
            if let Err(e) = limit_self(memory, file_size) {
                eprintln!("the decoder cannot limit itself: {e}");
                return ExitCode::from(1);
            }
            let e = exec(&args[3], &args[4..]);
            eprintln!("cannot run {}: {e}", Path::new(&args[3]).display());
            ExitCode::from(EXEC_FAILED)
        }
        _ => {
            eprintln!(
                "{CHILD_ARG} is for the server's own use: previews MEMORY | exec MEMORY FILE_SIZE PROGRAM ARGS..."
            );
            ExitCode::from(BAD_ARGUMENTS)
        }
    }
}

/// The `previews` child: an image on standard input, its previews (or why not) on standard output.
fn decode_previews() -> ExitCode {
    use std::io::{Read, Write};
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("cannot read the image: {e}");
        return ExitCode::from(1);
    }
    let orientation = taina_jaci::metadata::extract(&bytes).orientation;
    let answer = taina_jaci::thumbnail::previews(
        &bytes,
        orientation,
        taina_jaci::thumbnail::DEFAULT_QUALITY,
    );
    drop(bytes);
    let mut out = std::io::stdout().lock();
    match out
        .write_all(&wire::encode(&answer))
        .and_then(|()| out.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write the previews: {e}");
            ExitCode::from(1)
        }
    }
}

/// The child's limits on itself, kept by whatever it `exec`s: `memory` bytes of address space,
/// files of at most `file_size` bytes, no core dump, and death with the server.
#[cfg(unix)]
fn limit_self(memory: u64, file_size: u64) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    // Never above what the server itself may have (lowering a limit is always allowed).
    let at_most = |resource: Resource, n: u64| {
        let n = getrlimit(resource).maximum.map_or(n, |hard| hard.min(n));
        setrlimit(
            resource,
            Rlimit {
                current: Some(n),
                maximum: Some(n),
            },
        )
    };
    at_most(Resource::As, memory)?;
    at_most(Resource::Core, 0)?;
    at_most(Resource::Fsize, file_size)?;
    #[cfg(target_os = "linux")]
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    Ok(())
}

#[cfg(not(unix))]
fn limit_self(_memory: u64, _file_size: u64) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "decoding in a limited child process needs a Unix system",
    ))
}

/// Becomes `program` (it keeps this process's limits); answers only when that failed.
#[cfg(unix)]
fn exec(program: &OsString, args: &[OsString]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(program).args(args).exec()
}

#[cfg(not(unix))]
fn exec(_program: &OsString, _args: &[OsString]) -> std::io::Error {
    std::io::Error::other("decoding in a limited child process needs a Unix system")
}

/// The decoder program: [`Config::decoder`] when set, else [`DECODER_PROGRAM`] beside the running
/// executable, or in the folder above when that is Cargo's `deps` or `examples` (where test and
/// example executables find the one Cargo builds, in `target/debug/`). `None` when there is none.
pub fn locate(config: &Config) -> Option<PathBuf> {
    if let Some(program) = &config.decoder {
        return Some(program.clone());
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let name = format!("{DECODER_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    let above = dir.parent().filter(|_| {
        dir.file_name()
            .is_some_and(|n| n == "deps" || n == "examples")
    });
    std::iter::once(dir)
        .chain(above)
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
}

/// A file's previews, made by a decoder child: `Ok(Ok(previews))`, `Ok(Err(reason))` when the
/// decoder cannot decode the image (an outcome for the file, the reason fit to show), or why the
/// decoder gave no answer.
pub(crate) async fn previews(
    config: &Config,
    image: &[u8],
) -> Result<Result<Previews, String>, Failed> {
    let memory = config.decoder_memory_bytes.to_string();
    let ran = run(
        config,
        &["previews", &memory],
        Some(image),
        wire::MAX_OUTPUT_BYTES,
    )
    .await?;
    if !ran.status.success() {
        return Err(crashed(&ran, "making previews"));
    }
    wire::decode(&ran.stdout).map_err(|e| {
        tracing::warn!(error = %e, stderr = %ran.stderr, "the image decoder answered nonsense");
        Failed::Crashed(e.to_string())
    })
}

/// What a limited program run through the decoder child ([`run_limited`]) did.
#[derive(Debug)]
pub(crate) enum Limited {
    /// It ran and exited with this code (`0`: success); its standard error, cut short.
    Exited(i32, String),
    /// The program could not be started (missing, not executable): the details are logged.
    Missing,
}

/// Runs `program` with `args` under the decoder's limits (memory, time, and files of at most
/// [`wire::MAX_OUTPUT_BYTES`]), with no input and its output thrown away.
pub(crate) async fn run_limited(
    config: &Config,
    program: &str,
    args: &[&std::ffi::OsStr],
) -> Result<Limited, Failed> {
    let memory = config.decoder_memory_bytes.to_string();
    let file_size = wire::MAX_OUTPUT_BYTES.to_string();
    let mut all: Vec<&std::ffi::OsStr> = vec![
        "exec".as_ref(),
        memory.as_ref(),
        file_size.as_ref(),
        program.as_ref(),
    ];
    all.extend_from_slice(args);
    let ran = run(config, &all, None, 0).await?;
    match ran.status.code() {
        Some(code) if code == i32::from(EXEC_FAILED) => {
            tracing::warn!(program, stderr = %ran.stderr, "a decoder program could not be started");
            Ok(Limited::Missing)
        }
        Some(code) => Ok(Limited::Exited(code, ran.stderr)),
        None => Err(crashed(&ran, program)),
    }
}

/// What a child did.
struct Ran {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the decoder child with `args`, `input` on its standard input, and at most `max_output`
/// bytes read from its standard output; kills it when it takes longer than the configured time
/// or writes more.
async fn run<S: AsRef<std::ffi::OsStr>>(
    config: &Config,
    args: &[S],
    input: Option<&[u8]>,
    max_output: usize,
) -> Result<Ran, Failed> {
    let Some(program) = locate(config) else {
        tracing::error!(
            "no image decoder: set `decoder` (TAINA_DECODER) to the `taina` or `{DECODER_PROGRAM}` \
             program, or install `{DECODER_PROGRAM}` beside this one"
        );
        return Err(Failed::Unavailable);
    };
    let mut child = tokio::process::Command::new(&program)
        .arg(CHILD_ARG)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(if max_output > 0 {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            tracing::error!(program = %program.display(), error = %e, "cannot start the image decoder");
            Failed::Unavailable
        })?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let timeout = Duration::from_secs(config.decoder_timeout_secs.max(1));
    let work = async {
        let write = async {
            if let (Some(mut stdin), Some(input)) = (stdin, input) {
                // A child that stops reading (it died, or refused early) shows in its status.
                let _ = stdin.write_all(input).await;
            }
        };
        let (_, (stdout, too_much), (stderr, _)) = tokio::join!(
            write,
            read_capped(stdout, max_output, true),
            read_capped(stderr, STDERR_KEPT, false)
        );
        let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
        if too_much {
            return Err(stderr);
        }
        Ok((stdout, stderr, child.wait().await))
    };
    let ran = tokio::time::timeout(timeout, work).await;
    let (stdout, stderr, status) = match ran {
        Ok(Ok(ran)) => ran,
        Ok(Err(stderr)) => {
            let _ = child.kill().await;
            tracing::warn!(stderr, "a decoder wrote too much");
            return Err(Failed::Crashed(format!(
                "the decoder wrote more than {max_output} bytes and was stopped"
            )));
        }
        Err(_) => {
            let _ = child.kill().await;
            return Err(Failed::Crashed(format!(
                "the decoder took longer than {} s and was stopped",
                timeout.as_secs()
            )));
        }
    };
    let status = status.map_err(|e| {
        tracing::error!(error = %e, "cannot wait for the image decoder");
        Failed::Unavailable
    })?;
    Ok(Ran {
        status,
        stdout,
        stderr,
    })
}

/// Reads `reader` to its end keeping at most `cap` bytes, and says whether there was more. Past
/// the cap it stops when `stop` (the child is then killed), or reads on and throws the rest away
/// (so a chatty child never blocks on a full pipe).
async fn read_capped(
    reader: Option<impl AsyncRead + Unpin>,
    cap: usize,
    stop: bool,
) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut more = false;
    let Some(mut reader) = reader else {
        return (kept, more);
    };
    let mut buf = vec![0; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, more),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                if room < n {
                    more = true;
                    if stop {
                        return (kept, more);
                    }
                }
            }
        }
    }
}

/// How a decoder that exited badly failed, logged with its standard error.
fn crashed(ran: &Ran, doing: &str) -> Failed {
    let how = describe(ran.status);
    tracing::warn!(doing, how, stderr = %ran.stderr, "a decoder failed");
    Failed::Crashed(how)
}

/// An exit status in words, with no path in them.
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => " (SIGABRT: out of memory or an internal error)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                24 => " (SIGXCPU)",
                25 => " (SIGXFSZ: it wrote too much)",
                _ => "",
            };
            return format!("the decoder was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(101) => "the decoder panicked".to_owned(),
        Some(code) => format!("the decoder failed (exit code {code})"),
        None => "the decoder failed".to_owned(),
    }
}
