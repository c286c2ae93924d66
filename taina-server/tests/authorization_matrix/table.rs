//! The expected answers, as two plain tables: who may call each operation of the API
//! ([`HTTP_MATRIX`]), and whose socket hears each event ([`SOCKET_MATRIX`]); the people they name
//! ([`Caller`]); and their rendering as the Markdown section of `docs/SECURITY.md`.
//!
//! The outcomes come from the security model (`docs/SECURITY.md`), not from what the server
//! happens to answer: a cell the server disagrees with is a bug to fix in the server.

use std::fmt::Write as _;

/// Who calls: one column of the tables. Everyone but [`Caller::Anonymous`] and
/// [`Caller::Outsider`] is in community A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Caller {
    /// No session at all.
    Anonymous,
    /// A guest: nothing is shared with them, and they are in no conversation.
    Guest,
    /// A member with no share and not in the conversation (the non-participant).
    Member,
    /// The member who owns the resource: they made the folder `Projects` and everything in it,
    /// the photos, the album, the unfinished upload and the shares; they started the group
    /// `Family` (so they are its admin) and wrote its messages; for a member's account, it is
    /// that member themselves.
    Owner,
    /// The community's admin: not in the conversation, nothing shared with them.
    Admin,
    /// A member holding a read share on the owner's `Projects`.
    Reader,
    /// A member holding a write share on the owner's `Projects`.
    Writer,
    /// A member in the owner's group `Family` (not its admin), with no share.
    Participant,
    /// A member of another community on the same server, B.
    Outsider,
}

impl Caller {
    /// Every column, in order.
    pub const ALL: [Caller; 9] = [
        Caller::Anonymous,
        Caller::Guest,
        Caller::Member,
        Caller::Owner,
        Caller::Admin,
        Caller::Reader,
        Caller::Writer,
        Caller::Participant,
        Caller::Outsider,
    ];

    /// The columns of the socket table: everyone with a session.
    pub const WITH_SOCKETS: [Caller; 8] = [
        Caller::Guest,
        Caller::Member,
        Caller::Owner,
        Caller::Admin,
        Caller::Reader,
        Caller::Writer,
        Caller::Participant,
        Caller::Outsider,
    ];

    /// The column's heading.
    pub fn heading(self) -> &'static str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Guest => "guest",
            Caller::Member => "member",
            Caller::Owner => "owner",
            Caller::Admin => "admin",
            Caller::Reader => "reader",
            Caller::Writer => "writer",
            Caller::Participant => "participant",
            Caller::Outsider => "outsider",
        }
    }

    /// Who the column is, for the legend.
    fn legend(self) -> &'static str {
        match self {
            Caller::Anonymous => "no session",
            Caller::Guest => "a guest of community A; nothing is shared with them",
            Caller::Member => {
                "a member of A with no share, not in the conversation (the non-participant)"
            }
            Caller::Owner => {
                "the member of A who owns the resource: they made the private folder `Projects` \
                 and everything in it, the photos, the album, the unfinished upload and the \
                 shares, started the group `Family` (so they are its admin) and wrote its \
                 messages; for a member's account, that member themselves"
            }
            Caller::Admin => "A's admin; not in the conversation, nothing shared with them",
            Caller::Reader => "a member of A holding a read share on the owner's `Projects`",
            Caller::Writer => "a member of A holding a write share on the owner's `Projects`",
            Caller::Participant => {
                "a member of A in the owner's group `Family` (not its admin), no share"
            }
            Caller::Outsider => "a member of another community, B, on the same server",
        }
    }
}

/// What a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `A`: the call succeeds (2xx, 3xx, or 101 for the socket).
    Allowed,
    /// `401`: no session.
    Unauthenticated,
    /// `403`: they may see the thing (or it is their own community's), but not do this.
    Forbidden,
    /// `404`: for them, the thing does not exist.
    NotFound,
    /// `-`: the request means nothing for them (a direct conversation with oneself, setting up a
    /// server that is set up): refused as a conflict or as invalid (409, 422), past any
    /// authorization.
    Meaningless,
}

impl Outcome {
    /// Every outcome, for the legend.
    const ALL: [Outcome; 5] = [
        Outcome::Allowed,
        Outcome::Unauthenticated,
        Outcome::Forbidden,
        Outcome::NotFound,
        Outcome::Meaningless,
    ];

    /// The cell as the tables write it.
    pub fn symbol(self) -> &'static str {
        match self {
            Outcome::Allowed => "A",
            Outcome::Unauthenticated => "401",
            Outcome::Forbidden => "403",
            Outcome::NotFound => "404",
            Outcome::Meaningless => "-",
        }
    }

    fn parse(cell: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.symbol() == cell)
    }

    /// What an answer's status means, or `None` for a status no cell may expect (a 400, 415,
    /// 412 or 500 says the test's request was wrong, or the server is).
    pub fn of_status(status: u16) -> Option<Outcome> {
        match status {
            101 | 200..=399 => Some(Outcome::Allowed),
            401 => Some(Outcome::Unauthenticated),
            403 => Some(Outcome::Forbidden),
            404 => Some(Outcome::NotFound),
            409 | 422 => Some(Outcome::Meaningless),
            _ => None,
        }
    }

    fn legend(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed: the call succeeds (2xx or 3xx; 101 for the socket)",
            Outcome::Unauthenticated => "refused for want of a session",
            Outcome::Forbidden => {
                "refused: they may see the thing (or it is their own community's), not do this"
            }
            Outcome::NotFound => {
                "not found: for them it does not exist (nothing says whether it does)"
            }
            Outcome::Meaningless => {
                "the request means nothing for them (409 or 422, after any authorization)"
            }
        }
    }
}

/// Who may call each operation of the OpenAPI document: one line per operation, one column per
/// [`Caller`] (in [`Caller::ALL`]'s order), then what the call is made on.
///
/// Every request is valid for its operation (so a refusal is about who asks, never about the
/// body). Operations without an id in their path act on the caller's own things: their own
/// account, community, files, library or conversations (for the outsider, in community B).
/// A destructive call (a delete, a removal, a revocation, a sign-out...) gets a fresh target for
/// every cell, made the same way as the one the line names.
pub const HTTP_MATRIX: &str = "
operation                                                  anonymous guest member owner admin reader writer participant outsider  on
GET     /healthz                                                 A     A      A     A     A      A      A           A        A  the process
GET     /readyz                                                  A     A      A     A     A      A      A           A        A  the database and storage
GET     /metrics                                               401   403    403   403     A    403    403         403      403  the metrics, asked from elsewhere (`metrics_open_to_loopback` off): a scraper's token or an admin's session
GET     /api/v1/openapi.json                                     A     A      A     A     A      A      A           A        A  the API's description
GET     /api/v1/setup                                            A     A      A     A     A      A      A           A        A  whether first-run setup is still to do
GET     /api/v1/limits                                           A     A      A     A     A      A      A           A        A  the rules clients shape requests by
POST    /api/v1/setup                                            -     -      -     -     -      -      -           -        -  first-run setup, once it is done (409 for everyone)
POST    /api/v1/auth/register                                    A     A      A     A     A      A      A           A        A  a new account, with a valid invite to A
POST    /api/v1/auth/login                                       A     A      A     A     A      A      A           A        A  signing in with the member's email and password
POST    /api/v1/auth/logout                                    401     A      A     A     A      A      A           A        A  the caller's own session
GET     /api/v1/me                                             401     A      A     A     A      A      A           A        A  the caller's own account
PATCH   /api/v1/me                                             401     A      A     A     A      A      A           A        A  the caller's own profile
POST    /api/v1/me/password                                    401     A      A     A     A      A      A           A        A  the caller's own password
GET     /api/v1/me/sessions                                    401     A      A     A     A      A      A           A        A  the caller's own sessions
DELETE  /api/v1/me/sessions/{id}                               401   404    404     A   404    404    404         404      404  another session of the owner
GET     /api/v1/me/app-passwords                               401     A      A     A     A      A      A           A        A  the caller's own app passwords
POST    /api/v1/me/app-passwords                               401     A      A     A     A      A      A           A        A  a new app password of the caller's
DELETE  /api/v1/me/app-passwords/{id}                          401   404    404     A   404    404    404         404      404  an app password of the owner's
GET     /api/v1/login-flows/{token}                            401     A      A     A     A      A      A           A        A  a device waiting to sign in, from its link
POST    /api/v1/login-flows/{token}                            401     A      A     A     A      A      A           A        A  letting in a device waiting to sign in (as the caller)
GET     /api/v1/community                                      401     A      A     A     A      A      A           A        A  the caller's community
PATCH   /api/v1/community                                      401   403    403   403     A    403    403         403      403  the caller's community: its name
GET     /api/v1/community/members                              401   403      A     A     A      A      A           A        A  the caller's community's members
PATCH   /api/v1/community/members/{id}                         401   403    403   403     A    403    403         403      404  the owner's account: their role
DELETE  /api/v1/community/members/{id}                         401   403    403   403     A    403    403         403      404  a member of A (as owner: themselves)
GET     /api/v1/community/invites                              401   403    403   403     A    403    403         403      403  the caller's community's invites
POST    /api/v1/community/invites                              401   403    403   403     A    403    403         403      403  a new invite to the caller's community
DELETE  /api/v1/community/invites/{id}                         401   403    403   403     A    403    403         403      404  an invite to A, made by its admin
GET     /api/v1/storage                                        401   403    403   403     A    403    403         403      403  the caller's community's storage use
GET     /api/v1/folders/root                                   401     A      A     A     A      A      A           A        A  the caller's own files
GET     /api/v1/folders/community                              401   403      A     A     A      A      A           A        A  the caller's community's shared files
GET     /api/v1/folders/{id}                                   401   404    404     A   404      A      A         404      404  `Projects`, the owner's private folder
POST    /api/v1/folders                                        401   404    404     A   404    403      A         404      404  a new folder in `Projects`
PATCH   /api/v1/folders/{id}                                   401   404    404     A   404    403    403         404      404  `Projects`: its name
DELETE  /api/v1/folders/{id}                                   401   404    404     A   404    403    403         404      404  a folder of the owner's in `Projects`
POST    /api/v1/files                                          401   404    404     A   404    403      A         404      404  a new file in `Projects`
GET     /api/v1/files/{id}                                     401   404    404     A   404      A      A         404      404  `notes.txt`, the owner's file in `Projects`
PATCH   /api/v1/files/{id}                                     401   404    404     A   404    403    403         404      404  `notes.txt`: its name
DELETE  /api/v1/files/{id}                                     401   404    404     A   404    403    403         404      404  a file of the owner's in `Projects`
GET     /api/v1/files/{id}/content                             401   404    404     A   404      A      A         404      404  `notes.txt`
GET     /api/v1/files/{id}/thumbnail/{size}                    401   404    404     A   404      A      A         404      404  the owner's photo in `Projects`
POST    /api/v1/files/{id}/copy                                401   404    404     A   404      A      A         404      404  `notes.txt`, copied into the caller's own files
GET     /api/v1/files/{id}/versions                            401   404    404     A   404      A      A         404      404  `notes.txt`
POST    /api/v1/files/{id}/versions/{version}/restore          401   404    404     A   404    403      A         404      404  an earlier version of a file of the owner's in `Projects`
GET     /api/v1/trash                                          401     A      A     A     A      A      A           A        A  the caller's own trash
POST    /api/v1/trash/{id}/restore                             401   404    404     A   404    404    404         404      404  a file the owner put in the trash from `Projects`
DELETE  /api/v1/trash/{id}                                     401   404    404     A   404    404    404         404      404  a file the owner put in the trash from `Projects`
GET     /api/v1/shares                                         401   404    404     A   404    403    403         404      404  whom `Projects` is shared with
POST    /api/v1/shares                                         401   404    404     A   404    403    403         404      404  sharing `Projects` with another member, to read
DELETE  /api/v1/shares/{id}                                    401   404    404     A   404    403    403         404      404  the owner's share of a file in `Projects` with another member
OPTIONS /api/v1/uploads                                          A     A      A     A     A      A      A           A        A  what the tus server supports
POST    /api/v1/uploads                                        401   404    404     A   404    403      A         404      404  a resumable upload into `Projects`
HEAD    /api/v1/uploads/{id}                                   401   404    404     A   404    404    404         404      404  the owner's unfinished upload into `Projects`
PATCH   /api/v1/uploads/{id}                                   401   404    404     A   404    404    404         404      404  the owner's unfinished upload into `Projects`
DELETE  /api/v1/uploads/{id}                                   401   404    404     A   404    404    404         404      404  an unfinished upload of the owner's into `Projects`
GET     /api/v1/photos                                         401     A      A     A     A      A      A           A        A  the caller's own timeline
POST    /api/v1/photos                                         401   404    404     A   404    403      A         404      404  a new photo in `Projects`
POST    /api/v1/photos/known                                   401     A      A     A     A      A      A           A        A  which photos the caller's own library holds
GET     /api/v1/photos/map                                     401     A      A     A     A      A      A           A        A  the caller's own located photos
GET     /api/v1/photos/{id}                                    401   404    404     A   404      A      A         404      404  the owner's photo in `Projects`
DELETE  /api/v1/photos/{id}                                    401   404    404     A   404    403    403         404      404  a photo of the owner's in `Projects`
GET     /api/v1/albums                                         401     A      A     A     A      A      A           A        A  the albums the caller may see
POST    /api/v1/albums                                         401     A      A     A     A      A      A           A        A  a new album of the caller's
GET     /api/v1/albums/{id}                                    401   404      A     A     A      A      A           A      404  `Summer`, the owner's album shared with A, holding a photo in A's shared files
PATCH   /api/v1/albums/{id}                                    401   404    403     A     A    403    403         403      404  `Summer`: its description
DELETE  /api/v1/albums/{id}                                    401   404    403     A     A    403    403         403      404  an album of the owner's shared with A
POST    /api/v1/albums/{id}/photos                             401   404    403     A     A    403    403         403      404  `Summer`: adding the photo it holds
DELETE  /api/v1/albums/{id}/photos/{photo_id}                  401   404    403     A     A    403    403         403      404  an album of the owner's shared with A: taking its photo out
PUT     /api/v1/albums/{id}/order                              401   404    403     A     A    403    403         403      404  `Summer`: the order of its photos
GET     /api/v1/conversations                                  401     A      A     A     A      A      A           A        A  the caller's own conversations
POST    /api/v1/conversations                                  401     A      A     A     A      A      A           A      404  a new group with the owner and the participant
POST    /api/v1/conversations/direct/{user_id}                 401     A      A     -     A      A      A           A      404  a direct conversation with the owner (for the owner: with themselves, 422)
GET     /api/v1/conversations/{id}                             401   404    404     A   404    404    404           A      404  `Family`, the owner's group
PATCH   /api/v1/conversations/{id}                             401   404    404     A   404    404    404         403      404  `Family`: its name
GET     /api/v1/conversations/{id}/messages                    401   404    404     A   404    404    404           A      404  `Family`'s messages
POST    /api/v1/conversations/{id}/messages                    401   404    404     A   404    404    404           A      404  a new message in `Family`
POST    /api/v1/conversations/{id}/participants                401   404    404     A   404    404    404         403      404  `Family`: adding the participant (already in it)
DELETE  /api/v1/conversations/{id}/participants/{user_id}      401   404    404     A   404    404    404           A      404  a group of the owner's: taking the participant out (as participant: leaving)
POST    /api/v1/conversations/{id}/read                        401   404    404     A   404    404    404           A      404  `Family`: the caller's read position
PATCH   /api/v1/messages/{id}                                  401   404    404     A   404    404    404         403      404  the owner's message in `Family`: its text
DELETE  /api/v1/messages/{id}                                  401   404    404     A   404    404    404         403      404  a message of the owner's in `Family`
POST    /api/v1/messages/{id}/reactions                        401   404    404     A   404    404    404           A      404  the owner's message in `Family`: a reaction
DELETE  /api/v1/messages/{id}/reactions/{emoji}                401   404    404     A   404    404    404           A      404  a message of the owner's in `Family`: the caller's own reaction
GET     /api/v1/messages/{id}/attachment                       401   404    404     A   404    404    404           A      404  the owner's message in `Family` attaching `notes.txt`
GET     /api/v1/search/messages                                401     A      A     A     A      A      A           A        A  the messages of the caller's own conversations
GET     /api/v1/ws                                             401     A      A     A     A      A      A           A        A  the caller's own realtime socket
";

/// Whose socket hears each event, as it happens: one line per event, one column per
/// [`Caller`] with a session (in [`Caller::WITH_SOCKETS`]'s order), `yes` or `no`. The first
/// word names the line for the test; then the event's type; the rest says what causes it.
pub const SOCKET_MATRIX: &str = "
line               event                guest member owner admin reader writer participant outsider  when
family-message     message.created         no     no   yes    no     no     no         yes       no  the owner writes in `Family`
family-reaction    reaction.added          no     no   yes    no     no     no         yes       no  the participant reacts to the owner's message in `Family`
family-typing      typing                  no     no   yes    no     no     no         yes       no  the participant types in `Family`
intruder-typing    typing                  no     no    no    no     no     no          no       no  the member says they type in `Family`, which they are not in (refused)
family-read        read.updated            no     no   yes    no     no     no         yes       no  the participant marks `Family` read
participant-idle   presence                no     no   yes    no     no     no         yes       no  the participant's presence changes (they go idle)
family-renamed     conversation.updated    no     no   yes    no     no     no         yes       no  the owner renames `Family`
private-upload     file.uploaded           no     no   yes    no     no     no          no       no  the owner uploads a file to their own files
projects-upload    file.uploaded           no     no   yes    no     no     no          no       no  the owner uploads a file to `Projects` (shared with the reader and the writer)
writer-upload      file.uploaded           no     no   yes    no     no     no          no       no  the writer uploads a file to the owner's `Projects`
projects-change    file.updated            no     no   yes    no     no     no          no       no  the owner renames `notes.txt`, in `Projects`
projects-photo     photo.processed         no     no   yes    no     no     no          no       no  the previews of the owner's photo in `Projects` are made
shared-upload      file.uploaded           no    yes   yes   yes    yes    yes         yes       no  the owner uploads a file to A's shared files
shared-folder      folder.created          no    yes   yes   yes    yes    yes         yes       no  the admin makes a folder in A's shared files
shared-photo       photo.processed         no    yes   yes   yes    yes    yes         yes       no  the previews of the owner's photo in A's shared files are made
member-joined      member.joined           no    yes   yes   yes    yes    yes         yes       no  someone joins A
community-renamed  community.updated      yes    yes   yes   yes    yes    yes         yes       no  the admin renames A
elsewhere-upload   file.uploaded           no     no    no    no     no     no          no      yes  B's admin uploads a file to B's shared files
";

/// A line of [`HTTP_MATRIX`].
#[derive(Debug, Clone)]
pub struct HttpRow {
    /// `GET`, `POST`...
    pub method: String,
    /// The path as the OpenAPI document writes it, e.g. `/api/v1/files/{id}`.
    pub path: String,
    /// The outcome for each caller, in [`Caller::ALL`]'s order.
    pub expected: Vec<Outcome>,
    /// What the call is made on.
    pub on: String,
}

impl HttpRow {
    /// `METHOD path`, as the document's operations are named here.
    pub fn operation(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The outcome expected for `caller`.
    pub fn expected_for(&self, caller: Caller) -> Outcome {
        let column = Caller::ALL
            .iter()
            .position(|c| *c == caller)
            .expect("every caller has a column");
        self.expected[column]
    }
}

/// A line of [`SOCKET_MATRIX`].
#[derive(Debug, Clone)]
pub struct SocketRow {
    /// The line's name, for the test that causes the event.
    pub line: String,
    /// The event's `type`.
    pub event: String,
    /// Whether each caller hears it, in [`Caller::WITH_SOCKETS`]'s order.
    pub heard: Vec<bool>,
    /// What causes it.
    pub when: String,
}

/// The lines of a table: the first is its heading, which must be `heading`; each other line is
/// split into its first `leading` words, the `cells` words after them, and the rest of the line.
fn lines<'a>(
    table: &'a str,
    heading: &[&str],
    leading: usize,
    cells: usize,
) -> Vec<(Vec<&'a str>, Vec<&'a str>, String)> {
    let mut lines = table.lines().filter(|line| !line.trim().is_empty());
    let first: Vec<&str> = lines
        .next()
        .expect("a heading")
        .split_whitespace()
        .collect();
    assert_eq!(first, heading, "the table's heading");
    lines
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(words.len() > leading + cells, "a short line: {line}");
            (
                words[..leading].to_vec(),
                words[leading..leading + cells].to_vec(),
                words[leading + cells..].join(" "),
            )
        })
        .collect()
}

/// The lines of [`HTTP_MATRIX`].
pub fn http_rows() -> Vec<HttpRow> {
    let mut heading = vec!["operation"];
    heading.extend(Caller::ALL.iter().map(|c| c.heading()));
    heading.push("on");
    lines(HTTP_MATRIX, &heading, 2, Caller::ALL.len())
        .into_iter()
        .map(|(operation, cells, on)| {
            let (method, path) = (operation[0].to_owned(), operation[1].to_owned());
            let expected = cells
                .iter()
                .map(|cell| {
                    Outcome::parse(cell)
                        .unwrap_or_else(|| panic!("{method} {path}: {cell} is not an outcome"))
                })
                .collect();
            HttpRow {
                method,
                path,
                expected,
                on,
            }
        })
        .collect()
}

/// The lines of [`SOCKET_MATRIX`].
pub fn socket_rows() -> Vec<SocketRow> {
    let mut heading = vec!["line", "event"];
    heading.extend(Caller::WITH_SOCKETS.iter().map(|c| c.heading()));
    heading.push("when");
    lines(SOCKET_MATRIX, &heading, 2, Caller::WITH_SOCKETS.len())
        .into_iter()
        .map(|(leading, cells, when)| SocketRow {
            line: leading[0].to_owned(),
            event: leading[1].to_owned(),
            heard: cells
                .iter()
                .map(|cell| match *cell {
                    "yes" => true,
                    "no" => false,
                    other => panic!("{}: {other} is not yes or no", leading[0]),
                })
                .collect(),
            when,
        })
        .collect()
}

/// Where the rendered tables go in `docs/SECURITY.md`.
pub const DOC_START: &str = "<!-- authorization-matrix:start -->";
/// The end of that section.
pub const DOC_END: &str = "<!-- authorization-matrix:end -->";

/// `text` as lines of at most 100 characters (a word longer than that has a line of its own),
/// the first starting with `first`, the others with `then`.
fn wrapped(text: &str, first: &str, then: &str) -> String {
    const WIDTH: usize = 100;
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = then.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The tables as `docs/SECURITY.md` shows them, between [`DOC_START`] and [`DOC_END`].
pub fn markdown() -> String {
    let mut out = wrapped(
        "<!-- Written by taina-server/tests/authorization_matrix.rs from its tables, which the \
         test checks against the server: change them there, then run \
         `TAINA_UPDATE_DOCS=1 cargo test --workspace --test authorization_matrix`. -->",
        "",
        "",
    );
    out.push_str("\nWho calls (the columns):\n\n");
    for caller in Caller::ALL {
        let item = format!("**{}**: {}.", caller.heading(), caller.legend());
        out.push_str(&wrapped(&item, "- ", "  "));
    }
    out.push_str("\nWhat they get:\n\n");
    for outcome in Outcome::ALL {
        let item = format!("`{}`: {}.", outcome.symbol(), outcome.legend());
        out.push_str(&wrapped(&item, "- ", "  "));
    }
    out.push('\n');
    out.push_str(&wrapped(
        "Every request is valid for its operation, so a refusal is about who asks. An operation \
         with no id in its path acts on the caller's own account, community, files, library or \
         conversations (for the outsider, in B). A call that would destroy its target goes to a \
         fresh one, made like the one the line names.",
        "",
        "",
    ));
    out.push('\n');
    let headings: Vec<&str> = Caller::ALL.iter().map(|c| c.heading()).collect();
    let _ = writeln!(out, "| operation | on | {} |", headings.join(" | "));
    let _ = writeln!(out, "| --- | --- |{}", " :-: |".repeat(headings.len()));
    for row in http_rows() {
        let cells: Vec<&str> = row.expected.iter().map(|o| o.symbol()).collect();
        let _ = writeln!(
            out,
            "| `{} {}` | {} | {} |",
            row.method,
            row.path,
            row.on,
            cells.join(" | ")
        );
    }
    out.push('\n');
    out.push_str(&wrapped(
        "What each one's realtime socket (`/api/v1/ws`) is told as it happens. The socket pushes \
         no more than its owner may read, and what is shared with someone is fetched, not \
         pushed: share holders are not told of changes inside what is shared with them.",
        "",
        "",
    ));
    out.push('\n');
    let headings: Vec<&str> = Caller::WITH_SOCKETS.iter().map(|c| c.heading()).collect();
    let _ = writeln!(out, "| event | when | {} |", headings.join(" | "));
    let _ = writeln!(out, "| --- | --- |{}", " :-: |".repeat(headings.len()));
    for row in socket_rows() {
        let cells: Vec<&str> = row
            .heard
            .iter()
            .map(|heard| if *heard { "yes" } else { "no" })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            row.event,
            row.when,
            cells.join(" | ")
        );
    }
    out
}
