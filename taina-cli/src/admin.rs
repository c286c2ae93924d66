//! `taina admin`: communities, members and invites, through the library's operator calls.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use taina::Taina;
use taina::accounts::{NewCommunity, NewMember};
use taina::core::{InviteId, User};

use crate::cli::{Admin, CommunityCmd, InviteCmd, UserCmd};
use crate::failure::{Code, Failure};
use crate::output::{Output, bytes, parse_size, table};
use crate::secret;

/// Runs an admin command.
pub async fn run(
    taina: &Taina,
    community: Option<&str>,
    command: Admin,
    out: &Output,
) -> Result<ExitCode, Failure> {
    match command {
        Admin::Community(c) => community_cmd(taina, community, c, out).await?,
        Admin::User(c) => user_cmd(taina, community, c, out).await?,
        Admin::Invite(c) => invite_cmd(taina, community, c, out).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn community_cmd(
    taina: &Taina,
    slug: Option<&str>,
    command: CommunityCmd,
    out: &Output,
) -> Result<(), Failure> {
    let operator = taina.operator();
    match command {
        CommunityCmd::Create {
            name,
            slug: new_slug,
            admin_email,
            admin_name,
        } => {
            let password = secret::new_password(&admin_email)?;
            let (created, admin) = taina
                .accounts()
                .create_community(NewCommunity {
                    name,
                    slug: new_slug,
                    admin_email,
                    admin_password: password,
                    admin_display_name: admin_name,
                })
                .await?;
            out.done(
                &format!(
                    "Created community {} ({}) with admin {}",
                    created.name, created.slug, admin.email
                ),
                &json!({ "community": created, "admin": admin }),
            )?;
        }
        CommunityCmd::Show if slug.is_none() && operator.communities().await?.len() > 1 => {
            list_communities(taina, out).await?;
        }
        CommunityCmd::Show => {
            let c = operator.community(slug).await?;
            out.show(&c, || {
                let mut t = table(["field", "value"]);
                t.add_row(vec!["name".to_owned(), c.name.clone()]);
                t.add_row(vec!["slug".to_owned(), c.slug.clone()]);
                t.add_row(vec!["id".to_owned(), c.id.to_string()]);
                t.add_row(vec![
                    "storage".to_owned(),
                    format!(
                        "{} of {} ({:.1}%)",
                        bytes(c.storage_used_bytes.unwrap_or(0)),
                        bytes(c.storage_quota_bytes),
                        percent(c.storage_used_bytes.unwrap_or(0), c.storage_quota_bytes)
                    ),
                ]);
                t.add_row(vec!["created".to_owned(), c.created_at.to_rfc3339()]);
                t
            })?;
        }
        CommunityCmd::List => list_communities(taina, out).await?,
        CommunityCmd::SetQuota { size } => {
            let quota = parse_size(&size).ok_or_else(|| {
                Failure::new(
                    Code::Invalid,
                    format!("{size:?} is not a size"),
                    "write it like 50GB, 1.5TB, 512MiB or a number of bytes",
                )
            })?;
            let c = operator.set_quota(slug, quota).await?;
            out.done(
                &format!("{}: quota set to {}", c.slug, bytes(c.storage_quota_bytes)),
                &c,
            )?;
        }
    }
    Ok(())
}

fn percent(used: i64, quota: i64) -> f64 {
    if quota <= 0 {
        100.0
    } else {
        used as f64 * 100.0 / quota as f64
    }
}

async fn list_communities(taina: &Taina, out: &Output) -> Result<(), Failure> {
    let all = taina.operator().communities().await?;
    out.show(&all, || {
        let mut t = table(["slug", "name", "members", "admins", "storage"]);
        for c in &all {
            t.add_row(vec![
                c.community.slug.clone(),
                c.community.name.clone(),
                c.members.to_string(),
                c.admins.to_string(),
                format!(
                    "{} / {}",
                    bytes(c.community.storage_used_bytes.unwrap_or(0)),
                    bytes(c.community.storage_quota_bytes)
                ),
            ]);
        }
        t
    })
}

fn user_line(u: &User) -> Vec<String> {
    vec![
        u.email.clone(),
        u.display_name.clone(),
        u.role.to_string(),
        if u.is_disabled() {
            "disabled".to_owned()
        } else {
            "active".to_owned()
        },
        u.id.to_string(),
    ]
}

async fn user_cmd(
    taina: &Taina,
    slug: Option<&str>,
    command: UserCmd,
    out: &Output,
) -> Result<(), Failure> {
    let operator = taina.operator();
    let show_one = |message: String, user: &User| out.done(&message, user);
    match command {
        UserCmd::Add { email, name, role } => {
            let password = secret::new_password(&email)?;
            let user = operator
                .add_user(
                    slug,
                    NewMember {
                        email,
                        display_name: name,
                        password,
                        role: role.into(),
                    },
                )
                .await?;
            show_one(format!("Added {} as {}", user.email, user.role), &user)?;
        }
        UserCmd::List => {
            let users = operator.users(slug).await?;
            out.show(&users, || {
                let mut t = table(["email", "name", "role", "state", "id"]);
                for u in &users {
                    t.add_row(user_line(u));
                }
                t
            })?;
        }
        UserCmd::SetRole { email, role } => {
            let user = operator.set_role(slug, &email, role.into()).await?;
            show_one(format!("{} is now {}", user.email, user.role), &user)?;
        }
        UserCmd::Disable { email } => {
            let user = operator.set_disabled(slug, &email, true).await?;
            show_one(
                format!("Disabled {} (signed out everywhere)", user.email),
                &user,
            )?;
        }
        UserCmd::Enable { email } => {
            let user = operator.set_disabled(slug, &email, false).await?;
            show_one(format!("Enabled {}", user.email), &user)?;
        }
        UserCmd::ResetPassword { email } => {
            let user = operator.user(slug, &email).await?;
            let password = secret::new_password(&user.email)?;
            operator.reset_password(slug, &email, &password).await?;
            show_one(
                format!(
                    "Set a new password for {} (signed out everywhere)",
                    user.email
                ),
                &user,
            )?;
        }
        UserCmd::Remove { email, yes } => {
            let user = operator.user(slug, &email).await?;
            if !yes
                && !secret::confirm(&format!(
                    "Remove {} and their private files for good?",
                    user.email
                ))
            {
                return Err(Failure::new(
                    Code::Invalid,
                    "not removed",
                    "confirm at the prompt, or pass --yes",
                ));
            }
            operator.remove_user(slug, &email).await?;
            show_one(format!("Removed {}", user.email), &user)?;
        }
    }
    Ok(())
}

async fn invite_cmd(
    taina: &Taina,
    slug: Option<&str>,
    command: InviteCmd,
    out: &Output,
) -> Result<(), Failure> {
    let operator = taina.operator();
    match command {
        InviteCmd::Create { role, hours, uses } => {
            let created = operator
                .create_invite(
                    slug,
                    role.into(),
                    Duration::from_secs(hours.saturating_mul(3600)),
                    uses,
                )
                .await?;
            let base = match &taina.config().public_url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None => {
                    let scheme = if taina.config().tls() {
                        "https"
                    } else {
                        "http"
                    };
                    format!("{scheme}://{}", taina.config().listen)
                }
            };
            let url = format!("{base}/register?invite={}", created.token);
            out.done(
                &format!(
                    "Invite {} ({}, {} use(s), until {}):\n{url}",
                    created.invite.id,
                    created.invite.role,
                    created.invite.max_uses,
                    created.invite.expires_at.to_rfc3339()
                ),
                &json!({ "invite": created.invite, "token": created.token, "url": url }),
            )?;
        }
        InviteCmd::List => {
            let invites = operator.invites(slug).await?;
            out.show(&invites, || {
                let mut t = table(["id", "role", "uses", "expires"]);
                for i in &invites {
                    t.add_row(vec![
                        i.id.to_string(),
                        i.role.to_string(),
                        format!("{}/{}", i.uses, i.max_uses),
                        i.expires_at.to_rfc3339(),
                    ]);
                }
                t
            })?;
        }
        InviteCmd::Revoke { id } => {
            let id = InviteId::parse(&id).map_err(|_| {
                Failure::new(
                    Code::NotFound,
                    format!("{id:?} is not an invite id"),
                    "see `taina admin invite list`",
                )
            })?;
            operator.revoke_invite(slug, &id).await?;
            out.done(&format!("Revoked invite {id}"), &json!({ "revoked": id }))?;
        }
    }
    Ok(())
}
