//! Time as the wire carries it: RFC 3339 UTC strings with milliseconds
//! (`2025-11-19T10:30:00.123Z`), and Unix milliseconds where it is stored or
//! compared. The one place that formats and parses wire times, for the
//! server, the client core and every client on it.

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The wire form of a Unix-millisecond time: `2025-11-19T10:30:00.000Z`
/// (the epoch for a time out of range).
pub fn rfc3339(ms: i64) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Unix milliseconds of an RFC 3339 time (any offset), or `None`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An RFC 3339 time as a date-time, for clients that show it in local time.
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_with_milliseconds() {
        let ms = 1_763_548_200_123;
        let s = rfc3339(ms);
        assert_eq!(s, "2025-11-19T10:30:00.123Z");
        assert_eq!(parse_rfc3339(&s), Some(ms));
        assert_eq!(
            parse_rfc3339("2025-11-19T10:30:00Z"),
            Some(1_763_548_200_000)
        );
        assert_eq!(
            parse_rfc3339("2025-11-19T11:30:00+01:00"),
            Some(1_763_548_200_000)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert!(parse_datetime("2025-11-19T10:30:00Z").is_some());
    }

    #[test]
    fn now_is_after_this_code_was_written() {
        assert!(now_ms() > 1_763_548_200_000);
    }
}
