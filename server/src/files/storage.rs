//! Where file bytes live: on disk under `DATA_DIR/files` (embedded setup),
//! or in PostgreSQL when that is the database, so every node of a cluster
//! sees every file.

use std::path::PathBuf;

use crate::db::Db;

/// The stored variants of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The (metadata-stripped) file.
    Original,
    /// An image's thumbnail.
    Thumbnail,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

/// Why the bytes could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Disk.
    #[error("file storage: {0}")]
    Io(#[from] std::io::Error),
    /// Database.
    #[error("file storage: {0}")]
    Db(#[from] sqlx::Error),
}

/// The file store of this server.
#[derive(Debug, Clone)]
pub enum FileStorage {
    /// Files under this folder.
    Disk(PathBuf),
    /// Rows of `file_blobs`.
    Database(Db),
}

impl FileStorage {
    /// A short name for logs and health.
    pub fn name(&self) -> &'static str {
        match self {
            FileStorage::Disk(_) => "disk",
            FileStorage::Database(_) => "database",
        }
    }

    fn path(dir: &std::path::Path, file_id: &str, v: Variant) -> PathBuf {
        let shard: String = file_id.chars().rev().take(2).collect();
        dir.join(shard).join(format!("{file_id}.{}", v.as_str()))
    }

    /// Stores bytes (durably: written, synced, then renamed into place).
    pub async fn put(&self, file_id: &str, v: Variant, bytes: Vec<u8>) -> Result<(), StorageError> {
        match self {
            FileStorage::Disk(dir) => {
                let path = Self::path(dir, file_id, v);
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    use std::io::Write;
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let tmp = path.with_extension("partial");
                    let mut f = std::fs::File::create(&tmp)?;
                    f.write_all(&bytes)?;
                    f.sync_all()?;
                    std::fs::rename(&tmp, &path)
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
                Ok(())
            }
            FileStorage::Database(db) => {
                sqlx::query("INSERT INTO file_blobs (file_id, variant, bytes) VALUES ($1, $2, $3)")
                    .bind(file_id)
                    .bind(v.as_str())
                    .bind(bytes)
                    .execute(db.writer())
                    .await?;
                Ok(())
            }
        }
    }

    /// The bytes, if stored.
    pub async fn get(&self, file_id: &str, v: Variant) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            FileStorage::Disk(dir) => match tokio::fs::read(Self::path(dir, file_id, v)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            FileStorage::Database(db) => {
                let row: Option<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT bytes FROM file_blobs WHERE file_id = $1 AND variant = $2",
                )
                .bind(file_id)
                .bind(v.as_str())
                .fetch_optional(db.reader())
                .await?;
                Ok(row.map(|(b,)| b))
            }
        }
    }

    /// Removes every variant (the row in `files` is the caller's).
    pub async fn delete(&self, file_id: &str) -> Result<(), StorageError> {
        match self {
            FileStorage::Disk(dir) => {
                for v in [Variant::Original, Variant::Thumbnail] {
                    match tokio::fs::remove_file(Self::path(dir, file_id, v)).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            FileStorage::Database(db) => {
                sqlx::query("DELETE FROM file_blobs WHERE file_id = $1")
                    .bind(file_id)
                    .execute(db.writer())
                    .await?;
                Ok(())
            }
        }
    }
}
