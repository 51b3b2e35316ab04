//! Group commit: writes that arrive together commit together.
//!
//! The inbox's "store and apply" and the delivery worker's outcomes are many
//! small transactions. Committing each alone costs a commit (and on SQLite
//! a turn at its single write lock, where losers sleep in the busy handler)
//! per activity. Here each piece of work is handed to a writer task, which
//! runs everything queued at that moment, up to [`MAX_GROUP`] pieces, in one
//! transaction and commits once.
//!
//! What each caller sees is what a transaction of its own gives:
//! - its work is applied entirely or not at all: when any piece of a group
//!   fails (or the commit does), the group is rolled back and every piece
//!   runs again alone, in its own transaction, so one bad piece changes
//!   nothing of the others and gets its own error;
//! - it is answered only after its commit, so an answer (a 202 to a peer, a
//!   delivery marked done) always means durable.
//!
//! A piece of work may therefore run twice (once in a group that rolled
//! back); it must only read and write through the connection it is given.
//!
//! A piece may first store a received activity ([`Committer::record`]):
//! the writer stores those of the whole group in one multi-row INSERT, then
//! tells each piece whether its activity was new (on PostgreSQL, one round
//! trip per group instead of one per activity).
//!
//! SQLite gets one writer (it has one write lock); PostgreSQL two, so one
//! group's round trips overlap with another's while groups stay large
//! (`rosefed-bench inbox` on PostgreSQL gave about 1.05 × S with one or
//! two writers and 0.95 × S with four, whose groups are smaller).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::activities::{self, Received};
use super::Backend;
use crate::error::AppError;

/// The writer tasks on `backend`; each keeps a connection of the pool.
pub(super) fn writers(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

/// Most pieces of work in one transaction.
pub const MAX_GROUP: usize = 64;
/// Pieces waiting for a writer before callers wait to queue.
const QUEUE: usize = 4096;

/// What a piece of work returns: a future borrowing the connection.
pub type WorkFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'c>>;

/// Hands work to the writer tasks. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Committer {
    queue: mpsc::Sender<Box<dyn Piece>>,
}

impl Committer {
    /// Starts the writer tasks on the current runtime. They stop when the
    /// last `Committer` is dropped.
    pub fn start(pool: AnyPool, backend: Backend) -> Committer {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers(backend) {
            tokio::spawn(writer(pool.clone(), backend, receiver.clone()));
        }
        Committer { queue }
    }

    /// Runs `work` in a transaction, possibly shared with other work, and
    /// returns its result once that transaction has committed.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection) -> WorkFuture<'c, T> + Send + 'static,
    {
        self.queue_piece(None, move |conn, _new| work(conn)).await
    }

    /// Stores a received activity (unless its id is known) and runs `work`
    /// in the same transaction, telling it whether the activity is new.
    /// The activities of a whole group are stored in one statement.
    pub async fn record<T, F>(&self, activity: Received, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection, bool) -> WorkFuture<'c, T> + Send + 'static,
    {
        self.queue_piece(Some(activity), work).await
    }

    async fn queue_piece<T, F>(&self, activity: Option<Received>, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut AnyConnection, bool) -> WorkFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let piece = Box::new(Typed {
            activity,
            work,
            value: None,
            reply,
        });
        self.queue
            .send(piece)
            .await
            .map_err(|_| AppError::Unavailable("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Unavailable("the database writer has stopped".into()))?
    }
}

/// Whether any [`Committer`] of its database is left: tasks that serve the
/// same database end when it is gone.
pub struct Alive(mpsc::WeakSender<Box<dyn Piece>>);

impl Alive {
    pub fn still(&self) -> bool {
        self.0.upgrade().is_some()
    }
}

impl Committer {
    pub fn alive(&self) -> Alive {
        Alive(self.queue.downgrade())
    }
}

/// A piece of work with its type erased, so one queue carries all kinds.
trait Piece: Send {
    /// The received activity stored before the work, if any.
    fn activity(&self) -> Option<&Received>;
    /// Runs the work on `conn`, keeping its value for [`Piece::finish`];
    /// `new` says whether its activity was stored just now.
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection, new: bool) -> WorkFuture<'c, ()>;
    /// Answers the caller: the kept value, or `error`.
    fn finish(self: Box<Self>, error: Option<AppError>);
}

impl std::fmt::Debug for dyn Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Piece")
    }
}

struct Typed<T, F> {
    activity: Option<Received>,
    work: F,
    value: Option<T>,
    reply: oneshot::Sender<Result<T, AppError>>,
}

impl<T, F> Piece for Typed<T, F>
where
    T: Send + 'static,
    F: for<'c> Fn(&'c mut AnyConnection, bool) -> WorkFuture<'c, T> + Send + 'static,
{
    fn activity(&self) -> Option<&Received> {
        self.activity.as_ref()
    }

    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection, new: bool) -> WorkFuture<'c, ()> {
        Box::pin(async move {
            let value = (self.work)(conn, new).await?;
            self.value = Some(value);
            Ok(())
        })
    }

    fn finish(self: Box<Self>, error: Option<AppError>) {
        let answer = match (error, self.value) {
            (Some(e), _) => Err(e),
            (None, Some(value)) => Ok(value),
            (None, None) => Err(AppError::Internal("work finished without running".into())),
        };
        // The caller may have gone (its request was cancelled): the work
        // stands all the same, as a lone transaction's would.
        let _ = self.reply.send(answer);
    }
}

type Queue = Arc<Mutex<mpsc::Receiver<Box<dyn Piece>>>>;

async fn writer(pool: AnyPool, backend: Backend, queue: Queue) {
    let mut conn = Writer {
        pool,
        backend,
        conn: None,
    };
    loop {
        let mut group = Vec::with_capacity(MAX_GROUP);
        {
            // One writer at a time takes what is queued: the first piece
            // waited for, the rest as they are.
            let mut receiver = queue.lock().await;
            match receiver.recv().await {
                Some(piece) => group.push(piece),
                None => return,
            }
            while group.len() < MAX_GROUP {
                match receiver.try_recv() {
                    Ok(piece) => group.push(piece),
                    Err(_) => break,
                }
            }
        }
        commit_group(&mut conn, group).await;
    }
}

/// A writer's connection, kept from one group to the next. Taken from the
/// pool for each group, it cost two more round trips a group on
/// PostgreSQL (and two hops to the connection's thread on SQLite): sqlx
/// checks a connection when it lends it and again when it comes back.
/// Dropped after any failure, in case the connection is what failed; the
/// next transaction takes a fresh one.
struct Writer {
    pool: AnyPool,
    backend: Backend,
    conn: Option<PoolConnection<Any>>,
}

impl Writer {
    /// Begins a write transaction (`IMMEDIATE` on SQLite, as [`super::begin_write`]).
    async fn begin(&mut self) -> Result<sqlx::Transaction<'_, Any>, AppError> {
        if self.conn.is_none() {
            self.conn = Some(self.pool.acquire().await?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(AppError::Internal("the writer has no connection".into()));
        };
        Ok(match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        })
    }
}

/// Commits a group; when a piece fails, that piece runs alone (and gets
/// its own error) and the others are tried together again, so one bad
/// activity costs two transactions, not one per piece. When the group
/// itself cannot begin or commit, each piece runs alone.
async fn commit_group(writer: &mut Writer, mut group: Vec<Box<dyn Piece>>) {
    while group.len() > 1 {
        match together(writer, &mut group).await {
            Ok(()) => {
                for piece in group {
                    piece.finish(None);
                }
                return;
            }
            Err(Failed::Piece(i, e)) => {
                tracing::debug!(pieces = group.len(), error = %e, "a piece of a grouped transaction failed; running it alone");
                writer.conn = None;
                let mut bad = group.remove(i);
                let error = alone(writer, bad.as_mut()).await.err();
                bad.finish(error);
            }
            Err(Failed::Group(e)) => {
                tracing::debug!(pieces = group.len(), error = %e, "a grouped transaction failed; running its pieces one by one");
                writer.conn = None;
                break;
            }
        }
    }
    for mut piece in group {
        let error = alone(writer, piece.as_mut()).await.err();
        if error.is_some() {
            writer.conn = None;
        }
        piece.finish(error);
    }
}

/// Why a group did not commit.
enum Failed {
    /// The piece at this index failed (or panicked).
    Piece(usize, AppError),
    /// Beginning or committing failed.
    Group(AppError),
}

/// Every piece in one transaction, or none.
async fn together(writer: &mut Writer, group: &mut [Box<dyn Piece>]) -> Result<(), Failed> {
    let mut tx = writer.begin().await.map_err(Failed::Group)?;
    let wanted: Vec<Option<&Received>> = group.iter().map(|p| p.activity()).collect();
    let new = match store_activities(&mut tx, &wanted).await {
        Ok(new) => new,
        Err(e) => {
            let _ = tx.rollback().await;
            return Err(Failed::Group(e));
        }
    };
    for ((i, piece), new) in group.iter_mut().enumerate().zip(new) {
        if let Err(e) = guarded(piece.run(&mut tx, new)).await {
            let _ = tx.rollback().await;
            return Err(Failed::Piece(i, e));
        }
    }
    tx.commit().await.map_err(|e| Failed::Group(e.into()))
}

async fn alone(writer: &mut Writer, piece: &mut dyn Piece) -> Result<(), AppError> {
    let mut tx = writer.begin().await?;
    let new = store_activities(&mut tx, &[piece.activity()]).await?;
    guarded(piece.run(&mut tx, new.first().copied().unwrap_or(true))).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores the pieces' received activities in one statement; for each
/// piece, whether its activity is new (true for a piece without one).
async fn store_activities(
    conn: &mut AnyConnection,
    pieces: &[Option<&Received>],
) -> Result<Vec<bool>, AppError> {
    let rows: Vec<&Received> = pieces.iter().flatten().copied().collect();
    let mut stored = activities::insert_received(conn, &rows).await?.into_iter();
    Ok(pieces
        .iter()
        .map(|p| match p {
            Some(_) => stored.next().unwrap_or(false),
            None => true,
        })
        .collect())
}

/// Runs a piece, turning a panic into its error: the writer task must
/// outlive any one piece (a handler's panic once cost one 500; here it
/// would stop every write of the process).
async fn guarded(run: WorkFuture<'_, ()>) -> Result<(), AppError> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(run).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!("a database write panicked; it is refused and the writer goes on");
            Err(AppError::Internal(
                "a database write failed unexpectedly".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    /// Pieces queued together commit together, and one failing piece
    /// changes nothing of the others and gets its own error.
    #[tokio::test]
    async fn a_failing_piece_spoils_nothing_of_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("group.db").display());
        let db = Db::connect(&url, 4, true).await.unwrap();
        sqlx::query("CREATE TABLE t (n BIGINT PRIMARY KEY)")
            .execute(db.pool())
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..40i64 {
            let group = db.group().clone();
            tasks.spawn(async move {
                let result = group
                    .run(move |conn| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (n) VALUES ($1)")
                                .bind(n)
                                .execute(&mut *conn)
                                .await?;
                            if n == 7 {
                                return Err(AppError::BadRequest("seven is refused".into()));
                            }
                            Ok(n * 2)
                        })
                    })
                    .await;
                (n, result)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (n, result) = done.unwrap();
            match result {
                Ok(doubled) => assert_eq!(doubled, n * 2),
                Err(e) => assert!(n == 7 && e.to_string().contains("seven"), "{n}: {e}"),
            }
        }
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY n")
            .fetch_all(db.pool())
            .await
            .unwrap();
        let expected: Vec<i64> = (0..40).filter(|n| *n != 7).collect();
        assert_eq!(
            rows, expected,
            "every other piece committed once, seven not at all"
        );

        // A piece that panics fails alone, and the writer goes on.
        let panicked = db
            .group()
            .run(|_conn| -> WorkFuture<'_, ()> { Box::pin(async { panic!("a bug in a handler") }) })
            .await;
        assert!(panicked.is_err());
        let after = db
            .group()
            .run(|conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (n) VALUES (100)")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await;
        assert!(after.is_ok(), "the writer still runs: {after:?}");
    }

    /// Activities stored with their work: of the same id queued twice at
    /// once, one is new and the other a replay; one stored earlier is a
    /// replay; each is stored once.
    #[tokio::test]
    async fn recorded_activities_are_stored_once_and_replays_are_told() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("record.db").display());
        let db = Db::connect(&url, 4, true).await.unwrap();
        db.migrate().await.unwrap();
        let activity = |n: i64| Received {
            id: format!("https://peer.example/activities/{n}"),
            actor: "https://peer.example/users/a".into(),
            activity_type: "Like".into(),
            object_id: None,
            body: format!("{{\"n\":{n}}}"),
        };
        let first = db
            .group()
            .record(activity(0), |_conn, new| Box::pin(async move { Ok(new) }))
            .await
            .unwrap();
        assert!(first, "a first activity is new");
        let mut tasks = tokio::task::JoinSet::new();
        // 0 is known already; 1..=20 come twice each.
        for n in (0..=20).chain(1..=20) {
            let group = db.group().clone();
            tasks.spawn(async move {
                let new = group
                    .record(activity(n), |_conn, new| Box::pin(async move { Ok(new) }))
                    .await
                    .unwrap();
                (n, new)
            });
        }
        let mut new_per_id = std::collections::HashMap::new();
        while let Some(done) = tasks.join_next().await {
            let (n, new) = done.unwrap();
            *new_per_id.entry(n).or_insert(0) += i32::from(new);
        }
        assert_eq!(new_per_id[&0], 0, "a stored id is a replay");
        for n in 1..=20 {
            assert_eq!(new_per_id[&n], 1, "activity {n} is new exactly once");
        }
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ap_activities")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(stored, 21);
    }
}
