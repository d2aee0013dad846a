//! The web app (`web/build`) is embedded by rust-embed. Make sure the folder exists, so a checkout
//! without a web build still compiles (and serves a "not built" page), and rebuild when it changes.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/build");
    if !dir.exists() {
        let _ = std::fs::create_dir_all(&dir);
    }
    println!("cargo:rerun-if-changed={}", dir.display());
}
