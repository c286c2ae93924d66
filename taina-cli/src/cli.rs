//! The command line: every command, argument and flag (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tainá: a community-owned digital home — files, photos and messages on one server.
#[derive(Debug, Parser)]
#[command(
    name = "taina",
    version,
    about,
    after_help = "Exit codes: 0 done; 1 failed; 2 bad usage; 3 the integrity check found problems; \
                  4 not found; 5 conflict (taken, not empty, the last admin); 6 invalid input; \
                  7 the instance or a tool it needs is unavailable."
)]
pub struct Cli {
    /// A TOML configuration file (default: $TAINA_CONFIG, or ./taina.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// The data directory (default ./taina-data; or TAINA_DATA_DIR).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// The community, by slug (needed only when the instance holds several).
    #[arg(long, global = true)]
    pub community: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server.
    Serve {
        /// The address to listen on (default 127.0.0.1:8080; or TAINA_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Communities, members and invites.
    #[command(subcommand)]
    Admin(Admin),
    /// Checks that the database and stored files agree; exit code 0 only when clean.
    Fsck {
        /// Also read every file and compare its SHA-256 (slow).
        #[arg(long)]
        deep: bool,
        /// Repair what can be: quarantine orphans, mark missing files, correct quota use.
        #[arg(long)]
        repair: bool,
    },
    /// A consistent backup, taken while the server runs: the database, the files (only new ones
    /// are copied into an earlier backup) and a manifest with every file's SHA-256.
    Backup {
        /// The backup directory (created if needed; an earlier backup there is brought up to date).
        dest: PathBuf,
        /// Also copy thumbnails (they can be regenerated instead).
        #[arg(long)]
        thumbnails: bool,
    },
    /// Restores a backup into an empty data directory (and empty database), verifying every
    /// checksum first.
    Restore {
        /// The backup directory.
        source: PathBuf,
    },
    /// Thumbnails.
    #[command(subcommand)]
    Thumbnails(Thumbnails),
    /// Where blobs live.
    #[command(subcommand)]
    Storage(Storage),
    /// The database.
    #[command(subcommand)]
    Db(Db),
    /// App passwords: one per device, for WebDAV (Finder, Windows, rclone), desktop sync and
    /// scripts. The account password never works there.
    #[command(subcommand)]
    AppPassword(AppPasswordCmd),
    /// Bulk import of a folder tree (a phone dump, an old NAS), with dedup; run it again to resume.
    #[command(subcommand)]
    Import(Import),
    /// Everything a community (or one person) owns, as plain files plus JSON.
    Export {
        /// Where to write (must be empty or absent).
        dest: PathBuf,
        /// Only what this person owns and sees.
        #[arg(long)]
        user: Option<String>,
    },
    /// An admin dashboard in the terminal.
    Tui,
    /// Prints shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff).
    Man,
}

/// `taina storage`.
#[derive(Debug, Subcommand)]
pub enum Storage {
    /// Copies every stored file, preview and quarantined file to another store, each checked by
    /// its SHA-256 and read back; safe while servers run, and run again it copies only what is
    /// missing. When no other process has the data open it then switches the configuration file
    /// to the new store (the old one is left as it was).
    Migrate(MigrateStorage),
}

/// `taina app-password`.
#[derive(Debug, Subcommand)]
pub enum AppPasswordCmd {
    /// Makes an app password for a member and prints it (this once; only its hash is kept).
    Create {
        /// Their email.
        email: String,
        /// The device or program it is for, e.g. "Ana's laptop".
        #[arg(long)]
        name: String,
        /// Limit it to files (the files API, uploads and WebDAV).
        #[arg(long)]
        files_only: bool,
    },
    /// Lists a member's app passwords with their last use.
    List {
        /// Their email.
        email: String,
    },
    /// Revokes one of a member's app passwords: it stops working at once.
    Revoke {
        /// Their email.
        email: String,
        /// The app password's id (from `list`).
        id: String,
    },
}

/// `taina db`.
#[derive(Debug, Subcommand)]
pub enum Db {
    /// Copies a SQLite community into an empty PostgreSQL database (every table, the search
    /// index and sequences), verifies each table's row count and checksum, then switches the
    /// configuration file to it. Stop the server first.
    Migrate {
        /// The empty PostgreSQL database: `postgres://user:password@host/database`.
        #[arg(long)]
        to: String,
    },
}

/// `taina storage migrate`.
#[derive(Debug, Args)]
pub struct MigrateStorage {
    /// The new store: `s3://bucket/prefix`, or `file:///absolute/path` for a local folder.
    #[arg(long)]
    pub to: String,
    /// Object storage: the endpoint of a store other than AWS (e.g. http://127.0.0.1:9000).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Object storage: the region.
    #[arg(long)]
    pub region: Option<String>,
    /// Object storage: virtual-host style addressing instead of path style.
    #[arg(long)]
    pub virtual_hosted: bool,
}

/// `taina admin`.
#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Communities.
    #[command(subcommand)]
    Community(CommunityCmd),
    /// Members.
    #[command(subcommand)]
    User(UserCmd),
    /// Invites.
    #[command(subcommand)]
    Invite(InviteCmd),
}

/// `taina admin community`.
#[derive(Debug, Subcommand)]
pub enum CommunityCmd {
    /// Creates a community with its first admin (the password is asked for, or read from stdin).
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its short name in URLs (default: from the name).
        #[arg(long)]
        slug: Option<String>,
        /// The first admin's email.
        #[arg(long)]
        admin_email: String,
        /// The first admin's display name.
        #[arg(long)]
        admin_name: String,
    },
    /// Shows the community (or lists them all when the instance holds several).
    Show,
    /// Lists every community.
    List,
    /// Sets the storage quota, e.g. `50GB`, `1.5TB`, `512MiB` or a number of bytes.
    SetQuota {
        /// The quota.
        size: String,
    },
}

/// A member's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Manages the community.
    Admin,
    /// A full member.
    Member,
    /// Sees only what is shared with them.
    Guest,
}

impl From<RoleArg> for taina::core::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => taina::core::Role::Admin,
            RoleArg::Member => taina::core::Role::Member,
            RoleArg::Guest => taina::core::Role::Guest,
        }
    }
}

/// `taina admin user`.
#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Adds an account (the password is asked for, or read from stdin).
    Add {
        /// Their email.
        email: String,
        /// Their display name.
        #[arg(long)]
        name: String,
        /// Their role.
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
    },
    /// Lists the members.
    List,
    /// Changes a member's role.
    SetRole {
        /// Their email.
        email: String,
        /// The new role.
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Disables an account (and signs it out everywhere).
    Disable {
        /// Their email.
        email: String,
    },
    /// Enables an account again.
    Enable {
        /// Their email.
        email: String,
    },
    /// Sets a new password (asked for, or read from stdin) and signs them out everywhere.
    ResetPassword {
        /// Their email.
        email: String,
    },
    /// Removes a member and their private files.
    Remove {
        /// Their email.
        email: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// `taina admin invite`.
#[derive(Debug, Subcommand)]
pub enum InviteCmd {
    /// Creates an invite and prints its link.
    Create {
        /// The role it gives.
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
        /// How long it is valid, in hours (at most 90 days).
        #[arg(long, default_value_t = 168)]
        hours: u64,
        /// How many accounts it may create.
        #[arg(long, default_value_t = 1)]
        uses: i64,
    },
    /// Lists the invites.
    List,
    /// Revokes an invite.
    Revoke {
        /// The invite's id.
        id: String,
    },
}

/// `taina thumbnails`.
#[derive(Debug, Subcommand)]
pub enum Thumbnails {
    /// Makes thumbnails again, for every photo and image or for one photo.
    Regenerate {
        /// Every photo, image and PDF of the community.
        #[arg(
            long,
            conflicts_with = "photo_id",
            required_unless_present = "photo_id"
        )]
        all: bool,
        /// One photo's id.
        photo_id: Option<String>,
    },
}

/// `taina import`.
#[derive(Debug, Subcommand)]
pub enum Import {
    /// Imports the photos and videos under DIR into a person's library.
    Photos(ImportArgs),
    /// Imports the files under DIR into a person's folder, keeping the tree.
    Files {
        #[command(flatten)]
        args: ImportArgs,
        /// The folder to import into, e.g. `/Old NAS` (created if needed; `/` is their root).
        #[arg(long, default_value = "/")]
        folder: String,
    },
}

/// What an import reads and for whom.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The folder to read.
    pub dir: PathBuf,
    /// Whose it becomes (their email).
    #[arg(long)]
    pub user: String,
}
