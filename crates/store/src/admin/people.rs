//! People of the console: their rows, invitations, sessions and failed
//! sign-ins. Tokens arrive here already hashed; passwords as PHC strings.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};

/// A person, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRow {
    pub id: Uuid,
    /// `None`: a super admin.
    pub clinic_id: Option<Uuid>,
    pub email: String,
    pub name: String,
    /// `viewer`, `editor` or `admin`.
    pub role: String,
    /// Whether a password is set (the invitation was accepted).
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "p.id, p.clinic_id, p.email, p.name, p.role, p.password_hash IS NOT NULL, p.created_at";

fn from_row(r: &tokio_postgres::Row) -> PersonRow {
    PersonRow {
        id: r.get(0),
        clinic_id: r.get(1),
        email: r.get(2),
        name: r.get(3),
        role: r.get(4),
        active: r.get(5),
        created_at: r.get(6),
    }
}

/// A new person, not yet able to sign in. `Conflict { people_email }` when
/// the email is taken.
pub async fn insert(
    tx: &impl GenericClient,
    clinic_id: Option<Uuid>,
    email: &str,
    name: &str,
    role: &str,
) -> StoreResult<PersonRow> {
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO people AS p (clinic_id, email, name, role) VALUES ($1, $2, $3, $4) \
                 RETURNING {COLUMNS}"
            ),
            &[&clinic_id, &email, &name, &role],
        )
        .await?;
    Ok(from_row(&row))
}

/// A person by id; with `clinic_id`, only of that clinic.
pub async fn get(
    client: &impl GenericClient,
    clinic_id: Option<Uuid>,
    id: Uuid,
) -> StoreResult<PersonRow> {
    client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM people p WHERE p.id = $1 \
                 AND ($2::uuid IS NULL OR p.clinic_id = $2)"
            ),
            &[&id, &clinic_id],
        )
        .await?
        .as_ref()
        .map(from_row)
        .ok_or(StoreError::NotFound)
}

/// A person by email (any case), with the password hash when one is set.
pub async fn find_by_email(
    client: &impl GenericClient,
    email: &str,
) -> StoreResult<Option<(PersonRow, Option<String>)>> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, p.password_hash FROM people p WHERE lower(p.email) = lower($1)"
            ),
            &[&email],
        )
        .await?;
    Ok(row.map(|r| (from_row(&r), r.get(7))))
}

/// A person of the team page, with the expiry of an invitation not yet used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub person: PersonRow,
    pub invitation_expires_at: Option<DateTime<Utc>>,
}

/// The clinic's people, by name.
pub async fn list(client: &impl GenericClient, clinic_id: Uuid) -> StoreResult<Vec<Member>> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS}, (SELECT max(i.expires_at) FROM invitations i \
                   WHERE i.person_id = p.id AND i.used_at IS NULL) \
                 FROM people p WHERE p.clinic_id = $1 ORDER BY lower(p.name), p.id"
            ),
            &[&clinic_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Member {
            person: from_row(r),
            invitation_expires_at: r.get(7),
        })
        .collect())
}

/// The clinic's people with the admin role who can sign in, locked so that
/// two changes cannot both leave the clinic without one.
pub async fn active_admins_for_update(
    tx: &impl GenericClient,
    clinic_id: Uuid,
) -> StoreResult<Vec<Uuid>> {
    let rows = tx
        .query(
            "SELECT id FROM people WHERE clinic_id = $1 AND role = 'admin' \
             AND password_hash IS NOT NULL FOR UPDATE",
            &[&clinic_id],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Changes a person's role.
pub async fn set_role(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    id: Uuid,
    role: &str,
) -> StoreResult<PersonRow> {
    tx.query_opt(
        &format!(
            "UPDATE people AS p SET role = $3, updated_at = now() \
             WHERE p.id = $1 AND p.clinic_id = $2 RETURNING {COLUMNS}"
        ),
        &[&id, &clinic_id, &role],
    )
    .await?
    .as_ref()
    .map(from_row)
    .ok_or(StoreError::NotFound)
}

/// Removes a person; their sessions and invitations go with them.
pub async fn delete(tx: &impl GenericClient, clinic_id: Uuid, id: Uuid) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM people WHERE id = $1 AND clinic_id = $2",
            &[&id, &clinic_id],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets a person's password (the PHC string) and ends their sessions.
pub async fn set_password(tx: &impl GenericClient, id: Uuid, hash: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE people SET password_hash = $2, updated_at = now() WHERE id = $1",
        &[&id, &hash],
    )
    .await?;
    tx.execute("DELETE FROM sessions WHERE person_id = $1", &[&id])
        .await?;
    Ok(())
}

/// Stores an invitation; earlier unused ones of the person stop working.
pub async fn insert_invitation(
    tx: &impl GenericClient,
    person_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM invitations WHERE person_id = $1 AND used_at IS NULL",
        &[&person_id],
    )
    .await?;
    tx.execute(
        "INSERT INTO invitations (token_hash, person_id, expires_at) VALUES ($1, $2, $3)",
        &[&token_hash, &person_id, &expires_at],
    )
    .await?;
    Ok(())
}

/// The person an unused, unexpired invitation is for; `lock` takes the
/// invitation's row so that it is used once.
pub async fn find_invitation(
    client: &impl GenericClient,
    token_hash: &[u8],
    now: DateTime<Utc>,
    lock: bool,
) -> StoreResult<Option<PersonRow>> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id \
                 WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2 {}",
                if lock { "FOR UPDATE OF i" } else { "" }
            ),
            &[&token_hash, &now],
        )
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Marks an invitation used.
pub async fn use_invitation(tx: &impl GenericClient, token_hash: &[u8]) -> StoreResult<()> {
    tx.execute(
        "UPDATE invitations SET used_at = now() WHERE token_hash = $1",
        &[&token_hash],
    )
    .await?;
    Ok(())
}

/// A live session and its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub person: PersonRow,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Stores a new session.
pub async fn insert_session(
    tx: &impl GenericClient,
    token_hash: &[u8],
    person_id: Uuid,
    csrf_token: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, person_id, csrf_token) VALUES ($1, $2, $3)",
        &[&token_hash, &person_id, &csrf_token],
    )
    .await?;
    Ok(())
}

/// The session with this token hash, whoever it belongs to (expiry is the
/// caller's rule).
pub async fn find_session(
    client: &impl GenericClient,
    token_hash: &[u8],
) -> StoreResult<Option<SessionRow>> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, s.csrf_token, s.created_at, s.last_seen_at \
                 FROM sessions s JOIN people p ON p.id = s.person_id \
                 WHERE s.token_hash = $1 AND p.password_hash IS NOT NULL"
            ),
            &[&token_hash],
        )
        .await?;
    Ok(row.map(|r| SessionRow {
        person: from_row(&r),
        csrf_token: r.get(7),
        created_at: r.get(8),
        last_seen_at: r.get(9),
    }))
}

/// Records that a session was used now.
pub async fn touch_session(client: &impl GenericClient, token_hash: &[u8]) -> StoreResult<()> {
    client
        .execute(
            "UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?;
    Ok(())
}

/// Ends a session.
pub async fn delete_session(client: &impl GenericClient, token_hash: &[u8]) -> StoreResult<()> {
    client
        .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
        .await?;
    Ok(())
}

/// Records a failed sign-in for `email` (lower case) and prunes rows older
/// than `keep_since`.
pub async fn record_failure(
    client: &impl GenericClient,
    email: &str,
    keep_since: DateTime<Utc>,
) -> StoreResult<()> {
    client
        .execute(
            "INSERT INTO sign_in_failures (email) VALUES ($1)",
            &[&email],
        )
        .await?;
    client
        .execute("DELETE FROM sign_in_failures WHERE at < $1", &[&keep_since])
        .await?;
    Ok(())
}

/// The failed sign-ins for `email` (lower case) since `since`, oldest first.
pub async fn failures_since(
    client: &impl GenericClient,
    email: &str,
    since: DateTime<Utc>,
) -> StoreResult<Vec<DateTime<Utc>>> {
    let rows = client
        .query(
            "SELECT at FROM sign_in_failures WHERE email = $1 AND at >= $2 ORDER BY at",
            &[&email, &since],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Forgets the failed sign-ins of `email` (after a successful one).
pub async fn clear_failures(client: &impl GenericClient, email: &str) -> StoreResult<()> {
    client
        .execute("DELETE FROM sign_in_failures WHERE email = $1", &[&email])
        .await?;
    Ok(())
}

/// The clinics a super admin may pick from: `(id, name)` by name.
pub async fn clinic_names(client: &impl GenericClient) -> StoreResult<Vec<(Uuid, String)>> {
    let rows = client
        .query("SELECT id, name FROM clinics ORDER BY lower(name), id", &[])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
