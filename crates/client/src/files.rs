//! Files on this device: the private copies queued uploads are made from
//! (`outbox-files/`), the cache of downloads (`files/`), and what a file's
//! name suggests about its type.
//!
//! A file to send is copied into the data folder before its message is
//! queued, so the upload survives the original being moved or deleted and
//! the process being killed. The copy goes once the message is acked or
//! refused; copies nothing refers to any more (a crash at the wrong moment, a
//! room that was left) are swept at the next connection.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use leetchat_protocol::MessageType;

use crate::error::{Error, Result};

/// Folder (in the data folder) of the copies queued uploads are made from.
const OUTBOX_DIR: &str = "outbox-files";
/// Folder (in the data folder) of downloaded files and thumbnails.
const CACHE_DIR: &str = "files";
/// A copy younger than this is never swept: its message may be about to be
/// queued by another process sharing the data folder.
const SWEEP_GRACE: Duration = Duration::from_secs(600);
/// Longest file name kept in a copy's name (the original name is sent as is).
const MAX_COPY_NAME: usize = 100;

/// Whether a file's name says it is an image the server makes previews of
/// (png, jpeg, gif, webp).
pub fn looks_like_image(name: &str) -> bool {
    mime_of_name(name).starts_with("image/")
}

/// The type a file's name suggests. The server sniffs the bytes and has
/// the last word; this only labels the upload and the local preview.
pub fn mime_of_name(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "md" | "log" | "csv" => "text/plain",
        "json" => "application/json",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// The message type for files of these types: `image` when every one is an
/// image, else `file`.
pub fn message_type_of<'a>(mimes: impl IntoIterator<Item = &'a str>) -> MessageType {
    let mut any = false;
    for mime in mimes {
        any = true;
        if !mime.starts_with("image/") {
            return MessageType::File;
        }
    }
    if any {
        MessageType::Image
    } else {
        MessageType::File
    }
}

/// A name safe to use inside one of our folders: ASCII letters, digits,
/// `.`, `-` and `_`, nothing else, not hidden, and not too long.
fn safe_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    if out.len() > MAX_COPY_NAME {
        // Keep the end: the extension says what the file is.
        out = out[out.len() - MAX_COPY_NAME..].to_owned();
    }
    if out.is_empty() { "file".into() } else { out }
}

/// Copies `src` to `data_dir/outbox-files/<tempId>-<name>` and returns the
/// copy's path and size. Written under a temporary name and renamed, so a
/// copy that exists is complete.
pub(crate) async fn copy_into_outbox(
    data_dir: &Path,
    temp_id: &str,
    src: &Path,
    name: &str,
) -> Result<(PathBuf, u64)> {
    let dir = data_dir.join(OUTBOX_DIR);
    let io = |p: &Path, e: std::io::Error| Error::File(format!("{}: {e}", p.display()));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io(&dir, e))?;
    let dest = dir.join(format!("{temp_id}-{}", safe_name(name)));
    let partial = dir.join(format!("{temp_id}.partial"));
    let size = tokio::fs::copy(src, &partial)
        .await
        .map_err(|e| io(src, e))?;
    tokio::fs::rename(&partial, &dest)
        .await
        .map_err(|e| io(&dest, e))?;
    Ok((absolute(dest), size))
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

/// Removes the copies made for the send `temp_id` (once acked or refused).
pub(crate) fn remove_outbox_copies(data_dir: &Path, temp_id: &str) {
    let prefix = format!("{temp_id}-");
    let partial = format!("{temp_id}.partial");
    for_each_copy(data_dir, |name, path| {
        if name.starts_with(&prefix) || name == partial {
            remove(path);
        }
    });
}

/// Removes copies no queued send refers to any more, except young ones.
/// `queued` holds the tempIds of the sends in the outbox.
pub(crate) fn sweep_outbox_copies(data_dir: &Path, queued: &HashSet<String>) {
    for_each_copy(data_dir, |name, path| {
        // tempIds are `tmp-<uuid>`: the first 40 characters.
        let temp_id = name.get(..40).unwrap_or(name);
        if queued.contains(temp_id) {
            return;
        }
        let young = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age < SWEEP_GRACE);
        if !young {
            remove(path);
        }
    });
}

fn for_each_copy(data_dir: &Path, mut f: impl FnMut(&str, &Path)) {
    let Ok(entries) = std::fs::read_dir(data_dir.join(OUTBOX_DIR)) else {
        return;
    };
    for entry in entries.flatten() {
        if let Some(name) = entry.file_name().to_str() {
            f(name, &entry.path());
        }
    }
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), error = %e, "could not remove a queued file's copy");
    }
}

/// Where a download of `file_id` (or its thumbnail) is cached. Refuses ids
/// that could name anything outside the cache folder.
pub(crate) fn cache_path(data_dir: &Path, file_id: &str, thumbnail: bool) -> Result<PathBuf> {
    let ok = !file_id.is_empty()
        && file_id.len() <= 128
        && file_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Error::Invalid(format!(
            "{file_id:?} is not a file id (a file still waiting to be uploaded has none yet)"
        )));
    }
    let name = if thumbnail {
        format!("{file_id}.thumb")
    } else {
        file_id.to_owned()
    };
    Ok(absolute(data_dir.join(CACHE_DIR).join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_make_image_messages_and_anything_else_files() {
        assert!(looks_like_image("Photo.JPEG"));
        assert!(looks_like_image("a.webp"));
        assert!(!looks_like_image("report.pdf"));
        assert!(!looks_like_image("png"));
        assert_eq!(
            message_type_of(["image/png", "image/gif"]),
            MessageType::Image
        );
        assert_eq!(
            message_type_of(["image/png", "text/plain"]),
            MessageType::File
        );
        assert_eq!(message_type_of([]), MessageType::File);
    }

    #[test]
    fn copy_names_stay_inside_the_folder_and_keep_the_extension() {
        assert_eq!(safe_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "_hidden");
        assert_eq!(safe_name("résumé 2024.pdf"), "r_sum__2024.pdf");
        let long = format!("{}.png", "x".repeat(300));
        let safe = safe_name(&long);
        assert_eq!(safe.len(), MAX_COPY_NAME);
        assert!(safe.ends_with(".png"));
        assert_eq!(safe_name(""), "file");
    }

    #[test]
    fn cache_paths_refuse_ids_that_leave_the_folder() {
        let dir = Path::new("/data");
        assert!(cache_path(dir, "../x", false).is_err());
        assert!(cache_path(dir, "", false).is_err());
        assert!(cache_path(dir, "a/b", false).is_err());
        assert_eq!(
            cache_path(dir, "f_1-2", true).expect("a valid id"),
            Path::new("/data/files/f_1-2.thumb")
        );
    }

    #[tokio::test]
    async fn copies_are_removed_per_send_and_swept_only_when_unqueued_and_old() {
        let dir = tempfile::tempdir().expect("dir");
        let src = dir.path().join("photo.png");
        std::fs::write(&src, b"bytes").expect("write");
        let a = crate::store::outbox::new_temp_id();
        let b = crate::store::outbox::new_temp_id();
        let (copy_a, size) = copy_into_outbox(dir.path(), &a, &src, "photo.png")
            .await
            .expect("copy");
        let (copy_b, _) = copy_into_outbox(dir.path(), &b, &src, "photo.png")
            .await
            .expect("copy");
        assert_eq!(size, 5);
        assert_eq!(std::fs::read(&copy_a).expect("read"), b"bytes");
        remove_outbox_copies(dir.path(), &a);
        assert!(!copy_a.exists() && copy_b.exists());
        // Not queued, but young: kept (another process may be queueing it).
        sweep_outbox_copies(dir.path(), &HashSet::new());
        assert!(copy_b.exists());
    }
}
