//! The two timestamp spellings of the protocol (docs/protocol.md §1.5): entities carry UTC with a `Z`
//! (`2017-01-06T18:54:51.095Z`), schedules carry an explicit offset
//! (`2017-02-04T00:00:00.000-05:00`). The emulated server's time zone is UTC.

use chrono::{DateTime, SecondsFormat, Utc};

/// An entity timestamp: `2017-01-06T18:54:51.095Z`.
pub(crate) fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A schedule timestamp: `2017-02-04T00:00:00.000+00:00`.
pub(crate) fn with_offset(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn both_spellings_have_milliseconds() {
        let at = Utc.with_ymd_and_hms(2017, 1, 6, 18, 54, 51).unwrap();
        assert_eq!(utc(at), "2017-01-06T18:54:51.000Z");
        assert_eq!(with_offset(at), "2017-01-06T18:54:51.000+00:00");
    }
}
