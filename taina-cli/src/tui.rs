//! `taina tui`: an admin dashboard over the same library — status, communities and their storage,
//! members (change a role, disable, enable), background jobs (retry a failed one), recent
//! activity, and the last integrity report. Works in an 80x24 terminal; `?` shows the keys.
//!
//! [`Dashboard`] holds what is shown (loaded by [`Dashboard::refresh`]); [`draw`] renders it;
//! [`Dashboard::on_key`] turns a key into an [`Action`] that [`Dashboard::apply`] carries out
//! through the library. The terminal loop in [`run`] only wires these together, so tests drive the
//! same code on ratatui's `TestBackend`.

use std::process::ExitCode;
use std::time::Duration;

use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row, Table, Tabs, Wrap};
use taina::Taina;
use taina::core::{Role, User};
use taina::jobs::{FailedJob, JobCounts};
use taina::operator::{Activity, CommunityOverview};

use crate::failure::Failure;

/// The screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Server and database.
    Status,
    /// Communities and their storage.
    Communities,
    /// The selected community's members.
    Members,
    /// Background jobs.
    Jobs,
    /// Recent activity.
    Activity,
    /// The last integrity report.
    Integrity,
}

const TABS: [(Tab, &str); 6] = [
    (Tab::Status, "1 Status"),
    (Tab::Communities, "2 Communities"),
    (Tab::Members, "3 Members"),
    (Tab::Jobs, "4 Jobs"),
    (Tab::Activity, "5 Activity"),
    (Tab::Integrity, "6 Integrity"),
];

/// What a key asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do.
    None,
    /// Leave.
    Quit,
    /// Give the selected member a role.
    SetRole(Role),
    /// Disable or enable the selected member.
    SetDisabled(bool),
    /// Retry the selected failed job.
    Retry,
}

/// Everything the dashboard shows.
#[derive(Debug, Default)]
pub struct Dashboard {
    /// The screen shown.
    pub tab: Option<Tab>,
    /// Whether the key help is open.
    pub help: bool,
    /// The last message (what a change did, or why it failed).
    pub status_line: String,
    backend: String,
    data_dir: String,
    database_ok: bool,
    server: Option<String>,
    jobs: JobCounts,
    failed: Vec<FailedJob>,
    communities: Vec<CommunityOverview>,
    members: Vec<User>,
    activity: Vec<Activity>,
    integrity: Option<serde_json::Value>,
    selected_community: usize,
    selected_member: usize,
    selected_job: usize,
}

impl Dashboard {
    /// The screen shown now.
    pub fn current(&self) -> Tab {
        self.tab.unwrap_or(Tab::Status)
    }

    /// Loads everything again.
    pub async fn refresh(&mut self, taina: &Taina) -> Result<(), taina::Error> {
        let config = taina.config();
        self.backend = taina.backend().name().to_owned();
        self.data_dir = taina.data_dir().display().to_string();
        self.database_ok = taina.ready().await.is_ok();
        let listen = config.listen;
        self.server = tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(listen),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map(|_| listen.to_string());
        self.jobs = taina.jobs().counts().await?;
        self.failed = taina.jobs().failed().await?;
        self.communities = taina.operator().communities().await?;
        self.selected_community = self
            .selected_community
            .min(self.communities.len().saturating_sub(1));
        self.members = match self.communities.get(self.selected_community) {
            Some(c) => taina.operator().users(Some(&c.community.slug)).await?,
            None => Vec::new(),
        };
        self.selected_member = self
            .selected_member
            .min(self.members.len().saturating_sub(1));
        self.selected_job = self.selected_job.min(self.failed.len().saturating_sub(1));
        self.activity = taina.operator().recent_activity(50).await?;
        self.integrity = std::fs::read(taina.data_dir().join(crate::data::LAST_REPORT))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Ok(())
    }

    /// What `key` asks for (switching screens and moving the selection happen here).
    pub fn on_key(&mut self, key: KeyCode) -> Action {
        if self.help {
            self.help = false;
            return Action::None;
        }
        let index = TABS
            .iter()
            .position(|(t, _)| *t == self.current())
            .unwrap_or(0);
        match key {
            KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Tab | KeyCode::Right => self.tab = Some(TABS[(index + 1) % TABS.len()].0),
            KeyCode::BackTab | KeyCode::Left => {
                self.tab = Some(TABS[(index + TABS.len() - 1) % TABS.len()].0);
            }
            KeyCode::Char(c @ '1'..='6') => {
                self.tab = Some(TABS[usize::from(c as u8 - b'1')].0);
            }
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::Char('a') if self.current() == Tab::Members => {
                return Action::SetRole(Role::Admin);
            }
            KeyCode::Char('m') if self.current() == Tab::Members => {
                return Action::SetRole(Role::Member);
            }
            KeyCode::Char('g') if self.current() == Tab::Members => {
                return Action::SetRole(Role::Guest);
            }
            KeyCode::Char('d') if self.current() == Tab::Members => {
                return Action::SetDisabled(true);
            }
            KeyCode::Char('e') if self.current() == Tab::Members => {
                return Action::SetDisabled(false);
            }
            KeyCode::Char('r') if self.current() == Tab::Jobs => return Action::Retry,
            _ => {}
        }
        Action::None
    }

    fn move_selection(&mut self, by: isize) {
        let (selected, len) = match self.current() {
            Tab::Communities => (&mut self.selected_community, self.communities.len()),
            Tab::Members => (&mut self.selected_member, self.members.len()),
            Tab::Jobs => (&mut self.selected_job, self.failed.len()),
            _ => return,
        };
        if len > 0 {
            *selected = selected.saturating_add_signed(by).min(len - 1);
        }
    }

    /// Carries out an action through the library and says what happened in the status line.
    pub async fn apply(&mut self, taina: &Taina, action: Action) {
        let community = self
            .communities
            .get(self.selected_community)
            .map(|c| c.community.slug.clone());
        let member = self
            .members
            .get(self.selected_member)
            .map(|u| u.email.clone());
        let operator = taina.operator();
        let outcome = match (&action, member) {
            (Action::SetRole(role), Some(email)) => operator
                .set_role(community.as_deref(), &email, *role)
                .await
                .map(|u| format!("{} is now {}", u.email, u.role)),
            (Action::SetDisabled(disabled), Some(email)) => operator
                .set_disabled(community.as_deref(), &email, *disabled)
                .await
                .map(|u| {
                    format!(
                        "{} {}",
                        u.email,
                        if *disabled { "disabled" } else { "enabled" }
                    )
                }),
            (Action::Retry, _) => match self.failed.get(self.selected_job) {
                Some(job) => taina
                    .jobs()
                    .retry(&job.id)
                    .await
                    .map(|()| format!("job {} will run again", job.id)),
                None => Ok("no failed job to retry".to_owned()),
            },
            _ => return,
        };
        self.status_line = match outcome {
            Ok(done) => done,
            Err(e) => format!("refused: {}", e.public()),
        };
        if let Err(e) = self.refresh(taina).await {
            self.status_line = format!("cannot refresh: {e}");
        }
    }
}

/// Draws the dashboard.
pub fn draw(frame: &mut Frame, d: &Dashboard) {
    let [tabs, body, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(5),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    let index = TABS
        .iter()
        .position(|(t, _)| *t == d.current())
        .unwrap_or(0);
    frame.render_widget(
        Tabs::new(TABS.iter().map(|(_, name)| *name))
            .select(index)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Tainá admin "),
            )
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        tabs,
    );
    if d.help {
        draw_help(frame, body);
    } else {
        match d.current() {
            Tab::Status => draw_status(frame, body, d),
            Tab::Communities => draw_communities(frame, body, d),
            Tab::Members => draw_members(frame, body, d),
            Tab::Jobs => draw_jobs(frame, body, d),
            Tab::Activity => draw_activity(frame, body, d),
            Tab::Integrity => draw_integrity(frame, body, d),
        }
    }
    let keys = match d.current() {
        Tab::Members => "a/m/g role  d disable  e enable  ↑↓ select  ",
        Tab::Jobs => "r retry  ↑↓ select  ",
        Tab::Communities => "↑↓ select (members follow)  ",
        _ => "",
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(d.status_line.clone()),
            Line::from(Span::styled(
                format!("{keys}1-6/Tab screens  ? help  q quit"),
                Style::default().fg(Color::DarkGray),
            )),
        ]),
        footer,
    );
}

fn boxed(title: &str) -> Block<'_> {
    Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
}

fn draw_help(frame: &mut Frame, area: Rect) {
    let lines = [
        "1-6, Tab, ←/→   switch screens",
        "↑/↓ (k/j)        move the selection",
        "Members:  a admin, m member, g guest, d disable, e enable",
        "Jobs:     r retry the selected failed job",
        "Communities: the selected one is shown under Members",
        "q, Esc           quit        (any key closes this help)",
    ];
    frame.render_widget(
        Paragraph::new(lines.iter().map(|l| Line::from(*l)).collect::<Vec<_>>())
            .block(boxed("Keys")),
        area,
    );
}

fn draw_status(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let yes_no = |ok: bool| if ok { "reachable" } else { "NOT reachable" };
    let lines = vec![
        Line::from(format!("Version     {}", env!("CARGO_PKG_VERSION"))),
        Line::from(format!(
            "Database    {} ({})",
            d.backend,
            yes_no(d.database_ok)
        )),
        Line::from(format!("Data        {}", d.data_dir)),
        Line::from(match &d.server {
            Some(addr) => format!("Server      answering at {addr}"),
            None => "Server      not answering on its configured address".to_owned(),
        }),
        Line::from(format!("Communities {}", d.communities.len())),
        Line::from(format!(
            "Jobs        {} queued, {} running, {} failed",
            d.jobs.queued, d.jobs.running, d.jobs.failed
        )),
    ];
    frame.render_widget(Paragraph::new(lines).block(boxed("Status")), area);
}

fn draw_communities(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let block = boxed("Communities and storage");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows =
        Layout::vertical(vec![Constraint::Length(2); d.communities.len().max(1)]).split(inner);
    if d.communities.is_empty() {
        frame.render_widget(
            Paragraph::new("No community yet: set one up in the web app."),
            inner,
        );
    }
    for (i, (c, row)) in d.communities.iter().zip(rows.iter()).enumerate() {
        let used = c.community.storage_used_bytes.unwrap_or(0).max(0) as f64;
        let quota = c.community.storage_quota_bytes.max(1) as f64;
        let ratio = (used / quota).clamp(0.0, 1.0);
        let marker = if i == d.selected_community {
            "▶ "
        } else {
            "  "
        };
        let label = format!(
            "{marker}{} ({}): {} members, {} / {}",
            c.community.name,
            c.community.slug,
            c.members,
            crate::output::bytes(c.community.storage_used_bytes.unwrap_or(0)),
            crate::output::bytes(c.community.storage_quota_bytes)
        );
        let [text, gauge] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(*row);
        frame.render_widget(Paragraph::new(label), text);
        frame.render_widget(
            Gauge::default()
                .ratio(ratio)
                .label(format!("{:.1}%", ratio * 100.0))
                .gauge_style(Style::default().fg(if ratio > 0.9 {
                    Color::Red
                } else {
                    Color::Green
                })),
            gauge,
        );
    }
}

fn draw_members(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let title = match d.communities.get(d.selected_community) {
        Some(c) => format!("Members of {}", c.community.name),
        None => "Members".to_owned(),
    };
    let rows = d.members.iter().enumerate().map(|(i, u)| {
        let style = if i == d.selected_member {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(u.display_name.clone()),
            Cell::from(u.email.clone()),
            Cell::from(u.role.to_string()),
            Cell::from(if u.is_disabled() {
                "disabled"
            } else {
                "active"
            }),
        ])
        .style(style)
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Percentage(28),
                Constraint::Percentage(42),
                Constraint::Length(7),
                Constraint::Length(9),
            ],
        )
        .header(
            Row::new(vec!["name", "email", "role", "state"])
                .style(Style::default().add_modifier(Modifier::BOLD)),
        )
        .block(boxed(&title)),
        area,
    );
}

fn draw_jobs(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let [counts, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(format!(
            "{} queued   {} running   {} failed",
            d.jobs.queued, d.jobs.running, d.jobs.failed
        ))
        .block(boxed("Background jobs")),
        counts,
    );
    let rows = d.failed.iter().enumerate().map(|(i, j)| {
        let style = if i == d.selected_job {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(j.job.kind()),
            Cell::from(j.attempts.to_string()),
            Cell::from(j.last_error.clone()),
        ])
        .style(style)
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(8),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(vec!["failed job", "attempts", "last error"]))
        .block(boxed("Failed (r retries)")),
        list,
    );
}

fn draw_activity(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let lines: Vec<Line> = if d.activity.is_empty() {
        vec![Line::from("Nothing yet.")]
    } else {
        d.activity
            .iter()
            .map(|a| {
                let at = a.at.to_rfc3339();
                Line::from(format!(
                    "{} {}  {}",
                    at.get(..16).unwrap_or(&at),
                    a.community,
                    a.what
                ))
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(boxed("Recent activity")), area);
}

fn draw_integrity(frame: &mut Frame, area: Rect, d: &Dashboard) {
    let lines: Vec<Line> = match &d.integrity {
        None => vec![Line::from("No integrity check yet: run `taina fsck`.")],
        Some(value) => {
            let report = &value["report"];
            let count = |k: &str| report[k].as_array().map_or(0, Vec::len);
            let problems: usize = [
                "missing",
                "orphans",
                "missing_previews",
                "size_mismatches",
                "hash_mismatches",
                "quota_drift",
            ]
            .iter()
            .map(|k| count(k))
            .sum();
            vec![
                Line::from(format!(
                    "Checked at  {}",
                    value["at"].as_str().unwrap_or("?")
                )),
                Line::from(format!(
                    "Blobs {}   objects {}   deep: {}",
                    report["blobs_checked"], report["objects_checked"], report["deep"]
                )),
                Line::from(format!(
                    "Missing {}  orphans {}  missing previews {}  wrong size {}  wrong hash {}  \
                     quota drift {}",
                    count("missing"),
                    count("orphans"),
                    count("missing_previews"),
                    count("size_mismatches"),
                    count("hash_mismatches"),
                    count("quota_drift")
                )),
                Line::from(if problems == 0 {
                    "Verdict: clean".to_owned()
                } else {
                    format!("Verdict: {problems} problem(s)")
                }),
            ]
        }
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(boxed("Last integrity report")),
        area,
    );
}

/// Runs the dashboard in the terminal until `q`.
pub async fn run(taina: &Taina) -> Result<ExitCode, Failure> {
    let mut dashboard = Dashboard::default();
    dashboard.refresh(taina).await?;
    let mut terminal =
        ratatui::try_init().map_err(|e| Failure::io("cannot open the terminal", e))?;
    let result = async {
        let mut last_refresh = std::time::Instant::now();
        loop {
            terminal
                .draw(|f| draw(f, &dashboard))
                .map_err(|e| Failure::io("cannot draw", e))?;
            let key = tokio::task::block_in_place(|| -> std::io::Result<Option<KeyEvent>> {
                if event::poll(Duration::from_millis(250))?
                    && let Event::Key(key) = event::read()?
                {
                    return Ok(Some(key));
                }
                Ok(None)
            })
            .map_err(|e| Failure::io("cannot read the keyboard", e))?;
            if let Some(key) = key.filter(|k| k.kind == KeyEventKind::Press) {
                match dashboard.on_key(key.code) {
                    Action::Quit => break,
                    Action::None => {}
                    action => dashboard.apply(taina, action).await,
                }
            }
            if last_refresh.elapsed() > Duration::from_secs(2) {
                if let Err(e) = dashboard.refresh(taina).await {
                    dashboard.status_line = format!("cannot refresh: {e}");
                }
                last_refresh = std::time::Instant::now();
            }
        }
        Ok::<(), Failure>(())
    }
    .await;
    ratatui::restore();
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use taina::testing::TestInstance;

    fn screen(d: &Dashboard) -> String {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| draw(f, d)).unwrap();
        let buffer = terminal.backend().buffer();
        let mut text = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    async fn dashboard_screen_by_screen(t: TestInstance) {
        let admin = t.setup().await;
        let admin_actor = t.actor(&admin).await;
        t.join(&admin_actor, "mia@example.org", Role::Member).await;
        t.taina.operator().set_quota(None, 1_000_000).await.unwrap();
        let mut d = Dashboard::default();
        d.refresh(&t.taina).await.unwrap();

        let status = screen(&d);
        assert!(status.contains("Tainá admin"), "{status}");
        assert!(
            status.contains(&format!(
                "Database    {} (reachable)",
                t.taina.backend().name()
            )),
            "{status}"
        );
        assert!(status.contains("0 failed"), "{status}");
        assert!(status.contains("q quit"), "{status}");

        assert_eq!(d.on_key(KeyCode::Char('2')), Action::None);
        let communities = screen(&d);
        assert!(communities.contains("2 members"), "{communities}");
        assert!(communities.contains("1.0 MB"), "{communities}");

        d.on_key(KeyCode::Tab);
        assert_eq!(d.current(), Tab::Members);
        let members = screen(&d);
        assert!(members.contains("mia@example.org"), "{members}");
        assert!(members.contains("admin@example.org"), "{members}");

        // Select Mia, make her a guest, disable her: the library sees it, the screen shows it.
        let mia = d
            .members
            .iter()
            .position(|u| u.email == "mia@example.org")
            .unwrap();
        d.selected_member = 0;
        for _ in 0..mia {
            d.on_key(KeyCode::Down);
        }
        let action = d.on_key(KeyCode::Char('g'));
        assert_eq!(action, Action::SetRole(Role::Guest));
        d.apply(&t.taina, action).await;
        let action = d.on_key(KeyCode::Char('d'));
        d.apply(&t.taina, action).await;
        let user = t
            .taina
            .operator()
            .user(None, "mia@example.org")
            .await
            .unwrap();
        assert_eq!(user.role, Role::Guest);
        assert!(user.is_disabled());
        let members = screen(&d);
        let row = members
            .lines()
            .find(|l| l.contains("mia@example.org"))
            .unwrap();
        assert!(
            row.contains("guest") && row.contains("disabled"),
            "{members}"
        );

        // The last admin cannot be demoted: refused, and said so.
        let admin_row = d
            .members
            .iter()
            .position(|u| u.email == "admin@example.org")
            .unwrap();
        d.selected_member = admin_row;
        let action = d.on_key(KeyCode::Char('m'));
        d.apply(&t.taina, action).await;
        assert!(d.status_line.starts_with("refused:"), "{}", d.status_line);
        assert_eq!(
            t.taina
                .operator()
                .user(None, "admin@example.org")
                .await
                .unwrap()
                .role,
            Role::Admin
        );

        // A job that failed for good shows under Jobs, and `r` gives it another go.
        t.taina.faults().inject("job.integrity_check");
        t.taina
            .jobs()
            .enqueue(taina::jobs::NewJob {
                max_attempts: 1,
                ..taina::jobs::NewJob::now(
                    taina::jobs::Job::IntegrityCheck {
                        deep: false,
                        repair: false,
                    },
                    t.taina.now(),
                )
            })
            .await
            .unwrap();
        assert_eq!(t.taina.jobs().run_due().await.unwrap().given_up, 1);
        t.taina.faults().clear();
        d.refresh(&t.taina).await.unwrap();
        d.on_key(KeyCode::Char('4'));
        let jobs = screen(&d);
        assert!(
            jobs.contains("1 failed") && jobs.contains("integrity_check"),
            "{jobs}"
        );
        let action = d.on_key(KeyCode::Char('r'));
        assert_eq!(action, Action::Retry);
        d.apply(&t.taina, action).await;
        assert!(
            d.status_line.contains("will run again"),
            "{}",
            d.status_line
        );
        assert!(t.taina.jobs().failed().await.unwrap().is_empty());
        assert_eq!(t.taina.jobs().run_due().await.unwrap().succeeded, 1);
        d.refresh(&t.taina).await.unwrap();
        assert!(screen(&d).contains("0 failed"));

        d.on_key(KeyCode::Char('5'));
        let activity = screen(&d);
        assert!(
            activity.contains("Mia") || activity.contains("mia"),
            "{activity}"
        );
        assert!(activity.contains("joined"), "{activity}");

        d.on_key(KeyCode::Char('6'));
        assert!(screen(&d).contains("run `taina fsck`"));

        d.on_key(KeyCode::Char('?'));
        assert!(screen(&d).contains("switch screens"));
        d.on_key(KeyCode::Char('x'));
        assert!(!d.help);
        assert_eq!(d.on_key(KeyCode::Char('q')), Action::Quit);
    }

    taina::backend_tests!(dashboard_screen_by_screen);
}
