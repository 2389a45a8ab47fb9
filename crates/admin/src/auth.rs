//! Authentication and authorisation as extractors, so a handler cannot
//! forget them: a handler that takes [`Access<Editor>`] only runs for a key
//! of the path's clinic with at least the editor role, or the super key.
//!
//! The order of checks is that of `docs/api.md` ("Authentication and roles"): no or unknown key → 401; a clinic key on
//! another clinic's path (or a clinic that does not exist) → 404, exactly
//! alike; then a role too low → 403.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use subtle::ConstantTimeEq;
use switchboard_store::admin::{Actor, clinics, keys as key_repo};
use uuid::Uuid;

use crate::AdminState;
use crate::error::ApiError;
use crate::keys::{Role, hash_key};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The configured super key: every clinic, every role.
    Super,
    /// A clinic's key.
    Key {
        id: Uuid,
        clinic_id: Uuid,
        name: String,
        role: Role,
    },
    /// Whoever runs the `switchboard` command line on the server (it holds
    /// the database already): every clinic, every role.
    Operator,
    /// A person signed in to the console: of one clinic, or a super admin
    /// (`clinic_id: None`), who acts on every clinic as the super key does.
    Person {
        id: Uuid,
        clinic_id: Option<Uuid>,
        name: String,
        role: Role,
    },
}

impl Principal {
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Super => Actor {
                key_id: None,
                person_id: None,
                name: "super key".to_owned(),
            },
            Principal::Operator => Actor {
                key_id: None,
                person_id: None,
                name: "command line".to_owned(),
            },
            Principal::Key { id, name, .. } => Actor {
                key_id: Some(*id),
                person_id: None,
                name: name.clone(),
            },
            Principal::Person { id, name, .. } => Actor {
                key_id: None,
                person_id: Some(*id),
                name: name.clone(),
            },
        }
    }

    /// Whether this principal may act on every clinic.
    pub fn is_super(&self) -> bool {
        matches!(
            self,
            Principal::Super
                | Principal::Operator
                | Principal::Person {
                    clinic_id: None,
                    ..
                }
        )
    }

    /// The role this principal has on `clinic_id`; `None` when the clinic
    /// is not theirs (which callers answer as "not found").
    pub fn role_on(&self, clinic_id: Uuid) -> Option<Role> {
        match self {
            Principal::Super
            | Principal::Operator
            | Principal::Person {
                clinic_id: None, ..
            } => Some(Role::Admin),
            Principal::Key {
                clinic_id: own,
                role,
                ..
            }
            | Principal::Person {
                clinic_id: Some(own),
                role,
                ..
            } => (*own == clinic_id).then_some(*role),
        }
    }
}

/// The minimum role of an endpoint, as a type.
pub trait MinRole {
    const ROLE: Role;
}

/// Read.
pub struct Viewer;
/// Change configuration.
pub struct Editor;
/// Provision, release, keys.
pub struct Admin;

impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl MinRole for Editor {
    const ROLE: Role = Role::Editor;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// Access to the clinic of the path (`{c}`) with at least role `R`.
pub struct Access<R> {
    pub clinic_id: Uuid,
    pub principal: Principal,
    _role: PhantomData<R>,
}

impl<R> Access<R> {
    /// The same access for what needs only reading: every role reads.
    pub fn as_viewer(&self) -> Access<Viewer> {
        Access {
            clinic_id: self.clinic_id,
            principal: self.principal.clone(),
            _role: PhantomData,
        }
    }

    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }

    /// Whether this access also reaches role `role` (what a page may offer).
    pub fn allows(&self, role: Role) -> bool {
        self.principal
            .role_on(self.clinic_id)
            .is_some_and(|r| r >= role)
    }
}

/// The super key and nothing else (creating clinics).
pub struct SuperKey;

/// Access to what only a super principal may do (creating clinics): the
/// super key, the command line, or a super admin person.
pub struct SuperAccess {
    pub principal: Principal,
}

impl SuperAccess {
    /// `principal`'s super access; forbidden to anyone of one clinic.
    pub fn authorize(principal: Principal) -> Result<SuperAccess, ApiError> {
        if principal.is_super() {
            Ok(SuperAccess { principal })
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn state(req: &HttpRequest) -> Result<web::Data<AdminState>, ApiError> {
    req.app_data::<web::Data<AdminState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("admin state missing".into()))
}

/// Finds the principal of a bearer key.
async fn authenticate(state: &AdminState, key: Option<String>) -> Result<Principal, ApiError> {
    let key = key.ok_or(ApiError::Unauthorized)?;
    if let Some(super_key) = &state.super_key
        && bool::from(super_key.as_bytes().ct_eq(key.as_bytes()))
    {
        return Ok(Principal::Super);
    }
    // Only keys of our shape reach the database.
    if !key.starts_with(crate::keys::KEY_PREFIX) || key.len() > 200 {
        return Err(ApiError::Unauthorized);
    }
    let client = state.pool.get().await?;
    let row = key_repo::find_by_hash(&client, &hash_key(&state.key_pepper, &key))
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let role = Role::parse(&row.role).ok_or(ApiError::Unauthorized)?;
    state.key_usage.note(row.id, chrono::Utc::now());
    Ok(Principal::Key {
        id: row.id,
        clinic_id: row.clinic_id,
        name: row.name,
        role,
    })
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<R: MinRole> Access<R> {
    /// The one check of tenancy and role, for every face: `principal` may
    /// act on the clinic `clinic` (a path segment) with at least role `R`.
    /// A clinic that is not theirs, or not at all, is not found; then a role
    /// too low is forbidden.
    pub async fn authorize(
        state: &AdminState,
        principal: Principal,
        clinic: Option<&str>,
    ) -> Result<Access<R>, ApiError> {
        let clinic_id = clinic
            .and_then(|c| Uuid::parse_str(c).ok())
            .ok_or(ApiError::NotFound)?;
        let role = principal.role_on(clinic_id).ok_or(ApiError::NotFound)?;
        if principal.is_super() {
            let client = state.pool.get().await?;
            if !clinics::exists(&client, clinic_id).await? {
                return Err(ApiError::NotFound);
            }
        }
        if role < R::ROLE {
            return Err(ApiError::Forbidden);
        }
        Ok(Access {
            clinic_id,
            principal,
            _role: PhantomData,
        })
    }
}

impl<R: MinRole + 'static> FromRequest for Access<R> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let key = bearer(req);
        let clinic = req.match_info().get("c").map(str::to_owned);
        Box::pin(async move {
            let state = state?;
            let principal = authenticate(&state, key).await?;
            Access::authorize(&state, principal, clinic.as_deref()).await
        })
    }
}

impl FromRequest for SuperKey {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let key = bearer(req);
        Box::pin(async move {
            match authenticate(&*state?, key).await? {
                Principal::Super => Ok(SuperKey),
                _ => Err(ApiError::Forbidden),
            }
        })
    }
}
