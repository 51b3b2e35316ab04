//! Members: creating, listing and disabling accounts (the `rosefed users`
//! commands). Signing in is in `endpoints::login`.

use crate::db::{self, users::User, Db};
use crate::error::AppError;
use crate::secrets;

/// Same rule as app names, so a member's name is safe in every URL and log.
fn check_username(name: &str) -> Result<(), AppError> {
    let ok = (1..=30).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "'{name}' is not a valid user name: use 1-30 characters of a-z, 0-9, '_' and '.'"
        )))
    }
}

fn check_email(email: &str) -> Result<(), AppError> {
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "'{email}' is not an email address"
        )))
    }
}

pub async fn add(
    db: &Db,
    username: &str,
    email: &str,
    password: &str,
    admin: bool,
) -> Result<User, AppError> {
    check_username(username)?;
    check_email(email)?;
    let password_hash = super::passwords::hash(password)?;
    let user = User {
        id: secrets::random_hex(16)?,
        username: username.to_string(),
        email: email.to_string(),
        password_hash,
        is_admin: i64::from(admin),
        disabled: 0,
        created_at: db::now_millis(),
    };
    db::users::insert(db, &user).await?;
    Ok(user)
}

pub async fn disable(db: &Db, username: &str) -> Result<(), AppError> {
    if db::users::disable(db, username).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no member named '{username}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("Alice").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_email("a@coop.example").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a @b.c").is_err());
    }
}
