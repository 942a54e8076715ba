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

use crate::config::{Config, RateLimit};

/// The rate-limited actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `message.send`.
    Message,
    /// `POST /api/files`.
    File,
    /// Creating a group.
    RoomCreate,
    /// `typing.start`.
    Typing,
    /// Sign-in attempts for one account name.
    Auth,
}

impl Action {
    /// The name used in errors and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Message => "message",
            Action::File => "file",
            Action::RoomCreate => "room_create",
            Action::Typing => "typing",
            Action::Auth => "auth",
        }
    }
}

/// The limits in force, one per action.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    message: RateLimit,
    file: RateLimit,
    room_create: RateLimit,
    typing: RateLimit,
    auth: RateLimit,
}

impl Limits {
    /// The limits configured.
    pub fn from_config(c: &Config) -> Self {
        Limits {
            message: c.rate_limit_message,
            file: c.rate_limit_file,
            room_create: c.rate_limit_room_create,
            typing: c.rate_limit_typing,
            auth: c.rate_limit_auth,
        }
    }

    fn of(&self, a: Action) -> RateLimit {
        match a {
            Action::Message => self.message,
            Action::File => self.file,
            Action::RoomCreate => self.room_create,
            Action::Typing => self.typing,
            Action::Auth => self.auth,
        }
    }
}

/// In-memory sliding-window limiter for one node.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    log: DashMap<(String, Action), VecDeque<Instant>>,
}

impl RateLimiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Self {
        RateLimiter {
            limits,
            log: DashMap::new(),
        }
    }

    /// The limit of an action.
    pub fn limit_of(&self, action: Action) -> RateLimit {
        self.limits.of(action)
    }

    /// Records an action if allowed; otherwise returns the wait in ms.
    pub fn check(&self, key: &str, action: Action) -> Result<(), u64> {
        let RateLimit { count, window } = self.limits.of(action);
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
        let max_window = [
            Action::Message,
            Action::File,
            Action::RoomCreate,
            Action::Typing,
            Action::Auth,
        ]
        .iter()
        .map(|a| self.limits.of(*a).window)
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
        let mut c = Config::defaults();
        c.rate_limit_message = RateLimit::new(count, secs);
        RateLimiter::new(Limits::from_config(&c))
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
