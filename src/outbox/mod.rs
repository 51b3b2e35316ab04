//! Outbox: everything our apps' actors send. The activities themselves are
//! built by [`crate::formats::activity`]; [`send`] stores an activity and queues its deliveries in one
//! transaction (the transactional outbox), so an activity is never stored
//! without its deliveries or delivered without being stored; [`publish`]
//! holds the member apps' actions (post, update, delete, like, announce,
//! follow and their undos) shared by the HTTP API ([`api`]) and the CLI.

pub mod api;
pub mod app_token;
pub mod profile;
pub mod publish;

use serde_json::Value;
use sqlx::AnyConnection;

use crate::actors::AppName;
use crate::config::Config;
use crate::db;
use crate::error::AppError;
use crate::formats::as2::origin;
use crate::keys::InstanceKeys;
use crate::signatures::proof;

/// A fresh id for something an app mints: `{base}/{kind}/{uuid v7}`.
pub fn new_id(config: &Config, kind: &str) -> String {
    config.url(&format!("/{kind}/{}", uuid::Uuid::now_v7()))
}

/// The key id of an app's actor.
pub fn key_id(config: &Config, app: &AppName) -> String {
    format!("{}#main-key", config.actor_id(app))
}

/// Stores a local activity by `app`, with its object proof (FEP-8b32), and
/// queues it for `inboxes`, inside the caller's transaction. Returns the
/// number of deliveries queued.
pub async fn send(
    conn: &mut AnyConnection,
    config: &Config,
    keys: &InstanceKeys,
    app: &AppName,
    activity: &Value,
    object_id: Option<&str>,
    inboxes: &[String],
) -> Result<usize, AppError> {
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| AppError::Internal("activity without id".into()))?;
    let kind = activity
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Activity");
    let body = proof::signed_body(keys, &config.actor_id(app), activity);
    db::activities::insert(
        conn,
        &db::activities::NewActivity {
            id,
            app_name: Some(app),
            actor: &config.actor_id(app),
            activity_type: kind,
            object_id,
            local: true,
            body: &body,
        },
    )
    .await?;
    let mut targets: Vec<String> = inboxes
        .iter()
        // Our own actors need no delivery.
        .filter(|i| origin(i).as_deref() != Some(config.base()))
        .cloned()
        .collect();
    targets.sort();
    targets.dedup();
    db::delivery::enqueue(conn, id, object_id, &key_id(config, app), &targets).await
}
