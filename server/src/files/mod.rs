//! `POST /api/files`, `GET /api/files/{fileId}` and `/thumbnail`: file and
//! image sharing.
//!
//! An upload is streamed to a temporary file with the size limit enforced as
//! it arrives (413 the moment it is exceeded, nothing left behind); its type
//! is sniffed from its bytes against an allowlist; images are decoded with
//! limits, measured, thumbnailed and served without metadata. A file is
//! readable by its uploader and by members of rooms where a live message
//! carries it; deleting the message takes that access away. Uploads never
//! attached to a message are removed after a while.

pub mod images;
pub mod sniff;
pub mod storage;

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leetchat_protocol::ErrorCode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::db::files::{FileRow, StoredFile};
use crate::db::{self, new_id};
use crate::error::{AppError, AppResult};
use crate::http::AuthUser;
use crate::ratelimit::Action;
use crate::state::AppState;
use leetchat_protocol::time::now_ms;
use storage::Variant;

/// Bytes kept for sniffing the type.
const HEAD: usize = 8192;

/// `{attachment}`: the answer to an upload.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    /// The new file, ready to attach to a message.
    pub attachment: leetchat_protocol::Attachment,
}

fn too_large(max: u64) -> AppError {
    AppError::new(
        ErrorCode::TooLarge,
        format!("files are limited to {max} bytes"),
    )
}

/// A temporary file removed on drop unless kept.
struct TempUpload {
    path: std::path::PathBuf,
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `POST /api/files`: multipart field `file`; 201 `{attachment}`.
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    mut form: Multipart,
) -> AppResult<(StatusCode, axum::Json<Uploaded>)> {
    state.rate_limit(&user.user_id, Action::File).await?;
    let max = state.config.max_file_size;
    let field = loop {
        match form.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => return Err(AppError::invalid("multipart field `file` is missing")),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large(max)),
            Err(e) => return Err(AppError::invalid(format!("bad multipart body: {e}"))),
        }
    };
    let raw_name = field.file_name().map(str::to_owned);

    // Stream to a temporary file, counting, hashing and keeping the head.
    let tmp_dir = state.config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|e| AppError::internal("creating the upload folder", e))?;
    let tmp = TempUpload {
        path: tmp_dir.join(format!("upload-{}", new_id())),
    };
    let mut out = tokio::fs::File::create(&tmp.path)
        .await
        .map_err(|e| AppError::internal("creating an upload file", e))?;
    let mut field = field;
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(HEAD);
    let mut text = sniff::TextCheck::default();
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large(max)),
            Err(e) => return Err(AppError::invalid(format!("upload interrupted: {e}"))),
        };
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        text.feed(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| AppError::internal("writing an upload", e))?;
    }
    out.flush()
        .await
        .map_err(|e| AppError::internal("writing an upload", e))?;
    drop(out);
    if size == 0 {
        return Err(AppError::invalid("the file is empty"));
    }
    let Some(mime) = sniff::sniff(&head, text.is_text()) else {
        return Err(AppError::invalid(
            "this type of file is not allowed (images, documents, archives, audio, video and text are)",
        ));
    };
    let name = sniff::sanitize_name(raw_name.as_deref(), mime);
    // An image waits for its turn at decoding before its bytes are read in.
    let turn = if sniff::is_image(mime) {
        Some(state.image_turn().await?)
    } else {
        None
    };
    let bytes = tokio::fs::read(&tmp.path)
        .await
        .map_err(|e| AppError::internal("reading an upload", e))?;
    drop(tmp);

    let (bytes, dims, thumb) = if sniff::is_image(mime) {
        let bound = state.config.image_decode_max_bytes;
        let processed = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            images::process(bytes, mime, bound)
        })
        .await
        .map_err(|e| AppError::internal("image task", e))?
        .map_err(|e| match e {
            images::ImageError::TooLarge(_) | images::ImageError::TooMuchMemory { .. } => {
                AppError::new(ErrorCode::TooLarge, e.to_string())
            }
            images::ImageError::Undecodable(_) => AppError::invalid(e.to_string()),
        })?;
        (
            processed.bytes,
            Some((i64::from(processed.width), i64::from(processed.height))),
            Some(processed.thumbnail),
        )
    } else {
        (bytes, None, None)
    };
    let row = store(&state, &user.user_id, name, mime, bytes, dims, thumb).await?;
    let file_id = row.file_id.clone();
    tracing::info!(%file_id, mime, size = row.size, "file uploaded");
    Ok((
        StatusCode::CREATED,
        axum::Json(Uploaded {
            attachment: row.to_attachment(),
        }),
    ))
}

/// Stores a new file: its row first (`file_blobs` references it), then its
/// bytes and thumbnail; undone when the bytes cannot be stored.
async fn store(
    state: &AppState,
    uploader_id: &str,
    name: String,
    mime: &str,
    bytes: Vec<u8>,
    dims: Option<(i64, i64)>,
    thumb: Option<Vec<u8>>,
) -> AppResult<FileRow> {
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let file_id = new_id();
    let row = FileRow {
        file_id: file_id.clone(),
        uploader_id: uploader_id.to_owned(),
        name,
        mime: mime.to_owned(),
        size: bytes.len() as i64,
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
    };
    db::files::insert(state.db.writer(), &row, &sha256, now_ms()).await?;
    let stored = async {
        state.files.put(&file_id, Variant::Original, bytes).await?;
        if let Some(t) = thumb {
            state.files.put(&file_id, Variant::Thumbnail, t).await?;
        }
        Ok::<(), storage::StorageError>(())
    }
    .await;
    if let Err(e) = stored {
        let _ = state.files.delete(&file_id).await;
        let _ = db::files::delete(state.db.writer(), &file_id).await;
        return Err(AppError::internal("storing a file", e));
    }
    Ok(row)
}

/// Stores the picture of a link preview (fetched from the web, never
/// trusted): sniffed like an upload, decoded within the same limits and
/// turns, and kept only as a re-encoded thumbnail (as both the file and
/// its thumbnail), so nothing of the original bytes is ever served.
/// Returns the new file's id; `uploader_id` is the sender of the message
/// that linked the page.
pub async fn store_preview_picture(
    state: &AppState,
    uploader_id: &str,
    bytes: Vec<u8>,
) -> AppResult<String> {
    let head = &bytes[..bytes.len().min(HEAD)];
    let mime = match sniff::sniff(head, false) {
        Some(m) if sniff::is_image(m) => m,
        _ => {
            return Err(AppError::invalid(
                "a link preview's picture is not an image",
            ));
        }
    };
    let turn = state.image_turn().await?;
    let bound = state.config.image_decode_max_bytes;
    let processed = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        images::process(bytes, mime, bound)
    })
    .await
    .map_err(|e| AppError::internal("image task", e))?
    .map_err(|e| AppError::invalid(e.to_string()))?;
    let name = sniff::sanitize_name(Some("preview"), processed.thumbnail_mime);
    let dims = (
        i64::from(processed.thumbnail_width),
        i64::from(processed.thumbnail_height),
    );
    let thumb = processed.thumbnail;
    let row = store(
        state,
        uploader_id,
        name,
        processed.thumbnail_mime,
        thumb.clone(),
        Some(dims),
        Some(thumb),
    )
    .await?;
    Ok(row.file_id)
}

/// Makes a square avatar of an image the user uploaded, stored as a file of
/// its own (the picture and its thumbnail are the same).
pub async fn make_avatar(state: &AppState, user_id: &str, source: &str) -> AppResult<FileRow> {
    let not_image = || AppError::invalid("avatarFileId must name an image you uploaded");
    let src = db::files::of_uploader(state.db.reader(), source, user_id)
        .await?
        .ok_or_else(not_image)?;
    if src.width.is_none() {
        return Err(not_image());
    }
    let bytes = state
        .files
        .get(source, Variant::Original)
        .await
        .map_err(|e| AppError::internal("reading an upload", e))?
        .ok_or_else(not_image)?;
    let turn = state.image_turn().await?;
    let bound = state.config.image_decode_max_bytes;
    let mime = src.mime.clone();
    let (square, mime) = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        images::avatar(&bytes, &mime, bound)
    })
    .await
    .map_err(|e| AppError::internal("image task", e))?
    .map_err(|e| AppError::invalid(e.to_string()))?;
    let side = i64::from(images::AVATAR_SIDE);
    let name = sniff::sanitize_name(Some("avatar"), mime);
    store(
        state,
        user_id,
        name,
        mime,
        square.clone(),
        Some((side, side)),
        Some(square),
    )
    .await
}

/// The caller may read the file: they uploaded it, a live message in a
/// room they belong to carries it, or it is someone's avatar.
async fn readable(state: &AppState, user: &AuthUser, file_id: &str) -> AppResult<StoredFile> {
    let f = db::files::stored(state.db.reader(), file_id)
        .await?
        .ok_or_else(|| AppError::not_found("no such file"))?;
    if f.uploader_id == user.user_id
        || db::files::shared_with(state.db.reader(), file_id, &user.user_id).await?
        || db::users::is_avatar(&state.db, file_id).await?
    {
        Ok(f)
    } else {
        Err(AppError::forbidden("you may not read this file"))
    }
}

/// `GET /api/files/{fileId}`: the bytes, with Range and ETag support.
pub async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    Path(file_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, &user, &file_id, Variant::Original, &headers).await
}

/// `GET /api/files/{fileId}/thumbnail`: an image's thumbnail.
pub async fn thumbnail(
    State(state): State<AppState>,
    user: AuthUser,
    Path(file_id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve(&state, &user, &file_id, Variant::Thumbnail, &headers).await
}

async fn serve(
    state: &AppState,
    user: &AuthUser,
    file_id: &str,
    v: Variant,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let f = readable(state, user, file_id).await?;
    let is_image = f.width.is_some();
    if v == Variant::Thumbnail && !is_image {
        return Err(AppError::not_found("only images have thumbnails"));
    }
    let etag = match v {
        Variant::Original => format!("\"{}\"", f.sha256),
        Variant::Thumbnail => format!("\"{}-thumb\"", f.sha256),
    };
    let mut h = HeaderMap::new();
    let mime = match v {
        Variant::Original => f.mime.clone(),
        Variant::Thumbnail => String::new(),
    };
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(e) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, e);
    }
    let disposition = if is_image { "inline" } else { "attachment" };
    if let Ok(d) = HeaderValue::from_str(&format!(
        "{disposition}; filename*=UTF-8''{}",
        encode_rfc5987(&sniff::sanitize_name(Some(&f.name), &f.mime))
    )) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    let bytes = state
        .files
        .get(file_id, v)
        .await
        .map_err(|e| AppError::internal("reading a stored file", e))?
        .ok_or_else(|| AppError::not_found("the file's bytes are gone"))?;
    let content_type = if mime.is_empty() {
        sniff_thumbnail(&bytes)
    } else {
        mime
    };
    if let Ok(ct) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    let total = bytes.len() as u64;
    // A Range header we do not understand is ignored, as RFC 9110 asks.
    let range = headers
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .filter(|r| r.trim().starts_with("bytes="));
    match range.map(|r| parse_range(r, total)) {
        None => Ok((StatusCode::OK, h, Body::from(bytes)).into_response()),
        Some(Some((start, end))) => {
            if let Ok(cr) = HeaderValue::from_str(&format!("bytes {start}-{end}/{total}")) {
                h.insert(header::CONTENT_RANGE, cr);
            }
            let part = bytes[start as usize..=end as usize].to_vec();
            Ok((StatusCode::PARTIAL_CONTENT, h, Body::from(part)).into_response())
        }
        Some(None) => {
            if let Ok(cr) = HeaderValue::from_str(&format!("bytes */{total}")) {
                h.insert(header::CONTENT_RANGE, cr);
            }
            Ok((StatusCode::RANGE_NOT_SATISFIABLE, h).into_response())
        }
    }
}

fn sniff_thumbnail(bytes: &[u8]) -> String {
    infer::get(bytes)
        .map_or("application/octet-stream", |t| t.mime_type())
        .to_owned()
}

/// Parses a single `bytes=` range against a length: `Some((start, end))`
/// inclusive, `None` when unsatisfiable.
pub fn parse_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            len - 1
        } else {
            b.parse::<u64>().ok()?.min(len - 1)
        };
        (start, end)
    };
    (start <= end && start < len).then_some((start, end))
}

fn encode_rfc5987(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Removes uploads older than `older_than` that no message carries. Returns how many.
pub async fn sweep_unattached(state: &AppState, older_than: Duration) -> AppResult<u64> {
    let cutoff = now_ms() - older_than.as_millis() as i64;
    let ids = db::files::unattached_before(state.db.reader(), cutoff).await?;
    let mut n = 0;
    for id in ids {
        if let Err(e) = state.files.delete(&id).await {
            tracing::warn!(error = %e, file_id = %id, "cannot remove an unattached upload");
            continue;
        }
        db::files::delete_if_unattached(state.db.writer(), &id).await?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("bytes=0-1,4-5", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
