//! Malformed frames, limits and heartbeats: bad input gets an error and the connection stays open.
