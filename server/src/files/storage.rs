//! Where file bytes live: in an S3-compatible bucket when `UPLOAD_BUCKET` is
//! set, else in PostgreSQL when that is the database (so every node of a
//! cluster sees every file), else on disk under `DATA_DIR/files`.

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
    /// Object storage.
    #[error("file storage: {0}")]
    Object(#[from] object_store::Error),
}

/// The file store of this server.
#[derive(Debug, Clone)]
pub enum FileStorage {
    /// Files under this folder.
    Disk(PathBuf),
    /// Rows of `file_blobs`.
    Database(Db),
    /// Objects in an S3-compatible bucket.
    Object(std::sync::Arc<dyn object_store::ObjectStore>),
}

impl FileStorage {
    /// The store the configuration asks for.
    pub fn from_config(
        config: &crate::config::Config,
        db: &Db,
    ) -> Result<FileStorage, StorageError> {
        if let Some(bucket) = &config.upload_bucket {
            let mut b = object_store::aws::AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(&config.upload_region);
            if let Some(endpoint) = &config.upload_endpoint {
                b = b
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            if let (Some(id), Some(secret)) = (
                &config.upload_access_key_id,
                &config.upload_secret_access_key,
            ) {
                b = b.with_access_key_id(id).with_secret_access_key(secret);
            }
            return Ok(FileStorage::Object(std::sync::Arc::new(b.build()?)));
        }
        Ok(match db.kind {
            crate::config::DatabaseKind::Postgres => FileStorage::Database(db.clone()),
            crate::config::DatabaseKind::Sqlite => FileStorage::Disk(config.data_dir.join("files")),
        })
    }

    /// A short name for logs and health.
    pub fn name(&self) -> &'static str {
        match self {
            FileStorage::Disk(_) => "disk",
            FileStorage::Database(_) => "database",
            FileStorage::Object(_) => "object",
        }
    }

    fn key(file_id: &str, v: Variant) -> object_store::path::Path {
        object_store::path::Path::from(format!("files/{file_id}.{}", v.as_str()))
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
                crate::db::files::put_blob(db.writer(), file_id, v.as_str(), bytes).await?;
                Ok(())
            }
            FileStorage::Object(store) => {
                store.put(&Self::key(file_id, v), bytes.into()).await?;
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
                Ok(crate::db::files::blob(db.reader(), file_id, v.as_str()).await?)
            }
            FileStorage::Object(store) => match store.get(&Self::key(file_id, v)).await {
                Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            },
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
                crate::db::files::delete_blobs(db.writer(), file_id).await?;
                Ok(())
            }
            FileStorage::Object(store) => {
                for v in [Variant::Original, Variant::Thumbnail] {
                    match store.delete(&Self::key(file_id, v)).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
        }
    }
}
