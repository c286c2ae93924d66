//! Throwaway instances for tests, on SQLite and on a real PostgreSQL.
//!
//! PostgreSQL tests need `TAINA_TEST_POSTGRES_URL`, an administrative URL of a server where they may
//! create databases (the test script `scripts/test.sh` starts one). Each test gets its own fresh
//! database. Object storage tests need `TAINA_TEST_S3_ENDPOINT`, the endpoint of an S3-compatible
//! server holding the bucket [`S3_BUCKET`] (the test script starts one); each test gets its own
//! prefix in it. Without the variables, those tests fail with an explanation: they never skip.
//!
//! [`backend_tests!`](crate::backend_tests) turns `async fn name(t: TestInstance)` functions into one
//! test per backend, so every storage test runs on both; `backend_tests!(storage: ...)` adds a third
//! run on PostgreSQL and object storage, the configuration of several instances.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection;
use tempfile::TempDir;

use crate::accounts::{NewCommunity, SetupRequest, SignedIn};
use crate::{Backend, Config, ManualClock, Taina};
use taina_core::{Actor, Timestamp};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "TAINA_TEST_POSTGRES_URL";

/// The environment variable naming the S3-compatible server for tests (e.g. `http://127.0.0.1:9000`).
pub const S3_ENDPOINT_VAR: &str = "TAINA_TEST_S3_ENDPOINT";

/// The bucket on the test S3 server.
pub const S3_BUCKET: &str = "taina-tests";

/// Where a test instance keeps its blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// The data directory (the default).
    Local,
    /// A fresh prefix of [`S3_BUCKET`] on the test S3 server.
    S3,
}

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A set-up instance with people in each role ([`TestInstance::world`]).
pub struct World {
    /// The instance.
    pub t: TestInstance,
    /// The admin who set it up.
    pub admin: Actor,
    /// A member.
    pub ana: Actor,
    /// Another member.
    pub bia: Actor,
    /// A guest.
    pub gil: Actor,
}

/// A fresh instance with its own data directory and database, and a clock the test controls.
pub struct TestInstance {
    /// The instance.
    pub taina: Taina,
    /// The clock, stopped until advanced.
    pub clock: ManualClock,
    /// Its configuration (for re-opening).
    pub config: Config,
    /// The data directory; removed when dropped.
    pub dir: TempDir,
}

impl TestInstance {
    /// A fresh instance on `backend`.
    pub async fn new(backend: Backend) -> TestInstance {
        Self::with_config(backend, |_| {}).await
    }

    /// A fresh instance on `backend`, its blobs in `storage`.
    pub async fn on(backend: Backend, storage: Storage) -> TestInstance {
        Self::with_config(backend, |config| {
            if storage == Storage::S3 {
                use_test_bucket(config);
            }
        })
        .await
    }

    /// A fresh instance on `backend` with configuration changes.
    pub async fn with_config(backend: Backend, change: impl FnOnce(&mut Config)) -> TestInstance {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut config = Config::with_data_dir(dir.path().join("data"));
        config.password_hashing_threads = Some(2);
        // Tests run background jobs by hand (`taina.jobs().run_due()`), so they run when expected.
        config.job_workers = 0;
        if backend == Backend::Postgres {
            config.database_url = Some(fresh_postgres_database().await);
            config.postgres_connections = 4;
        }
        change(&mut config);
        let clock = ManualClock::new(Timestamp::from_millis(1_795_000_000_000));
        let taina = Taina::open_with_clock(config.clone(), Arc::new(clock.clone()))
            .await
            .expect("open a test instance");
        TestInstance {
            taina,
            clock,
            config,
            dir,
        }
    }

    /// Runs first-run setup with an admin `admin@example.org` and returns their sign-in.
    pub async fn setup(&self) -> SignedIn {
        self.taina
            .accounts()
            .setup(SetupRequest {
                community_name: "Vila Tainá".into(),
                community_slug: None,
                email: "admin@example.org".into(),
                password: PASSWORD.into(),
                display_name: "Ana Admin".into(),
                user_agent: Some("test".into()),
            })
            .await
            .expect("setup")
    }

    /// Creates another community whose admin is `email`, signed in.
    pub async fn other_community(&self, name: &str, email: &str) -> (Actor, SignedIn) {
        let accounts = self.taina.accounts();
        let (community, _) = accounts
            .create_community(NewCommunity {
                name: name.into(),
                slug: None,
                admin_email: email.into(),
                admin_password: PASSWORD.into(),
                admin_display_name: "Other Admin".into(),
            })
            .await
            .expect("create community");
        let signed_in = accounts
            .login(crate::accounts::LoginRequest {
                email: email.into(),
                password: PASSWORD.into(),
                community: Some(community.slug),
                ..Default::default()
            })
            .await
            .expect("login");
        (self.actor(&signed_in).await, signed_in)
    }

    /// The actor a sign-in authenticates.
    pub async fn actor(&self, signed_in: &SignedIn) -> Actor {
        self.taina
            .accounts()
            .authenticate(&signed_in.token)
            .await
            .expect("authenticate")
    }

    /// Invites and registers a member of `admin`'s community with `role`.
    pub async fn join(
        &self,
        admin: &Actor,
        email: &str,
        role: taina_core::Role,
    ) -> (Actor, SignedIn) {
        let accounts = self.taina.accounts();
        let invite = accounts
            .create_invite(
                admin,
                crate::accounts::NewInvite {
                    role,
                    ..Default::default()
                },
            )
            .await
            .expect("invite");
        let signed_in = accounts
            .register(crate::accounts::RegisterRequest {
                invite: Some(invite.token),
                email: email.into(),
                password: PASSWORD.into(),
                display_name: email.split('@').next().unwrap_or("someone").into(),
                ..Default::default()
            })
            .await
            .expect("register");
        (self.actor(&signed_in).await, signed_in)
    }

    /// Sets the instance up with an admin and three others: members Ana and Bia, and guest Gil.
    pub async fn world(self) -> World {
        let admin = self.actor(&self.setup().await).await;
        let (ana, _) = self
            .join(&admin, "ana@example.org", taina_core::Role::Member)
            .await;
        let (bia, _) = self
            .join(&admin, "bia@example.org", taina_core::Role::Member)
            .await;
        let (gil, _) = self
            .join(&admin, "gil@example.org", taina_core::Role::Guest)
            .await;
        World {
            t: self,
            admin,
            ana,
            bia,
            gil,
        }
    }

    /// Closes the instance and opens it again on the same database and data directory, with
    /// configuration changes (as a restart with a new configuration would). The clock keeps its time.
    pub async fn reconfigure(self, change: impl FnOnce(&mut Config)) -> TestInstance {
        let TestInstance {
            taina,
            clock,
            mut config,
            dir,
        } = self;
        taina.close().await;
        drop(taina);
        change(&mut config);
        let taina = Taina::open_with_clock(config.clone(), Arc::new(clock.clone()))
            .await
            .expect("reopen the test instance");
        TestInstance {
            taina,
            clock,
            config,
            dir,
        }
    }

    /// Moves the instance's clock forward.
    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }
}

/// Points `config`'s blob storage at a fresh prefix of the test S3 server's bucket.
///
/// # Panics
/// Without [`S3_ENDPOINT_VAR`].
pub fn use_test_bucket(config: &mut Config) {
    let endpoint = std::env::var(S3_ENDPOINT_VAR).unwrap_or_else(|_| {
        panic!(
            "{S3_ENDPOINT_VAR} is not set: object storage tests need an S3-compatible server. Run \
             ./scripts/test.sh, which starts one and runs every storage test against it."
        )
    });
    let prefix = crate::random::new_id(taina_core::JobId::from_random);
    config.storage_url = Some(format!("s3://{S3_BUCKET}/{prefix}"));
    config.storage_endpoint = Some(endpoint);
    config.storage_region = Some("us-east-1".into());
    config.storage_access_key_id = Some("taina-test".into());
    config.storage_secret_access_key = Some("taina-test-secret".into());
}

/// Creates an empty database on the test PostgreSQL server and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VAR} is not set: PostgreSQL tests need a server. Run ./scripts/test.sh, \
             which starts a throwaway PostgreSQL and runs every test against both databases."
        )
    });
    let name = format!(
        "taina_test_{}",
        crate::random::new_id(taina_core::JobId::from_random)
            .as_str()
            .to_lowercase()
            .replace('-', "_")
    );
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create test database");
    conn.close().await.ok();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url.as_str(), String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{name}{query}")
}

/// Declares each listed `async fn NAME(t: TestInstance)` as a test on SQLite and on PostgreSQL:
/// `sqlite::NAME` and `postgres::NAME`; with `storage:` first, also on PostgreSQL with object
/// storage: `s3::NAME`.
#[macro_export]
macro_rules! backend_tests {
    (storage: $($name:ident),+ $(,)?) => {
        $crate::backend_tests!($($name),+);
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestInstance::on(
                        $crate::Backend::Postgres,
                        $crate::testing::Storage::S3,
                    ).await).await;
                }
            )+
        }
    };
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestInstance::new($crate::Backend::Sqlite).await).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::testing::TestInstance::new($crate::Backend::Postgres).await).await;
                }
            )+
        }
    };
}

/// The community events queued on `feed` now, in order (Guará's are skipped).
///
/// # Panics
/// If the feed fell behind or ended: a test expects every event.
pub fn queued_events(feed: &mut crate::feed::Feed) -> Vec<taina_core::Event> {
    let mut events = Vec::new();
    while let Some(item) = feed.try_next() {
        assert!(item != crate::feed::FeedItem::Resync, "the feed lagged");
        events.extend(item.community().cloned());
    }
    events
}

/// The next community event on `feed`, waiting at most a second.
///
/// # Panics
/// If none comes, or the feed fell behind or ended.
pub async fn next_event(feed: &mut crate::feed::Feed) -> taina_core::Event {
    tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let item = feed.next().await.expect("the instance is open");
            assert!(item != crate::feed::FeedItem::Resync, "the feed lagged");
            if let Some(event) = item.community() {
                return event.clone();
            }
        }
    })
    .await
    .expect("no event came")
}
