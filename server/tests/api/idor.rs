//! The non-member matrix: every id-taking event as an outsider, and through a room the caller does belong to.
