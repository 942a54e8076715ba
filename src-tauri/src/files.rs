//! Files the shell handles for the UI: pasted bytes queued as file
//! messages, the clipboard's image, a picked file's preview (shown before
//! it is sent), attachments saved to Downloads, the file picker.

use std::path::{Path, PathBuf};

use leetchat_client::{Client, MessageView};
use tauri::{AppHandle, Manager};

use crate::shell::{app_dir, err};

/// Largest pasted blob accepted over IPC (uploads are limited by the server too).
pub const MAX_PASTE_BYTES: usize = 25 * 1024 * 1024;

/// What `paste_clipboard_image` answers when the clipboard holds no image
/// (the UI ignores this one quietly: the paste simply had nothing to send).
pub const NO_CLIPBOARD_IMAGE: &str = "no image on the clipboard";

/// Writes `bytes` to a temporary file named after `name` and queues it as a
/// file message (the shared path of pasted data).
pub async fn queue_bytes(
    app: &AppHandle,
    client: &Client,
    room_id: &str,
    name: &str,
    bytes: &[u8],
    caption: &str,
) -> Result<MessageView, String> {
    if bytes.is_empty() || bytes.len() > MAX_PASTE_BYTES {
        return Err(format!(
            "pasted data must be between 1 byte and {MAX_PASTE_BYTES} bytes"
        ));
    }
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // A folder of its own, so the file (whose name becomes the attachment's)
    // is called exactly `name`.
    let dir = app_dir(app)?
        .join("pasted")
        .join(format!("{}-{unique}", std::process::id()));
    tokio::fs::create_dir_all(&dir).await.map_err(err)?;
    let path = dir.join(pasted_name(name));
    let sent = match tokio::fs::write(&path, bytes).await {
        // send_file copies it into the outbox folder, so the temporary can go.
        Ok(()) => client.send_file(room_id, &path, caption).await.map_err(err),
        Err(e) => Err(err(e)),
    };
    let _ = tokio::fs::remove_dir_all(&dir).await;
    sent
}

/// A pasted file's name, kept to safe characters.
fn pasted_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    if safe.is_empty() {
        "pasted".to_owned()
    } else {
        safe
    }
}

/// The clipboard's image as a PNG; off the async workers (reading can wait
/// on the clipboard's owner, and encoding a big image takes a while).
pub async fn clipboard_image(app: &AppHandle) -> Result<Vec<u8>, String> {
    let reader = app.clone();
    tokio::task::spawn_blocking(move || clipboard_png(&reader))
        .await
        .map_err(err)?
}

/// Pictures larger than this are not decoded for a preview (the file shows
/// with its name and size only).
const MAX_PREVIEW_BYTES: u64 = 25 * 1024 * 1024;
/// The longest side of a preview, in pixels.
const PREVIEW_SIDE: u32 = 320;

/// A file about to be sent, as the send dialog shows it.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilePreview {
    /// The file's name (what the attachment will be called).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// A small PNG of it as a `data:` URL, when it is a picture.
    pub thumbnail: Option<String>,
}

/// What the send dialog shows of the file at `path`: its name, size and,
/// for a picture, a small copy.
pub async fn preview(path: &Path) -> Result<FilePreview, String> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let thumbnail = if meta.len() <= MAX_PREVIEW_BYTES {
        // Two decodes at a time: twenty photos dropped at once must not
        // decode (and hold in memory) all together.
        static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let _turn = DECODES.acquire().await.map_err(err)?;
        let p = path.to_owned();
        tokio::task::spawn_blocking(move || thumbnail_url(&p))
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    Ok(FilePreview {
        name,
        size: meta.len(),
        thumbnail,
    })
}

/// A picture's preview as a `data:image/png` URL; None for anything that
/// is not a picture this build decodes, or is too big to decode.
fn thumbnail_url(path: &Path) -> Option<String> {
    use base64::Engine as _;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(128 * 1024 * 1024);
    let mut reader = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?;
    reader.limits(limits);
    let small = reader
        .decode()
        .ok()?
        .thumbnail(PREVIEW_SIDE, PREVIEW_SIDE)
        .into_rgba8();
    let png = encode_png(small.width(), small.height(), small.as_raw()).ok()?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

fn clipboard_png(app: &AppHandle) -> Result<Vec<u8>, String> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let image = app.clipboard().read_image().map_err(|e| {
        tracing::debug!("reading an image from the clipboard: {e}");
        NO_CLIPBOARD_IMAGE.to_owned()
    })?;
    encode_png(image.width(), image.height(), image.rgba())
}

/// RGBA pixels (`width`×`height`, 4 bytes each) as a PNG file.
fn encode_png(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    if width == 0 || height == 0 {
        return Err(NO_CLIPBOARD_IMAGE.to_owned());
    }
    if u64::from(width) * u64::from(height) * 4 != rgba.len() as u64 {
        return Err(format!(
            "the clipboard image is malformed ({width}×{height} with {} bytes)",
            rgba.len()
        ));
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgba, width, height, image::ExtendedColorType::Rgba8)
        .map_err(|e| format!("could not encode the clipboard image as PNG: {e}"))?;
    Ok(png)
}

/// Copies an attachment (downloaded once, then cached) into the user's
/// Downloads folder, under a name not taken yet; returns where.
pub async fn save_to_downloads(
    app: &AppHandle,
    client: &Client,
    file_id: &str,
) -> Result<PathBuf, String> {
    let cached = client.download(file_id, false).await.map_err(err)?;
    let name = client
        .store()
        .attachment_name(file_id)
        .ok()
        .flatten()
        .unwrap_or_else(|| file_id.to_owned());
    let dest = free_download_path(app, &name).await?;
    tokio::fs::copy(&cached, &dest).await.map_err(err)?;
    Ok(dest)
}

/// A path in the user's Downloads folder (made if missing) named `name`,
/// or `N-name` with the first N not taken.
pub async fn free_download_path(app: &AppHandle, name: &str) -> Result<PathBuf, String> {
    let dir = app.path().download_dir().map_err(err)?;
    tokio::fs::create_dir_all(&dir).await.map_err(err)?;
    Ok(free_name(&dir, name).await)
}

/// `dir/name`, or `dir/N-name` with the first N not taken.
async fn free_name(dir: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '\0'))
        .collect();
    let mut dest = dir.join(&safe);
    let mut n = 1;
    while tokio::fs::try_exists(&dest).await.unwrap_or(false) {
        dest = dir.join(format!("{n}-{safe}"));
        n += 1;
    }
    dest
}

/// The native file picker; the chosen paths (none if cancelled).
pub async fn pick(app: &AppHandle) -> Result<Vec<String>, String> {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().pick_files(move |paths| {
        let _ = tx.send(paths.unwrap_or_default());
    });
    let paths = rx.await.map_err(err)?;
    Ok(paths
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipboard_pixels_become_a_png_of_the_same_picture() {
        let (w, h) = (3u32, 2u32);
        let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 10) as u8).collect();
        let png = encode_png(w, h, &rgba).expect("encodes");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let back = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .expect("decodes")
            .to_rgba8();
        assert_eq!(back.dimensions(), (w, h));
        assert_eq!(back.into_raw(), rgba);
    }

    #[test]
    fn an_empty_or_malformed_clipboard_image_is_refused() {
        assert_eq!(
            encode_png(0, 0, &[]).expect_err("empty"),
            NO_CLIPBOARD_IMAGE
        );
        assert!(encode_png(2, 2, &[0; 15]).is_err());
    }

    #[test]
    fn pasted_names_keep_safe_characters_only() {
        assert_eq!(pasted_name("../../etc/passwd"), "....etcpasswd");
        assert_eq!(pasted_name("/"), "pasted");
        assert_eq!(pasted_name("Screenshot 1.png"), "Screenshot1.png");
    }

    #[tokio::test]
    async fn a_saved_file_never_replaces_one_already_there() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            free_name(dir.path(), "a/b.txt").await,
            dir.path().join("ab.txt")
        );
        std::fs::write(dir.path().join("ab.txt"), b"x").expect("write");
        assert_eq!(
            free_name(dir.path(), "ab.txt").await,
            dir.path().join("1-ab.txt")
        );
    }

    #[tokio::test]
    async fn a_picture_is_previewed_small_and_other_files_by_name_and_size() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().expect("temp dir");
        // A 1000×500 picture named .dat: the preview goes by its bytes.
        let rgba: Vec<u8> = (0..1000 * 500 * 4).map(|i| (i % 251) as u8).collect();
        let pic = dir.path().join("holiday.dat");
        std::fs::write(&pic, encode_png(1000, 500, &rgba).expect("png")).expect("write");
        let p = preview(&pic).await.expect("preview");
        assert_eq!(p.name, "holiday.dat");
        assert_eq!(p.size, std::fs::metadata(&pic).expect("meta").len());
        let url = p.thumbnail.expect("a picture has a thumbnail");
        let png = base64::engine::general_purpose::STANDARD
            .decode(
                url.strip_prefix("data:image/png;base64,")
                    .expect("a PNG data URL"),
            )
            .expect("base64");
        let small = image::load_from_memory(&png).expect("decodes");
        assert_eq!(
            (small.width(), small.height()),
            (PREVIEW_SIDE, PREVIEW_SIDE / 2)
        );

        let text = dir.path().join("notes.png");
        std::fs::write(&text, b"not a picture at all").expect("write");
        let p = preview(&text).await.expect("preview");
        assert_eq!(
            (p.name.as_str(), p.size, p.thumbnail),
            ("notes.png", 20, None)
        );

        assert!(
            preview(dir.path())
                .await
                .expect_err("a folder")
                .contains("is not a file")
        );
        assert!(
            preview(&dir.path().join("gone"))
                .await
                .expect_err("missing")
                .contains("cannot read")
        );
    }
}
