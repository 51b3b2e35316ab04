//! `/about/blocks`: the public list of the domains this hub moderates, as
//! Mastodon's about page shows it: each domain (partly starred when the
//! block is obfuscated), its severity in words, and the public comment.
//! Private comments and the options that say nothing to the public are not
//! shown.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use crate::db::domain_blocks::DomainBlock;
use crate::error::AppError;
use crate::http::html::page;
use crate::instance::AppState;
use crate::moderation::domain_blocks::{self, obfuscated};

pub async fn blocks(State(state): State<AppState>) -> Result<Response, AppError> {
    let blocks = domain_blocks::list(&state.db).await?;
    Ok(blocks_page(state.config.authority(), &blocks))
}

pub fn blocks_page(authority: &str, blocks: &[DomainBlock]) -> Response {
    let shown: Vec<&DomainBlock> = blocks.iter().filter(|b| b.severity != "noop").collect();
    let body = html! {
        h1 { "Moderated servers" }
        p { "Content from these servers is limited or refused on " (authority) "." }
        @if shown.is_empty() {
            p { "None." }
        } @else {
            table {
                thead { tr { th scope="col" { "Domain" } th scope="col" { "Severity" } th scope="col" { "Reason" } } }
                tbody {
                    @for b in &shown {
                        tr {
                            td { @if b.obfuscate != 0 { (obfuscated(&b.domain)) } @else { (b.domain) } }
                            td { @if b.severity == "suspend" { "Suspended" } @else { "Limited" } }
                            td { (b.public_comment) }
                        }
                    }
                }
            }
        }
    };
    page("Moderated servers", body)
}
