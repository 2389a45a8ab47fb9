//! API keys: `sb_` + 32 random bytes in hex, stored as HMAC-SHA256(pepper, key).
//!
//! A keyed fast hash is right here: the keys carry 256 bits of entropy, so
//! nothing can be guessed, and a slow password hash would cost every
//! request. Without the pepper a stolen table is useless.

use deadpool_postgres::GenericClient;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use switchboard_store::StoreResult;
use switchboard_store::admin::keys::{self as repo, ApiKeyRow};
use uuid::Uuid;

/// What a key may do; each role includes the ones before it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read.
    Viewer,
    /// Change configuration.
    Editor,
    /// Provision, release, manage keys.
    Admin,
}

impl Role {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The prefix every key starts with.
pub const KEY_PREFIX: &str = "sb_";
/// How many characters of a key are kept to recognise it in a list.
const SHOWN_PREFIX_CHARS: usize = 11;

/// The keyed hash a key is stored and looked up by.
pub fn hash_key(pepper: &[u8], key: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper).expect("HMAC accepts a key of any length");
    mac.update(key.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A new random key.
pub fn generate_key() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

/// A new random pepper (32 bytes), for a server that has none configured.
pub fn generate_pepper() -> Vec<u8> {
    rand::random::<[u8; 32]>().to_vec()
}

/// Reads the pepper kept in `path` (hex), or makes one and keeps it there
/// with owner-only permissions, so keys stay valid across restarts.
pub fn load_or_create_pepper(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::{ErrorKind, Write as _};
    match std::fs::read_to_string(path) {
        Ok(text) => {
            return hex::decode(text.trim()).map_err(|e| {
                std::io::Error::new(
                    ErrorKind::InvalidData,
                    format!("{} does not hold a hex pepper: {e}", path.display()),
                )
            });
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let pepper = generate_pepper();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex::encode(&pepper).as_bytes())?;
            Ok(pepper)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => load_or_create_pepper(path),
        Err(e) => Err(e),
    }
}

/// Creates a key for a clinic in the caller's transaction; returns the
/// stored row and the key itself, which is never stored and shown once.
pub async fn create_api_key(
    tx: &impl GenericClient,
    pepper: &[u8],
    clinic_id: Uuid,
    name: &str,
    role: Role,
) -> StoreResult<(ApiKeyRow, String)> {
    let key = generate_key();
    let row = repo::insert(
        tx,
        clinic_id,
        name,
        role.as_str(),
        &hash_key(pepper, &key),
        &key[..SHOWN_PREFIX_CHARS],
    )
    .await?;
    Ok((row, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_hashes_the_same_under_one_pepper_and_differently_under_another() {
        let key = generate_key();
        assert_eq!(hash_key(b"pepper", &key), hash_key(b"pepper", &key));
        assert_ne!(hash_key(b"pepper", &key), hash_key(b"other", &key));
        assert_eq!(hash_key(b"pepper", &key).len(), 32);
    }

    #[test]
    fn generated_keys_are_long_random_and_prefixed() {
        let a = generate_key();
        let b = generate_key();
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), KEY_PREFIX.len() + 64);
        assert_ne!(a, b);
    }

    #[test]
    fn a_generated_pepper_is_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("sb-pepper-{}", generate_key()));
        let path = dir.join("key_pepper");
        let first = load_or_create_pepper(&path).expect("made");
        let second = load_or_create_pepper(&path).expect("read back");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn roles_are_ordered_viewer_editor_admin() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Admin);
        assert_eq!(Role::parse("editor"), Some(Role::Editor));
        assert_eq!(Role::parse("owner"), None);
    }
}
