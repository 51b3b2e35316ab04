//! Domain blocks with Mastodon's severities (`silence`, `suspend`, `noop`)
//! and options (`reject_media`, `reject_reports`, comments, `obfuscate`),
//! added, changed, removed and imported or exported as Mastodon's CSV, each
//! change recorded in the audit log in the transaction that makes it. What each
//! severity does is enforced where the traffic is: the inbox refuses a
//! suspended domain and ignores reports from one that rejects them; the
//! timeline and post pages leave out what is hidden. A domain is checked and put in its one
//! stored form (lower case, IDNA to ASCII, no trailing dot) before it is
//! stored, so `Evil.Example.` and `evil.example` are one block, a typo
//! such as `evil example` is refused rather than stored as a block that
//! never matches, and the hub cannot block itself.

use serde_json::json;
use sqlx::AnyConnection;

use super::check_comment;
use crate::config::{Config, Mode};
use crate::db::{self, domain_blocks::DomainBlock, now_millis, Db};
use crate::error::AppError;

/// The stored form of a domain an admin typed, or why it is not one.
pub fn domain(text: &str, config: &Config) -> Result<String, AppError> {
    let trimmed = text.trim().trim_end_matches('.');
    let refuse = |why: &str| AppError::BadRequest(format!("'{text}' {why}"));
    if trimmed.is_empty() || trimmed.contains(['/', ':', '@', '*']) {
        return Err(refuse(
            "is not a domain name (give just the host, e.g. spam.example)",
        ));
    }
    // In development mode peers may be named by an IP address or a name
    // without a dot (`localhost`, a container's name), as federation there
    // allows; so may their blocks. In production both are refused: such a
    // block would never match a public server.
    let development = config.mode == Mode::Development;
    let domain = match url::Host::parse(trimmed) {
        Ok(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Ok(ip) if development => ip.to_string(),
        Ok(_) => return Err(refuse("is an IP address; block its domain name instead")),
        Err(_) => return Err(refuse("is not a domain name")),
    };
    if !domain.contains('.') && !development {
        return Err(refuse("is not a public domain name (it has no dot)"));
    }
    let ours = config.domain().to_ascii_lowercase();
    if domain == ours || ours.ends_with(&format!(".{domain}")) {
        return Err(refuse("would block this hub itself"));
    }
    Ok(domain)
}

/// What a block does to a domain's servers, as Mastodon's severities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Their posts stay off the timeline unless an app follows the author.
    Silence,
    /// Refused at ingress; follows both ways severed; their content hidden.
    Suspend,
    /// Nothing but the options (e.g. only `reject_reports`).
    Noop,
}

impl Severity {
    pub fn parse(text: &str) -> Result<Severity, AppError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "silence" => Ok(Severity::Silence),
            "suspend" => Ok(Severity::Suspend),
            "noop" => Ok(Severity::Noop),
            other => Err(AppError::BadRequest(format!(
                "unknown severity '{}': use silence, suspend or noop",
                other.escape_debug()
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Silence => "silence",
            Severity::Suspend => "suspend",
            Severity::Noop => "noop",
        }
    }
}

/// A block as an admin asks for it (from the CLI, a form or a CSV line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSpec {
    /// As typed; checked by [`domain`].
    pub domain: String,
    pub severity: Severity,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    /// Show the domain partly starred on the public list.
    pub obfuscate: bool,
}

impl BlockSpec {
    /// A suspension with nothing else set.
    pub fn suspend(domain: &str) -> BlockSpec {
        BlockSpec {
            domain: domain.to_string(),
            severity: Severity::Suspend,
            reject_media: false,
            reject_reports: false,
            private_comment: String::new(),
            public_comment: String::new(),
            obfuscate: false,
        }
    }

    /// The stored row this spec makes, its domain checked; `existing`
    /// keeps its creation time.
    fn to_row(
        &self,
        config: &Config,
        existing: Option<&DomainBlock>,
    ) -> Result<DomainBlock, AppError> {
        let domain = domain(&self.domain, config)?;
        check_comment("private comment", &self.private_comment)?;
        check_comment("public comment", &self.public_comment)?;
        let now = now_millis();
        Ok(DomainBlock {
            domain,
            severity: self.severity.as_str().to_string(),
            reject_media: i64::from(self.reject_media),
            reject_reports: i64::from(self.reject_reports),
            private_comment: self.private_comment.trim().to_string(),
            public_comment: self.public_comment.trim().to_string(),
            obfuscate: i64::from(self.obfuscate),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
        })
    }
}

/// Whether two rows block alike (ignoring times).
fn same_block(a: &DomainBlock, b: &DomainBlock) -> bool {
    (
        &a.severity,
        a.reject_media,
        a.reject_reports,
        &a.private_comment,
        &a.public_comment,
        a.obfuscate,
    ) == (
        &b.severity,
        b.reject_media,
        b.reject_reports,
        &b.private_comment,
        &b.public_comment,
        b.obfuscate,
    )
}

/// What applying a block did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Adds or changes the block of `spec.domain`, as `by` (an admin's name,
/// or `cli`): in one transaction, the block, the follows a suspension
/// severs, and the audit entry. Returns the domain as stored.
pub async fn apply(
    db: &Db,
    config: &Config,
    by: &str,
    spec: &BlockSpec,
) -> Result<(String, Outcome), AppError> {
    let mut tx = db.begin().await?;
    let (row, outcome) = apply_in(&mut tx, config, by, spec).await?;
    db::gate::commit(db, tx).await?;
    Ok((row.domain, outcome))
}

/// As [`apply`], inside the caller's transaction (a report resolved with
/// a block is one change), which the caller commits with
/// [`db::gate::commit`] so this process's inbox sees the block at once.
pub async fn apply_in(
    conn: &mut AnyConnection,
    config: &Config,
    by: &str,
    spec: &BlockSpec,
) -> Result<(DomainBlock, Outcome), AppError> {
    let domain = domain(&spec.domain, config)?;
    let existing = db::domain_blocks::get_in(conn, &domain).await?;
    let row = spec.to_row(config, existing.as_ref())?;
    let outcome = match &existing {
        None => Outcome::Created,
        Some(old) if same_block(old, &row) => return Ok((row, Outcome::Unchanged)),
        Some(_) => Outcome::Updated,
    };
    db::domain_blocks::upsert(conn, &row).await?;
    let severed = if spec.severity == Severity::Suspend {
        db::domain_blocks::sever_follows(conn, &domain).await?
    } else {
        0
    };
    let action = match outcome {
        Outcome::Created => "domain_block.create",
        _ => "domain_block.update",
    };
    db::audit_log::append(
        conn,
        by,
        action,
        &domain,
        &row.private_comment,
        &json!({
            "severity": row.severity,
            "reject_media": spec.reject_media,
            "reject_reports": spec.reject_reports,
            "public_comment": row.public_comment,
            "obfuscate": spec.obfuscate,
            "follows_severed": severed,
        }),
    )
    .await?;
    tracing::info!(by, domain = %domain, severity = %row.severity, follows_severed = severed, ?outcome, "domain block applied");
    Ok((row, outcome))
}

/// Lifts the block of `text`'s domain, as `by`; NotFound if there was none.
pub async fn remove(db: &Db, config: &Config, by: &str, text: &str) -> Result<String, AppError> {
    let domain = domain(text, config)?;
    let mut tx = db.begin().await?;
    if !db::domain_blocks::remove(&mut tx, &domain).await? {
        return Err(AppError::NotFound(format!("{domain} is not blocked")));
    }
    db::audit_log::append(&mut tx, by, "domain_block.remove", &domain, "", &json!({})).await?;
    db::gate::commit(db, tx).await?;
    tracing::info!(by, domain = %domain, "domain block lifted");
    Ok(domain)
}

pub async fn list(db: &Db) -> Result<Vec<DomainBlock>, AppError> {
    db::domain_blocks::list(db).await
}

/// A domain as the public list shows an obfuscated block: every other
/// letter of the labels before the last starred (`ev*l.ex*mple` style), so
/// people who know it can recognise it and nobody is sent there.
pub fn obfuscated(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    let last = labels.len().saturating_sub(1);
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            if i == last {
                return label.to_string();
            }
            label
                .chars()
                .enumerate()
                .map(|(j, c)| if j % 2 == 1 { '*' } else { c })
                .collect()
        })
        .collect::<Vec<String>>()
        .join(".")
}

// ----------------------------------------------------------------- CSV

/// The header of Mastodon's domain-block export, which its import takes.
pub const CSV_HEADER: [&str; 6] = [
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
];

/// A CSV line that could not be used, by its line number (1 = the header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub why: String,
}

/// Reads a CSV in Mastodon's format. Every line is checked; any bad line
/// fails the whole file (each named by its number), so nothing is ever
/// half-imported. A domain given twice is refused too.
pub fn parse_csv(text: &str, config: &Config) -> Result<Vec<BlockSpec>, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![LineError {
                line: 1,
                why: e.to_string(),
            }])
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(domain_col) = column("#domain") else {
        return Err(vec![LineError {
            line: 1,
            why: format!("no #domain column; the header is {}", CSV_HEADER.join(",")),
        }]);
    };
    let cols = CSV_HEADER.map(column);
    let mut specs: Vec<BlockSpec> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(LineError {
                    line,
                    why: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let flag = |i: usize| -> Result<bool, String> {
            match field(cols[i]).to_ascii_lowercase().as_str() {
                "" | "false" => Ok(false),
                "true" => Ok(true),
                other => Err(format!(
                    "{} must be true or false, not '{other}'",
                    CSV_HEADER[i]
                )),
            }
        };
        let parsed = (|| -> Result<BlockSpec, String> {
            let domain_text = field(Some(domain_col));
            let domain = domain(domain_text, config).map_err(|e| e.to_string())?;
            let severity = match field(cols[1]) {
                "" => Severity::Suspend,
                s => Severity::parse(s).map_err(|e| e.to_string())?,
            };
            let spec = BlockSpec {
                domain,
                severity,
                reject_media: flag(2)?,
                reject_reports: flag(3)?,
                private_comment: String::new(),
                public_comment: field(cols[4]).to_string(),
                obfuscate: flag(5)?,
            };
            spec.to_row(config, None).map_err(|e| e.to_string())?;
            Ok(spec)
        })();
        match parsed {
            Ok(spec) => {
                if let Some(first) = seen.insert(spec.domain.clone(), line) {
                    errors.push(LineError {
                        line,
                        why: format!("{} is already on line {first}", spec.domain),
                    });
                } else {
                    specs.push(spec);
                }
            }
            Err(why) => errors.push(LineError { line, why }),
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

/// The blocks as Mastodon's CSV (private comments stay private).
pub fn to_csv(blocks: &[DomainBlock]) -> Result<String, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    writer.write_record(CSV_HEADER).map_err(write_err)?;
    for b in blocks {
        let flag = |v: i64| if v != 0 { "true" } else { "false" };
        writer
            .write_record([
                b.domain.as_str(),
                b.severity.as_str(),
                flag(b.reject_media),
                flag(b.reject_reports),
                b.public_comment.as_str(),
                flag(b.obfuscate),
            ])
            .map_err(write_err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// What importing would do to each domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub domain: String,
    pub severity: Severity,
    pub outcome: Outcome,
}

/// What importing `specs` would change, without changing anything (the
/// preview).
pub async fn plan(db: &Db, config: &Config, specs: &[BlockSpec]) -> Result<Vec<Planned>, AppError> {
    let existing = db::domain_blocks::list(db).await?;
    specs
        .iter()
        .map(|spec| {
            let domain = domain(&spec.domain, config)?;
            let old = existing.iter().find(|b| b.domain == domain);
            let row = spec.to_row(config, old)?;
            let outcome = match old {
                None => Outcome::Created,
                Some(old) if same_block(old, &imported(old, &row)) => Outcome::Unchanged,
                Some(_) => Outcome::Updated,
            };
            Ok(Planned {
                domain,
                severity: spec.severity,
                outcome,
            })
        })
        .collect()
}

/// An imported line carries no private comment: the one already kept stays.
fn imported(old: &DomainBlock, row: &DomainBlock) -> DomainBlock {
    DomainBlock {
        private_comment: old.private_comment.clone(),
        ..row.clone()
    }
}

/// Imports `specs` in one transaction (all or nothing), as `by`: new
/// domains are blocked, listed ones updated, the rest left alone; private
/// comments already kept stay. Idempotent: importing the same file again
/// changes nothing and logs nothing.
pub async fn import(
    db: &Db,
    config: &Config,
    by: &str,
    specs: &[BlockSpec],
) -> Result<Vec<Planned>, AppError> {
    let mut tx = db.begin().await?;
    let mut done = Vec::with_capacity(specs.len());
    for spec in specs {
        let domain = domain(&spec.domain, config)?;
        let mut spec = spec.clone();
        if let Some(old) = db::domain_blocks::get_in(&mut tx, &domain).await? {
            spec.private_comment = old.private_comment;
        }
        let (row, outcome) = apply_in(&mut tx, config, by, &spec).await?;
        done.push(Planned {
            domain: row.domain,
            severity: spec.severity,
            outcome,
        });
    }
    db::gate::commit(db, tx).await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HubArgs;

    fn config() -> Config {
        Config::from_args(&HubArgs::with_public_url("https://social.coop.example")).unwrap()
    }

    #[test]
    fn domains_are_checked_and_normalised() {
        let c = config();
        assert_eq!(domain(" Spam.Example. ", &c).unwrap(), "spam.example");
        assert_eq!(
            domain("bücher.example", &c).unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "spam example",
            "https://spam.example/",
            "spam.example:443",
            "user@spam.example",
            "*.spam.example",
            "192.0.2.1",
            "localhost",
            "social.coop.example",
            "coop.example",
        ] {
            assert!(domain(bad, &c).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn development_hubs_may_block_local_names() {
        let dev = Config::from_args(&HubArgs::with_public_url("http://127.0.0.1:8080")).unwrap();
        assert_eq!(domain("LocalHost", &dev).unwrap(), "localhost");
        assert_eq!(domain("rosefed-b", &dev).unwrap(), "rosefed-b");
        assert_eq!(domain("10.0.0.7", &dev).unwrap(), "10.0.0.7");
        assert!(domain("127.0.0.1", &dev).is_err(), "itself");
    }

    #[test]
    fn severities() {
        for s in ["silence", "suspend", "noop", " SUSPEND "] {
            assert_eq!(
                Severity::parse(s).unwrap().as_str(),
                s.trim().to_lowercase()
            );
        }
        let e = Severity::parse("ban").unwrap_err().to_string();
        assert!(e.contains("unknown severity 'ban'"), "{e}");
    }

    #[test]
    fn obfuscation_keeps_the_shape() {
        assert_eq!(obfuscated("evil.example"), "e*i*.example");
        assert_eq!(obfuscated("a.b.social"), "a.b.social");
        assert_eq!(obfuscated("spam.host.social"), "s*a*.h*s*.social");
    }

    #[test]
    fn mastodon_csv_reads_writes_and_reports_every_bad_line() {
        let c = config();
        let text = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
                    spam.example,suspend,false,false,\"Spam, lots\",false\n\
                    Loud.Example.,silence,true,true,,true\n\
                    \n\
                    quiet.example,noop,false,true,,false\n";
        let specs = parse_csv(text, &c).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[0].public_comment, "Spam, lots");
        assert_eq!(specs[1].domain, "loud.example");
        assert_eq!(specs[1].severity, Severity::Silence);
        assert!(specs[1].reject_media && specs[1].reject_reports && specs[1].obfuscate);
        // Only a domain column is enough (older exports); severity defaults
        // to suspend.
        let minimal = parse_csv("#domain\nold.example\n", &c).unwrap();
        assert_eq!(minimal[0].severity, Severity::Suspend);

        let bad = "#domain,#severity,#reject_media\n\
                   good.example,suspend,false\n\
                   not a domain,suspend,false\n\
                   ok.example,ban,false\n\
                   fine.example,silence,maybe\n\
                   social.coop.example,suspend,false\n\
                   good.example,silence,false\n";
        let errors = parse_csv(bad, &c).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7], "{errors:?}");
        assert!(errors[1].why.contains("unknown severity"), "{errors:?}");
        assert!(
            errors[2]
                .why
                .contains("#reject_media must be true or false"),
            "{errors:?}"
        );
        assert!(errors[3].why.contains("this hub itself"), "{errors:?}");
        assert!(errors[4].why.contains("already on line 2"), "{errors:?}");
        assert_eq!(parse_csv("domain\nx.example\n", &c).unwrap_err()[0].line, 1);
    }

    #[test]
    fn export_reads_back_the_same() {
        let c = config();
        let row = |domain: &str, severity: &str, comment: &str| DomainBlock {
            domain: domain.into(),
            severity: severity.into(),
            reject_media: 1,
            reject_reports: 0,
            private_comment: "never exported".into(),
            public_comment: comment.into(),
            obfuscate: 1,
            created_at: 0,
            updated_at: 0,
        };
        let blocks = [
            row("a.example", "suspend", "quotes \" and, commas\nand lines"),
            row("b.example", "noop", ""),
        ];
        let csv = to_csv(&blocks).unwrap();
        assert!(csv.starts_with(&CSV_HEADER.join(",")), "{csv}");
        assert!(!csv.contains("never exported"));
        let specs = parse_csv(&csv, &c).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].public_comment, "quotes \" and, commas\nand lines");
        assert_eq!(specs[1].severity, Severity::Noop);
        assert!(specs[0].reject_media && specs[0].obfuscate && !specs[0].reject_reports);
    }
}
