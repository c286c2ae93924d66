//! The timeline: newest first by taken-at, paged by a cursor, grouped into dates for the viewer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use taina_core::{Error, PhotoId, Timestamp};

/// Photos per page unless asked otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most photos one page may hold.
pub const MAX_PAGE_SIZE: u32 = 500;

/// The page size for a requested `limit`: the default when absent, refused outside
/// `1..=MAX_PAGE_SIZE`.
pub fn page_size(limit: Option<u32>) -> Result<u32, taina_core::Error> {
    taina_core::validate::page_size(limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// Where a page starts: strictly before this photo in (taken-at, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The last photo's taken-at, in milliseconds.
    pub taken_at: i64,
    /// The last photo's id.
    pub id: PhotoId,
}

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}/{}", self.taken_at, self.id))
    }

    /// Reads a cursor a client sent back.
    pub fn decode(text: &str) -> Result<Cursor, Error> {
        let bad = || Error::invalid("cursor", "is not a cursor this server gave out");
        if text.len() > 128 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once('/').ok_or_else(bad)?;
        Ok(Cursor {
            taken_at: at.parse().map_err(|_| bad())?,
            id: PhotoId::parse(id).map_err(|_| bad())?,
        })
    }
}

/// A heading in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DateGroup {
    /// Today.
    Today,
    /// Yesterday.
    Yesterday,
    /// Earlier this week (the last seven days).
    ThisWeek,
    /// A month of this year.
    Month {
        /// The year.
        year: i32,
        /// The month, 1–12.
        month: u8,
    },
    /// An earlier year.
    Year {
        /// The year.
        year: i32,
    },
}

/// The heading a photo taken at `taken_at` falls under for a viewer at `now` whose time zone is
/// `offset_minutes` east of UTC. Photos dated in the future count as today.
///
/// ```
/// use taina_core::Timestamp;
/// use taina_jaci::timeline::{date_group, DateGroup};
/// let now = Timestamp::parse_rfc3339("2026-11-23T10:00:00Z").unwrap();
/// let t = Timestamp::parse_rfc3339("2026-11-22T23:30:00Z").unwrap();
/// assert_eq!(date_group(t, now, 0), DateGroup::Yesterday);
/// assert_eq!(date_group(t, now, 60), DateGroup::Today); // 00:30 on the 23rd at UTC+1
/// ```
pub fn date_group(taken_at: Timestamp, now: Timestamp, offset_minutes: i16) -> DateGroup {
    let local_day = |t: Timestamp| {
        let ms = t.as_millis() + i64::from(offset_minutes) * 60_000;
        ms.div_euclid(86_400_000)
    };
    let (day, today) = (local_day(taken_at), local_day(now));
    let age = today - day;
    if age <= 0 {
        return DateGroup::Today;
    }
    if age == 1 {
        return DateGroup::Yesterday;
    }
    if age < 7 {
        return DateGroup::ThisWeek;
    }
    let (year, month) = civil(day);
    let (this_year, _) = civil(today);
    if year == this_year {
        DateGroup::Month { year, month }
    } else {
        DateGroup::Year { year }
    }
}

/// The widest UTC offsets in use, in minutes (UTC−12:00 to UTC+14:00).
pub const UTC_OFFSETS: std::ops::RangeInclusive<i16> = -720..=840;

/// Checks a viewer's UTC offset (minutes east of UTC) sent by a client.
pub fn check_utc_offset(minutes: i16) -> Result<i16, Error> {
    if UTC_OFFSETS.contains(&minutes) {
        Ok(minutes)
    } else {
        Err(Error::invalid(
            "utc_offset_minutes",
            "must be between -720 and 840",
        ))
    }
}

/// A run of consecutive photos on a timeline page under one heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PageGroup {
    /// The heading.
    pub heading: DateGroup,
    /// The index on the page of the run's first photo.
    pub start: u32,
    /// How many photos the run holds.
    pub count: u32,
}

/// The headings of a page of photos, newest first, taken at `taken_at`: one run per heading change.
/// A heading that goes on from the previous page starts this page again (clients merge them).
///
/// ```
/// use taina_core::Timestamp;
/// use taina_jaci::timeline::{group_page, DateGroup};
/// let now = Timestamp::parse_rfc3339("2026-11-23T10:00:00Z").unwrap();
/// let at = |s| Timestamp::parse_rfc3339(s).unwrap();
/// let groups = group_page(
///     [at("2026-11-23T09:00:00Z"), at("2026-11-23T08:00:00Z"), at("2026-11-22T08:00:00Z")],
///     now,
///     0,
/// );
/// assert_eq!(groups.len(), 2);
/// assert_eq!((groups[0].heading, groups[0].count), (DateGroup::Today, 2));
/// assert_eq!((groups[1].heading, groups[1].start), (DateGroup::Yesterday, 2));
/// ```
pub fn group_page(
    taken_at: impl IntoIterator<Item = Timestamp>,
    now: Timestamp,
    offset_minutes: i16,
) -> Vec<PageGroup> {
    let mut groups: Vec<PageGroup> = Vec::new();
    for (index, t) in taken_at.into_iter().enumerate() {
        let heading = date_group(t, now, offset_minutes);
        match groups.last_mut() {
            Some(last) if last.heading == heading => last.count += 1,
            _ => groups.push(PageGroup {
                heading,
                start: u32::try_from(index).unwrap_or(u32::MAX),
                count: 1,
            }),
        }
    }
    groups
}

/// The year and month of a day number (days since 1970-01-01).
fn civil(days: i64) -> (i32, u8) {
    let date = time::Date::from_julian_day(i32::try_from(days + 2_440_588).unwrap_or(i32::MAX))
        .unwrap_or(time::Date::MIN);
    (date.year(), u8::from(date.month()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn groups_by_local_day() {
        let now = at("2026-11-23T10:00:00Z");
        assert_eq!(
            date_group(at("2026-11-23T00:10:00Z"), now, 0),
            DateGroup::Today
        );
        assert_eq!(
            date_group(at("2026-11-20T12:00:00Z"), now, 0),
            DateGroup::ThisWeek
        );
        assert_eq!(
            date_group(at("2026-03-02T12:00:00Z"), now, 0),
            DateGroup::Month {
                year: 2026,
                month: 3
            }
        );
        assert_eq!(
            date_group(at("2008-05-30T15:56:01Z"), now, 0),
            DateGroup::Year { year: 2008 }
        );
        // Late on the 22nd in São Paulo is still the 22nd there.
        assert_eq!(
            date_group(at("2026-11-23T01:00:00Z"), at("2026-11-23T12:00:00Z"), -180),
            DateGroup::Yesterday
        );
    }

    proptest! {
        #[test]
        fn cursors_round_trip(t in any::<i64>(), seed in any::<u8>()) {
            let c = Cursor { taken_at: t, id: PhotoId::from_random([seed; 21]) };
            prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }

        #[test]
        fn decoding_never_panics(text in "\\PC{0,200}") {
            let _ = Cursor::decode(&text);
        }

        /// A page's runs cover every photo once, in order, and neighbours differ.
        #[test]
        fn runs_cover_the_page(mut times in proptest::collection::vec(0i64..4_000_000_000_000, 0..200), off in -720i16..840) {
            times.sort_unstable_by(|a, b| b.cmp(a));
            let now = Timestamp::from_millis(4_000_000_000_000);
            let groups = group_page(times.iter().map(|&t| Timestamp::from_millis(t)), now, off);
            let mut next = 0;
            for (i, g) in groups.iter().enumerate() {
                prop_assert_eq!(g.start, next);
                prop_assert!(g.count >= 1);
                for t in &times[g.start as usize..(g.start + g.count) as usize] {
                    prop_assert_eq!(date_group(Timestamp::from_millis(*t), now, off), g.heading);
                }
                if i > 0 {
                    prop_assert_ne!(groups[i - 1].heading, g.heading);
                }
                next += g.count;
            }
            prop_assert_eq!(next as usize, times.len());
        }

        /// Older photos never get a "newer" heading than younger ones.
        #[test]
        fn headings_follow_age(a in 0i64..4_000_000_000_000, b in 0i64..4_000_000_000_000, off in -720i16..840) {
            let now = Timestamp::from_millis(4_000_000_000_000);
            let rank = |g: DateGroup| match g {
                DateGroup::Today => (0, 0),
                DateGroup::Yesterday => (1, 0),
                DateGroup::ThisWeek => (2, 0),
                DateGroup::Month { month, .. } => (3, -i64::from(month)),
                DateGroup::Year { year } => (4, -i64::from(year)),
            };
            let (older, newer) = (a.min(b), a.max(b));
            prop_assert!(rank(date_group(Timestamp::from_millis(older), now, off)) >= rank(date_group(Timestamp::from_millis(newer), now, off)));
        }
    }
}
