//! Uploaded files: their rows, which messages carry them, who may read
//! them, and their bytes when they are stored in the database.

use leetchat_protocol::Attachment;
use sqlx::{Any, AnyConnection, Executor, FromRow};

/// A file row, as attachments need it.
#[derive(Debug, Clone, FromRow)]
pub struct FileRow {
    /// Id.
    pub file_id: String,
    /// Uploader.
    pub uploader_id: String,
    /// Sanitised name.
    pub name: String,
    /// Sniffed type.
    pub mime: String,
    /// Bytes.
    pub size: i64,
    /// Pixels.
    pub width: Option<i64>,
    /// Pixels.
    pub height: Option<i64>,
}

impl FileRow {
    /// The wire attachment.
    pub fn to_attachment(&self) -> Attachment {
        let is_image = self.width.is_some();
        Attachment {
            file_id: self.file_id.clone(),
            name: self.name.clone(),
            mime: self.mime.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            url: format!("/api/files/{}", self.file_id),
            thumbnail_url: is_image.then(|| format!("/api/files/{}/thumbnail", self.file_id)),
        }
    }
}

/// A file's row with what serving it needs.
#[derive(Debug, Clone, FromRow)]
pub struct StoredFile {
    /// Uploader.
    pub uploader_id: String,
    /// Sanitised name.
    pub name: String,
    /// Sniffed type.
    pub mime: String,
    /// Pixels (set for images).
    pub width: Option<i64>,
    /// Hex SHA-256 of the bytes (the ETag).
    pub sha256: String,
}

/// Inserts a new upload's row.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    f: &FileRow,
    sha256: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO files (file_id, uploader_id, name, mime, size, width, height, sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&f.file_id)
    .bind(&f.uploader_id)
    .bind(&f.name)
    .bind(&f.mime)
    .bind(f.size)
    .bind(f.width)
    .bind(f.height)
    .bind(sha256)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Deletes a file's row (its bytes are the storage's).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM files WHERE file_id = $1")
        .bind(file_id)
        .execute(e)
        .await?;
    Ok(())
}

/// A file's row, for serving it.
pub async fn stored<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
) -> Result<Option<StoredFile>, sqlx::Error> {
    sqlx::query_as("SELECT uploader_id, name, mime, width, sha256 FROM files WHERE file_id = $1")
        .bind(file_id)
        .fetch_optional(e)
        .await
}

/// Whether a live message in a room `user_id` belongs to carries the file,
/// as an attachment or as the picture of its link preview.
pub async fn shared_with<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM message_attachments a
         JOIN messages m ON m.message_id = a.message_id
         JOIN room_members rm ON rm.room_id = m.room_id
         WHERE a.file_id = $1 AND rm.user_id = $2 AND m.deleted_at IS NULL
         UNION ALL
         SELECT 1 FROM link_previews p
         JOIN messages m ON m.preview_url = p.url
         JOIN room_members rm ON rm.room_id = m.room_id
         WHERE p.image_file_id = $1 AND rm.user_id = $2 AND m.deleted_at IS NULL
         LIMIT 1",
    )
    .bind(file_id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    Ok(r.is_some())
}

/// Up to 1000 uploads created before `cutoff` that no message carries, no
/// link preview shows and nobody has as an avatar.
pub async fn unattached_before<'e, E: Executor<'e, Database = Any>>(
    e: E,
    cutoff: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT f.file_id FROM files f WHERE f.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.file_id = f.file_id)
         AND NOT EXISTS (SELECT 1 FROM link_previews p WHERE p.image_file_id = f.file_id)
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = f.file_id) LIMIT 1000",
    )
    .bind(cutoff)
    .fetch_all(e)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Deletes a file's row unless a message carries it (or a preview shows it,
/// or it is someone's avatar) by now.
pub async fn delete_if_unattached<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM files WHERE file_id = $1
         AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.file_id = $1)
         AND NOT EXISTS (SELECT 1 FROM link_previews p WHERE p.image_file_id = $1)
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_file_id = $1)",
    )
    .bind(file_id)
    .execute(e)
    .await?;
    Ok(())
}

/// A file the given user uploaded.
pub async fn of_uploader<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
    uploader_id: &str,
) -> Result<Option<FileRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT file_id, uploader_id, name, mime, size, width, height FROM files
         WHERE file_id = $1 AND uploader_id = $2",
    )
    .bind(file_id)
    .bind(uploader_id)
    .fetch_optional(e)
    .await
}

/// Attaches files to a message, in order.
pub async fn attach(
    conn: &mut AnyConnection,
    message_id: &str,
    file_ids: &[String],
) -> Result<(), sqlx::Error> {
    for (i, f) in file_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO message_attachments (message_id, position, file_id) VALUES ($1, $2, $3)",
        )
        .bind(message_id)
        .bind(i as i64)
        .bind(f)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A message's attachments, in order.
pub async fn attachments<'e, E: Executor<'e, Database = Any>>(
    e: E,
    message_id: &str,
) -> Result<Vec<Attachment>, sqlx::Error> {
    let rows: Vec<FileRow> = sqlx::query_as(
        "SELECT f.file_id, f.uploader_id, f.name, f.mime, f.size, f.width, f.height
         FROM message_attachments a JOIN files f ON f.file_id = a.file_id
         WHERE a.message_id = $1 ORDER BY a.position",
    )
    .bind(message_id)
    .fetch_all(e)
    .await?;
    Ok(rows.iter().map(FileRow::to_attachment).collect())
}

/// Stores a variant's bytes (database file storage).
pub async fn put_blob<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
    variant: &str,
    bytes: Vec<u8>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO file_blobs (file_id, variant, bytes) VALUES ($1, $2, $3)")
        .bind(file_id)
        .bind(variant)
        .bind(bytes)
        .execute(e)
        .await?;
    Ok(())
}

/// A variant's bytes, if stored (database file storage).
pub async fn blob<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
    variant: &str,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT bytes FROM file_blobs WHERE file_id = $1 AND variant = $2")
            .bind(file_id)
            .bind(variant)
            .fetch_optional(e)
            .await?;
    Ok(row.map(|(b,)| b))
}

/// Deletes every variant's bytes (database file storage).
pub async fn delete_blobs<'e, E: Executor<'e, Database = Any>>(
    e: E,
    file_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM file_blobs WHERE file_id = $1")
        .bind(file_id)
        .execute(e)
        .await?;
    Ok(())
}
