//! Prints the generated OpenAPI document.
fn main() {
    let doc = switchboard_admin::openapi::document();
    println!("{}", doc.to_pretty_json().unwrap_or_default());
}
