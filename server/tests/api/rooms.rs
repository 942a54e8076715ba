//! Creating rooms, listing them, renaming, membership changes.
