//! Passwords come from a prompt (twice, to catch typos) or from standard input, never from the
//! command line, where other users of the machine could read them.

use std::io::{BufRead, IsTerminal};

use crate::failure::{Code, Failure};

/// Reads a new password for `whom`.
pub fn new_password(whom: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {whom}: "))
            .map_err(|e| Failure::io("cannot read the password", e))?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| Failure::io("cannot read the password", e))?;
        if first != again {
            return Err(Failure::new(
                Code::Invalid,
                "the two passwords differ",
                "type the same password twice",
            ));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::io("cannot read the password from standard input", e))?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            return Err(Failure::new(
                Code::Invalid,
                "no password on standard input",
                "pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | taina admin user add ...`",
            ));
        }
        Ok(password)
    }
}

/// Asks a yes/no question on the terminal; without a terminal the answer is no.
pub fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}
