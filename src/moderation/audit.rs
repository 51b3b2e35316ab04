//! The audit log's export: every moderation action as CSV, oldest first,
//! for keeping outside the hub or reading in a spreadsheet.

use crate::db::audit_log::Entry;
use crate::error::AppError;
use crate::formats::as2::rfc3339;

pub fn to_csv(entries: &[Entry]) -> Result<String, AppError> {
    let write_err = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["at", "actor", "action", "target", "comment", "details"])
        .map_err(write_err)?;
    for e in entries {
        writer
            .write_record([
                rfc3339(e.at).as_str(),
                &e.actor,
                &e.action,
                &e.target,
                &e.comment,
                &e.details,
            ])
            .map_err(write_err)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}
