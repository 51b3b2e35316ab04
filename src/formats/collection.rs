//! Ordered collections (followers, following, outboxes) and their pages.

use serde_json::{json, Value};

use super::as2::CONTEXT;

/// Items per collection page.
pub const PAGE_SIZE: i64 = 40;

/// The top of a collection: its size and a link to the first page.
pub fn collection(id: &str, total: i64) -> Value {
    json!({
        "@context": CONTEXT,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": format!("{id}?page=1"),
    })
}

/// One page of a collection (1-based `page`).
pub fn page(id: &str, page: i64, total: i64, items: Vec<Value>) -> Value {
    let mut doc = json!({
        "@context": CONTEXT,
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    if page * PAGE_SIZE < total {
        doc["next"] = json!(format!("{id}?page={}", page + 1));
    }
    if page > 1 {
        doc["prev"] = json!(format!("{id}?page={}", page - 1));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_forward_and_back() {
        let id = "https://h/actors/a/followers";
        let p1 = page(id, 1, PAGE_SIZE + 1, vec![]);
        assert_eq!(p1["next"], format!("{id}?page=2"));
        assert!(p1.get("prev").is_none());
        let p2 = page(id, 2, PAGE_SIZE + 1, vec![]);
        assert!(p2.get("next").is_none());
        assert_eq!(p2["prev"], format!("{id}?page=1"));
        assert_eq!(collection(id, 0)["totalItems"], 0);
    }
}
