//! A fresh, uniquely named database per test, on either backend.
//!
//! PostgreSQL databases are created on `ROSEFED_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and dropped when
//! the [`TestDatabase`] is dropped. When PostgreSQL is unreachable the test
//! prints a loud SKIPPED line and passes, unless `ROSEFED_REQUIRE_POSTGRES=1`
//! (as in CI), when it fails.

use std::io::Write;

use sqlx::{Connection, Executor, PgConnection};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    pub backend: Backend,
    /// What to pass as `--database-url`.
    pub url: String,
    /// Holds the SQLite file's directory; removed on drop.
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDatabase {
    /// A new empty database, or `None` when PostgreSQL is unreachable and
    /// not required (after printing why).
    pub async fn create(backend: Backend) -> Option<TestDatabase> {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("rosefed.db").display());
                Some(TestDatabase {
                    backend,
                    url,
                    dir,
                    pg: None,
                })
            }
            Backend::Postgres => {
                let admin = std::env::var("ROSEFED_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
                let name = format!("rosefed_test_{}", uuid::Uuid::new_v4().simple());
                match create_pg(&admin, &name).await {
                    Ok(url) => Some(TestDatabase {
                        backend,
                        url,
                        dir,
                        pg: Some((admin, name)),
                    }),
                    Err(e) if postgres_required() => panic!(
                        "PostgreSQL is required (ROSEFED_REQUIRE_POSTGRES=1) but {admin} is unusable: {e}"
                    ),
                    Err(e) => {
                        // Written to the real stderr, past the test harness's
                        // capture, so a skipped PostgreSQL run is never silent.
                        let _ = writeln!(
                            std::io::stderr(),
                            "\n!!!!!!!! SKIPPED a PostgreSQL test: {admin} is unreachable ({e}). \
                             Set ROSEFED_REQUIRE_POSTGRES=1 to make this a failure. !!!!!!!!\n"
                        );
                        None
                    }
                }
            }
        }
    }
}

fn postgres_required() -> bool {
    std::env::var("ROSEFED_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

async fn create_pg(admin: &str, name: &str) -> Result<String, sqlx::Error> {
    let mut conn = PgConnection::connect(admin).await?;
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await?;
    conn.close().await?;
    Ok(url_with_db(admin, name))
}

/// The admin URL with its database name replaced.
fn url_with_db(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs outside (or inside) an async runtime; a thread with its
        // own small runtime works in both cases.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            let _ = writeln!(
                std::io::stderr(),
                "warning: could not drop test database: {e}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            url_with_db("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            url_with_db("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(url_with_db("postgres://h", "x"), "postgres://h/x");
    }
}
