//! Server invites: what `REGISTRATION=invite` asks a new account for.

use sqlx::FromRow;

use super::{Db, Tx};

/// A server invite.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ServerInvite {
    /// The secret that registers.
    pub code: String,
    /// The admin who made it (`None`: the admin command).
    pub created_by: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms; `None`: never.
    pub expires_at: Option<i64>,
    /// `None`: unlimited.
    pub max_uses: Option<i64>,
    /// Accounts made with it.
    pub uses: i64,
    /// Unix ms when revoked.
    pub revoked_at: Option<i64>,
    /// What the admin noted about it.
    pub note: String,
}

impl ServerInvite {
    /// Whether it still registers an account at `now`.
    pub fn usable(&self, now: i64) -> bool {
        super::invite_usable(
            self.revoked_at,
            self.expires_at,
            self.max_uses,
            self.uses,
            now,
        )
    }
}

const COLS: &str = "code, created_by, created_at, expires_at, max_uses, uses, revoked_at, note";

/// Stores a new server invite.
pub async fn create_server_invite(db: &Db, invite: &ServerInvite) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO server_invites (code, created_by, created_at, expires_at, max_uses, uses, note) \
         VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(&invite.code)
    .bind(&invite.created_by)
    .bind(invite.created_at)
    .bind(invite.expires_at)
    .bind(invite.max_uses)
    .bind(&invite.note)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Every server invite, newest first.
pub async fn server_invites(db: &Db) -> Result<Vec<ServerInvite>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM server_invites ORDER BY created_at DESC, code"
    ))
    .fetch_all(db.reader())
    .await
}

/// Revokes a server invite; `false` when there is no such code or it was
/// revoked already.
pub async fn revoke_server_invite(db: &Db, code: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE server_invites SET revoked_at = $2 WHERE code = $1 AND revoked_at IS NULL",
    )
    .bind(code)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A server invite by code, whatever its state.
pub async fn server_invite(db: &Db, code: &str) -> Result<Option<ServerInvite>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM server_invites WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(db.reader())
    .await
}

/// Whether a server invite would register an account now (read only: the
/// use is spent by [`spend_server_invite`]).
pub async fn server_invite_usable(db: &Db, code: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(server_invite(db, code)
        .await?
        .is_some_and(|i| i.usable(now)))
}

/// Spends one use of a server invite, in the transaction that makes the
/// account; `false` when it is unknown, revoked, expired or used up. The
/// check and the count are one statement, so two registrations cannot both
/// take an invite's last use.
pub async fn spend_server_invite(tx: &mut Tx, code: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE server_invites SET uses = uses + 1 \
         WHERE code = $1 AND revoked_at IS NULL \
           AND (expires_at IS NULL OR expires_at > $2) \
           AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(code)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// A new invite code: 192 random bits, base64url (32 characters), never
/// beginning with `-` or `_`, so that a code pasted after a command-line
/// option (`--invite CODE`) is not read as another option.
pub fn new_code() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    loop {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let code = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if code.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return code;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_begin_with_a_letter_or_digit() {
        for _ in 0..2_000 {
            let code = super::new_code();
            assert_eq!(code.len(), 32);
            assert!(
                code.starts_with(|c: char| c.is_ascii_alphanumeric()),
                "{code}"
            );
        }
    }
}
