//! People of the console: invitations, sign-in with its throttle, sessions,
//! roles and removal. Passwords are hashed with argon2id and never leave
//! this module in any form but the hash; tokens (sessions, invitations) are
//! 256 random bits, given to the person once and stored as their SHA-256.

use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use serde::Deserialize;
use switchboard_store::StoreError;
use switchboard_store::admin::audit::{self, json};
use switchboard_store::admin::people::{self as repo, Member, PersonRow};
use switchboard_store::error::Refusal;
use uuid::Uuid;

use super::record;
use crate::AdminState;
use crate::auth::{Access, Admin, Principal, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::keys::Role;
use crate::validation::Problems;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest (argon2 would take any; a bound keeps hashing cheap).
pub const MAX_PASSWORD_CHARS: usize = 1000;
/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;
/// Failed sign-ins for one email that start a lock-out …
pub const MAX_FAILURES: usize = 5;
/// … when they fall within this window, for this long after the last.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// How long a session lives: since its last use, and at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(12),
            absolute: Duration::days(14),
        }
    }
}

/// A secret token and the hash it is stored as.
pub struct Token {
    /// Given to the person (cookie, link); never stored.
    pub secret: String,
    pub hash: Vec<u8>,
}

impl Token {
    /// 256 random bits, URL-safe.
    pub fn generate() -> Token {
        let secret = random_secret();
        let hash = token_hash(&secret);
        Token { secret, hash }
    }
}

/// 256 random bits as unpadded URL-safe base64.
pub fn random_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(secret: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).to_vec()
}

/// The argon2id hash of a password, as a PHC string.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))?
}

/// Whether `password` matches the PHC string `hash`; with no hash, the
/// same work is done against a fixed one, so an unknown email takes as
/// long as a wrong password.
async fn verify_password(password: String, hash: Option<String>) -> ApiResult<bool> {
    static UNKNOWN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
        let known = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => {
                // A hash of nothing anyone knows, made once, with our parameters.
                let unknown = UNKNOWN.get_or_init(|| {
                    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).ok()?;
                    argon2::Argon2::default()
                        .hash_password(random_secret().as_bytes(), &salt)
                        .ok()
                        .map(|h| h.to_string())
                });
                unknown.clone().unwrap_or_default()
            }
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .map_err(|e| ApiError::Internal(format!("checking a password: {e}")))
}

/// Until when an email is locked out, given its failed sign-ins (oldest
/// first): [`MAX_FAILURES`] of them within [`FAILURE_WINDOW_MINUTES`] lock
/// it for that long after the last of them.
pub fn locked_until(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    failures
        .windows(MAX_FAILURES)
        .filter(|w| w[MAX_FAILURES - 1] - w[0] <= window)
        .map(|w| w[MAX_FAILURES - 1] + window)
        .max()
        .filter(|until| *until > now)
}

fn check_password(problems: &mut Problems, field: &str, password: &str) {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        problems.push(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        );
    } else if chars > MAX_PASSWORD_CHARS {
        problems.push(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        );
    }
}

fn check_email(problems: &mut Problems, field: &str, email: &str) {
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        problems.push(field, "is not an email address");
    }
}

/// A person signed in: their new session's secret and who they are.
pub struct SignedIn {
    pub session: Token,
    pub csrf_token: String,
    pub person: PersonRow,
}

async fn start_session(client: &impl GenericClient, person: PersonRow) -> ApiResult<SignedIn> {
    let session = Token::generate();
    let csrf_token = random_secret();
    repo::insert_session(client, &session.hash, person.id, &csrf_token).await?;
    Ok(SignedIn {
        session,
        csrf_token,
        person,
    })
}

/// Signs a person in with their email and password. Every refusal says the
/// same whether or not the email exists; [`MAX_FAILURES`] refusals for one
/// email lock it out for a while ([`ApiError::TooManyAttempts`]).
pub async fn sign_in(
    state: &AdminState,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> ApiResult<SignedIn> {
    let email = email.trim();
    let key = email.to_lowercase();
    let client = state.pool.get().await?;
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    let failures = repo::failures_since(&client, &key, now - window - window).await?;
    if let Some(until) = locked_until(&failures, now) {
        return Err(ApiError::TooManyAttempts { until });
    }
    let found = repo::find_by_email(&client, email).await?;
    let (person, hash) = match found {
        Some((person, hash)) => (Some(person), hash),
        None => (None, None),
    };
    let ok = password.chars().count() <= MAX_PASSWORD_CHARS
        && verify_password(password.to_owned(), hash).await?;
    match person {
        Some(person) if ok => {
            repo::clear_failures(&client, &key).await?;
            start_session(&client, person).await
        }
        _ => {
            repo::record_failure(&client, &key, now - window - window).await?;
            Err(ApiError::SignInRefused)
        }
    }
}

/// A session as the console sees it.
pub struct Session {
    pub person: PersonRow,
    pub csrf_token: String,
}

impl Session {
    /// The principal this session acts as.
    pub fn principal(&self) -> ApiResult<Principal> {
        Ok(Principal::Person {
            id: self.person.id,
            clinic_id: self.person.clinic_id,
            name: self.person.name.clone(),
            role: Role::parse(&self.person.role)
                .ok_or_else(|| ApiError::Internal("a person's role does not parse".into()))?,
        })
    }
}

/// The live session of a cookie's secret; `None` when there is none, it
/// expired (it is then deleted), or its person was removed.
pub async fn session(
    state: &AdminState,
    secret: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> ApiResult<Option<Session>> {
    let hash = token_hash(secret);
    let client = state.pool.get().await?;
    let Some(row) = repo::find_session(&client, &hash).await? else {
        return Ok(None);
    };
    if now - row.last_seen_at > policy.idle || now - row.created_at > policy.absolute {
        repo::delete_session(&client, &hash).await?;
        return Ok(None);
    }
    // One write a minute at most, not one a request.
    if now - row.last_seen_at > Duration::minutes(1) {
        repo::touch_session(&client, &hash).await?;
    }
    Ok(Some(Session {
        person: row.person,
        csrf_token: row.csrf_token,
    }))
}

/// Ends a session.
pub async fn sign_out(state: &AdminState, secret: &str) -> ApiResult<()> {
    let client = state.pool.get().await?;
    repo::delete_session(&client, &token_hash(secret)).await?;
    Ok(())
}

/// An invitation: the link's secret, shown once.
pub struct Invitation {
    pub person: PersonRow,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// What an admin types to invite someone.
#[derive(Debug, Clone, Deserialize)]
pub struct InviteIn {
    pub email: String,
    pub name: String,
    pub role: String,
}

fn check_invite(input: &InviteIn) -> ApiResult<Role> {
    let mut problems = Problems::new();
    check_email(&mut problems, "email", input.email.trim());
    problems.name("name", &input.name);
    let role = Role::parse(&input.role);
    if role.is_none() {
        problems.push("role", "must be viewer, editor or admin");
    }
    problems.finish()?;
    role.ok_or_else(|| ApiError::invalid("role", "must be viewer, editor or admin"))
}

async fn issue_invitation(
    tx: &impl GenericClient,
    person: PersonRow,
    now: DateTime<Utc>,
) -> ApiResult<Invitation> {
    let token = Token::generate();
    let expires_at = now + Duration::days(INVITATION_DAYS);
    repo::insert_invitation(tx, person.id, &token.hash, expires_at).await?;
    Ok(Invitation {
        person,
        token: token.secret,
        expires_at,
    })
}

/// Invites a person to the clinic. Inviting again someone who has not
/// accepted yet makes a new link (the old one stops working).
pub async fn invite(
    access: &Access<Admin>,
    state: &AdminState,
    input: &InviteIn,
    now: DateTime<Utc>,
) -> ApiResult<Invitation> {
    let role = check_invite(input)?;
    let email = input.email.trim();
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let person = match repo::find_by_email(&tx, email).await? {
        Some((existing, None)) if existing.clinic_id == Some(access.clinic_id) => {
            repo::delete(&tx, access.clinic_id, existing.id).await?;
            repo::insert(
                &tx,
                Some(access.clinic_id),
                email,
                input.name.trim(),
                role.as_str(),
            )
            .await?
        }
        Some(_) => {
            return Err(StoreError::Refused(Refusal::EmailTaken).into());
        }
        None => {
            repo::insert(
                &tx,
                Some(access.clinic_id),
                email,
                input.name.trim(),
                role.as_str(),
            )
            .await?
        }
    };
    let invitation = issue_invitation(&tx, person, now).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "person.invite",
        ("person", invitation.person.id.to_string()),
        None,
        json(&invitation.person),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Invites a super admin (from the command line: whoever runs it holds the
/// database already).
pub async fn invite_super(
    state: &AdminState,
    email: &str,
    name: &str,
    now: DateTime<Utc>,
) -> ApiResult<Invitation> {
    check_invite(&InviteIn {
        email: email.to_owned(),
        name: name.to_owned(),
        role: "admin".to_owned(),
    })?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let person = repo::insert(&tx, None, email.trim(), name.trim(), "admin").await?;
    let invitation = issue_invitation(&tx, person, now).await?;
    audit::append(
        &tx,
        &Principal::Operator.actor(),
        audit::Change {
            clinic_id: None,
            action: "person.invite",
            target_type: "person",
            target_id: invitation.person.id.to_string(),
            before: None,
            after: json(&invitation.person),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// The person an invitation link is for, while it works.
pub async fn invitation(
    state: &AdminState,
    token: &str,
    now: DateTime<Utc>,
) -> ApiResult<PersonRow> {
    let client = state.pool.get().await?;
    repo::find_invitation(&client, &token_hash(token), now, false)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Accepts an invitation: sets the password and signs the person in.
pub async fn accept(
    state: &AdminState,
    token: &str,
    password: &str,
    confirm: &str,
    now: DateTime<Utc>,
) -> ApiResult<SignedIn> {
    let mut problems = Problems::new();
    check_password(&mut problems, "password", password);
    if password != confirm {
        problems.push("confirm", "does not match the password");
    }
    problems.finish()?;
    let hash = hash_password(password.to_owned()).await?;
    let hashed = token_hash(token);
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let person = repo::find_invitation(&tx, &hashed, now, true)
        .await?
        .ok_or(ApiError::NotFound)?;
    repo::set_password(&tx, person.id, &hash).await?;
    repo::use_invitation(&tx, &hashed).await?;
    let person = PersonRow {
        active: true,
        ..person
    };
    let signed_in = start_session(&tx, person).await?;
    tx.commit().await?;
    Ok(signed_in)
}

/// The clinic's people.
pub async fn team(access: &Access<Viewer>, state: &AdminState) -> ApiResult<Vec<Member>> {
    let client = state.pool.get().await?;
    Ok(repo::list(&client, access.clinic_id).await?)
}

/// Refuses a change that would leave the clinic without an admin who can
/// sign in: `person` stops being one.
async fn keep_an_admin(
    tx: &impl GenericClient,
    clinic_id: Uuid,
    person: &PersonRow,
) -> ApiResult<()> {
    let admins = repo::active_admins_for_update(tx, clinic_id).await?;
    if admins == [person.id] {
        return Err(ApiError::Conflict {
            code: "last_admin",
            message: format!(
                "{} is the clinic's last admin; make someone else an admin first",
                person.name
            ),
        });
    }
    Ok(())
}

/// Changes a person's role.
pub async fn set_role(
    access: &Access<Admin>,
    state: &AdminState,
    person_id: Uuid,
    role: &str,
) -> ApiResult<PersonRow> {
    let role = Role::parse(role)
        .ok_or_else(|| ApiError::invalid("role", "must be viewer, editor or admin"))?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, Some(access.clinic_id), person_id).await?;
    if role != Role::Admin {
        keep_an_admin(&tx, access.clinic_id, &before).await?;
    }
    let after = repo::set_role(&tx, access.clinic_id, person_id, role.as_str()).await?;
    if before.role != after.role {
        record(
            &tx,
            &access.actor(),
            access.clinic_id,
            "person.role",
            ("person", person_id.to_string()),
            json(&before.role),
            json(&after.role),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Removes a person from the clinic; their sessions end with them.
pub async fn remove(access: &Access<Admin>, state: &AdminState, person_id: Uuid) -> ApiResult<()> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let before = repo::get(&tx, Some(access.clinic_id), person_id).await?;
    keep_an_admin(&tx, access.clinic_id, &before).await?;
    repo::delete(&tx, access.clinic_id, person_id).await?;
    record(
        &tx,
        &access.actor(),
        access.clinic_id,
        "person.remove",
        ("person", person_id.to_string()),
        json(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("an instant") + Duration::minutes(minute)
    }

    #[test]
    fn five_failures_within_fifteen_minutes_lock_for_fifteen_after_the_last() {
        let failures: Vec<_> = [0, 2, 4, 6, 8].map(at).to_vec();
        assert_eq!(locked_until(&failures, at(8)), Some(at(23)));
        assert_eq!(locked_until(&failures, at(22)), Some(at(23)));
        assert_eq!(locked_until(&failures, at(23)), None);
    }

    #[test]
    fn four_failures_or_five_spread_out_do_not_lock() {
        assert_eq!(locked_until(&[0, 1, 2, 3].map(at), at(4)), None);
        assert_eq!(locked_until(&[0, 4, 8, 12, 16].map(at), at(16)), None);
    }

    #[test]
    fn the_fifteenth_minute_still_counts_as_within() {
        assert_eq!(
            locked_until(&[0, 5, 10, 14, 15].map(at), at(15)),
            Some(at(30))
        );
    }

    #[test]
    fn email_checks_accept_addresses_and_refuse_the_rest() {
        for good in ["a@b.co", "office.manager+x@clinic.example.com"] {
            let mut p = Problems::new();
            check_email(&mut p, "email", good);
            assert!(p.finish().is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a b@c.co", "a@b@c.co", "a@b.co.",
        ] {
            let mut p = Problems::new();
            check_email(&mut p, "email", bad);
            assert!(p.finish().is_err(), "{bad}");
        }
    }
}
