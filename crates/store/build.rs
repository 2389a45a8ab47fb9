//! Rebuilds the crate when a migration is added: `embed_migrations!` reads
//! the folder at compile time, and Cargo does not know about a new file.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
