//! A small bot with the client SDK: it signs in to a Tainá server as an account of its own,
//! follows its conversations live, and answers `/ping` with `pong` and `/echo …` with what follows.
//! Anyone in the community can talk to it in a direct conversation, or add it to a group.
//!
//! ```sh
//! TAINA_BOT_PASSWORD=… cargo run --example bot -- https://home.example.org bot@example.org
//! ```
//!
//! With `--replies N` it stops after answering N messages (the test command runs it so).
//! Sending with a `client_id` made from the message it answers makes each answer happen once,
//! even when the socket reconnects and hears a message twice.

use std::error::Error;
use std::num::NonZeroU32;
use std::sync::Arc;

use taina_client::{Client, ClientError, EventListener, RealtimeEvent};
use tokio::sync::mpsc;

/// Hands what the socket hears to the bot's loop.
struct Inbox(mpsc::UnboundedSender<RealtimeEvent>);

impl EventListener for Inbox {
    fn on_event(&self, event: RealtimeEvent) {
        let _ = self.0.send(event);
    }

    fn on_connection(&self, connected: bool) {
        eprintln!(
            "bot: {}",
            if connected {
                "connected"
            } else {
                "reconnecting…"
            }
        );
    }
}

/// What the bot says to `text`, if anything.
fn answer(text: &str) -> Option<String> {
    let text = text.trim();
    if text == "/ping" {
        Some("pong".into())
    } else {
        text.strip_prefix("/echo ")
            .map(|rest| rest.trim().to_owned())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bot SERVER_URL EMAIL [--replies N]   (password in TAINA_BOT_PASSWORD)";
    let server = args.next().ok_or(usage)?;
    let email = args.next().ok_or(usage)?;
    let mut replies: Option<NonZeroU32> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--replies" => {
                let n = args.next().ok_or(usage)?;
                replies = Some(
                    n.parse()
                        .map_err(|_| "--replies takes a number from 1 up")?,
                );
            }
            _ => return Err(usage.into()),
        }
    }
    let password = std::env::var("TAINA_BOT_PASSWORD").map_err(|_| usage)?;

    let client = Client::new(server)?;
    let me = client.login(email, password, None).await?;
    eprintln!("bot: signed in as {}", me.display_name);
    let (tx, mut inbox) = mpsc::unbounded_channel();
    let _subscription = client.clone().subscribe(Arc::new(Inbox(tx))).await?;

    let mut answered = 0;
    while let Some(event) = inbox.recv().await {
        if event.kind == "unauthenticated" {
            return Err("the bot's session ended".into());
        }
        let Some(message) = event.message.filter(|_| event.kind == "message.created") else {
            continue;
        };
        // Not its own messages, nor system notes.
        if message.sender_id.as_ref() == Some(&me.id) || message.sender_id.is_none() {
            continue;
        }
        let Some(reply) = answer(&message.text) else {
            continue;
        };
        let client_id = format!("re-{}", message.id);
        let sent = client
            .send_message(
                message.conversation_id.to_string(),
                reply,
                Some(client_id),
                None,
                Some(message.id.to_string()),
            )
            .await;
        match sent {
            Ok(_) => eprintln!("bot: answered {}", message.id),
            // Refused (removed from the group meanwhile, say): say so and keep listening.
            Err(ClientError::Api { message: why, .. }) => {
                eprintln!("bot: could not answer {}: {why}", message.id);
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        answered += 1;
        if replies.is_some_and(|n| answered >= n.get()) {
            break;
        }
    }
    client.logout().await?;
    Ok(())
}
