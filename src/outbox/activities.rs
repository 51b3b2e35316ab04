//! Builders for the activities our actors send. Plain functions from ids
//! and objects to ActivityStreams JSON; no I/O.

use serde_json::{json, Value};

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
pub const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

pub fn accept(id: &str, actor: &str, follow: &Value) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Accept", "actor": actor, "object": follow })
}

pub fn reject(id: &str, actor: &str, follow: &Value) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Reject", "actor": actor, "object": follow })
}

pub fn follow(id: &str, actor: &str, target: &str) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Follow", "actor": actor, "object": target })
}

pub fn undo(id: &str, actor: &str, activity: &Value) -> Value {
    let mut inner = activity.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    json!({ "@context": CONTEXT, "id": id, "type": "Undo", "actor": actor, "object": inner })
}

/// Like or Announce of `object`.
pub fn reaction(
    kind: &str,
    id: &str,
    actor: &str,
    object: &str,
    followers: &str,
    author: Option<&str>,
    published: &str,
) -> Value {
    let mut cc = vec![Value::String(followers.to_string())];
    if let Some(a) = author {
        cc.push(Value::String(a.to_string()));
    }
    json!({
        "@context": CONTEXT, "id": id, "type": kind, "actor": actor, "object": object,
        "to": [PUBLIC], "cc": cc, "published": published,
    })
}

/// Create / Update of a post, addressed publicly and to followers.
pub fn wrap(kind: &str, id: &str, actor: &str, object: &Value, followers: &str) -> Value {
    let mut inner = object.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    json!({
        "@context": CONTEXT, "id": id, "type": kind, "actor": actor, "object": inner,
        "to": [PUBLIC], "cc": [followers],
    })
}

/// Delete of a post: the object is its Tombstone.
pub fn delete(id: &str, actor: &str, object_id: &str, followers: &str) -> Value {
    json!({
        "@context": CONTEXT, "id": id, "type": "Delete", "actor": actor,
        "object": { "id": object_id, "type": "Tombstone" },
        "to": [PUBLIC], "cc": [followers],
    })
}
