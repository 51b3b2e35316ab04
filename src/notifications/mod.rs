//! What each member app is told about its actor: new followers and follow
//! requests, likes, announces, replies and mentions. The inbox records a
//! notification in the transaction of the activity that caused it (so a
//! replayed activity notifies once); apps read them, newest first, from
//! `GET /api/v1/apps/NAME/notifications`, and an app with a webhook is
//! also sent each one as JSON through the durable delivery queue (retried
//! like any delivery), signed with HMAC-SHA256 under the webhook's secret
//! in `X-Rosefed-Signature: sha256=HEX`, as GitHub's and Mastodon's
//! webhooks are.

use aws_lc_rs::hmac;
use serde_json::json;
use sqlx::AnyConnection;

use crate::actors::AppName;
use crate::db::{self, notifications::Notification, now_millis};
use crate::error::AppError;
use crate::formats::as2::rfc3339;

/// The header that carries a webhook body's signature.
pub const SIGNATURE_HEADER: &str = "x-rosefed-signature";

/// Kinds of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Follow,
    FollowRequest,
    Like,
    Announce,
    Reply,
    Mention,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Follow => "follow",
            Kind::FollowRequest => "follow_request",
            Kind::Like => "like",
            Kind::Announce => "announce",
            Kind::Reply => "reply",
            Kind::Mention => "mention",
        }
    }
}

/// Records that `actor` did `kind` to `app` (about `object`, by
/// `activity`), and queues it for the app's webhook, inside the inbox's
/// transaction. A replay of the same activity records nothing. Says
/// whether a delivery to the webhook was queued (the worker is woken for
/// it once the transaction commits).
pub async fn notify(
    conn: &mut AnyConnection,
    app: &AppName,
    kind: Kind,
    actor: &str,
    object: Option<&str>,
    activity: &str,
) -> Result<bool, AppError> {
    let n = Notification {
        id: uuid::Uuid::now_v7().to_string(),
        app_name: app.as_str().to_string(),
        kind: kind.as_str().to_string(),
        actor: actor.to_string(),
        object_id: object.map(str::to_string),
        activity_id: activity.to_string(),
        created_at: now_millis(),
    };
    if !db::notifications::insert(conn, &n).await? {
        return Ok(false);
    }
    let Some(hook) = db::notifications::webhook_in(conn, app.as_str()).await? else {
        return Ok(false);
    };
    let body = webhook_body(&n);
    db::delivery::enqueue_webhook(conn, &n.id, app.as_str(), &body, &hook.url).await?;
    Ok(true)
}

/// Registers `url` as `app`'s webhook with a new secret, which it returns
/// (shown once). The URL must be one the hub may call (http or https, and
/// in production no internal address unless allowed), checked now rather
/// than at the first delivery.
pub async fn set_webhook(
    db: &crate::db::Db,
    config: &crate::config::Config,
    app: &AppName,
    url: &str,
) -> Result<String, AppError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| AppError::BadRequest(format!("webhook URL '{url}': {e}")))?;
    let allowed = match config.mode {
        crate::config::Mode::Production => parsed.scheme() == "https",
        crate::config::Mode::Development => matches!(parsed.scheme(), "http" | "https"),
    };
    if !allowed || parsed.host_str().is_none() || url.len() > crate::formats::as2::MAX_ID {
        return Err(AppError::BadRequest(format!(
            "webhook URL '{url}' must be an absolute https URL (http too in development mode)"
        )));
    }
    let secret = crate::secrets::random_token("whsec_")?;
    db::notifications::set_webhook(db, app.as_str(), url, &secret).await?;
    Ok(secret)
}

/// A notification as JSON, for the API and webhooks.
pub fn to_json(n: &Notification) -> serde_json::Value {
    json!({
        "id": n.id,
        "type": n.kind,
        "app": n.app_name,
        "actor": n.actor,
        "object": n.object_id,
        "activity": n.activity_id,
        "created_at": rfc3339(n.created_at),
    })
}

fn webhook_body(n: &Notification) -> String {
    to_json(n).to_string()
}

/// The `X-Rosefed-Signature` value of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
