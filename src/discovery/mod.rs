//! Discovery: how other servers find this hub and its actors.
//! WebFinger (RFC 7033) resolves `@name@host` handles, NodeInfo 2.0/2.1
//! describes the software and its usage, host-meta (RFC 6415) points old
//! clients at WebFinger.

pub mod host_meta;
pub mod nodeinfo;
pub mod webfinger;

use axum::routing::get;
use axum::Router;

use crate::instance::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger::webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo::links))
        .route("/nodeinfo/2.0", get(nodeinfo::nodeinfo_20))
        .route("/nodeinfo/2.1", get(nodeinfo::nodeinfo_21))
        .route("/.well-known/host-meta", get(host_meta::xrd))
        .route("/.well-known/host-meta.json", get(host_meta::json))
}
