//! Activities: [`Activity`], a received one checked for the fields every
//! handler relies on, and the builders of those our actors send (plain
//! functions from ids and objects to AS2 trees).

use serde_json::{json, Value};

use super::as2::{check_id, id_of, CONTEXT, PUBLIC};
use super::FormatError;

/// The activity types the hub acts on; others are accepted and ignored in
/// JSON-LD (AS2 is open), refused in sexp (the co-op's own format).
pub const HANDLED: [&str; 10] = [
    "Follow", "Accept", "Reject", "Undo", "Create", "Update", "Delete", "Like", "Announce", "Flag",
];

/// A received activity, whatever format it came in: its AS2 tree and the
/// fields every step after decoding needs, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    /// `type`, e.g. `Create`.
    pub kind: String,
    /// The actor's id.
    pub actor: String,
    /// The whole document.
    pub doc: Value,
}

impl Activity {
    /// Checks that `doc` has an id, a type and an actor, and that the ids
    /// it will be stored under (its own, the actor's, the object's) are
    /// bounded http(s) URLs.
    pub fn from_doc(doc: Value) -> Result<Activity, FormatError> {
        let id = doc
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| FormatError::invalid("activity has no id"))?
            .to_string();
        let kind = doc
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| FormatError::invalid("activity has no type"))?
            .to_string();
        let actor = doc
            .get("actor")
            .and_then(id_of)
            .ok_or_else(|| FormatError::invalid("activity has no actor"))?
            .to_string();
        check_id(&id)?;
        check_id(&actor)?;
        if let Some(object) = doc.get("object").and_then(id_of) {
            check_id(object)?;
        }
        Ok(Activity {
            id,
            kind,
            actor,
            doc,
        })
    }

    /// The `object` (an id or an embedded object), `null` when absent.
    pub fn object(&self) -> &Value {
        self.doc.get("object").unwrap_or(&Value::Null)
    }

    pub fn object_id(&self) -> Option<&str> {
        id_of(self.object())
    }
}

/// The Follow an Accept or Reject answers, as its id, type, actor and
/// object only: what a peer needs to match it, and nothing else of what it
/// sent is republished under our actor.
fn answered(follow: &Value) -> Value {
    let mut trimmed = serde_json::Map::new();
    for key in ["id", "type", "actor", "object"] {
        if let Some(value) = follow.get(key) {
            let value = match value {
                Value::Object(_) => id_of(value).map_or(Value::Null, |id| json!(id)),
                other => other.clone(),
            };
            trimmed.insert(key.into(), value);
        }
    }
    Value::Object(trimmed)
}

pub fn accept(id: &str, actor: &str, follow: &Value) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Accept", "actor": actor, "object": answered(follow) })
}

pub fn reject(id: &str, actor: &str, follow: &Value) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Reject", "actor": actor, "object": answered(follow) })
}

pub fn follow(id: &str, actor: &str, target: &str) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Follow", "actor": actor, "object": target })
}

/// An embedded activity or object, without the `@context` its container
/// already carries.
fn embedded(value: &Value) -> Value {
    let mut inner = value.clone();
    if let Some(o) = inner.as_object_mut() {
        o.remove("@context");
    }
    inner
}

pub fn undo(id: &str, actor: &str, activity: &Value) -> Value {
    json!({ "@context": CONTEXT, "id": id, "type": "Undo", "actor": actor, "object": embedded(activity) })
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
    json!({
        "@context": CONTEXT, "id": id, "type": kind, "actor": actor, "object": embedded(object),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_need_bounded_ids_type_and_actor() {
        let ok = json!({"id": "https://a.example/1", "type": "Like", "actor": {"id": "https://a.example/u"}, "object": "https://b.example/o"});
        let a = Activity::from_doc(ok.clone()).unwrap();
        assert_eq!(
            (a.id.as_str(), a.kind.as_str(), a.actor.as_str()),
            ("https://a.example/1", "Like", "https://a.example/u")
        );
        assert_eq!(a.object_id(), Some("https://b.example/o"));
        for (field, value) in [
            ("id", Value::Null),
            ("type", Value::Null),
            ("actor", json!(7)),
            ("object", json!("javascript:alert(1)")),
            ("id", json!("urn:x")),
        ] {
            let mut bad = ok.clone();
            bad[field] = value;
            assert!(Activity::from_doc(bad).is_err(), "{field}");
        }
    }

    #[test]
    fn answers_carry_only_what_identifies_the_follow() {
        let follow = json!({
            "@context": CONTEXT, "id": "https://r/f", "type": "Follow",
            "actor": {"id": "https://r/u", "name": "x"}, "object": "https://h/actors/blog",
            "content": ["odd"], "extra": {"deep": true},
        });
        let a = accept("https://h/a", "https://h/actors/blog", &follow);
        assert_eq!(
            a["object"],
            json!({"id": "https://r/f", "type": "Follow", "actor": "https://r/u", "object": "https://h/actors/blog"})
        );
        assert_eq!(
            reject("https://h/r", "https://h/actors/blog", &follow)["object"],
            a["object"]
        );
    }

    #[test]
    fn embedded_objects_lose_their_context() {
        let note = json!({"@context": CONTEXT, "id": "https://a.example/o", "type": "Note"});
        let create = wrap(
            "Create",
            "https://a.example/c",
            "https://a.example/u",
            &note,
            "f",
        );
        assert!(create["object"].get("@context").is_none());
        assert_eq!(create["@context"], CONTEXT);
        let undo = undo("https://a.example/d", "https://a.example/u", &create);
        assert!(undo["object"].get("@context").is_none());
    }
}
