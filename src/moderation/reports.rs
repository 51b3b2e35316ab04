//! Reports: what was reported and why (read from the Flag a report keeps),
//! reports member apps file about remote actors, and what an admin does
//! with a report: resolve it, with a domain block when the reported actor
//! is remote, or forward it to the reported actor's server as a Flag from
//! the instance actor, as Mastodon does. Each action is in the audit log.

use serde_json::{json, Value};

use super::domain_blocks::{self, BlockSpec, Severity};
use super::{check_comment, MAX_COMMENT};
use crate::config::Config;
use crate::db::{self, reports::Report};
use crate::error::AppError;
use crate::formats::as2::{check_id, origin};
use crate::instance::AppState;
use crate::{outbox, remote};

/// Most posts one report may name.
pub const MAX_OBJECTS: usize = 20;

/// A report as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportView {
    /// What the Flag names: actors and posts, as ids.
    pub reported: Vec<String>,
    /// Why, as the reporter wrote it (plain text; escaped when shown).
    pub comment: String,
}

impl ReportView {
    /// Reads a stored Flag (whatever a remote server sent: anything
    /// unreadable is left out, never an error).
    pub fn of(report: &Report) -> ReportView {
        let flag: Value = serde_json::from_str(&report.body).unwrap_or(Value::Null);
        let reported = match flag.get("object") {
            Some(Value::Array(list)) => list.iter().filter_map(id_of).collect(),
            Some(one) => id_of(one).into_iter().collect(),
            None => Vec::new(),
        };
        let comment = flag
            .get("content")
            .or_else(|| flag.get("summary"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(MAX_COMMENT)
            .collect();
        ReportView { reported, comment }
    }
}

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// A report a member app files about a remote actor and some of its posts.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewReport {
    /// The reported actor's id.
    pub target: String,
    #[serde(default)]
    pub objects: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

/// Files a report from `app`; its Flag (from the instance actor, as
/// Mastodon forwards) is kept, ready for an admin to forward. Returns the
/// report's id.
pub async fn file(
    state: &AppState,
    app: &crate::actors::AppName,
    report: &NewReport,
) -> Result<String, AppError> {
    let config = &state.config;
    let bad = |why: String| AppError::BadRequest(why);
    for id in std::iter::once(&report.target).chain(&report.objects) {
        check_id(id).map_err(|e| bad(e.to_string()))?;
    }
    if origin(&report.target).as_deref() == Some(config.base()) {
        return Err(bad(
            "only remote actors can be reported; this one is ours".into()
        ));
    }
    if report.objects.len() > MAX_OBJECTS {
        return Err(bad(format!("a report names at most {MAX_OBJECTS} posts")));
    }
    if report.comment.chars().count() > MAX_COMMENT {
        return Err(bad(format!(
            "the comment is longer than {MAX_COMMENT} characters"
        )));
    }
    if report.comment.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad("the comment contains control characters".into()));
    }
    let id = outbox::new_id(config, "activities");
    let mut object = vec![report.target.clone()];
    object.extend(report.objects.iter().cloned());
    let flag = json!({
        "@context": crate::formats::as2::CONTEXT,
        "id": id,
        "type": "Flag",
        "actor": config.instance_actor_id(),
        "object": object,
        "content": report.comment,
    });
    let mut conn = state.db.pool().acquire().await?;
    db::reports::add_from_app(
        &mut conn,
        &id,
        &config.instance_actor_id(),
        &flag.to_string(),
        app.as_str(),
    )
    .await?;
    tracing::info!(report = %id, app = %app, target = %report.target, "report filed by an app");
    Ok(id)
}

/// What resolving a report does besides closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing: the report is dismissed or was dealt with otherwise.
    None,
    /// Silence the reported actor's domain.
    SilenceDomain,
    /// Suspend the reported actor's domain.
    SuspendDomain,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, AppError> {
        match text {
            "none" => Ok(Action::None),
            "silence_domain" => Ok(Action::SilenceDomain),
            "suspend_domain" => Ok(Action::SuspendDomain),
            other => Err(AppError::BadRequest(format!(
                "unknown action '{}': use none, silence_domain or suspend_domain",
                other.escape_debug()
            ))),
        }
    }
}

/// The remote actor a report is about, when it names one on another
/// server: its first reported id not on this hub.
pub fn remote_target(config: &Config, view: &ReportView) -> Option<String> {
    view.reported
        .iter()
        .find(|id| origin(id).is_some() && origin(id).as_deref() != Some(config.base()))
        .cloned()
}

/// Resolves an open report as `by`, with `action` on the reported actor's
/// domain, in one transaction with the audit entries.
pub async fn resolve(
    state: &AppState,
    by: &str,
    id: &str,
    action: Action,
    comment: &str,
) -> Result<(), AppError> {
    let config = &state.config;
    let report = db::reports::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such report".into()))?;
    let view = ReportView::of(&report);
    let severity = match action {
        Action::None => None,
        Action::SilenceDomain => Some(Severity::Silence),
        Action::SuspendDomain => Some(Severity::Suspend),
    };
    let domain = match severity {
        None => None,
        Some(_) => {
            let target = remote_target(config, &view).ok_or_else(|| {
                AppError::BadRequest("this report names no remote actor to block".into())
            })?;
            Some(
                url::Url::parse(&target)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .ok_or_else(|| AppError::BadRequest("the reported id has no host".into()))?,
            )
        }
    };
    let comment = comment.trim();
    check_comment("comment", comment)?;
    let resolution = match (&domain, severity) {
        (Some(d), Some(s)) => format!("{} {d}", s.as_str()),
        _ => "no action".to_string(),
    };
    let mut tx = state.db.begin().await?;
    if !db::reports::resolve(&mut tx, id, by, &resolution).await? {
        return Err(AppError::Conflict("the report is already resolved".into()));
    }
    if let (Some(domain), Some(severity)) = (&domain, severity) {
        // The block's comment points back to the report, within the limit.
        let private_comment: String = format!("report {id}: {comment}")
            .chars()
            .take(MAX_COMMENT)
            .collect();
        let spec = BlockSpec {
            severity,
            private_comment,
            ..BlockSpec::suspend(domain)
        };
        domain_blocks::apply_in(&mut tx, config, by, &spec).await?;
    }
    db::audit_log::append(
        &mut tx,
        by,
        "report.resolve",
        id,
        comment,
        &json!({ "resolution": resolution }),
    )
    .await?;
    // A resolution may have blocked a domain.
    db::gate::commit(&state.db, tx).await?;
    tracing::info!(by, report = %id, %resolution, "report resolved");
    Ok(())
}

/// Forwards a report about a remote actor to its server, as a Flag from the
/// instance actor through the delivery queue, once.
pub async fn forward(state: &AppState, by: &str, id: &str) -> Result<String, AppError> {
    let config = &state.config;
    let report = db::reports::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such report".into()))?;
    if report.forwarded_at.is_some() {
        return Err(AppError::Conflict(
            "the report was already forwarded".into(),
        ));
    }
    let view = ReportView::of(&report);
    let target = remote_target(config, &view)
        .ok_or_else(|| AppError::BadRequest("this report names no remote actor".into()))?;
    let actor = remote::actor_by_id(state, &target).await?;
    let inbox = actor.shared_inbox.clone().unwrap_or(actor.inbox.clone());
    // A remote server's Flag is forwarded as ours: same reported ids and
    // comment, our instance actor, a new id.
    let flag_id = outbox::new_id(config, "activities");
    let flag = json!({
        "@context": crate::formats::as2::CONTEXT,
        "id": flag_id,
        "type": "Flag",
        "actor": config.instance_actor_id(),
        "object": view.reported,
        "content": view.comment,
    });
    let body =
        crate::signatures::proof::signed_body(&state.keys, &config.instance_actor_id(), &flag);
    let key_id = format!("{}#main-key", config.instance_actor_id());
    let mut tx = state.db.begin().await?;
    if !db::reports::mark_forwarded(&mut tx, id).await? {
        return Err(AppError::Conflict(
            "the report was already forwarded".into(),
        ));
    }
    db::activities::insert(
        &mut tx,
        &db::activities::NewActivity {
            id: &flag_id,
            app_name: None,
            actor: &config.instance_actor_id(),
            activity_type: "Flag",
            object_id: None,
            local: true,
            body: &body,
        },
    )
    .await?;
    db::delivery::enqueue(
        &mut tx,
        &flag_id,
        None,
        &key_id,
        std::slice::from_ref(&inbox),
    )
    .await?;
    db::audit_log::append(
        &mut tx,
        by,
        "report.forward",
        id,
        "",
        &json!({ "to": inbox }),
    )
    .await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    tracing::info!(by, report = %id, to = %inbox, "report forwarded");
    Ok(inbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(body: &str) -> Report {
        Report {
            activity_id: "https://r.example/f/1".into(),
            actor: "https://r.example/u/a".into(),
            body: body.into(),
            created_at: 0,
            source: "remote".into(),
            app_name: None,
            status: "open".into(),
            resolved_by: None,
            resolved_at: None,
            resolution: None,
            forwarded_at: None,
        }
    }

    #[test]
    fn flags_are_read_whatever_their_shape() {
        let v = ReportView::of(&report(
            r#"{"type":"Flag","object":["https://a.example/u/x",{"id":"https://a.example/p/1"},7],"content":"spam"}"#,
        ));
        assert_eq!(
            v.reported,
            ["https://a.example/u/x", "https://a.example/p/1"]
        );
        assert_eq!(v.comment, "spam");
        let one = ReportView::of(&report(r#"{"object":"https://a.example/u/x"}"#));
        assert_eq!(one.reported, ["https://a.example/u/x"]);
        assert_eq!(
            ReportView::of(&report("not json")).reported,
            Vec::<String>::new()
        );
    }

    #[test]
    fn actions() {
        assert_eq!(
            Action::parse("suspend_domain").unwrap(),
            Action::SuspendDomain
        );
        assert!(Action::parse("ban").is_err());
    }
}
