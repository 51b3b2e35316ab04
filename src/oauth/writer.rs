//! Group commit for issued tokens. Every `client_credentials` token is one
//! INSERT; committed one by one they queue on SQLite's single writer lock
//! (each waiter sleeping in the busy handler) or on PostgreSQL's WAL flush.
//! Requests instead hand their rows to one writer task, which stores
//! whatever has queued up in a single transaction and then answers each
//! request: nothing is acknowledged before it is committed.

use tokio::sync::{mpsc, oneshot};

use crate::db::oauth::NewToken;
use crate::db::{self, Db};
use crate::error::AppError;

/// Most requests committed together.
const MAX_BATCH: usize = 256;

type Job = (Vec<NewToken>, oneshot::Sender<Result<(), AppError>>);

#[derive(Debug, Clone)]
pub struct TokenWriter {
    jobs: mpsc::Sender<Job>,
}

impl TokenWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> TokenWriter {
        let (jobs, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, receiver));
        TokenWriter { jobs }
    }

    /// Stores `tokens`, returning once they are committed.
    pub async fn insert(&self, db: &Db, tokens: Vec<NewToken>) -> Result<(), AppError> {
        let (done, answer) = oneshot::channel();
        match self.jobs.send((tokens, done)).await {
            Ok(()) => answer
                .await
                .map_err(|_| AppError::Unavailable("the token writer stopped".into()))?,
            // The writer is gone (shutting down): store directly.
            Err(mpsc::error::SendError((tokens, _))) => db::oauth::insert_tokens(db, &tokens).await,
        }
    }
}

async fn run(db: Db, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let rows: Vec<NewToken> = batch
            .iter()
            .flat_map(|(tokens, _)| tokens.iter().cloned())
            .collect();
        match db::oauth::insert_tokens(&db, &rows).await {
            Ok(()) => {
                for (_, done) in batch.drain(..) {
                    let _ = done.send(Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some((_, done)) = batch.pop() {
                    let _ = done.send(Err(e));
                }
            }
            // One bad row (say, of a client deleted meanwhile) must not
            // fail its neighbours: store each request on its own.
            Err(AppError::Conflict(_)) => {
                for (tokens, done) in batch.drain(..) {
                    let _ = done.send(db::oauth::insert_tokens(&db, &tokens).await);
                }
            }
            // Any other failure (the database busy or down) is every
            // request's: answered at once, not retried one by one.
            Err(e) => {
                let message = e.to_string();
                for (_, done) in batch.drain(..) {
                    let _ = done.send(Err(AppError::Unavailable(message.clone())));
                }
            }
        }
    }
}
