//! Tauri's build step (reads `tauri.conf.json`, a link to the root file).
fn main() {
    tauri_build::build()
}
