//! Link previews: the cache of what each URL's page said (shared by every
//! message that links it, and by every node), and which messages show one.

use std::collections::HashMap;

use leetchat_protocol::LinkPreview;
use sqlx::{Any, AnyConnection, Executor, FromRow};

use super::files::FileRow;

/// A cached fetch of one URL.
#[derive(Debug, Clone, FromRow)]
pub struct PreviewRow {
    /// The page (normalised, without fragment).
    pub url: String,
    /// 1 when the page gave a preview; 0 when it gave nothing usable (kept
    /// so the URL is not fetched again until the entry expires).
    pub ok: i64,
    /// The page's title.
    pub title: Option<String>,
    /// Its summary.
    pub description: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
    /// Its picture, as a thumbnail stored like an upload.
    pub image_file_id: Option<String>,
    /// Unix ms.
    pub fetched_at: i64,
}

/// The cache entry for `url`, however old.
pub async fn cached<'e, E: Executor<'e, Database = Any>>(
    e: E,
    url: &str,
) -> Result<Option<PreviewRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT url, ok, title, description, site_name, image_file_id, fetched_at
         FROM link_previews WHERE url = $1",
    )
    .bind(url)
    .fetch_optional(e)
    .await
}

/// Stores (or replaces) the cache entry for a URL.
pub async fn store<'e, E: Executor<'e, Database = Any>>(
    e: E,
    row: &PreviewRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO link_previews (url, ok, title, description, site_name, image_file_id, fetched_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (url) DO UPDATE SET ok = excluded.ok, title = excluded.title,
           description = excluded.description, site_name = excluded.site_name,
           image_file_id = excluded.image_file_id, fetched_at = excluded.fetched_at",
    )
    .bind(&row.url)
    .bind(row.ok)
    .bind(&row.title)
    .bind(&row.description)
    .bind(&row.site_name)
    .bind(&row.image_file_id)
    .bind(row.fetched_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Sets (or clears) the link whose preview a message shows.
pub async fn set_on_message(
    conn: &mut AnyConnection,
    message_id: &str,
    url: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET preview_url = $2 WHERE message_id = $1")
        .bind(message_id)
        .bind(url)
        .execute(conn)
        .await?;
    Ok(())
}

/// The previews of `urls` that gave one, as messages show them.
pub async fn of_urls(
    conn: &mut AnyConnection,
    urls: &[&str],
) -> Result<HashMap<String, LinkPreview>, sqlx::Error> {
    #[derive(FromRow)]
    struct Joined {
        url: String,
        title: Option<String>,
        description: Option<String>,
        site_name: Option<String>,
        file_id: Option<String>,
        uploader_id: Option<String>,
        name: Option<String>,
        mime: Option<String>,
        size: Option<i64>,
        width: Option<i64>,
        height: Option<i64>,
    }
    let mut urls = urls.to_vec();
    urls.sort_unstable();
    urls.dedup();
    let mut out = HashMap::new();
    for chunk in super::chunked(&urls) {
        let sql = format!(
            "SELECT p.url, p.title, p.description, p.site_name, f.file_id, f.uploader_id,
               f.name, f.mime, f.size, f.width, f.height
             FROM link_previews p LEFT JOIN files f ON f.file_id = p.image_file_id
             WHERE p.ok = 1 AND p.url IN ({})",
            super::placeholders(chunk.len())
        );
        let mut q = sqlx::query_as::<_, Joined>(&sql);
        for u in chunk {
            q = q.bind(*u);
        }
        for j in q.fetch_all(&mut *conn).await? {
            let image = match (j.file_id, j.uploader_id, j.name, j.mime, j.size) {
                (Some(file_id), Some(uploader_id), Some(name), Some(mime), Some(size)) => Some(
                    FileRow {
                        file_id,
                        uploader_id,
                        name,
                        mime,
                        size,
                        width: j.width,
                        height: j.height,
                    }
                    .to_attachment(),
                ),
                _ => None,
            };
            out.insert(
                j.url.clone(),
                LinkPreview {
                    url: j.url,
                    title: j.title,
                    description: j.description,
                    site_name: j.site_name,
                    image,
                },
            );
        }
    }
    Ok(out)
}
