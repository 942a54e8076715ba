//! The LeetChat desktop app: everything is in the library (shared with mobile).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    leetchat_app::run();
}
