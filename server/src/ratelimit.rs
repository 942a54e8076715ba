//! Per-user sliding-window rate limits.
//!
//! Each (user, action) keeps the times of its recent actions (a sliding log:
//! exact, and small since limits are tens per window). An action is allowed
//! when fewer than `count` happened in the last `window`; otherwise the caller
//! learns how long until the oldest one leaves the window.

use std::collections::VecDeque;
use std::time::Duration;

use dashmap::DashMap;
use tokio::time::Instant;

use crate::config::{RateLimit, RateLimits};

/// The rate-limited actions; each has its own setting in [`RateLimits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `message.send`.
    Message,
    /// `message.edit` and `message.delete`.
    Edit,
    /// `message.read`.
    Read,
    /// `POST /api/files`.
    File,
    /// Creating a group.
    RoomCreate,
    /// Creating a direct room.
    Direct,
    /// `room.update`, `room.members.*`.
    RoomChange,
    /// `typing.start`.
    Typing,
    /// `sync`.
    Sync,
    /// `reaction.add` and `reaction.remove`.
    Reaction,
    /// `message.pin` and `message.unpin`.
    Pin,
    /// The user's own settings: `room.notify.set`, `notify.default.set`.
    Settings,
    /// `message.search`: a read, but one that costs the database more than any other.
    Search,
    /// Sign-in attempts for one account name from one client address.
    Auth,
    /// Sign-in attempts for one account name from anywhere.
    AuthAccount,
    /// Registrations from one client address.
    Register,
    /// `message.report`.
    Report,
    /// `GET /api/me/export`.
    Export,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 18] = [
        Action::Message,
        Action::Edit,
        Action::Read,
        Action::File,
        Action::RoomCreate,
        Action::Direct,
        Action::RoomChange,
        Action::Typing,
        Action::Sync,
        Action::Reaction,
        Action::Pin,
        Action::Settings,
        Action::Search,
        Action::Auth,
        Action::AuthAccount,
        Action::Register,
        Action::Report,
        Action::Export,
    ];

    /// The name used in errors and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Message => "message",
            Action::Edit => "edit",
            Action::Read => "read",
            Action::File => "file",
            Action::RoomCreate => "room_create",
            Action::Direct => "direct",
            Action::RoomChange => "room_change",
            Action::Typing => "typing",
            Action::Sync => "sync",
            Action::Reaction => "reaction",
            Action::Pin => "pin",
            Action::Settings => "settings",
            Action::Search => "search",
            Action::Auth => "auth",
            Action::AuthAccount => "auth_account",
            Action::Register => "register",
            Action::Report => "report",
            Action::Export => "export",
        }
    }

    /// This action's limit among `limits`.
    pub fn limit_in(self, l: &RateLimits) -> RateLimit {
        match self {
            Action::Message => l.message,
            Action::Edit => l.edit,
            Action::Read => l.read,
            Action::File => l.file,
            Action::RoomCreate => l.room_create,
            Action::Direct => l.direct,
            Action::RoomChange => l.room_change,
            Action::Typing => l.typing,
            Action::Sync => l.sync,
            Action::Reaction => l.reaction,
            Action::Pin => l.pin,
            Action::Settings => l.settings,
            Action::Search => l.search,
            Action::Auth => l.auth,
            Action::AuthAccount => l.auth_account,
            Action::Register => l.register,
            Action::Report => l.report,
            Action::Export => l.export,
        }
    }
}

/// In-memory sliding-window limiter for one node.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    log: DashMap<(String, Action), VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            log: DashMap::new(),
        }
    }

    /// The limit of an action.
    pub fn limit_of(&self, action: Action) -> RateLimit {
        action.limit_in(&self.limits)
    }

    /// Records an action if allowed; otherwise returns the wait in ms.
    pub fn check(&self, key: &str, action: Action) -> Result<(), u64> {
        let RateLimit { count, window } = self.limit_of(action);
        let now = Instant::now();
        let mut log = self.log.entry((key.to_owned(), action)).or_default();
        while log
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            log.pop_front();
        }
        if log.len() < count as usize {
            log.push_back(now);
            return Ok(());
        }
        let oldest = *log.front().expect("a full log has a front");
        let wait = window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_millis().max(1) as u64)
    }

    /// Forgets logs with nothing inside their window (run periodically).
    pub fn sweep(&self) {
        let now = Instant::now();
        let max_window = Action::ALL
            .iter()
            .map(|a| self.limit_of(*a).window)
            .max()
            .unwrap_or(Duration::from_secs(3600));
        self.log.retain(|_, log| {
            log.back()
                .is_some_and(|t| now.duration_since(*t) < max_window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(count: u32, secs: u64) -> RateLimiter {
        RateLimiter::new(RateLimits::all(RateLimit::new(count, secs)))
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_slides_instead_of_resetting() {
        let l = limiter(2, 10);
        assert!(l.check("u", Action::Message).is_ok());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(l.check("u", Action::Message).is_ok());
        let wait = l.check("u", Action::Message).expect_err("third in window");
        assert_eq!(wait, 4000);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(
            l.check("u", Action::Message).is_ok(),
            "the first left the window"
        );
        assert!(l.check("u", Action::Message).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn users_and_actions_have_separate_budgets() {
        let l = limiter(1, 60);
        assert!(l.check("a", Action::Message).is_ok());
        assert!(l.check("b", Action::Message).is_ok());
        assert!(l.check("a", Action::Typing).is_ok());
        assert!(l.check("a", Action::Message).is_err());
        tokio::time::advance(Duration::from_secs(3600)).await;
        l.sweep();
        assert!(l.log.is_empty());
    }
}
