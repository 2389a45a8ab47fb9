//! A fake Twilio: a real HTTP server that speaks the slice of Twilio's REST
//! API that [`crate::client`] uses, for tests and as the service's local
//! default (so provisioning works on a laptop with no Twilio account).
//!
//! It checks Basic auth per account (or API key), sells numbers from a
//! deterministic stock (`NPA-555-0100` to `NPA-555-0199` in every area code), keeps what was bought with its
//! webhook URLs, and answers with Twilio's JSON shapes and error bodies.
//! Tests can look at its state and request log, and inject faults on a
//! route: 429, 5xx, any Twilio error code, a hang, or a purchase that goes
//! through while the answer says 500 (to prove the client never retries a
//! purchase blindly).
//!
//! # Runtime
//!
//! [`FakeTwilio::start`] is a plain function: the server runs on its own
//! thread with its own Tokio runtime (and one actix-web worker thread), so it
//! works the same from `#[tokio::test]` (any flavour), from a synchronous
//! test, and next to the server binary's runtime, and a test that blocks its
//! own runtime cannot starve it. [`FakeTwilioHandle::stop`] (or dropping the
//! handle) shuts it down.

mod inventory;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use inventory::{Offer, Query, Stock};

const API_PREFIX: &str = "/2010-04-01/Accounts/";

/// The routes of Twilio's API the fake serves, for fault injection and the
/// request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `GET …/AvailablePhoneNumbers/{Country}/{Kind}.json`
    SearchAvailable,
    /// `POST …/IncomingPhoneNumbers.json`
    Buy,
    /// `GET …/IncomingPhoneNumbers.json`
    ListIncoming,
    /// `GET …/IncomingPhoneNumbers/{Sid}.json`
    FetchIncoming,
    /// `POST …/IncomingPhoneNumbers/{Sid}.json`
    UpdateIncoming,
    /// `DELETE …/IncomingPhoneNumbers/{Sid}.json`
    ReleaseIncoming,
    /// `GET …/Recordings/{Sid}.wav` (or `.mp3`)
    FetchRecording,
}

/// A way for a request to go wrong, injected with [`FakeTwilioHandle::inject`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with Twilio's code 20429; nothing is done.
    TooManyRequests,
    /// 500 with code 20500; nothing is done.
    ServerError,
    /// 503 with code 20503; nothing is done.
    ServiceUnavailable,
    /// Any Twilio error; nothing is done.
    TwilioError {
        status: u16,
        code: u32,
        message: String,
    },
    /// No answer for this long, then a 500; nothing is done (a client with
    /// a shorter timeout gives up first).
    Hang(Duration),
    /// The request is carried out at once (a purchase goes through), then
    /// the answer waits this long.
    HandleThenHang(Duration),
    /// The request is carried out (a purchase goes through), but the answer
    /// is a 500.
    HandleThenServerError,
}

/// A number some account bought, as the fake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoughtNumber {
    pub sid: String,
    pub account_sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub voice_url: Option<String>,
    pub voice_method: String,
    pub voice_fallback_url: Option<String>,
    pub sms_url: Option<String>,
    pub sms_method: String,
    pub status_callback: Option<String>,
    pub date_created: String,
    pub date_updated: String,
    iso_country: &'static str,
    voice: bool,
    sms: bool,
    mms: bool,
}

/// One request the fake received, and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub route: Option<Route>,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    /// The Basic auth user name (account SID or API key SID), if any.
    pub user: Option<String>,
    pub status: u16,
}

/// Starts fake Twilio servers.
pub struct FakeTwilio;

impl FakeTwilio {
    /// Listens on `bind` (port 0 picks a free port) and accepts the given
    /// `(account SID, auth token)` pairs.
    pub fn start(
        bind: SocketAddr,
        accounts: Vec<(String, String)>,
    ) -> io::Result<FakeTwilioHandle> {
        let listener = TcpListener::bind(bind)?;
        let local_addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(FakeState {
            credentials: accounts
                .into_iter()
                .map(|(account, token)| (account.clone(), (token, account)))
                .collect(),
            ..FakeState::default()
        }));
        let shared = web::Data::from(Arc::clone(&state));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<ServerHandle>>();
        let thread = std::thread::Builder::new()
            .name("fake-twilio".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(shared.clone())
                            .default_service(web::to(dispatch))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener);
                    let server = match server {
                        Ok(server) => server.run(),
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(server.handle()));
                    if let Err(err) = server.await {
                        tracing::error!(error = %err, "fake Twilio stopped with an error");
                    }
                });
            })?;
        let server = ready_rx
            .recv()
            .map_err(|_| io::Error::other("the fake Twilio thread ended before starting"))??;
        tracing::info!(%local_addr, "fake Twilio listening");
        Ok(FakeTwilioHandle {
            base_url: format!("http://{local_addr}"),
            local_addr,
            state,
            server,
            thread: Some(thread),
        })
    }
}

/// A running fake Twilio. Dropping it stops the server without waiting.
pub struct FakeTwilioHandle {
    base_url: String,
    local_addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    server: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeTwilioHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilioHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl FakeTwilioHandle {
    /// `http://127.0.0.1:PORT`, to give the client as its base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts an API key (`SK…`) and secret acting on `account_sid`.
    pub fn add_api_key(&self, key_sid: &str, secret: &str, account_sid: &str) {
        self.lock().credentials.insert(
            key_sid.to_owned(),
            (secret.to_owned(), account_sid.to_owned()),
        );
    }

    /// Every number currently bought, by any account, oldest first.
    pub fn bought_numbers(&self) -> Vec<BoughtNumber> {
        self.lock().numbers.clone()
    }

    /// The bought number `phone_number`, if any account holds it.
    pub fn bought_number(&self, phone_number: &str) -> Option<BoughtNumber> {
        self.lock()
            .numbers
            .iter()
            .find(|number| number.phone_number == phone_number)
            .cloned()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// How many requests reached `route` so far.
    pub fn request_count(&self, route: Route) -> usize {
        self.lock()
            .log
            .iter()
            .filter(|request| request.route == Some(route))
            .count()
    }

    /// Makes the next `times` authenticated requests to `route` meet `fault`.
    /// Faults queue up in the order injected.
    pub fn inject(&self, route: Route, fault: Fault, times: usize) {
        if times > 0 {
            self.lock()
                .faults
                .entry(route)
                .or_default()
                .push_back((fault, times));
        }
    }

    /// Forgets every fault not yet met.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Stops the server and waits for its thread to end.
    pub fn stop(mut self) {
        // Sending the command happens when `stop` is called; the returned
        // future only waits for completion, which joining the thread does.
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the fake Twilio thread panicked");
        }
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }
}

impl Drop for FakeTwilioHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            drop(self.server.stop(false));
        }
    }
}

#[derive(Default)]
struct FakeState {
    /// User name → (secret, account it acts on).
    credentials: HashMap<String, (String, String)>,
    numbers: Vec<BoughtNumber>,
    log: Vec<LoggedRequest>,
    faults: HashMap<Route, VecDeque<(Fault, usize)>>,
}

impl FakeState {
    fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let queue = self.faults.get_mut(&route)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    fn is_bought(&self, phone_number: &str) -> bool {
        self.numbers
            .iter()
            .any(|number| number.phone_number == phone_number)
    }
}

/// A poisoned lock only means a handler panicked mid-update; the fake's data
/// is still what tests want to inspect.
fn lock(state: &Mutex<FakeState>) -> MutexGuard<'_, FakeState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a request asks for, once its path is understood.
enum Target {
    Search { country: String, kind: String },
    Buy,
    List,
    Fetch { sid: String },
    Update { sid: String },
    Release { sid: String },
    Recording,
}

impl Target {
    fn route(&self) -> Route {
        match self {
            Self::Search { .. } => Route::SearchAvailable,
            Self::Buy => Route::Buy,
            Self::List => Route::ListIncoming,
            Self::Fetch { .. } => Route::FetchIncoming,
            Self::Update { .. } => Route::UpdateIncoming,
            Self::Release { .. } => Route::ReleaseIncoming,
            Self::Recording => Route::FetchRecording,
        }
    }
}

/// `(account, target)` for a path under `/2010-04-01/Accounts/`.
fn parse_target(method: &str, path: &str) -> Option<(String, Target)> {
    let rest = path.strip_prefix(API_PREFIX)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let target = match (method, segments.as_slice()) {
        ("GET", [_, "AvailablePhoneNumbers", country, kind]) => Target::Search {
            country: (*country).to_owned(),
            kind: kind.strip_suffix(".json")?.to_owned(),
        },
        ("POST", [_, "IncomingPhoneNumbers.json"]) => Target::Buy,
        ("GET", [_, "IncomingPhoneNumbers.json"]) => Target::List,
        ("GET", [_, "Recordings", file]) => {
            let sid = file
                .strip_suffix(".wav")
                .or_else(|| file.strip_suffix(".mp3"))
                .unwrap_or(file);
            if !sid.starts_with("RE") {
                return None;
            }
            Target::Recording
        }
        (_, [_, "IncomingPhoneNumbers", sid_json]) => {
            let sid = sid_json.strip_suffix(".json")?.to_owned();
            match method {
                "GET" => Target::Fetch { sid },
                "POST" => Target::Update { sid },
                "DELETE" => Target::Release { sid },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((segments[0].to_owned(), target))
}

/// A response, and what to do before it is sent.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
    /// A body that is not JSON: its content type and bytes.
    raw: Option<(&'static str, Vec<u8>)>,
    delay: Option<Duration>,
    headers: Vec<(&'static str, &'static str)>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            raw: None,
            delay: None,
            headers: Vec::new(),
        }
    }

    fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            raw: None,
            delay: None,
            headers: Vec::new(),
        }
    }

    fn error(status: u16, code: u32, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::json(
            status,
            json!({
                "code": code,
                "message": message.into(),
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status.as_u16(),
            }),
        )
    }

    fn not_found(path: &str) -> Self {
        Self::error(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    fn server_error() -> Self {
        Self::error(500, 20500, "An internal server error has occurred")
    }

    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for header in self.headers {
            response.insert_header(header);
        }
        if let Some((content_type, bytes)) = self.raw {
            return response.content_type(content_type).body(bytes);
        }
        match self.body {
            Some(body) => response.json(body),
            None => response.finish(),
        }
    }
}

async fn dispatch(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<Mutex<FakeState>>,
) -> HttpResponse {
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(request.query_string()).unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let basic = basic_auth(&request);
    let target = parse_target(&method, &path);

    let answer = {
        let mut state = lock(&state);
        let answer = answer(
            &mut state,
            basic.as_ref(),
            target.as_ref(),
            &path,
            &query,
            &form,
        );
        state.log.push(LoggedRequest {
            method,
            path,
            route: target.as_ref().map(|(_, target)| target.route()),
            query,
            form,
            user: basic.map(|(user, _)| user),
            status: answer.status.as_u16(),
        });
        answer
    };
    // Waits happen outside the lock, so a hanging request blocks no other.
    if let Some(delay) = answer.delay {
        tokio::time::sleep(delay).await;
    }
    answer.into_response()
}

fn answer(
    state: &mut FakeState,
    basic: Option<&(String, String)>,
    target: Option<&(String, Target)>,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Answer {
    let authenticated_account = basic.and_then(|(user, secret)| {
        let (expected, account) = state.credentials.get(user)?;
        // Constant time is not needed in a fake; equality is.
        (expected == secret).then(|| account.clone())
    });
    let Some(authenticated_account) = authenticated_account else {
        let mut answer = Answer::error(401, 20003, "Authenticate");
        answer
            .headers
            .push(("WWW-Authenticate", "Basic realm=\"Twilio API\""));
        return answer;
    };
    let Some((account, target)) = target else {
        return Answer::not_found(path);
    };
    if *account != authenticated_account {
        // Twilio does not say whether another account exists.
        return Answer::not_found(path);
    }
    let (handle_first, delay, failed_answer) = match state.take_fault(target.route()) {
        None => (true, None, None),
        Some(Fault::TooManyRequests) => {
            return Answer::error(429, 20429, "Too Many Requests");
        }
        Some(Fault::ServerError) => return Answer::server_error(),
        Some(Fault::ServiceUnavailable) => {
            return Answer::error(503, 20503, "Service Unavailable");
        }
        Some(Fault::TwilioError {
            status,
            code,
            message,
        }) => return Answer::error(status, code, message),
        Some(Fault::Hang(delay)) => (false, Some(delay), Some(Answer::server_error())),
        Some(Fault::HandleThenHang(delay)) => (true, Some(delay), None),
        Some(Fault::HandleThenServerError) => (true, None, Some(Answer::server_error())),
    };
    let handled = handle_first.then(|| handle(state, account, target, path, query, form));
    let mut answer = failed_answer
        .or(handled)
        .unwrap_or_else(Answer::server_error);
    answer.delay = delay;
    answer
}

fn handle(
    state: &mut FakeState,
    account: &str,
    target: &Target,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Answer {
    match target {
        Target::Search { country, kind } => search(state, account, country, kind, path, query),
        Target::Buy => buy(state, account, form),
        Target::List => list(state, account, query),
        Target::Fetch { sid } => match find_owned(state, account, sid) {
            Some(index) => Answer::json(StatusCode::OK, number_json(&state.numbers[index])),
            None => Answer::not_found(path),
        },
        Target::Update { sid } => match find_owned(state, account, sid) {
            Some(index) => update(state, index, form),
            None => Answer::not_found(path),
        },
        // Every recording is the same short tone: enough to play.
        Target::Recording => Answer {
            status: StatusCode::OK,
            body: None,
            raw: Some(("audio/x-wav", tone_wav())),
            delay: None,
            headers: Vec::new(),
        },
        Target::Release { sid } => match find_owned(state, account, sid) {
            Some(index) => {
                // A released number goes back on sale.
                state.numbers.remove(index);
                Answer::no_content()
            }
            None => Answer::not_found(path),
        },
    }
}

/// Half a second of a 440 Hz tone: 8 kHz, mono, 16-bit PCM in a RIFF file.
pub fn tone_wav() -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples: Vec<i16> = (0..RATE / 2)
        .map(|i| {
            let t = f64::from(i) / f64::from(RATE);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect();
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(0);
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn flag(pairs: &[(String, String)], name: &str) -> Option<bool> {
    first(pairs, name).map(|value| value.eq_ignore_ascii_case("true"))
}

fn search(
    state: &FakeState,
    account: &str,
    country: &str,
    kind: &str,
    path: &str,
    query: &[(String, String)],
) -> Answer {
    let stock = match kind {
        "Local" => Stock::Local,
        "TollFree" => Stock::TollFree,
        _ => return Answer::not_found(path),
    };
    if !inventory::sells(country, stock) {
        return Answer::not_found(path);
    }
    let filters = Query {
        area_code: first(query, "AreaCode").map(str::to_owned),
        contains: first(query, "Contains").map(str::to_owned),
        in_locality: first(query, "InLocality").map(str::to_owned),
        in_region: first(query, "InRegion").map(str::to_owned),
        in_postal_code: first(query, "InPostalCode").map(str::to_owned),
        sms_enabled: flag(query, "SmsEnabled"),
        voice_enabled: flag(query, "VoiceEnabled"),
    };
    let page_size = first(query, "PageSize")
        .and_then(|size| size.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let offers: Vec<Value> = inventory::search(country, stock, &filters)
        .filter(|offer| !state.is_bought(&offer.phone_number))
        .take(page_size)
        .map(|offer| offer_json(&offer))
        .collect();
    let query_string = serde_urlencoded::to_string(query).unwrap_or_default();
    let uri = format!("{API_PREFIX}{account}/AvailablePhoneNumbers/{country}/{kind}.json");
    Answer::json(
        StatusCode::OK,
        json!({
            "uri": if query_string.is_empty() { uri } else { format!("{uri}?{query_string}") },
            "available_phone_numbers": offers,
        }),
    )
}

fn offer_json(offer: &Offer) -> Value {
    json!({
        "friendly_name": offer.friendly_name,
        "phone_number": offer.phone_number,
        "lata": null,
        "rate_center": offer.locality.map(str::to_ascii_uppercase),
        "latitude": null,
        "longitude": null,
        "locality": offer.locality,
        "region": offer.region,
        "postal_code": offer.postal_code,
        "iso_country": offer.iso_country,
        "address_requirements": "none",
        "beta": false,
        // Twilio capitalises these two for available numbers.
        "capabilities": {"voice": offer.voice, "SMS": offer.sms, "MMS": offer.mms},
    })
}

fn buy(state: &mut FakeState, account: &str, form: &[(String, String)]) -> Answer {
    let offer = match (first(form, "PhoneNumber"), first(form, "AreaCode")) {
        (Some(phone_number), _) => match inventory::offer_for(phone_number) {
            Some(offer) if !state.is_bought(phone_number) => offer,
            _ => {
                return Answer::error(
                    400,
                    21422,
                    format!("Phone number {phone_number} is not available"),
                );
            }
        },
        (None, Some(area_code)) => {
            let available = inventory::area_code_offers(area_code)
                .find(|offer| !offer.toll_free && !state.is_bought(&offer.phone_number));
            match available {
                Some(offer) => offer,
                None => {
                    return Answer::error(
                        400,
                        21452,
                        format!("No phone numbers found in area code {area_code}"),
                    );
                }
            }
        }
        (None, None) => {
            return Answer::error(
                400,
                21421,
                "A 'PhoneNumber' or 'AreaCode' parameter is required",
            );
        }
    };
    if let Some(invalid) = invalid_url(form) {
        return invalid;
    }
    let now = now_rfc2822();
    let mut number = BoughtNumber {
        sid: new_sid(),
        account_sid: account.to_owned(),
        friendly_name: offer.friendly_name.clone(),
        phone_number: offer.phone_number.clone(),
        voice_url: None,
        voice_method: "POST".to_owned(),
        voice_fallback_url: None,
        sms_url: None,
        sms_method: "POST".to_owned(),
        status_callback: None,
        date_created: now.clone(),
        date_updated: now,
        iso_country: offer.iso_country,
        voice: offer.voice,
        sms: offer.sms,
        mms: offer.mms,
    };
    apply_fields(&mut number, form);
    let body = number_json(&number);
    state.numbers.push(number);
    Answer::json(StatusCode::CREATED, body)
}

fn update(state: &mut FakeState, index: usize, form: &[(String, String)]) -> Answer {
    if let Some(invalid) = invalid_url(form) {
        return invalid;
    }
    let number = &mut state.numbers[index];
    apply_fields(number, form);
    number.date_updated = now_rfc2822();
    Answer::json(StatusCode::OK, number_json(number))
}

/// Twilio refuses webhook URLs that are not http(s) (error 21502).
fn invalid_url(form: &[(String, String)]) -> Option<Answer> {
    const URL_FIELDS: [&str; 4] = ["VoiceUrl", "VoiceFallbackUrl", "SmsUrl", "StatusCallback"];
    form.iter()
        .filter(|(name, value)| URL_FIELDS.contains(&name.as_str()) && !value.is_empty())
        .find(|(_, value)| !(value.starts_with("https://") || value.starts_with("http://")))
        .map(|(name, value)| Answer::error(400, 21502, format!("{name} is not valid: {value}")))
}

fn apply_fields(number: &mut BoughtNumber, form: &[(String, String)]) {
    let set_url = |target: &mut Option<String>, value: &str| {
        // An empty value clears the URL, as at Twilio.
        *target = (!value.is_empty()).then(|| value.to_owned());
    };
    for (name, value) in form {
        match name.as_str() {
            "FriendlyName" => number.friendly_name = value.clone(),
            "VoiceUrl" => set_url(&mut number.voice_url, value),
            "VoiceMethod" => number.voice_method = value.clone(),
            "VoiceFallbackUrl" => set_url(&mut number.voice_fallback_url, value),
            "SmsUrl" => set_url(&mut number.sms_url, value),
            "SmsMethod" => number.sms_method = value.clone(),
            "StatusCallback" => set_url(&mut number.status_callback, value),
            _ => {}
        }
    }
}

fn list(state: &FakeState, account: &str, query: &[(String, String)]) -> Answer {
    let phone_number = first(query, "PhoneNumber");
    let friendly_name = first(query, "FriendlyName");
    let page_size = first(query, "PageSize")
        .and_then(|size| size.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let numbers: Vec<Value> = state
        .numbers
        .iter()
        .filter(|number| number.account_sid == account)
        // Twilio matches PhoneNumber as a pattern; a substring is close.
        .filter(|number| phone_number.is_none_or(|wanted| number.phone_number.contains(wanted)))
        .filter(|number| friendly_name.is_none_or(|wanted| number.friendly_name == wanted))
        .take(page_size)
        .map(number_json)
        .collect();
    let uri =
        format!("{API_PREFIX}{account}/IncomingPhoneNumbers.json?PageSize={page_size}&Page=0");
    Answer::json(
        StatusCode::OK,
        json!({
            "end": numbers.len().saturating_sub(1),
            "first_page_uri": uri,
            "next_page_uri": null,
            "page": 0,
            "page_size": page_size,
            "previous_page_uri": null,
            "start": 0,
            "uri": uri,
            "incoming_phone_numbers": numbers,
        }),
    )
}

fn find_owned(state: &FakeState, account: &str, sid: &str) -> Option<usize> {
    state
        .numbers
        .iter()
        .position(|number| number.sid == sid && number.account_sid == account)
}

fn number_json(number: &BoughtNumber) -> Value {
    let base = format!(
        "{API_PREFIX}{}/IncomingPhoneNumbers/{}",
        number.account_sid, number.sid
    );
    json!({
        "sid": number.sid,
        "account_sid": number.account_sid,
        "phone_number": number.phone_number,
        "friendly_name": number.friendly_name,
        "status": "in-use",
        "origin": "twilio",
        "api_version": "2010-04-01",
        "beta": false,
        "address_requirements": "none",
        "address_sid": null,
        "bundle_sid": null,
        "identity_sid": null,
        "emergency_status": "Inactive",
        "emergency_address_sid": null,
        "trunk_sid": null,
        "capabilities": {
            "voice": number.voice, "sms": number.sms, "mms": number.mms, "fax": false,
        },
        "voice_url": number.voice_url.as_deref().unwrap_or(""),
        "voice_method": number.voice_method,
        "voice_fallback_url": number.voice_fallback_url.as_deref().unwrap_or(""),
        "voice_fallback_method": "POST",
        "voice_caller_id_lookup": false,
        "voice_application_sid": null,
        "voice_receive_mode": "voice",
        "sms_url": number.sms_url.as_deref().unwrap_or(""),
        "sms_method": number.sms_method,
        "sms_fallback_url": "",
        "sms_fallback_method": "POST",
        "sms_application_sid": null,
        "status_callback": number.status_callback.as_deref().unwrap_or(""),
        "status_callback_method": "POST",
        "iso_country": number.iso_country,
        "date_created": number.date_created,
        "date_updated": number.date_updated,
        "uri": format!("{base}.json"),
        "subresource_uris": {
            "assigned_add_ons": format!("{base}/AssignedAddOns.json"),
        },
    })
}

/// `PN` and 32 hex digits, like Twilio's phone number sids.
fn new_sid() -> String {
    format!("PN{:032x}", rand::random::<u128>())
}

/// `Sat, 21 Nov 2026 19:27:04 +0000`, Twilio's date format.
fn now_rfc2822() -> String {
    chrono::Utc::now().to_rfc2822()
}

/// The Basic auth `(user, secret)` of a request, if well formed.
fn basic_auth(request: &HttpRequest) -> Option<(String, String)> {
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_understood_as_twilios_routes() {
        let route = |method: &str, path: &str| parse_target(method, path).map(|(_, t)| t.route());
        let base = "/2010-04-01/Accounts/AC1";
        assert_eq!(
            route(
                "GET",
                &format!("{base}/AvailablePhoneNumbers/US/Local.json")
            ),
            Some(Route::SearchAvailable)
        );
        assert_eq!(
            route("POST", &format!("{base}/IncomingPhoneNumbers.json")),
            Some(Route::Buy)
        );
        assert_eq!(
            route("GET", &format!("{base}/IncomingPhoneNumbers.json")),
            Some(Route::ListIncoming)
        );
        assert_eq!(
            route("GET", &format!("{base}/IncomingPhoneNumbers/PN1.json")),
            Some(Route::FetchIncoming)
        );
        assert_eq!(
            route("POST", &format!("{base}/IncomingPhoneNumbers/PN1.json")),
            Some(Route::UpdateIncoming)
        );
        assert_eq!(
            route("DELETE", &format!("{base}/IncomingPhoneNumbers/PN1.json")),
            Some(Route::ReleaseIncoming)
        );
        assert_eq!(
            route("PUT", &format!("{base}/IncomingPhoneNumbers/PN1.json")),
            None
        );
        assert_eq!(route("GET", "/2010-04-01/Accounts/AC1/Calls.json"), None);
        assert_eq!(route("GET", "/elsewhere"), None);
    }

    #[test]
    fn sids_look_like_twilios() {
        let sid = new_sid();
        assert_eq!(sid.len(), 34);
        assert!(sid.starts_with("PN"));
        assert!(
            sid[2..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn injected_faults_are_met_in_order_and_then_run_out() {
        let mut state = FakeState::default();
        state
            .faults
            .entry(Route::Buy)
            .or_default()
            .extend([(Fault::TooManyRequests, 2), (Fault::ServerError, 1)]);
        assert_eq!(state.take_fault(Route::Buy), Some(Fault::TooManyRequests));
        assert_eq!(state.take_fault(Route::Buy), Some(Fault::TooManyRequests));
        assert_eq!(state.take_fault(Route::Buy), Some(Fault::ServerError));
        assert_eq!(state.take_fault(Route::Buy), None);
        assert_eq!(state.take_fault(Route::SearchAvailable), None);
    }
}
