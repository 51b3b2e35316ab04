//! The command line: `rosefed serve | migrate | apps … | keys show`.
//! Every flag is also an environment variable (`ROSEFED_…`); `--help` on
//! any command explains it.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};

use crate::actors::media::MediaKind;
use crate::actors::{self, AppName};
use crate::config::{Config, HubArgs};
use crate::db::{self, collections};
use crate::error::AppError;
use crate::instance;
use crate::keys::InstanceKeys;
use crate::moderation::{self, domain_blocks};
use crate::oauth;
use crate::outbox::app_token;
use crate::outbox::publish::{self, NewPost};
use crate::server;

#[derive(Parser, Debug)]
#[command(
    name = "rosefed",
    version,
    about = "Federation hub of the Rose Ash co-op",
    long_about = "Federation hub of the Rose Ash co-op.\n\n\
        Each member app (blog, market, events, …) appears on the fediverse as its own actor \
        (@blog@your.host), all signed with one instance keypair.\n\n\
        Start with `rosefed serve`: the first start creates a SQLite database under ./data, \
        the instance keypair and the apps named by --apps."
)]
pub struct Cli {
    #[command(flatten)]
    pub hub: HubArgs,

    /// Whether --public-url was left at its default (set by `main` from
    /// clap's value source): commands other than `serve` then take the URL
    /// the hub last served under, so they mint and print its addresses.
    #[arg(skip)]
    pub public_url_defaulted: bool,

    /// Log format on stderr. Levels come from RUST_LOG (default: info for
    /// `serve`, warn for other commands).
    #[arg(long, env = "ROSEFED_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the hub: migrate, bootstrap on first start, serve HTTP.
    Serve {
        /// Address to listen on [default: 127.0.0.1 and the public URL's port].
        #[arg(long, env = "ROSEFED_BIND")]
        bind: Option<SocketAddr>,
        /// Provision publishing-API tokens at start, as NAME=TOKEN pairs
        /// (comma-separated in the environment). For deployments that
        /// inject secrets, such as docker-compose.federation.yml.
        #[arg(long = "app-token", env = "ROSEFED_APP_TOKENS", value_delimiter = ',')]
        app_tokens: Vec<String>,
        /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of
        /// its own so they stay off the public port [default: off].
        #[arg(long, env = "ROSEFED_METRICS_BIND")]
        metrics_bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage member apps (each one is a fediverse actor).
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Inspect the instance keypair.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage members: the accounts that sign in to the hub and, through
    /// it, to every member app (SSO).
    #[command(subcommand)]
    Users(UsersCommand),
    /// List registered OAuth clients (member apps and third parties).
    Clients,
    /// Publish a post as an app (delivered by the running hub).
    Post {
        /// The app to post as.
        app: String,
        /// HTML content, sanitised; with --sexp a markup tree such as
        /// '(p "Hello " (em "you"))' (docs/sexp.md §5).
        #[arg(long)]
        content: String,
        /// The content is a sexp body, not HTML.
        #[arg(long)]
        sexp: bool,
        /// Title; makes the post an Article.
        #[arg(long)]
        title: Option<String>,
        /// URL of the post this replies to.
        #[arg(long)]
        in_reply_to: Option<String>,
    },
    /// Follow a remote actor (URL or @user@host) as an app.
    Follow { app: String, target: String },
    /// Stop following a remote actor as an app.
    Unfollow { app: String, target: String },
    /// Pending follow requests of apps that approve followers by hand.
    #[command(subcommand)]
    FollowRequests(FollowRequestsCommand),
    /// Suspend or unsuspend remote domains (refused at the inbox).
    #[command(subcommand)]
    DomainBlocks(DomainBlocksCommand),
    /// The moderation audit log: who did what, to what, when.
    #[command(subcommand)]
    AuditLog(AuditLogCommand),
    /// The delivery queue.
    #[command(subcommand)]
    Queue(QueueCommand),
}

#[derive(Subcommand, Debug)]
pub enum FollowRequestsCommand {
    /// List pending requests of an app.
    List { app: String },
    /// Accept a pending request.
    Approve { app: String, actor: String },
    /// Refuse a pending request.
    Reject { app: String, actor: String },
}

#[derive(Subcommand, Debug)]
pub enum DomainBlocksCommand {
    /// Block a domain (and its subdomains), or change its block.
    Add {
        domain: String,
        /// suspend: refuse its servers, sever follows both ways, hide its
        /// content; silence: keep its posts off the timeline unless an app
        /// follows the author; noop: only the options below.
        #[arg(long, default_value = "suspend")]
        severity: String,
        /// Strip its posts' attachments (the hub keeps none today).
        #[arg(long)]
        reject_media: bool,
        /// Ignore reports (Flags) from it.
        #[arg(long)]
        reject_reports: bool,
        /// Seen by admins only (alias: --reason).
        #[arg(long, alias = "reason", default_value = "")]
        private_comment: String,
        /// Shown on the public list of blocks.
        #[arg(long, default_value = "")]
        public_comment: String,
        /// Show the domain partly starred on the public list.
        #[arg(long)]
        obfuscate: bool,
    },
    /// Lift a block.
    Remove { domain: String },
    /// List blocks.
    List,
    /// Import Mastodon's domain-block CSV
    /// (#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate):
    /// all lines or none; importing the same file twice changes nothing.
    Import {
        /// The CSV file (`-` for standard input).
        file: std::path::PathBuf,
        /// Only show what would change.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print every block as Mastodon's CSV (private comments left out).
    Export,
}

#[derive(Subcommand, Debug)]
pub enum AuditLogCommand {
    /// The newest moderation actions, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Every entry as CSV, oldest first.
    Export,
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Pending, failed, dead and delivered counts per host.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum AppsCommand {
    /// Create an app and its actor @NAME@host.
    Add {
        /// 1-30 characters of a-z, 0-9 and _.
        name: String,
        /// Name shown on profiles [default: NAME capitalised].
        #[arg(long)]
        display_name: Option<String>,
        /// Plain-text description shown on profiles.
        #[arg(long)]
        summary: Option<String>,
        /// Also register the app as a first-party OAuth client with this
        /// redirect URI (repeatable); the client secret is printed once.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
    },
    /// Create (or re-create with a new secret) the app's first-party OAuth
    /// client. Prints client_id and client_secret once; the secret is
    /// stored hashed. Members signing in to it see no consent screen.
    Oauth {
        name: String,
        /// Exact redirect URI the app receives codes at (repeatable).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
    },
    /// List apps with their handles and follower counts.
    List,
    /// Make a bearer token for the publishing API (shown once, stored
    /// hashed).
    Token { name: String },
    /// Change an app's profile and settings. Only what is given changes;
    /// everything is checked before anything is written. Followers are
    /// sent an Update of the actor (by the running hub), as Mastodon
    /// expects when a profile changes.
    Set {
        name: String,
        /// Name shown on profiles, at most 100 characters; "" restores the
        /// default (NAME capitalised).
        #[arg(long)]
        display_name: Option<String>,
        /// Plain-text description shown on profiles, at most 500
        /// characters; "" empties it.
        #[arg(long)]
        summary: Option<String>,
        /// Set the avatar to this image file: PNG, JPEG, GIF or WebP (told
        /// from its bytes, not its name), at most 2 MiB and 4096 pixels a
        /// side. Square images look best. Without one the app shows a
        /// generated avatar.
        #[arg(long, value_name = "FILE", conflicts_with = "remove_avatar")]
        avatar: Option<std::path::PathBuf>,
        /// Set the header (the profile's banner) to this image file: same
        /// rules as --avatar; about 3:1 (e.g. 1500×500) looks best.
        #[arg(long, value_name = "FILE", conflicts_with = "remove_header")]
        header: Option<std::path::PathBuf>,
        /// Remove the avatar set with --avatar: back to the generated one.
        #[arg(long)]
        remove_avatar: bool,
        /// Remove the header set with --header.
        #[arg(long)]
        remove_header: bool,
        /// Approve followers by hand (true) or accept them at once (false).
        #[arg(long)]
        manually_approves_followers: Option<bool>,
    },
    /// Remove an app. Refused while it has followers unless --force.
    Remove {
        name: String,
        /// Remove even though remote followers still follow it.
        #[arg(long)]
        force: bool,
    },
    /// Send the app's notifications (follows, likes, announces, replies,
    /// mentions) to a webhook: each is POSTed as JSON, with retries,
    /// signed with HMAC-SHA256 under a secret printed once
    /// (`X-Rosefed-Signature: sha256=HEX`).
    Webhook {
        name: String,
        /// The URL to POST to (a new secret is made each time it is set).
        #[arg(long, required_unless_present = "remove")]
        url: Option<String>,
        /// Stop sending notifications to a webhook.
        #[arg(long, conflicts_with = "url")]
        remove: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Create a member. The password is asked for at the terminal (twice),
    /// or read from standard input with --password-stdin; never a flag,
    /// so it stays out of shell history and process lists.
    Add {
        /// 1-30 characters of a-z, 0-9, '_' and '.'.
        name: String,
        #[arg(long)]
        email: String,
        /// May administer the hub.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List members.
    List,
    /// Disable a member: they can no longer sign in, and their sessions
    /// and tokens end at once.
    Disable { name: String },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print the public halves of the instance keypair.
    Show,
}

impl Cli {
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve { .. } => "info",
            _ => "warn",
        }
    }
}

/// Runs a parsed command. Output for people goes to stdout; errors are
/// returned for `main` to print as one line.
pub async fn run(cli: Cli) -> Result<(), AppError> {
    let mut config = Config::from_args(&cli.hub)?;
    if cli.public_url_defaulted && !matches!(cli.command, Command::Serve { .. }) {
        if let Some(served) = served_public_url(&config).await {
            if served != config.base() {
                let mut hub = cli.hub.clone();
                hub.public_url = served;
                config = Config::from_args(&hub)?;
            }
        }
    }
    match cli.command {
        Command::Serve {
            bind,
            app_tokens,
            metrics_bind,
        } => {
            let tokens = app_tokens
                .iter()
                .filter(|t| !t.trim().is_empty())
                .map(|pair| {
                    let (name, token) = pair.split_once('=').ok_or_else(|| {
                        AppError::BadRequest("--app-token takes NAME=TOKEN".into())
                    })?;
                    let token = token.trim();
                    if token.len() < 16 {
                        return Err(AppError::BadRequest(format!(
                            "--app-token for '{name}' is shorter than 16 characters"
                        )));
                    }
                    Ok((AppName::parse(name.trim())?, token.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            server::serve(config, bind, metrics_bind, tokens).await
        }
        Command::Migrate => {
            let db = instance::open_database(&config).await?;
            db.migrate().await?;
            println!(
                "database {} is up to date",
                db::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Apps(cmd) => apps(config, cmd).await,
        Command::Users(cmd) => users(config, cmd).await,
        Command::Clients => list_clients(config).await,
        Command::Post {
            app,
            content,
            sexp,
            title,
            in_reply_to,
        } => {
            let (state, _) = instance::prepare(config).await?;
            let app = AppName::parse(&app)?;
            let post = NewPost {
                kind: Some(if title.is_some() { "Article" } else { "Note" }.into()),
                name: title,
                content,
                content_type: sexp.then(|| crate::formats::sexp::MEDIA_TYPE.to_string()),
                in_reply_to,
            };
            let (id, _) = publish::create_post(&state, &app, &post).await?;
            println!("published {id}; the running hub delivers it");
            Ok(())
        }
        Command::Follow { app, target } => follow_command(config, &app, &target, true).await,
        Command::Unfollow { app, target } => follow_command(config, &app, &target, false).await,
        Command::FollowRequests(cmd) => {
            let (state, _) = instance::prepare(config).await?;
            match cmd {
                FollowRequestsCommand::List { app } => {
                    let app = AppName::parse(&app)?;
                    for f in db::follows::followers_in_state(&state.db, &app, "pending").await? {
                        println!("{}", f.actor_id);
                    }
                }
                FollowRequestsCommand::Approve { app, actor } => {
                    let app = AppName::parse(&app)?;
                    publish::decide_follow_request(&state, &app, &actor, true).await?;
                    println!("approved {actor}");
                }
                FollowRequestsCommand::Reject { app, actor } => {
                    let app = AppName::parse(&app)?;
                    publish::decide_follow_request(&state, &app, &actor, false).await?;
                    println!("rejected {actor}");
                }
            }
            Ok(())
        }
        Command::DomainBlocks(cmd) => domain_blocks_command(config, cmd).await,
        Command::AuditLog(cmd) => {
            let db = instance::open_existing(&config).await?;
            match cmd {
                AuditLogCommand::List { limit } => {
                    for e in db::audit_log::recent(&db, limit.clamp(1, 10_000)).await? {
                        println!(
                            "{}  {:<12} {:<22} {:<30} {} {}",
                            crate::formats::as2::rfc3339(e.at),
                            e.actor,
                            e.action,
                            e.target,
                            e.details,
                            e.comment
                        );
                    }
                }
                AuditLogCommand::Export => {
                    print!(
                        "{}",
                        moderation::audit::to_csv(&db::audit_log::all(&db).await?)?
                    );
                }
            }
            Ok(())
        }
        Command::Queue(QueueCommand::Status) => {
            let db = instance::open_existing(&config).await?;
            let rows = db::delivery::status(&db).await?;
            println!(
                "{:<40} {:>8} {:>8} {:>8} {:>10}",
                "HOST", "PENDING", "FAILED", "DEAD", "DELIVERED"
            );
            for r in rows {
                println!(
                    "{:<40} {:>8} {:>8} {:>8} {:>10}",
                    r.host, r.pending, r.failed, r.dead, r.done
                );
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Show) => {
            let db = instance::open_existing(&config).await?;
            let stored = db::keys::load(&db).await?.ok_or_else(|| {
                AppError::NotFound(
                    "this database has no instance keypair yet: run `rosefed serve` once".into(),
                )
            })?;
            let keys = InstanceKeys::from_stored(&stored)?;
            println!("RSA-2048 (HTTP Signatures; publicKey of every actor)");
            println!("  sha256:{}", keys.rsa_fingerprint());
            print!("{}", keys.rsa_public_pem());
            println!("Ed25519 (Multikey, assertionMethod of every actor)");
            println!("  {}", keys.ed25519_multibase());
            Ok(())
        }
    }
}

async fn apps(config: Config, cmd: AppsCommand) -> Result<(), AppError> {
    if let AppsCommand::List = cmd {
        // Read-only: never bootstraps a database a typo pointed at.
        let db = instance::open_existing(&config).await?;
        return list_apps(&db, &config).await;
    }
    let (state, _) = instance::prepare(config).await?;
    let (db, config) = (&state.db, &state.config);
    match cmd {
        AppsCommand::Add {
            name,
            display_name,
            summary,
            redirect_uris,
        } => {
            let name = AppName::parse(&name)?;
            if !redirect_uris.is_empty() {
                for uri in &redirect_uris {
                    oauth::clients::check_redirect_uri(uri, config.mode)
                        .map_err(AppError::BadRequest)?;
                }
            }
            let app = actors::apps::new_app(name, display_name.as_deref(), summary.as_deref())?;
            actors::apps::add(db, config, &app).await?;
            println!(
                "added {} ({}) at {}",
                config.handle(&app.name),
                app.display_name,
                config.actor_id(&app.name)
            );
            if !redirect_uris.is_empty() {
                print_client(
                    &oauth::clients::register_app(db, config.mode, &app.name, &redirect_uris)
                        .await?,
                    config,
                );
            }
        }
        AppsCommand::Oauth {
            name,
            redirect_uris,
        } => {
            let name = AppName::parse(&name)?;
            print_client(
                &oauth::clients::register_app(db, config.mode, &name, &redirect_uris).await?,
                config,
            );
        }
        AppsCommand::List => list_apps(db, config).await?,
        AppsCommand::Token { name } => {
            let name = AppName::parse(&name)?;
            if db::apps::get(db, &name).await?.is_none() {
                return Err(AppError::NotFound(format!("no app named '{name}'")));
            }
            let token = app_token::new_token()?;
            db::activities::add_token(db, &name, &app_token::token_hash(&token)).await?;
            println!("{token}");
            eprintln!("token for '{name}': shown once, stored hashed. Use it as `Authorization: Bearer <token>`.");
        }
        AppsCommand::Set {
            name,
            display_name,
            summary,
            avatar,
            header,
            remove_avatar,
            remove_header,
            manually_approves_followers,
        } => {
            let name = AppName::parse(&name)?;
            let change = crate::outbox::profile::ProfileChange {
                display_name,
                summary,
                manually_approves_followers,
                avatar: media_change(MediaKind::Avatar, avatar.as_deref(), remove_avatar)?,
                header: media_change(MediaKind::Header, header.as_deref(), remove_header)?,
            };
            let done = crate::outbox::profile::update_profile(&state, &name, change).await?;
            if done.changes.is_empty() {
                println!("{}: nothing changed", config.handle(&name));
            } else {
                println!("updated {}:", config.handle(&name));
                for line in &done.changes {
                    println!("  {line}");
                }
                if done.update_queued_for > 0 {
                    println!(
                        "an Update is queued for {} follower inbox(es); the running hub delivers it",
                        done.update_queued_for
                    );
                }
            }
        }
        AppsCommand::Webhook { name, url, remove } => {
            let name = AppName::parse(&name)?;
            if db::apps::get(db, &name).await?.is_none() {
                return Err(AppError::NotFound(format!("no app named '{name}'")));
            }
            match url {
                Some(url) if !remove => {
                    let secret = crate::notifications::set_webhook(db, config, &name, &url).await?;
                    println!("{secret}");
                    eprintln!("webhook for '{name}': {url}. The secret above is shown once; check X-Rosefed-Signature (sha256=HMAC of the body) with it.");
                }
                _ => {
                    if !db::notifications::remove_webhook(db, name.as_str()).await? {
                        return Err(AppError::NotFound(format!("app '{name}' has no webhook")));
                    }
                    println!("removed the webhook of {name}");
                }
            }
        }
        AppsCommand::Remove { name, force } => {
            let name = AppName::parse(&name)?;
            actors::apps::remove(db, &name, force).await?;
            println!("removed {}", config.handle(&name));
        }
    }
    Ok(())
}

/// The change `apps set` asks for one image: a file's bytes (read here,
/// checked by the same rules as everywhere), its removal, or none.
fn media_change(
    kind: MediaKind,
    file: Option<&std::path::Path>,
    remove: bool,
) -> Result<Option<crate::outbox::profile::MediaChange>, AppError> {
    let Some(path) = file else {
        return Ok(remove.then_some(crate::outbox::profile::MediaChange::Remove));
    };
    let cannot = |e: std::io::Error| {
        AppError::BadRequest(format!(
            "cannot read the {kind} file {}: {e}",
            path.display()
        ))
    };
    // An oversized file is refused before it is read whole.
    actors::media::check_size(kind, std::fs::metadata(path).map_err(cannot)?.len())?;
    let bytes = std::fs::read(path).map_err(cannot)?;
    Ok(Some(crate::outbox::profile::MediaChange::Set(bytes)))
}

/// Who the CLI is in the audit log.
const CLI_ACTOR: &str = "cli";

/// Returns once every running hub applies a moderation change just
/// committed: they notice another process's change within
/// [`db::gate::SEEN_WITHIN`] (plus the read that notices it), so a block
/// the command reports made is already in force when it returns.
async fn seen_by_running_hubs() {
    tokio::time::sleep(2 * db::gate::SEEN_WITHIN).await;
}

async fn domain_blocks_command(config: Config, cmd: DomainBlocksCommand) -> Result<(), AppError> {
    let (state, _) = instance::prepare(config).await?;
    let (db, config) = (&state.db, &state.config);
    match cmd {
        DomainBlocksCommand::Add {
            domain,
            severity,
            reject_media,
            reject_reports,
            private_comment,
            public_comment,
            obfuscate,
        } => {
            let spec = domain_blocks::BlockSpec {
                domain,
                severity: domain_blocks::Severity::parse(&severity)?,
                reject_media,
                reject_reports,
                private_comment,
                public_comment,
                obfuscate,
            };
            let (domain, outcome) = domain_blocks::apply(db, config, CLI_ACTOR, &spec).await?;
            seen_by_running_hubs().await;
            let what = match outcome {
                domain_blocks::Outcome::Created => "blocked",
                domain_blocks::Outcome::Updated => "changed the block of",
                domain_blocks::Outcome::Unchanged => "no change to the block of",
            };
            println!(
                "{what} {domain} and its subdomains ({})",
                spec.severity.as_str()
            );
        }
        DomainBlocksCommand::Remove { domain } => {
            let domain = domain_blocks::remove(db, config, CLI_ACTOR, &domain).await?;
            seen_by_running_hubs().await;
            println!("unblocked {domain}");
        }
        DomainBlocksCommand::List => {
            for b in domain_blocks::list(db).await? {
                let mut options = Vec::new();
                for (set, name) in [
                    (b.reject_media, "reject_media"),
                    (b.reject_reports, "reject_reports"),
                    (b.obfuscate, "obfuscate"),
                ] {
                    if set != 0 {
                        options.push(name);
                    }
                }
                println!(
                    "{:<40} {:<8} {:<40} {}",
                    b.domain,
                    b.severity,
                    options.join(","),
                    b.private_comment
                );
            }
        }
        DomainBlocksCommand::Import { file, dry_run } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| AppError::BadRequest(format!("cannot read standard input: {e}")))?
            } else {
                std::fs::read_to_string(&file).map_err(|e| {
                    AppError::BadRequest(format!("cannot read {}: {e}", file.display()))
                })?
            };
            let specs = domain_blocks::parse_csv(&text, config).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("line {}: {}", e.line, e.why))
                    .collect();
                AppError::BadRequest(format!(
                    "{} has {} bad line(s), nothing imported: {}",
                    file.display(),
                    errors.len(),
                    lines.join("; ")
                ))
            })?;
            let planned = if dry_run {
                domain_blocks::plan(db, config, &specs).await?
            } else {
                let done = domain_blocks::import(db, config, CLI_ACTOR, &specs).await?;
                seen_by_running_hubs().await;
                done
            };
            let count =
                |o: domain_blocks::Outcome| planned.iter().filter(|p| p.outcome == o).count();
            for p in &planned {
                println!(
                    "{:<10} {:<40} {}",
                    format!("{:?}", p.outcome).to_lowercase(),
                    p.domain,
                    p.severity.as_str()
                );
            }
            println!(
                "{}: {} new, {} changed, {} unchanged",
                if dry_run { "would import" } else { "imported" },
                count(domain_blocks::Outcome::Created),
                count(domain_blocks::Outcome::Updated),
                count(domain_blocks::Outcome::Unchanged)
            );
        }
        DomainBlocksCommand::Export => {
            print!(
                "{}",
                domain_blocks::to_csv(&domain_blocks::list(db).await?)?
            );
        }
    }
    Ok(())
}

/// The public URL the hub last served under, when its database exists and
/// says; a command that needs the database reports its own errors.
async fn served_public_url(config: &Config) -> Option<String> {
    let db = db::Db::connect(&config.database_url, 1, false).await.ok()?;
    db::settings::get(&db, db::settings::PUBLIC_URL)
        .await
        .ok()
        .flatten()
}

fn print_client(creds: &oauth::clients::Credentials, config: &Config) {
    println!("client_id: {}", creds.client.client_id);
    if let Some(secret) = &creds.secret {
        println!("client_secret: {secret}");
    }
    eprintln!(
        "the secret is shown once and stored hashed; discovery: {}",
        config.url("/.well-known/openid-configuration")
    );
}

async fn users(config: Config, cmd: UsersCommand) -> Result<(), AppError> {
    let (state, _) = instance::prepare(config).await?;
    let db = &state.db;
    match cmd {
        UsersCommand::Add {
            name,
            email,
            admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = oauth::users::add(db, &name, &email, &password, admin).await?;
            println!(
                "added member {} <{}>{}",
                user.username,
                user.email,
                if admin { " (admin)" } else { "" }
            );
        }
        UsersCommand::List => {
            println!("{:<30} {:<40} {:<6} STATUS", "NAME", "EMAIL", "ADMIN");
            for u in db::users::list(db).await? {
                println!(
                    "{:<30} {:<40} {:<6} {}",
                    u.username,
                    u.email,
                    if u.is_admin != 0 { "yes" } else { "no" },
                    if u.is_disabled() {
                        "disabled"
                    } else {
                        "active"
                    }
                );
            }
        }
        UsersCommand::Disable { name } => {
            oauth::users::disable(db, &name).await?;
            println!("disabled {name}; their sessions and tokens are revoked");
        }
    }
    Ok(())
}

/// A new member's password: one line from stdin, or asked twice at the
/// terminal without echo.
fn read_password(from_stdin: bool) -> Result<String, AppError> {
    use std::io::{BufRead, IsTerminal};
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            AppError::BadRequest(format!("cannot read the password from stdin: {e}"))
        })?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::BadRequest(
            "no terminal to ask for the password: pipe it in with --password-stdin".into(),
        ));
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| AppError::BadRequest(format!("cannot read the password: {e}")))?;
    oauth::passwords::check(&first)?;
    let second = rpassword::prompt_password("Repeat the password: ")
        .map_err(|e| AppError::BadRequest(format!("cannot read the password: {e}")))?;
    if first != second {
        return Err(AppError::BadRequest("the passwords differ".into()));
    }
    Ok(first)
}

async fn list_clients(config: Config) -> Result<(), AppError> {
    let db = instance::open_existing(&config).await?;
    println!("{:<34} {:<24} {:<12} SCOPES", "CLIENT ID", "NAME", "KIND");
    for c in db::oauth::clients(&db).await? {
        let kind = match (c.is_first_party(), c.is_public()) {
            (true, _) => "member app",
            (false, true) => "public",
            (false, false) => "third party",
        };
        println!(
            "{:<34} {:<24} {:<12} {}",
            c.client_id, c.name, kind, c.scopes
        );
    }
    Ok(())
}

async fn list_apps(db: &db::Db, config: &Config) -> Result<(), AppError> {
    let apps = db::apps::list(db).await?;
    if apps.is_empty() {
        println!("no apps; add one with `rosefed apps add NAME`");
        return Ok(());
    }
    println!(
        "{:<20} {:<40} {:>9}  DISPLAY NAME",
        "NAME", "HANDLE", "FOLLOWERS"
    );
    for app in apps {
        let followers =
            collections::count(db, &app.name, collections::Collection::Followers).await?;
        println!(
            "{:<20} {:<40} {:>9}  {}",
            app.name,
            config.handle(&app.name),
            followers,
            app.display_name
        );
    }
    Ok(())
}

async fn follow_command(
    config: Config,
    app: &str,
    target: &str,
    follow: bool,
) -> Result<(), AppError> {
    let (state, _) = instance::prepare(config).await?;
    let app = AppName::parse(app)?;
    let activity = if follow {
        publish::follow(&state, &app, target).await?
    } else {
        publish::unfollow(&state, &app, target).await?
    };
    println!("sent {}", activity["id"].as_str().unwrap_or_default());
    Ok(())
}
