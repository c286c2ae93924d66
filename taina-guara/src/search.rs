//! Message search: what people type, turned into a query each database's full-text engine takes
//! safely (no operator in the input reaches the engine).

use taina_core::Error;

/// The longest search, in characters.
pub const QUERY_MAX_CHARS: usize = 200;
/// The most words a search may hold.
pub const MAX_TERMS: usize = 10;
/// Results per search.
pub const MAX_RESULTS: u32 = 50;

/// The words of a search: runs of letters and digits, lower-cased; at most 10 of them. A search
/// of no words (only spaces or punctuation) is not an error: it finds nothing.
///
/// ```
/// use taina_guara::search::terms;
/// assert_eq!(terms("Festa: sábado AND \"churrasco\"*").unwrap(), ["festa", "sábado", "and", "churrasco"]);
/// assert!(terms(" -- ").unwrap().is_empty());
/// assert!(terms("").is_err());
/// assert!(terms(&"a".repeat(201)).is_err());
/// ```
pub fn terms(query: &str) -> Result<Vec<String>, Error> {
    if query.is_empty() {
        return Err(Error::invalid("q", "must not be empty"));
    }
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(Error::invalid(
            "q",
            format!("must be at most {QUERY_MAX_CHARS} characters"),
        ));
    }
    let terms: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .take(MAX_TERMS)
        .collect();
    Ok(terms)
}

/// An SQLite FTS5 query: every word, each quoted, the last as a prefix (search as you type).
pub fn fts5_query(terms: &[String]) -> String {
    let last = terms.len().saturating_sub(1);
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == last {
                format!("\"{t}\"*")
            } else {
                format!("\"{t}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PostgreSQL `to_tsquery('simple', ...)` query: every word, the last as a prefix.
pub fn tsquery(terms: &[String]) -> String {
    let last = terms.len().saturating_sub(1);
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == last {
                format!("{t}:*")
            } else {
                t.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is typed, the engine queries hold only quoted words, prefixes and joins.
        #[test]
        fn queries_carry_no_operators(q in "\\PC{0,200}") {
            if let Ok(terms) = terms(&q) {
                prop_assert!(terms.len() <= MAX_TERMS);
                for t in &terms {
                    prop_assert!(t.chars().all(char::is_alphanumeric));
                }
                let fts = fts5_query(&terms);
                prop_assert_eq!(fts.matches('"').count(), terms.len() * 2);
                let ts = tsquery(&terms);
                prop_assert!(!ts.contains('|') && !ts.contains('!') && !ts.contains('\''));
            }
        }
    }
}
