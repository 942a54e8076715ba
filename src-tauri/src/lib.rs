//! The LeetChat app shell: Tauri commands over the client core, client events
//! forwarded to the web UI, desktop notifications.
//!
//! - [`commands`]: one thin command per client action (logic lives in
//!   `leetchat-client`); tokens stay in Rust, the webview never sees them.
//! - [`events`]: forwards `ClientEvent`s as the `client-event` Tauri event and
//!   notifies about messages that arrive while the user looks elsewhere.
//! - [`attention`]: a click on a notification opens its room; the unread
//!   total on the window title and badge.

pub mod attention;
pub mod commands;
pub mod events;

/// Starts the app (desktop `main`, or the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(commands::Shell::default())
        .setup(|app| {
            attention::listen_for_clicks(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session,
            commands::sign_in,
            commands::sign_out,
            commands::rooms,
            commands::messages,
            commands::send_text,
            commands::edit_message,
            commands::delete_message,
            commands::load_older,
            commands::mark_read,
            commands::set_typing,
            commands::search_users,
            commands::create_direct,
            commands::create_group,
            commands::set_active_room,
            commands::send_file,
            commands::send_file_bytes,
            commands::paste_clipboard_image,
            commands::file_path,
            commands::save_file,
            commands::pick_files,
            commands::set_unread,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("LeetChat could not start: {e}");
        std::process::exit(1);
    }
}
