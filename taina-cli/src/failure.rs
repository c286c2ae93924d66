//! Why a command failed: a message with its cause, a hint, and a meaningful exit code.

use std::process::ExitCode;

use taina::core::ErrorKind;

/// The exit codes (also listed in `taina --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// Something failed.
    Failed = 1,
    /// The integrity check found problems.
    Unclean = 3,
    /// What was named does not exist.
    NotFound = 4,
    /// A conflict: taken, not empty, the last admin.
    Conflict = 5,
    /// The input is not valid.
    Invalid = 6,
    /// The instance, or a tool it needs, cannot be reached.
    Unavailable = 7,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    code: Code,
    message: String,
    hint: String,
}

impl Failure {
    /// A failure with its exit code, what went wrong, and what to try.
    pub fn new(code: Code, message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A configuration that cannot be loaded.
    pub fn config(e: taina::Error) -> Failure {
        Failure::new(
            Code::Invalid,
            format!("bad configuration: {e}"),
            "check the TOML file (--config) and the TAINA_* variables",
        )
    }

    /// An I/O failure of the command itself.
    pub fn io(what: &str, e: std::io::Error) -> Failure {
        Failure::new(Code::Failed, format!("{what}: {e}"), "")
    }

    /// Sets what to try (the command knows better than the generic hint of an error kind).
    pub fn set_hint(&mut self, hint: &str) {
        self.hint = hint.to_owned();
    }

    /// Prints the failure to stderr and answers its exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("taina: {}", self.message);
        if !self.hint.is_empty() {
            eprintln!("hint: {}", self.hint);
        }
        self.code.into()
    }
}

impl From<taina::Error> for Failure {
    fn from(e: taina::Error) -> Failure {
        let (code, hint) = match e.kind() {
            ErrorKind::NotFound => (
                Code::NotFound,
                "check the name or id (`taina admin user list`, `taina admin community list`)",
            ),
            ErrorKind::Conflict => (Code::Conflict, ""),
            ErrorKind::Invalid | ErrorKind::TooLarge => (Code::Invalid, ""),
            ErrorKind::QuotaExceeded => (
                Code::Conflict,
                "raise the quota with `taina admin community set-quota`",
            ),
            ErrorKind::Forbidden | ErrorKind::Unauthenticated => (Code::Conflict, ""),
            ErrorKind::RateLimited => (Code::Unavailable, "try again in a moment"),
            ErrorKind::StorageFull => (
                Code::Failed,
                "free space on the disk that holds the data directory (or the database)",
            ),
            ErrorKind::Internal => (Code::Failed, "run with TAINA_LOG=debug for details"),
        };
        let message = if e.kind() == ErrorKind::Internal {
            e.to_string()
        } else {
            e.public().to_string()
        };
        Failure::new(code, message, hint)
    }
}
