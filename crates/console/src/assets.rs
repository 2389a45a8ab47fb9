//! htmx, the stylesheet and our few lines of script, built into the binary and served under names
//! that carry a hash of their content, so they can be cached for a year and
//! a new build is never served an old copy.

use std::sync::LazyLock;

use actix_web::{HttpResponse, web};
use sha2::Digest;

use crate::render::secure_headers;

const HTMX: &[u8] = include_bytes!("../assets/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../assets/console.css");
const JS: &[u8] = include_bytes!("../assets/console.js");

/// One asset: its URL and bytes.
pub struct Asset {
    pub url: String,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

fn asset(stem: &str, ext: &str, bytes: &'static [u8], content_type: &'static str) -> Asset {
    let hash = hex::encode(&sha2::Sha256::digest(bytes)[..6]);
    Asset {
        url: format!("/assets/{stem}-{hash}.{ext}"),
        bytes,
        content_type,
    }
}

pub static HTMX_JS: LazyLock<Asset> =
    LazyLock::new(|| asset("htmx-2.0.11", "js", HTMX, "text/javascript; charset=utf-8"));
pub static CONSOLE_CSS: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "css", CSS, "text/css; charset=utf-8"));
/// The few lines of our own script: copy buttons.
pub static CONSOLE_JS: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "js", JS, "text/javascript; charset=utf-8"));

pub fn configure(cfg: &mut web::ServiceConfig) {
    for asset in [&*HTMX_JS, &*CONSOLE_CSS, &*CONSOLE_JS] {
        let bytes = asset.bytes;
        let content_type = asset.content_type;
        cfg.route(
            &asset.url,
            web::get().to(move || async move {
                let mut response = HttpResponse::Ok();
                secure_headers(&mut response);
                response
                    .content_type(content_type)
                    .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
                    .body(bytes)
            }),
        );
    }
}
