//! `send --file` and `download`.
//!
//! A file is queued like any message (copied into the data folder first),
//! then one foreground sync uploads and sends it; an unreachable server
//! leaves it queued. Downloads go through the client core's cache and are
//! copied to `--out` when one is given.

use std::path::{Path, PathBuf};
use std::time::Duration;

use leetchat_client::{ClientEvent, Error as ClientError, MessageView};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::Ctx;
use super::messages::{deliver, settle};
use crate::error::{Error, Result};
use crate::output::human_size;

/// How long `send --file` waits for its foreground sync: an upload takes
/// longer than a text. An unreachable server still fails fast (connecting
/// has its own timeout).
const SEND_FILE_WAIT: Duration = Duration::from_secs(300);

/// Files smaller than this upload too fast for progress notes to help.
const PROGRESS_FROM: u64 = 1 << 20;

/// `send ROOM --file PATH [TEXT]`.
pub async fn send(ctx: &Ctx, room: &str, path: &Path, caption: &str) -> Result<()> {
    let room = ctx.room_id(room, true).await?;
    let queued = ctx.client.send_file(&room, path, caption).await?;
    let notes = tokio::spawn(progress_notes(ctx, &queued));
    let reach = deliver(ctx, SEND_FILE_WAIT).await;
    notes.abort();
    let m = ctx.client.store().message_by_local_id(queued.local_id)?;
    settle(ctx, &m, &reach?, "sent")
}

/// Notes on stderr as a big file uploads (every 10 %).
fn progress_notes(ctx: &Ctx, m: &MessageView) -> impl Future<Output = ()> + 'static {
    let mut events = ctx.client.events();
    let out = ctx.out;
    let temp_id = m.temp_id.clone().unwrap_or_default();
    async move {
        let mut shown = None;
        loop {
            match events.recv().await {
                Ok(ClientEvent::UploadProgress {
                    temp_id: t,
                    name,
                    sent,
                    total,
                    ..
                }) if t == temp_id && total >= PROGRESS_FROM => {
                    let tenth = sent * 10 / total;
                    if shown != Some(tenth) {
                        shown = Some(tenth);
                        out.note(&format!(
                            "uploading {name}: {}% of {}",
                            tenth * 10,
                            human_size(total)
                        ));
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

/// `download MESSAGE [--out PATH] [--thumbnail]`.
pub async fn download(ctx: &Ctx, key: &str, out: Option<&Path>, thumbnail: bool) -> Result<()> {
    let m = match ctx.client.message(key) {
        Ok(m) => m,
        // It may have arrived since the last sync.
        Err(ClientError::NotFound(_)) => {
            ctx.sync_or_note().await?;
            ctx.client.message(key)?
        }
        Err(e) => return Err(e.into()),
    };
    let Some(a) = m.attachments.first() else {
        return Err(Error::Attachment(format!(
            "message {key} has no attachment"
        )));
    };
    if a.file_id.is_empty() {
        return Err(Error::Attachment(format!(
            "{} has not been uploaded yet; `leetchat sync` sends it",
            a.name
        )));
    }
    if thumbnail && a.thumbnail_url.is_none() {
        return Err(Error::Attachment(format!(
            "{} has no thumbnail (only images have one)",
            a.name
        )));
    }
    let cached = match ctx.client.download(&a.file_id, thumbnail).await {
        Ok(p) => p,
        Err(ClientError::Network(reason)) => {
            return Err(Error::Offline {
                server: ctx.client.server().to_owned(),
                reason,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let path = match out {
        Some(out) => {
            let dest = destination(out, &a.name, thumbnail);
            tokio::fs::copy(&cached, &dest).await?;
            dest
        }
        None => cached,
    };
    let path = std::path::absolute(&path).unwrap_or(path);
    ctx.out.result(
        &json!({
            "path": path,
            "fileId": a.file_id,
            "name": a.name,
            "mime": a.mime,
            "size": a.size,
            "thumbnail": thumbnail,
        }),
        &path.display().to_string(),
    )
}

/// `--out` as given, or inside it (under the attachment's own name) when it
/// is a folder. The name comes from another user: only its last component
/// is used, so it cannot point outside the folder.
fn destination(out: &Path, name: &str, thumbnail: bool) -> PathBuf {
    if !out.is_dir() {
        return out.to_path_buf();
    }
    let own = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .unwrap_or_else(|| "download".into());
    let file = if thumbnail {
        format!("thumbnail-{own}")
    } else {
        own
    };
    out.join(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_out_gets_the_attachments_own_name_and_nothing_above_it() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(
            destination(dir.path(), "../../evil.sh", false),
            dir.path().join("evil.sh")
        );
        assert_eq!(
            destination(dir.path(), "photo.png", true),
            dir.path().join("thumbnail-photo.png")
        );
        let file = dir.path().join("saved.bin");
        assert_eq!(destination(&file, "photo.png", false), file);
    }
}
