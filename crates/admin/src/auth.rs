//! Authentication and authorisation as extractors, so a handler cannot
//! forget them: a handler that takes [`Access<Editor>`] only runs for a key
//! of the path's clinic with at least the editor role, or the super key.
//!
//! The order of checks is api.md's: no or unknown key → 401; a clinic key on
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
}

impl Principal {
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Super => Actor {
                key_id: None,
                name: "super key".to_owned(),
            },
            Principal::Key { id, name, .. } => Actor {
                key_id: Some(*id),
                name: name.clone(),
            },
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
    /// The audit log's actor.
    pub fn actor(&self) -> Actor {
        self.principal.actor()
    }
}

/// The super key and nothing else (creating clinics).
pub struct SuperKey;

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
    Ok(Principal::Key {
        id: row.id,
        clinic_id: row.clinic_id,
        name: row.name,
        role,
    })
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

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
            // An id that is not ours is simply not found.
            let clinic_id = clinic
                .and_then(|c| Uuid::parse_str(&c).ok())
                .ok_or(ApiError::NotFound)?;
            match &principal {
                Principal::Super => {
                    let client = state.pool.get().await?;
                    if !clinics::exists(&client, clinic_id).await? {
                        return Err(ApiError::NotFound);
                    }
                }
                Principal::Key {
                    clinic_id: own,
                    role,
                    ..
                } => {
                    if *own != clinic_id {
                        return Err(ApiError::NotFound);
                    }
                    if *role < R::ROLE {
                        return Err(ApiError::Forbidden);
                    }
                }
            }
            Ok(Access {
                clinic_id,
                principal,
                _role: PhantomData,
            })
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
                Principal::Key { .. } => Err(ApiError::Forbidden),
            }
        })
    }
}
