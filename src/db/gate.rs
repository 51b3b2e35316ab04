//! What the inbox and authorized fetch ask about a sender before doing
//! any work for it: the block on its domain and its own moderation.
//!
//! Asked of the database on every request, these two answers cost more than
//! verifying the signature (a round trip on PostgreSQL, a hop to SQLite's
//! connection thread), yet they change a few times a day. So each hub keeps
//! them in memory, and the database says when they change:
//! - every write to `domain_blocks` or `actor_moderation` raises the
//!   counter in `moderation_version` in its own transaction ([`changed`]);
//! - a change made by this process is forgotten at its commit ([`commit`]):
//!   the next request reads the tables again;
//! - a change made by another process (the CLI, another hub) is seen within
//!   [`SEEN_WITHIN`]: when the counter was last read longer ago than that,
//!   the next request reads it first, and forgets everything if it moved.
//!   The CLI waits that long after a change, so a block it reports made
//!   is applied by every hub.
//!
//! Whether an activity is already recorded is not memoized: the inbox asks
//! [`known`] only when the answer changes what it does (see `crate::inbox`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::{AnyConnection, FromRow};

use super::domain_blocks::{self, DomainBlock};
use super::Db;
use crate::error::AppError;
use crate::memo::Memo;

/// How long a change made by another process may go unseen by a hub.
pub const SEEN_WITHIN: Duration = Duration::from_millis(250);
/// How long a remembered answer is trusted at all, a bound for anything
/// the counter could not tell (a counter reset by hand).
const TRUSTED_FOR: Duration = Duration::from_secs(300);
/// Senders remembered per kind; when full, the memo is emptied.
const CAPACITY: usize = 20_000;

/// The answers.
#[derive(Debug, Default, Clone)]
pub struct Gate {
    /// The block that applies to the domain (its own or a parent's).
    pub domain_block: Option<DomainBlock>,
    /// The actor's own severity, if it is moderated.
    pub actor_severity: Option<String>,
}

/// One hub's memory of the answers (in [`Db`], so hubs on different
/// databases in one process share nothing).
pub struct Answers {
    domains: Memo<String, Option<DomainBlock>>,
    actors: Memo<String, Option<String>>,
    /// When the counter was last read, and what it said.
    version: Mutex<Option<(Instant, i64)>>,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            domains: Memo::new(TRUSTED_FOR, CAPACITY),
            actors: Memo::new(TRUSTED_FOR, CAPACITY),
            version: Mutex::new(None),
        }
    }
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("gate::Answers")
    }
}

impl Answers {
    /// Forgets every answer.
    fn forget_answers(&self) {
        self.domains.forget(|_, _| true);
        self.actors.forget(|_, _| true);
    }

    /// Forgets every answer, and makes the next request read the counter.
    fn forget(&self) {
        self.forget_answers();
        if let Ok(mut version) = self.version.lock() {
            *version = None;
        }
    }

    /// Whether the counter is due to be read; if so, it is marked read now,
    /// so that concurrent requests do not all read it.
    fn due(&self) -> Option<Option<i64>> {
        let mut version = self.version.lock().ok()?;
        match *version {
            Some((at, _)) if at.elapsed() < SEEN_WITHIN => None,
            Some((_, seen)) => {
                *version = Some((Instant::now(), seen));
                Some(Some(seen))
            }
            None => Some(None),
        }
    }
}

#[derive(FromRow)]
struct Row {
    blocked: Option<String>,
    actor_severity: Option<String>,
}

/// Asks about `actor` (when there is one yet) on `domain`: from memory
/// when the answers are known and nothing changed since, else from the
/// database (one query).
pub async fn ask(db: &Db, domain: &str, actor: Option<&str>) -> Result<Gate, AppError> {
    let memo = db.gate();
    if let Some(seen) = memo.due() {
        let now: i64 = sqlx::query_scalar("SELECT version FROM moderation_version WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
        if seen != Some(now) {
            memo.forget_answers();
        }
        if let Ok(mut version) = memo.version.lock() {
            *version = Some((Instant::now(), now));
        }
    }
    let domain = domain_blocks::normal(domain);
    let remembered_actor = match actor {
        Some(actor) => memo.actors.get(actor),
        None => Some(None),
    };
    if let (Some(domain_block), Some(actor_severity)) =
        (memo.domains.get(&domain), remembered_actor)
    {
        return Ok(Gate {
            domain_block,
            actor_severity,
        });
    }
    let generation = (memo.domains.generation(), memo.actors.generation());
    let row: Row = sqlx::query_as(&format!(
        "SELECT \
           (SELECT domain FROM domain_blocks WHERE {} ORDER BY LENGTH(domain) DESC LIMIT 1) AS blocked, \
           (SELECT severity FROM actor_moderation WHERE actor_id = $2) AS actor_severity",
        domain_blocks::within("$1", "domain")
    ))
    .bind(&domain)
    .bind(actor)
    .fetch_one(db.pool())
    .await?;
    // Blocks are rare: their options are read only when there is one.
    let domain_block = match row.blocked {
        Some(_) => domain_blocks::matching(db, &domain).await?,
        None => None,
    };
    // Kept only if nothing was forgotten meanwhile: what was read may
    // predate that change.
    memo.domains
        .put_if(generation.0, domain.clone(), domain_block.clone());
    if let Some(actor) = actor {
        memo.actors
            .put_if(generation.1, actor.to_string(), row.actor_severity.clone());
    }
    Ok(Gate {
        domain_block,
        actor_severity: row.actor_severity,
    })
}

/// Whether an activity with this id is recorded already.
pub async fn known(db: &Db, id: &str) -> Result<bool, AppError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ap_activities WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// Records, in the caller's transaction, that moderation changed: other
/// processes forget their answers when it commits. Called by every write
/// to `domain_blocks` and `actor_moderation`.
pub(super) async fn changed(conn: &mut AnyConnection) -> Result<(), AppError> {
    sqlx::query("UPDATE moderation_version SET version = version + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// Commits a transaction that changed moderation, and forgets this
/// process's answers, so the change applies to the next request.
pub async fn commit(db: &Db, tx: sqlx::Transaction<'static, sqlx::Any>) -> Result<(), AppError> {
    let done = tx.commit().await;
    // Forgotten whether or not the commit succeeded: a failed commit may
    // still have applied (the answer was lost, not the write).
    db.gate().forget();
    done?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use federation_tests::database::{Backend as TestBackend, TestDatabase};

    use super::*;

    fn suspension(domain: &str) -> DomainBlock {
        DomainBlock {
            domain: domain.into(),
            severity: "suspend".into(),
            reject_media: 0,
            reject_reports: 0,
            private_comment: String::new(),
            public_comment: String::new(),
            obfuscate: 0,
            created_at: 1,
            updated_at: 1,
        }
    }

    /// `ours` and `theirs` are two hubs (processes) on one database: a
    /// change applies at once in the hub that made it, and within
    /// `SEEN_WITHIN` (plus the read) in the other, after both remembered
    /// the answer from before.
    async fn changes_are_seen_here_at_once_and_elsewhere_within_the_bound(backend: TestBackend) {
        let Some(test_db) = TestDatabase::create(backend).await else {
            return;
        };
        let ours = Db::connect(&test_db.url, 2, true).await.unwrap();
        ours.migrate().await.unwrap();
        let theirs = Db::connect(&test_db.url, 2, false).await.unwrap();
        let (domain, actor) = ("sub.evil.example", "https://sub.evil.example/users/a");
        for db in [&ours, &theirs] {
            let gate = ask(db, domain, Some(actor)).await.unwrap();
            assert!(gate.domain_block.is_none() && gate.actor_severity.is_none());
        }

        let mut tx = ours.begin().await.unwrap();
        super::super::domain_blocks::upsert(&mut tx, &suspension("evil.example"))
            .await
            .unwrap();
        super::super::actor_moderation::set(&mut tx, actor, "silence", "")
            .await
            .unwrap();
        commit(&ours, tx).await.unwrap();
        let here = ask(&ours, domain, Some(actor)).await.unwrap();
        assert_eq!(
            here.domain_block.map(|b| b.domain).as_deref(),
            Some("evil.example"),
            "the parent's block applies to the subdomain, here at once"
        );
        assert_eq!(here.actor_severity.as_deref(), Some("silence"));
        tokio::time::sleep(2 * SEEN_WITHIN).await;
        let there = ask(&theirs, domain, Some(actor)).await.unwrap();
        assert_eq!(
            there.domain_block.map(|b| b.severity).as_deref(),
            Some("suspend"),
            "another process's block is seen within the bound"
        );
        assert_eq!(there.actor_severity.as_deref(), Some("silence"));

        // And the other way: lifted elsewhere.
        let mut tx = theirs.begin().await.unwrap();
        assert!(super::super::domain_blocks::remove(&mut tx, "evil.example")
            .await
            .unwrap());
        assert!(super::super::actor_moderation::clear(&mut tx, actor)
            .await
            .unwrap());
        commit(&theirs, tx).await.unwrap();
        let there = ask(&theirs, domain, Some(actor)).await.unwrap();
        assert!(there.domain_block.is_none() && there.actor_severity.is_none());
        tokio::time::sleep(2 * SEEN_WITHIN).await;
        let here = ask(&ours, domain, Some(actor)).await.unwrap();
        assert!(
            here.domain_block.is_none() && here.actor_severity.is_none(),
            "a lifted block is forgotten too: {here:?}"
        );
    }

    #[tokio::test]
    async fn changes_are_seen_on_sqlite() {
        changes_are_seen_here_at_once_and_elsewhere_within_the_bound(TestBackend::Sqlite).await;
    }

    #[tokio::test]
    async fn changes_are_seen_on_postgres() {
        changes_are_seen_here_at_once_and_elsewhere_within_the_bound(TestBackend::Postgres).await;
    }

    /// A query that was under way when a change was committed here must
    /// not leave its (older) answer behind.
    #[tokio::test]
    async fn an_answer_read_before_a_change_is_not_kept() {
        let memo = Answers::default();
        let before = memo.domains.generation();
        memo.forget();
        memo.domains
            .put_if(before, "evil.example".into(), None::<DomainBlock>);
        assert!(memo.domains.get("evil.example").is_none());
    }
}
