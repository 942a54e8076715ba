//! Link previews (extension, docs/protocol.md 8.13): the title, summary and
//! picture of a message's first link, fetched by the server so members see
//! what a link is before they open it, and so their clients never contact
//! the linked site themselves.
//!
//! How a message gets one:
//! 1. A send or an edit asks [`plan`] what its content needs. When the
//!    first link ([`links::first_link`]) has a fresh entry in the cache
//!    (`link_previews`, shared by every node), the write attaches it at once
//!    and the message carries `linkPreview` from its first push.
//! 2. Otherwise, once the write has committed, [`spawn`] fetches the page on
//!    this node through [`crate::egress`] (public addresses only, limits on
//!    time and size, redirects checked), reads it ([`page`]), makes a
//!    thumbnail of its picture through the upload path, caches the result,
//!    and attaches it as a new room event, `message.link_preview`, if the
//!    message still links there (it may have been edited or deleted
//!    meanwhile). A link that gave nothing is cached too, so it is not
//!    fetched for every message.
//!
//! A node that stops mid-fetch loses that one preview (the message is
//! unchanged); the next message with the link fetches it again.

pub mod links;
pub mod page;
pub mod settings;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use leetchat_protocol::time::now_ms;
use url::Url;

use crate::committer;
use crate::db::{self, previews::PreviewRow};
use crate::egress::{Egress, Policy, Refused};
use crate::error::AppResult;
use crate::files;
use crate::state::AppState;
use crate::stream::{RoomEvent, StreamWrite};
use settings::PreviewSettings;

/// Longest link that gets a preview (the URL is the cache key).
pub const MAX_URL_CHARS: usize = 2048;
/// What the server asks pages for.
const ACCEPT_PAGE: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";
/// What the server asks pictures for.
const ACCEPT_IMAGE: &str = "image/png,image/jpeg,image/gif,image/webp;q=0.9,*/*;q=0.1";

/// The previews of this node: the outbound client and its turns.
#[derive(Debug)]
pub struct Previews {
    /// `None` when previews are off.
    egress: Option<Egress>,
    settings: PreviewSettings,
    /// Fetches at once on this node.
    turns: tokio::sync::Semaphore,
    /// One fetch per URL at a time: a second message with the same link
    /// waits for the first fetch and reads its result from the cache.
    fetching: DashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

impl Previews {
    /// Sets up previews as configured.
    pub fn new(settings: &PreviewSettings) -> Result<Previews, reqwest::Error> {
        let egress = if settings.enabled {
            Some(Egress::new(
                Policy::new(false, &settings.allow_hosts),
                concat!(
                    "LeetChat-LinkPreview/",
                    env!("CARGO_PKG_VERSION"),
                    " (self-hosted chat server)"
                ),
            )?)
        } else {
            None
        };
        Ok(Previews {
            egress,
            settings: settings.clone(),
            turns: tokio::sync::Semaphore::new(settings.fetches.max(1) as usize),
            fetching: DashMap::new(),
        })
    }

    fn fresh(&self, row: &PreviewRow) -> bool {
        let age = now_ms().saturating_sub(row.fetched_at);
        age >= 0 && (age as u128) < self.settings.cache_for.as_millis()
    }
}

/// What a message's content needs for its preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// No link, previews are off, or the link is known to give nothing.
    Nothing,
    /// The cache has this link's preview: attach it in the write.
    Attach(String),
    /// Fetch this link once the write has committed.
    Fetch(String),
}

impl Plan {
    /// The link a write attaches at once.
    pub fn attach_now(&self) -> Option<&str> {
        match self {
            Plan::Attach(u) => Some(u),
            _ => None,
        }
    }

    /// The link, whatever happens to it.
    pub fn url(&self) -> Option<&str> {
        match self {
            Plan::Nothing => None,
            Plan::Attach(u) | Plan::Fetch(u) => Some(u),
        }
    }
}

/// What `content` needs: reads the cache, no lock, no network.
pub async fn plan(state: &AppState, content: &str) -> AppResult<Plan> {
    if state.previews.egress.is_none() {
        return Ok(Plan::Nothing);
    }
    let Some(url) = links::first_link(content) else {
        return Ok(Plan::Nothing);
    };
    let url = String::from(url);
    if url.chars().count() > MAX_URL_CHARS {
        return Ok(Plan::Nothing);
    }
    Ok(match db::previews::cached(state.db.reader(), &url).await? {
        Some(row) if state.previews.fresh(&row) && row.ok == 1 => Plan::Attach(url),
        Some(row) if state.previews.fresh(&row) => Plan::Nothing,
        _ => Plan::Fetch(url),
    })
}

/// A preview to fetch and attach.
#[derive(Debug, Clone)]
pub struct Job {
    /// The message's room.
    pub room_id: String,
    /// The message.
    pub message_id: String,
    /// Its sender (the owner of the thumbnail's file row).
    pub sender_id: String,
    /// The link.
    pub url: String,
}

/// Fetches and attaches a preview in the background (ended by shutdown).
pub fn spawn(state: &AppState, job: Job) {
    let state = state.clone();
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        tokio::select! {
            () = state.shutdown.cancelled() => {}
            () = run(&state, &job) => {}
        }
    });
}

async fn run(state: &AppState, job: &Job) {
    match cached_or_fetched(state, &job.url, &job.sender_id).await {
        Ok(true) => {
            if let Err(e) = attach(state, job).await {
                tracing::warn!(message_id = %job.message_id, error = %e, "attaching a link preview failed");
            }
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, "storing a link preview failed");
        }
    }
}

/// Whether `url` gives a preview: from the cache, or fetched now and cached.
async fn cached_or_fetched(state: &AppState, url: &str, sender_id: &str) -> AppResult<bool> {
    let p = &state.previews;
    let lock = p.fetching.entry(url.to_owned()).or_default().clone();
    let result = async {
        let _one_at_a_time = lock.lock().await;
        if let Some(row) = db::previews::cached(state.db.reader(), url).await?
            && p.fresh(&row)
        {
            return Ok(row.ok == 1);
        }
        let _turn = p
            .turns
            .acquire()
            .await
            .map_err(|e| crate::error::AppError::internal("preview turn", e))?;
        let outcome = fetch(state, url, sender_id).await;
        state.metrics.link_preview(match &outcome {
            Ok(_) => "ok",
            Err(miss) => miss.label(),
        });
        if let Err(miss) = &outcome {
            tracing::debug!(url, reason = %miss, "no link preview");
        }
        let found = outcome.ok();
        let row = PreviewRow {
            url: url.to_owned(),
            ok: i64::from(found.is_some()),
            title: found.as_ref().and_then(|f| f.info.title.clone()),
            description: found.as_ref().and_then(|f| f.info.description.clone()),
            site_name: found.as_ref().and_then(|f| f.info.site_name.clone()),
            image_file_id: found.as_ref().and_then(|f| f.image_file_id.clone()),
            fetched_at: now_ms(),
        };
        db::previews::store(state.db.writer(), &row).await?;
        Ok(found.is_some())
    }
    .await;
    drop(lock);
    // The entry goes once nobody else waits on it.
    p.fetching.remove_if(url, |_, l| Arc::strong_count(l) == 1);
    result
}

/// Why a link gave no preview.
#[derive(Debug, thiserror::Error)]
pub enum Miss {
    /// The request was refused or failed ([`crate::egress`]).
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The link is not an HTML page.
    #[error("not an HTML page")]
    NotHtml,
    /// The page names neither a title nor a description.
    #[error("the page has nothing to show")]
    Empty,
}

impl Miss {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Miss::Refused(r) => r.label(),
            Miss::NotHtml => "not_html",
            Miss::Empty => "empty",
        }
    }
}

/// A page's preview, its picture stored.
struct Found {
    info: page::PageInfo,
    image_file_id: Option<String>,
}

async fn fetch(state: &AppState, url: &str, sender_id: &str) -> Result<Found, Miss> {
    let p = &state.previews;
    let Some(egress) = &p.egress else {
        return Err(Miss::Empty);
    };
    let url = Url::parse(url).map_err(|_| Refused::Scheme)?;
    let deadline = Instant::now() + p.settings.timeout;
    let max = usize::try_from(p.settings.max_bytes).unwrap_or(usize::MAX);
    let fetched = egress
        .get(url, ACCEPT_PAGE, p.settings.timeout, max)
        .await?;
    let ct = fetched.content_type.as_deref().unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "text/html" && mime != "application/xhtml+xml" {
        return Err(Miss::NotHtml);
    }
    let html = page::decode(&fetched.body, fetched.content_type.as_deref());
    let page_url = fetched.url;
    let info = tokio::task::spawn_blocking(move || page::page_info(&html, &page_url))
        .await
        .map_err(|e| Refused::Transport(e.to_string()))?;
    if !info.is_useful() {
        return Err(Miss::Empty);
    }
    let image_file_id = match &info.image {
        Some(image) => {
            let left = deadline.saturating_duration_since(Instant::now());
            match picture(state, egress, image.clone(), left, max, sender_id).await {
                Ok(id) => Some(id),
                Err(e) => {
                    tracing::debug!(image = %image, reason = %e, "link preview without its picture");
                    None
                }
            }
        }
        None => None,
    };
    Ok(Found {
        info,
        image_file_id,
    })
}

/// Fetches a page's picture and stores its thumbnail like an upload.
async fn picture(
    state: &AppState,
    egress: &Egress,
    url: Url,
    time_left: Duration,
    max: usize,
    sender_id: &str,
) -> Result<String, Refused> {
    if time_left.is_zero() {
        return Err(Refused::Timeout);
    }
    let fetched = egress.get(url, ACCEPT_IMAGE, time_left, max).await?;
    if fetched.truncated {
        return Err(Refused::TooLarge);
    }
    files::store_preview_picture(state, sender_id, fetched.body)
        .await
        .map_err(|e| Refused::Transport(e.to_string()))
}

/// Attaches a cached preview to the message, as a room event, if the
/// message still shows that link and no preview of it yet.
async fn attach(state: &AppState, job: &Job) -> AppResult<()> {
    let job = Arc::new(job.clone());
    let room_id = job.room_id.clone();
    committer::write(state, &room_id, None, move |w| {
        let job = job.clone();
        Box::pin(async move { attach_in(w, &job).await })
    })
    .await?;
    Ok(())
}

/// [`attach`]'s write; records nothing (the seq goes back) when there is
/// nothing to attach.
async fn attach_in(w: &mut StreamWrite<'_>, job: &Job) -> AppResult<()> {
    let Some(row) = db::messages::row(w.tx(), &job.message_id).await? else {
        return Ok(());
    };
    let still_links = links::first_link(&row.content).map(String::from);
    if row.deleted_at.is_some()
        || row.preview_url.as_deref() == Some(job.url.as_str())
        || still_links.as_deref() != Some(job.url.as_str())
    {
        return Ok(());
    }
    db::previews::set_on_message(w.tx(), &job.message_id, Some(&job.url)).await?;
    let Some(message) = db::messages::load(w.tx(), &job.message_id).await? else {
        return Ok(());
    };
    if message.link_preview.is_none() {
        return Ok(());
    }
    w.record(RoomEvent::LinkPreview(message)).await?;
    Ok(())
}
