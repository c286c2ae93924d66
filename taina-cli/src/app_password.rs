//! `taina app-password`: a member's app passwords, made, listed and revoked from the server's own
//! shell (for a device set up by an admin, or a script on the server).

use std::process::ExitCode;

use serde_json::json;
use taina::Taina;
use taina::accounts::NewAppPassword;
use taina::core::AppPasswordId;
use taina::core::app_password::Scope;

use crate::cli::AppPasswordCmd;
use crate::failure::{Code, Failure};
use crate::output::{Output, table};

/// Runs an app-password command.
pub async fn run(
    taina: &Taina,
    community: Option<&str>,
    command: AppPasswordCmd,
    out: &Output,
) -> Result<ExitCode, Failure> {
    let operator = taina.operator();
    match command {
        AppPasswordCmd::Create {
            email,
            name,
            files_only,
        } => {
            let member = operator.act_as(community, &email).await?;
            let scope = if files_only {
                Scope::Files
            } else {
                Scope::Everything
            };
            let created = taina
                .accounts()
                .create_app_password(&member, NewAppPassword { name, scope })
                .await?;
            out.done(
                &format!(
                    "App password for {email} ({}, {}): {}\nIt is shown this once; use it with \
                     the email as the user name.",
                    created.info.name,
                    created.info.scope.as_str(),
                    created.password
                ),
                &json!({ "password": created.password, "app_password": created.info }),
            )?;
        }
        AppPasswordCmd::List { email } => {
            let member = operator.act_as(community, &email).await?;
            let list = taina.accounts().app_passwords(&member).await?;
            out.show(&list, || {
                let mut t = table(["name", "scope", "created", "last used", "id"]);
                for a in &list {
                    t.add_row(vec![
                        a.name.clone(),
                        a.scope.as_str().to_owned(),
                        a.created_at.to_string(),
                        a.last_used_at
                            .map_or_else(|| "never".to_owned(), |t| t.to_string()),
                        a.id.to_string(),
                    ]);
                }
                t
            })?;
        }
        AppPasswordCmd::Revoke { email, id } => {
            let member = operator.act_as(community, &email).await?;
            let id = AppPasswordId::parse(&id).map_err(|e| {
                Failure::new(
                    Code::Invalid,
                    format!("{id:?} is not an app password id: {e}"),
                    "take the id from `taina app-password list EMAIL`",
                )
            })?;
            taina.accounts().revoke_app_password(&member, &id).await?;
            out.done(
                &format!("Revoked app password {id} of {email}"),
                &json!({ "revoked": id }),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
