//! Who is signed in, as extractors, so a page cannot forget to ask:
//!
//! - [`Signed`]: a live session (else: to the sign-in page);
//! - [`Page<R>`]: a session whose person may act on the path's clinic with
//!   role `R`, checked by the same [`Access::authorize`] as API keys (another
//!   clinic's page is not found, a role too low is forbidden);
//! - [`Change<R>`]: a [`Page<R>`] for a state-changing request: it must come
//!   from the console's own origin and carry the session's CSRF token (the
//!   `X-CSRF-Token` header htmx sends, or the `csrf` field of a plain form).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use switchboard_admin::AdminState;
use switchboard_admin::auth::{Access, MinRole, Viewer};
use switchboard_admin::ops::people::{self, Session};

use crate::ConsoleState;
use crate::render::ConsoleError;

/// The session cookie's name: with the `__Host-` prefix when it is `Secure`.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-switchboard_session"
    } else {
        "switchboard_session"
    }
}

/// The cookie that holds a new session.
pub fn session_cookie(state: &ConsoleState, secret: String) -> Cookie<'static> {
    Cookie::build(cookie_name(state.secure()), secret)
        .path("/")
        .http_only(true)
        .secure(state.secure())
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(
            state.policy.absolute.num_seconds(),
        ))
        .finish()
}

/// The cookie that ends one.
pub fn removal_cookie(state: &ConsoleState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

/// Whether a request came from htmx (it then wants a fragment).
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

pub(crate) fn states(
    req: &HttpRequest,
) -> Result<(web::Data<AdminState>, web::Data<ConsoleState>), ConsoleError> {
    let admin = req.app_data::<web::Data<AdminState>>().cloned();
    let console = req.app_data::<web::Data<ConsoleState>>().cloned();
    match (admin, console) {
        (Some(a), Some(c)) => Ok((a, c)),
        _ => Err(ConsoleError::internal("console state missing")),
    }
}

/// A signed-in person.
pub struct Signed {
    pub session: Session,
    /// The cookie's secret (to sign out).
    pub secret: String,
    pub htmx: bool,
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ConsoleError>>>>;

async fn signed(req: HttpRequest) -> Result<Signed, ConsoleError> {
    let (admin, console) = states(&req)?;
    let htmx = is_htmx(&req);
    let sign_in = || ConsoleError::SignIn {
        next: req.uri().path().to_owned(),
        htmx,
    };
    let secret = req
        .cookie(cookie_name(console.secure()))
        .map(|c| c.value().to_owned())
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .ok_or_else(sign_in)?;
    let session = people::session(&admin, &secret, console.policy, chrono::Utc::now())
        .await
        .map_err(|e| ConsoleError::api(e, htmx))?
        .ok_or_else(sign_in)?;
    Ok(Signed {
        session,
        secret,
        htmx,
    })
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(signed(req.clone()))
    }
}

/// A signed-in person acting on the path's clinic (`{c}`) with role `R`.
pub struct Page<R> {
    pub access: Access<R>,
    pub signed: Signed,
}

impl<R> Page<R> {
    /// The same page for what needs only reading.
    pub fn into_viewer(self) -> Page<Viewer> {
        Page {
            access: self.access.as_viewer(),
            signed: self.signed,
        }
    }
}

async fn page<R: MinRole>(req: HttpRequest) -> Result<Page<R>, ConsoleError> {
    let signed = signed(req.clone()).await?;
    let (admin, _) = states(&req)?;
    let principal = signed
        .session
        .principal()
        .map_err(|e| ConsoleError::api(e, signed.htmx))?;
    let access = Access::authorize(&admin, principal, req.match_info().get("c"))
        .await
        .map_err(|e| ConsoleError::api(e, signed.htmx))?;
    Ok(Page { access, signed })
}

impl<R: MinRole + 'static> FromRequest for Page<R> {
    type Error = ConsoleError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(page::<R>(req.clone()))
    }
}

/// The origin a request was sent to, as a browser writes it in `Origin`.
pub(crate) fn own_origin(req: &HttpRequest, console: &ConsoleState) -> String {
    match &console.public_origin {
        Some(origin) => origin.trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    }
}

/// Refuses a change from another origin, or without the session's token.
fn check_change(
    req: &HttpRequest,
    console: &ConsoleState,
    session: &Session,
    body: &[u8],
) -> Result<(), ConsoleError> {
    if let Some(origin) = req.headers().get("origin")
        && origin.as_bytes() != own_origin(req, console).as_bytes()
    {
        return Err(ConsoleError::CsrfRefused);
    }
    let header = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let sent = header.or_else(|| {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
    });
    match sent {
        Some(token) if bool::from(token.as_bytes().ct_eq(session.csrf_token.as_bytes())) => Ok(()),
        _ => Err(ConsoleError::CsrfRefused),
    }
}

/// A form without its `csrf` field (checked already), so that the
/// operations' inputs can refuse fields they do not know.
fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, ConsoleError> {
    let bad = |e: &dyn std::fmt::Display| ConsoleError::BadForm(e.to_string());
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| bad(&e))?;
    let rest: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| k != "csrf").collect();
    let text = serde_urlencoded::to_string(&rest).map_err(|e| bad(&e))?;
    serde_urlencoded::from_str(&text).map_err(|e| bad(&e))
}

/// A state-changing request of a signed-in person on the path's clinic.
pub struct Change<R> {
    pub page: Page<R>,
    body: web::Bytes,
}

impl<R> Change<R> {
    /// The body the request carried (the extractor has read it).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The form the request carried.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, ConsoleError> {
        form(&self.body)
    }
}

impl<R: MinRole + 'static> FromRequest for Change<R> {
    type Error = ConsoleError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let page = page::<R>(req.clone()).await?;
            let body = body
                .await
                .map_err(|_| ConsoleError::BadForm("the form is too large".into()))?;
            let (_, console) = states(&req)?;
            check_change(&req, &console, &page.signed.session, &body)?;
            Ok(Change { page, body })
        })
    }
}

/// A state-changing request of a signed-in person, on no clinic (sign-out,
/// a new clinic).
pub struct SignedChange {
    pub signed: Signed,
    body: web::Bytes,
}

impl SignedChange {
    /// The form the request carried.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, ConsoleError> {
        form(&self.body)
    }
}

impl FromRequest for SignedChange {
    type Error = ConsoleError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let signed = signed(req.clone()).await?;
            let body = body
                .await
                .map_err(|_| ConsoleError::BadForm("the form is too large".into()))?;
            let (_, console) = states(&req)?;
            check_change(&req, &console, &signed.session, &body)?;
            Ok(SignedChange { signed, body })
        })
    }
}

/// A form posted before anyone is signed in (sign-in, accepting an
/// invitation): it must come from the console's own origin.
pub fn check_origin(req: &HttpRequest) -> Result<(), ConsoleError> {
    let (_, console) = states(req)?;
    match req.headers().get("origin") {
        Some(origin) if origin.as_bytes() != own_origin(req, &console).as_bytes() => {
            Err(ConsoleError::CsrfRefused)
        }
        _ => Ok(()),
    }
}
