//! The `rosefed` binary as an operator uses it: subcommands, their output,
//! and one clear error line (no panic, no backtrace) for bad set-ups.

use std::process::{Command, Output};

use federation_tests::database::{Backend, TestDatabase};
use federation_tests::on_both_databases;

fn rosefed(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rosefed"))
        .args(["--database-url", &db.url])
        .args(["--data-dir", &db.dir.path().display().to_string()])
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run rosefed")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A failure an operator can read: non-zero, one `error:` line naming the
/// problem, no panic or backtrace.
fn assert_clear_failure(o: &Output, mentions: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(
        lines[0].contains(mentions),
        "{err} should mention {mentions}"
    );
}

on_both_databases!(
    apps_lifecycle,
    operator_commands,
    members_and_oauth_clients,
    commands_use_the_url_the_hub_serves_under,
    domain_blocks_import_export_and_the_audit_log,
    webhooks_from_the_cli,
);

async fn webhooks_from_the_cli(db: TestDatabase) {
    let set = rosefed(
        &db,
        &[
            "apps",
            "webhook",
            "blog",
            "--url",
            "https://hooks.example/blog",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        stdout(&set).starts_with("whsec_"),
        "the secret, once: {}",
        stdout(&set)
    );
    assert!(
        stderr(&set).contains("X-Rosefed-Signature"),
        "{}",
        stderr(&set)
    );
    assert_clear_failure(
        &rosefed(
            &db,
            &["apps", "webhook", "blog", "--url", "ftp://hooks.example/"],
        ),
        "must be an absolute https URL",
    );
    assert_clear_failure(
        &rosefed(
            &db,
            &[
                "apps",
                "webhook",
                "nobody",
                "--url",
                "https://hooks.example/",
            ],
        ),
        "no app named 'nobody'",
    );
    let removed = rosefed(&db, &["apps", "webhook", "blog", "--remove"]);
    assert!(
        stdout(&removed).contains("removed the webhook of blog"),
        "{}",
        stdout(&removed)
    );
    assert_clear_failure(
        &rosefed(&db, &["apps", "webhook", "blog", "--remove"]),
        "has no webhook",
    );
}

/// Mastodon's CSV through the CLI: a dry run changes nothing, an import is
/// all or nothing with bad lines named, export gives the file back, and the
/// audit log lists each change.
async fn domain_blocks_import_export_and_the_audit_log(db: TestDatabase) {
    let csv = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
               loud.example,silence,false,true,\"Loud, often\",false\n\
               spam.example,suspend,true,false,Spam,true\n";
    let file = db.dir.path().join("blocks.csv");
    std::fs::write(&file, csv).unwrap();
    let path = file.display().to_string();
    let dry = rosefed(&db, &["domain-blocks", "import", &path, "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("would import: 2 new, 0 changed, 0 unchanged"),
        "{}",
        stdout(&dry)
    );
    assert!(!stdout(&rosefed(&db, &["domain-blocks", "list"])).contains("example"));
    let done = rosefed(&db, &["domain-blocks", "import", &path]);
    assert!(
        stdout(&done).contains("imported: 2 new"),
        "{}",
        stdout(&done)
    );
    let again = rosefed(&db, &["domain-blocks", "import", &path]);
    assert!(
        stdout(&again).contains("imported: 0 new, 0 changed, 2 unchanged"),
        "{}",
        stdout(&again)
    );
    assert_eq!(stdout(&rosefed(&db, &["domain-blocks", "export"])), csv);

    let bad = db.dir.path().join("bad.csv");
    std::fs::write(&bad, "#domain,#severity\nnew.example,suspend\nx,ban\n").unwrap();
    assert_clear_failure(
        &rosefed(
            &db,
            &["domain-blocks", "import", &bad.display().to_string()],
        ),
        "line 3: unknown severity 'ban'",
    );
    assert!(!stdout(&rosefed(&db, &["domain-blocks", "list"])).contains("new.example"));
    assert_clear_failure(
        &rosefed(
            &db,
            &["domain-blocks", "add", "odd.example", "--severity", "ban"],
        ),
        "unknown severity",
    );

    let changed = rosefed(
        &db,
        &[
            "domain-blocks",
            "add",
            "loud.example",
            "--severity",
            "suspend",
            "--private-comment",
            "worse",
        ],
    );
    assert!(
        stdout(&changed).contains("changed the block of loud.example"),
        "{}",
        stdout(&changed)
    );
    let log = stdout(&rosefed(&db, &["audit-log", "list"]));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[0].contains("cli")
            && lines[0].contains("domain_block.update")
            && lines[0].contains("worse"),
        "{log}"
    );
    let export = stdout(&rosefed(&db, &["audit-log", "export"]));
    assert!(
        export.starts_with("at,actor,action,target,comment,details\n"),
        "{export}"
    );
    assert_eq!(export.lines().count(), 4, "{export}");
}

/// Commands run beside a hub without `--public-url` mint and print the
/// addresses the hub serves under, not the default one: a post published
/// from the CLI must have an id remote servers can fetch.
async fn commands_use_the_url_the_hub_serves_under(db: TestDatabase) {
    let mut hub = federation_tests::hub::Hub::start(&db.url, db.dir.path(), &[]).await;
    assert_ne!(hub.base, "http://127.0.0.1:8080");
    let client = rosefed(
        &db,
        &[
            "apps",
            "oauth",
            "blog",
            "--redirect-uri",
            "https://blog.example/cb",
        ],
    );
    assert!(client.status.success(), "{}", stderr(&client));
    assert!(
        stderr(&client).contains(&format!(
            "discovery: {}/.well-known/openid-configuration",
            hub.base
        )),
        "{}",
        stderr(&client)
    );
    let post = rosefed(&db, &["post", "blog", "--content", "<p>from the CLI</p>"]);
    assert!(post.status.success(), "{}", stderr(&post));
    assert!(
        stdout(&post).starts_with(&format!("published {}/objects/", hub.base)),
        "{}",
        stdout(&post)
    );
    let listed = rosefed(&db, &["apps", "list"]);
    assert!(
        stdout(&listed).contains(&format!("@blog@{}", hub.base.trim_start_matches("http://"))),
        "{}",
        stdout(&listed)
    );
    // An explicit --public-url still wins.
    let explicit = rosefed(
        &db,
        &["--public-url", "https://other.example", "apps", "list"],
    );
    assert!(
        stdout(&explicit).contains("@blog@other.example"),
        "{}",
        stdout(&explicit)
    );
    hub.terminate().await;
}

async fn apps_lifecycle(db: TestDatabase) {
    // The first command that writes bootstraps the instance and its seed apps.
    let add = rosefed(
        &db,
        &[
            "apps",
            "add",
            "cart",
            "--display-name",
            "The Cart",
            "--summary",
            "Checkout",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(stdout(&add).contains("@cart@127.0.0.1:8080"));

    let list = rosefed(&db, &["apps", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    for app in ["blog", "cart", "events", "market"] {
        assert!(
            listed.contains(&format!("@{app}@127.0.0.1:8080")),
            "{listed}"
        );
    }
    assert!(listed.contains("The Cart"), "{listed}");

    assert_clear_failure(
        &rosefed(&db, &["apps", "add", "cart"]),
        "'cart' already exists",
    );
    assert_clear_failure(
        &rosefed(&db, &["apps", "add", "Not-Valid"]),
        "invalid app name",
    );

    let remove = rosefed(&db, &["apps", "remove", "cart"]);
    assert!(remove.status.success(), "{}", stderr(&remove));
    assert!(!stdout(&rosefed(&db, &["apps", "list"])).contains("@cart@"));
    assert_clear_failure(
        &rosefed(&db, &["apps", "remove", "cart"]),
        "no app named 'cart'",
    );

    let keys = rosefed(&db, &["keys", "show"]);
    assert!(keys.status.success(), "{}", stderr(&keys));
    let shown = stdout(&keys);
    assert!(shown.contains("-----BEGIN PUBLIC KEY-----"));
    assert!(shown.contains("z6Mk"), "{shown}");
    assert!(!shown.contains("PRIVATE"), "{shown}");
    // Same key on every run.
    assert_eq!(shown, stdout(&rosefed(&db, &["keys", "show"])));
}

#[tokio::test]
async fn read_only_commands_never_create_an_instance() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    for args in [&["apps", "list"][..], &["keys", "show"][..]] {
        assert_clear_failure(&rosefed(&db, args), "rosefed serve");
    }
    assert!(
        !db.dir.path().join("rosefed.db").exists(),
        "a database was created"
    );

    // After a bare migrate (no bootstrap), keys show still invents no key.
    assert!(rosefed(&db, &["migrate"]).status.success());
    assert_clear_failure(&rosefed(&db, &["keys", "show"]), "no instance keypair yet");
}

/// The operator commands of Federation core: tokens, posting, domain
/// blocks and the queue.
async fn operator_commands(db: TestDatabase) {
    let token = rosefed(&db, &["apps", "token", "blog"]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(
        stdout(&token).trim().starts_with("rft_"),
        "{}",
        stdout(&token)
    );
    assert!(stderr(&token).contains("shown once"));

    let post = rosefed(&db, &["post", "blog", "--content", "<p>from the CLI</p>"]);
    assert!(post.status.success(), "{}", stderr(&post));
    assert!(stdout(&post).contains("/objects/"), "{}", stdout(&post));
    assert_clear_failure(
        &rosefed(&db, &["post", "blog", "--content", "<script></script>"]),
        "content is empty",
    );
    let sexp = rosefed(
        &db,
        &[
            "post",
            "blog",
            "--sexp",
            "--content",
            r#"(p "from " (em "sexp"))"#,
        ],
    );
    assert!(sexp.status.success(), "{}", stderr(&sexp));
    assert_clear_failure(
        &rosefed(&db, &["post", "blog", "--sexp", "--content", "(p \"open"]),
        "1:4: unterminated string",
    );

    for args in [
        &["domain-blocks", "add", "Spam.Example", "--reason", "spam"][..],
        &["domain-blocks", "list"][..],
    ] {
        let out = rosefed(&db, args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert!(stdout(&rosefed(&db, &["domain-blocks", "list"])).contains("spam.example"));
    assert!(rosefed(&db, &["domain-blocks", "remove", "spam.example"])
        .status
        .success());
    assert_clear_failure(
        &rosefed(&db, &["domain-blocks", "remove", "spam.example"]),
        "not blocked",
    );
    // What is not a domain is refused, not stored as a block that never matches.
    assert_clear_failure(
        &rosefed(&db, &["domain-blocks", "add", "https://spam.example/"]),
        "is not a domain name",
    );
    assert!(!stdout(&rosefed(&db, &["domain-blocks", "list"])).contains("spam"));

    let queue = rosefed(&db, &["queue", "status"]);
    assert!(queue.status.success(), "{}", stderr(&queue));
    assert!(stdout(&queue).contains("PENDING"));
    assert!(rosefed(
        &db,
        &[
            "apps",
            "set",
            "blog",
            "--manually-approves-followers",
            "true"
        ]
    )
    .status
    .success());
    assert_clear_failure(
        &rosefed(&db, &["apps", "token", "nobody"]),
        "no app named 'nobody'",
    );
}

#[tokio::test]
async fn the_instance_actor_name_is_reserved() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let out = rosefed(
        &db,
        &[
            "--public-url",
            "http://localhost:8080",
            "apps",
            "add",
            "localhost",
        ],
    );
    assert_clear_failure(&out, "instance actor");
}

#[tokio::test]
async fn migrate_creates_the_sqlite_file() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let nested = db.dir.path().join("a/b/hub.db");
    let out = Command::new(env!("CARGO_BIN_EXE_rosefed"))
        .args([
            "--database-url",
            &format!("sqlite://{}", nested.display()),
            "migrate",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("up to date"));
    assert!(nested.exists());
}

#[tokio::test]
async fn bad_setups_fail_with_one_clear_line() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let bin = env!("CARGO_BIN_EXE_rosefed");
    let run = |args: &[&str]| Command::new(bin).args(args).output().unwrap();

    assert_clear_failure(
        &run(&["--database-url", "mysql://x/y", "apps", "list"]),
        "mysql://x/y",
    );
    assert_clear_failure(
        &run(&[
            "--database-url",
            "postgres://u:hunter2@127.0.0.1:1/x",
            "apps",
            "list",
        ]),
        "127.0.0.1:1",
    );
    let secret = run(&[
        "--database-url",
        "postgres://u:hunter2@127.0.0.1:1/x",
        "apps",
        "list",
    ]);
    assert!(!stderr(&secret).contains("hunter2"), "password leaked");

    // A data directory that cannot be created (its parent is a file).
    let file = db.dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let under_file = file.join("data");
    assert_clear_failure(
        &run(&[
            "--data-dir",
            &under_file.display().to_string(),
            "apps",
            "add",
            "x",
        ]),
        "cannot create data directory",
    );
    assert_clear_failure(
        &run(&["--public-url", "ftp://x", "apps", "list"]),
        "--public-url",
    );

    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(bin)
        .args(["--data-dir", &db.dir.path().display().to_string()])
        .args(["--public-url", &format!("http://127.0.0.1:{port}"), "serve"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_clear_failure(&out, &format!("cannot listen on 127.0.0.1:{port}"));
}

#[test]
fn help_explains_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_rosefed"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&out);
    for word in [
        "serve",
        "migrate",
        "apps",
        "keys",
        "users",
        "clients",
        "ROSEFED_ACCESS_TOKEN_TTL_SECS",
        "ROSEFED_PUBLIC_URL",
        "ROSEFED_DATABASE_URL",
        "ROSEFED_APPS",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}

/// `rosefed` with `input` on standard input.
fn rosefed_with_stdin(db: &TestDatabase, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rosefed"))
        .args(["--database-url", &db.url])
        .args(["--data-dir", &db.dir.path().display().to_string()])
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rosefed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

async fn members_and_oauth_clients(db: TestDatabase) {
    let add = rosefed_with_stdin(
        &db,
        &[
            "users",
            "add",
            "alice",
            "--email",
            "alice@coop.example",
            "--admin",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(stdout(&add).contains("alice <alice@coop.example> (admin)"));
    let store = rosefed::db::Db::connect(&db.url, 1, false).await.unwrap();
    // Stored as argon2id, never in the clear.
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'alice'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");

    assert_clear_failure(
        &rosefed_with_stdin(
            &db,
            &[
                "users",
                "add",
                "alice",
                "--email",
                "a@coop.example",
                "--password-stdin",
            ],
            "another password\n",
        ),
        "exists already",
    );
    assert_clear_failure(
        &rosefed_with_stdin(
            &db,
            &[
                "users",
                "add",
                "bob",
                "--email",
                "b@coop.example",
                "--password-stdin",
            ],
            "short\n",
        ),
        "at least 8 characters",
    );
    // No terminal and no --password-stdin: a clear error, not a hang.
    assert_clear_failure(
        &rosefed_with_stdin(
            &db,
            &["users", "add", "bob", "--email", "b@coop.example"],
            "",
        ),
        "--password-stdin",
    );

    let list = rosefed(&db, &["users", "list"]);
    assert!(stdout(&list).contains("alice") && stdout(&list).contains("active"));
    let disable = rosefed(&db, &["users", "disable", "alice"]);
    assert!(disable.status.success(), "{}", stderr(&disable));
    assert!(stdout(&rosefed(&db, &["users", "list"])).contains("disabled"));
    assert_clear_failure(
        &rosefed(&db, &["users", "disable", "nobody"]),
        "no member named 'nobody'",
    );

    let client = rosefed(
        &db,
        &[
            "apps",
            "oauth",
            "blog",
            "--redirect-uri",
            "https://blog.coop.example/callback",
        ],
    );
    assert!(client.status.success(), "{}", stderr(&client));
    let out = stdout(&client);
    assert!(out.contains("client_id: blog"), "{out}");
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .unwrap()
        .to_string();
    assert!(secret.starts_with("rfs_"));
    assert!(stderr(&client).contains("shown once"));
    let hash: String =
        sqlx::query_scalar("SELECT secret_hash FROM oauth_clients WHERE client_id = 'blog'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(hash, rosefed::secrets::hash(&secret));
    assert_clear_failure(
        &rosefed(
            &db,
            &[
                "apps",
                "oauth",
                "blog",
                "--redirect-uri",
                "javascript:alert(1)",
            ],
        ),
        "not allowed",
    );
    assert_clear_failure(
        &rosefed(
            &db,
            &[
                "apps",
                "oauth",
                "nosuchapp",
                "--redirect-uri",
                "https://x.example/cb",
            ],
        ),
        "no app named 'nosuchapp'",
    );
    let added = rosefed(
        &db,
        &[
            "apps",
            "add",
            "cart",
            "--redirect-uri",
            "https://cart.coop.example/cb",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("client_id: cart"));
    let clients = stdout(&rosefed(&db, &["clients"]));
    assert!(
        clients.contains("blog") && clients.contains("cart") && clients.contains("member app"),
        "{clients}"
    );
}
