//! The domain as plain data, in the JSON shapes of `docs/api.md`.
//!
//! These types are the wire form: what the admin API receives, what the store
//! saves as JSONB, what the snapshot is built from. They hold strings where a
//! client may send something invalid (window times, closure dates) so that
//! validation can report every bad field at once instead of serde stopping at
//! the first one. Parsed, always-valid forms (`LocalTime`, `E164`, compiled
//! schedules) are made from them at the edge.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::schema;

/// A day of the week, `"mon"` … `"sun"` on the wire.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> u16 {
        self as u16
    }

    /// The wire name, `"mon"` … `"sun"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    /// The chrono weekday of the same day.
    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Mon => chrono::Weekday::Mon,
            Weekday::Tue => chrono::Weekday::Tue,
            Weekday::Wed => chrono::Weekday::Wed,
            Weekday::Thu => chrono::Weekday::Thu,
            Weekday::Fri => chrono::Weekday::Fri,
            Weekday::Sat => chrono::Weekday::Sat,
            Weekday::Sun => chrono::Weekday::Sun,
        }
    }

    /// The weekday of a chrono weekday.
    pub fn from_chrono(day: chrono::Weekday) -> Weekday {
        match day {
            chrono::Weekday::Mon => Weekday::Mon,
            chrono::Weekday::Tue => Weekday::Tue,
            chrono::Weekday::Wed => Weekday::Wed,
            chrono::Weekday::Thu => Weekday::Thu,
            chrono::Weekday::Fri => Weekday::Fri,
            chrono::Weekday::Sat => Weekday::Sat,
            chrono::Weekday::Sun => Weekday::Sun,
        }
    }
}

/// A wall-clock time of day in whole minutes, `0..=1440`; `"24:00"` is the end
/// of the day and only makes sense as the end of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

/// Why a string is not a strict `HH:MM` time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a time \"HH:MM\" from 00:00 to 24:00, got {0:?}")]
pub struct LocalTimeError(pub String);

impl LocalTime {
    /// The end of the day, `24:00`.
    pub const END_OF_DAY: LocalTime = LocalTime(1440);

    /// Minutes since midnight, `0..=1440`.
    pub fn minutes(self) -> u16 {
        self.0
    }

    /// A time from minutes since midnight, `None` above 1440.
    pub fn from_minutes(minutes: u16) -> Option<LocalTime> {
        (minutes <= 1440).then_some(LocalTime(minutes))
    }

    /// True for `24:00`.
    pub fn is_end_of_day(self) -> bool {
        self.0 == 1440
    }
}

impl FromStr for LocalTime {
    type Err = LocalTimeError;

    /// Strictly `HH:MM` with two digits each: `"9:00"`, `"09:00:00"` and
    /// `"24:01"` are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LocalTimeError(s.to_owned());
        let bytes = s.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        let digit = |b: u8| -> Result<u16, LocalTimeError> {
            if b.is_ascii_digit() {
                Ok(u16::from(b - b'0'))
            } else {
                Err(bad())
            }
        };
        let hours = digit(bytes[0])? * 10 + digit(bytes[1])?;
        let minutes = digit(bytes[3])? * 10 + digit(bytes[4])?;
        if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
            return Err(bad());
        }
        Ok(LocalTime(hours * 60 + minutes))
    }
}

impl TryFrom<&str> for LocalTime {
    type Error = LocalTimeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A weekly window as sent: `{"days": ["mon"], "start": "08:00", "end": "18:00"}`.
/// `end <= start` (and end not `24:00`) means overnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[schema(min_items = 1)]
    pub days: Vec<Weekday>,
    #[schema(value_type = schema::StartTime)]
    pub start: String,
    #[schema(value_type = schema::LocalTime)]
    pub end: String,
}

/// What to do with a call: closures, `off_hours` and `on_no_answer` each hold one.
/// Unknown fields are refused in every variant (see [`Action::deserialize`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(
    remote = "Self",
    tag = "type",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Action {
    /// A voice assistant of the clinic, answered as its target says.
    Assistant {
        #[schema(format = Uuid)]
        assistant_id: String,
    },
    /// A ring group of the same number.
    RingGroup {
        #[schema(format = Uuid)]
        ring_group_id: String,
    },
    /// A greeting then a recording; the default greeting when `null`.
    Voicemail {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<schema::SpokenText>)]
        greeting: Option<String>,
    },
    /// Dial an E.164 number.
    Forward {
        #[schema(value_type = schema::E164)]
        to: String,
    },
    /// Say a text, then hang up.
    Message {
        #[schema(value_type = schema::SpokenText)]
        text: String,
    },
    /// Hang up.
    Hangup,
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Action::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for Action {
    /// As derived, except that `hangup`, a unit variant, refuses other
    /// fields too (serde's tagged unit variants ignore them).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        if map.get("type").and_then(serde_json::Value::as_str) == Some("hangup")
            && let Some(unknown) = map.keys().find(|k| *k != "type")
        {
            return Err(D::Error::custom(format!(
                "unknown field `{unknown}`, expected `type`"
            )));
        }
        Action::deserialize(serde_json::Value::Object(map)).map_err(D::Error::custom)
    }
}

/// How a ring group rings its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Everybody at once, in one `<Dial>`.
    Simultaneous,
    /// One member per `<Dial>`, in list order.
    Sequential,
}

/// A member of a ring group: an E.164 number, a `sip:` URI or `client:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    #[schema(value_type = schema::MemberTarget)]
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Ring seconds when a ring group does not say.
pub const DEFAULT_RING_SECONDS: u16 = 20;

/// A ring group of one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RingGroup {
    /// Kept when given; made when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub id: Option<String>,
    #[schema(value_type = schema::Name)]
    pub name: String,
    pub strategy: Strategy,
    /// How long each member rings: 5 to 120 seconds (20 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 5, maximum = 120)]
    pub ring_seconds: Option<u16>,
    #[schema(min_items = 1, max_items = 10)]
    pub members: Vec<Member>,
    /// When the group answers; `null`: always.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub schedule: Option<Vec<Window>>,
    /// What follows when nobody answers; `null`: the off-hours handler.
    #[serde(default)]
    pub on_no_answer: Option<Action>,
    /// Confirm to accept: each member first hears `confirm_prompt` and is
    /// connected only by pressing 1; silence, another key or a machine ends
    /// that leg and the group moves on as for `no-answer`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm: bool,
    /// What a member hears before accepting; `null`: "Call for <clinic>,
    /// <group>. Press 1 to accept."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<schema::SpokenText>)]
    pub confirm_prompt: Option<String>,
}

/// An assistant bound to a number; without a schedule it is always-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssistantBinding {
    #[schema(format = Uuid)]
    pub assistant_id: String,
    /// When the assistant answers; `null`: always (one assistant at most).
    #[serde(default)]
    #[schema(min_items = 1)]
    pub schedule: Option<Vec<Window>>,
}

/// A closure: a span of local time when the number is closed. Unknown
/// fields, and fields of another `repeat`, are refused (see
/// [`Closure::deserialize`]), which serde's `deny_unknown_fields` cannot do
/// beside `flatten`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    /// What to run; the off-hours handler when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// `"HH:MM"`, both or neither; neither means whole days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// `YYYY-MM-DD`, inclusive lower bound of a recurring closure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive upper bound of a recurring closure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(flatten)]
    pub rule: ClosureRule,
}

impl utoipa::PartialSchema for Closure {
    /// One object per `repeat`, each with the fields it takes and no other.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        use utoipa::openapi::{OneOfBuilder, Ref};
        let r = |name: &str| Ref::from_schema_name(name);
        let int = |min: i64, max: i64| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min as f64))
                .maximum(Some(max as f64))
        };
        let nth = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .enum_values(Some([-1, 1, 2, 3, 4, 5]))
                .description(Some("the nth weekday of the month, -1 for the last"))
        };
        let days = || ArrayBuilder::new().items(r("Weekday")).min_items(Some(1));
        let variant = |repeat: &str,
                       description: &str,
                       fields: Vec<(&str, utoipa::openapi::RefOr<_>)>,
                       required: &[&str]| {
            let mut b = ObjectBuilder::new()
                .description(Some(description))
                .property(
                    "id",
                    schema::nullable(schema::string().format(Some(
                        utoipa::openapi::SchemaFormat::KnownFormat(
                            utoipa::openapi::KnownFormat::Uuid,
                        ),
                    ))),
                )
                .property("name", r("Name"))
                .property("action", schema::nullable(r("Action")))
                .property("start_time", schema::nullable(r("StartTime")))
                .property("end_time", schema::nullable(r("LocalTime")))
                .property("from", schema::nullable(r("LocalDate")))
                .property("until", schema::nullable(r("LocalDate")))
                .property("repeat", schema::string().enum_values(Some([repeat])))
                .required("name")
                .required("repeat")
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                ));
            for (name, field) in fields {
                b = b.property(name, field);
            }
            for name in required {
                b = b.required(*name);
            }
            b
        };
        OneOfBuilder::new()
            .item(variant(
                "none",
                "One span of local time, from start to end",
                vec![
                    ("start", r("ClosureBound").into()),
                    ("end", r("ClosureBound").into()),
                ],
                &["start", "end"],
            ))
            .item(variant(
                "weekly",
                "These weekdays, every week",
                vec![("days", days().into())],
                &["days"],
            ))
            .item(variant(
                "monthly",
                "A day of the month, or the nth weekday",
                vec![
                    ("day", schema::nullable(int(1, 31))),
                    ("nth", schema::nullable(nth())),
                    ("weekday", schema::nullable(r("Weekday"))),
                ],
                &[],
            ))
            .item(variant(
                "yearly",
                "A day of a month, or its nth weekday, over days days",
                vec![
                    ("month", int(1, 12).into()),
                    ("day", schema::nullable(int(1, 31))),
                    ("nth", schema::nullable(nth())),
                    ("weekday", schema::nullable(r("Weekday"))),
                    (
                        "days",
                        schema::nullable(int(1, crate::schedule::MAX_CLOSURE_SPAN_DAYS)),
                    ),
                ],
                &["month"],
            ))
            .into()
    }
}

impl ToSchema for Closure {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.extend([
            (String::from("Name"), schema::Name::schema()),
            (String::from("Action"), Action::schema()),
            (String::from("StartTime"), schema::StartTime::schema()),
            (String::from("LocalTime"), schema::LocalTime::schema()),
            (String::from("LocalDate"), schema::LocalDate::schema()),
            (String::from("ClosureBound"), schema::ClosureBound::schema()),
            (String::from("Weekday"), Weekday::schema()),
        ]);
        Action::schemas(schemas);
    }
}

/// The fields every closure may have, beside its `repeat`'s.
const CLOSURE_FIELDS: &[&str] = &[
    "id",
    "name",
    "action",
    "start_time",
    "end_time",
    "from",
    "until",
    "repeat",
];

impl<'de> Deserialize<'de> for Closure {
    /// Reads a closure in one pass. `#[serde(flatten)]` of the tagged rule
    /// would buffer every closure into serde's `Content` and read it again:
    /// a large part of a snapshot load's parsing. A field that is neither a
    /// closure's nor its `repeat`'s is refused.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Repeat {
            None,
            Weekly,
            Monthly,
            Yearly,
        }

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Flat {
            #[serde(default)]
            id: Option<String>,
            name: String,
            #[serde(default)]
            action: Option<Action>,
            #[serde(default)]
            start_time: Option<String>,
            #[serde(default)]
            end_time: Option<String>,
            #[serde(default)]
            from: Option<String>,
            #[serde(default)]
            until: Option<String>,
            repeat: Repeat,
            #[serde(default)]
            start: Option<String>,
            #[serde(default)]
            end: Option<String>,
            #[serde(default)]
            days: Option<Days>,
            #[serde(default)]
            day: Option<i64>,
            #[serde(default)]
            nth: Option<i64>,
            #[serde(default)]
            weekday: Option<Weekday>,
            #[serde(default)]
            month: Option<i64>,
        }

        let flat = Flat::deserialize(deserializer)?;
        let given = [
            ("start", flat.start.is_some()),
            ("end", flat.end.is_some()),
            ("days", flat.days.is_some()),
            ("day", flat.day.is_some()),
            ("nth", flat.nth.is_some()),
            ("weekday", flat.weekday.is_some()),
            ("month", flat.month.is_some()),
        ];
        let own: &[&str] = match flat.repeat {
            Repeat::None => &["start", "end"],
            Repeat::Weekly => &["days"],
            Repeat::Monthly => &["day", "nth", "weekday"],
            Repeat::Yearly => &["month", "day", "nth", "weekday", "days"],
        };
        if let Some((foreign, _)) = given
            .iter()
            .find(|(field, present)| *present && !own.contains(field))
        {
            let expected = CLOSURE_FIELDS
                .iter()
                .chain(own)
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(D::Error::custom(format!(
                "unknown field `{foreign}`, expected one of {expected}"
            )));
        }
        let rule = match flat.repeat {
            Repeat::None => ClosureRule::None {
                start: flat.start.ok_or_else(|| D::Error::missing_field("start"))?,
                end: flat.end.ok_or_else(|| D::Error::missing_field("end"))?,
            },
            Repeat::Weekly => ClosureRule::Weekly {
                days: match flat.days {
                    Some(Days::List(days)) => days,
                    Some(Days::Count(n)) => {
                        return Err(D::Error::invalid_type(
                            serde::de::Unexpected::Signed(n),
                            &"a list of days",
                        ));
                    }
                    None => return Err(D::Error::missing_field("days")),
                },
            },
            Repeat::Monthly => ClosureRule::Monthly {
                day: flat.day,
                nth: flat.nth,
                weekday: flat.weekday,
            },
            Repeat::Yearly => ClosureRule::Yearly {
                month: flat.month.ok_or_else(|| D::Error::missing_field("month"))?,
                day: flat.day,
                nth: flat.nth,
                weekday: flat.weekday,
                days: match flat.days {
                    Some(Days::Count(n)) => Some(n),
                    Some(Days::List(_)) => {
                        return Err(D::Error::invalid_type(
                            serde::de::Unexpected::Seq,
                            &"a number of days",
                        ));
                    }
                    None => None,
                },
            },
        };
        Ok(Closure {
            id: flat.id,
            name: flat.name,
            action: flat.action,
            start_time: flat.start_time,
            end_time: flat.end_time,
            from: flat.from,
            until: flat.until,
            rule,
        })
    }
}

/// A closure's `days`: weekdays for a weekly closure, a count of days for
/// a yearly one.
enum Days {
    List(Vec<Weekday>),
    Count(i64),
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DaysVisitor;
        impl<'de> serde::de::Visitor<'de> for DaysVisitor {
            type Value = Days;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of days or a number of days")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Days, E> {
                Ok(Days::Count(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Days, E> {
                i64::try_from(n)
                    .map(Days::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Days, A::Error> {
                let mut days = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(7));
                while let Some(day) = seq.next_element()? {
                    days.push(day);
                }
                Ok(Days::List(days))
            }
        }
        deserializer.deserialize_any(DaysVisitor)
    }
}

/// How a closure repeats, tagged by `"repeat"`.
///
/// Numbers are wide integers so that an out-of-range value reaches validation
/// (422 with a field path) instead of failing to parse (400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "repeat", rename_all = "snake_case")]
pub enum ClosureRule {
    /// One span: dates (`2026-12-24`) or date-times (`2026-12-24T12:00`).
    /// A date end is inclusive, a date-time end exclusive.
    None { start: String, end: String },
    /// Those weekdays.
    Weekly { days: Vec<Weekday> },
    /// A day of the month (1–31) or the nth (1–5, -1 = last) weekday.
    Monthly {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nth: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weekday: Option<Weekday>,
    },
    /// A day of a month, or the nth weekday of a month, over `days` days.
    Yearly {
        month: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nth: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weekday: Option<Weekday>,
        /// Consecutive days from the anchor, default 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        days: Option<i64>,
    },
}

/// The whole routing document of one number (`docs/api.md`, "Routing
/// document"); every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingDoc {
    /// The number's own timezone; `null`: its location's, else the clinic's.
    #[schema(value_type = Option<schema::Timezone>)]
    pub timezone: Option<String>,
    pub assistants: Vec<AssistantBinding>,
    pub ring_groups: Vec<RingGroup>,
    pub off_hours: Option<Action>,
    pub closures: Vec<Closure>,
}

impl RoutingDoc {
    /// Every assistant id the document names (bindings and actions), in order
    /// of first mention, without repeats.
    pub fn assistant_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for binding in &self.assistants {
            names.push(&binding.assistant_id);
        }
        for action in self.actions() {
            if let Action::Assistant { assistant_id } = action {
                names.push(assistant_id);
            }
        }
        for name in names {
            if !ids.contains(&name) {
                ids.push(name);
            }
        }
        ids
    }

    /// Every action of the document: `off_hours`, each ring group's
    /// `on_no_answer`, each closure's `action`.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.off_hours
            .iter()
            .chain(
                self.ring_groups
                    .iter()
                    .filter_map(|g| g.on_no_answer.as_ref()),
            )
            .chain(self.closures.iter().filter_map(|c| c.action.as_ref()))
    }

    /// True when the number has at least one assistant: bound, or named by an action.
    pub fn has_assistant(&self) -> bool {
        !self.assistant_ids().is_empty()
    }
}

/// The lifecycle of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Being provisioned at Twilio.
    Pending,
    /// Answering calls.
    Active,
    /// Disabled by an admin.
    Paused,
    /// Gone; the row stays for history.
    Released,
}

/// A lifecycle name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lifecycle {0:?}")]
pub struct UnknownLifecycle(pub String);

impl Lifecycle {
    /// The database and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Pending => "pending",
            Lifecycle::Active => "active",
            Lifecycle::Paused => "paused",
            Lifecycle::Released => "released",
        }
    }
}

impl FromStr for Lifecycle {
    type Err = UnknownLifecycle;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Lifecycle::Pending),
            "active" => Ok(Lifecycle::Active),
            "paused" => Ok(Lifecycle::Paused),
            "released" => Ok(Lifecycle::Released),
            other => Err(UnknownLifecycle(other.to_owned())),
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a number forwards: `{"to": "+1…"}` or `{"number_id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "ForwardingWire")]
pub enum Forwarding {
    /// An external E.164 number: the call is dialled there.
    External { to: String },
    /// Another number of the same clinic: the call is resolved as if placed there.
    Number { number_id: String },
}

/// A forwarding as sent: one field or the other, and nothing else (an
/// untagged enum would ignore a misspelt field).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardingWire {
    #[serde(default, deserialize_with = "present")]
    to: Option<String>,
    #[serde(default, deserialize_with = "present")]
    number_id: Option<String>,
}

/// A field that, when present, is not `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

impl TryFrom<ForwardingWire> for Forwarding {
    type Error = &'static str;
    fn try_from(wire: ForwardingWire) -> Result<Self, Self::Error> {
        match (wire.to, wire.number_id) {
            (Some(to), None) => Ok(Forwarding::External { to }),
            (None, Some(number_id)) => Ok(Forwarding::Number { number_id }),
            _ => Err("give either to (an E.164 number) or number_id (a number of the clinic)"),
        }
    }
}

impl utoipa::PartialSchema for Forwarding {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::OneOfBuilder;
        use utoipa::openapi::schema::ObjectBuilder;
        let only = |name: &str, field: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            ObjectBuilder::new()
                .property(name, field)
                .required(name)
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                ))
        };
        OneOfBuilder::new()
            .item(only(
                "to",
                utoipa::openapi::Ref::from_schema_name("E164").into(),
            ))
            .item(only(
                "number_id",
                schema::string()
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .into(),
            ))
            .description(Some(
                "Forward to an outside E.164 number, or link to another number of the clinic",
            ))
            .into()
    }
}

impl ToSchema for Forwarding {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((String::from("E164"), schema::E164::schema()));
    }
}

/// How a voice assistant is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoiceTargetType {
    /// `wss://` URL, `<Connect><Stream>`.
    Stream,
    /// `sip:` URI, `<Dial><Sip>`.
    Sip,
    /// `https://` TwiML URL, `<Redirect method="POST">`.
    Redirect,
}

/// The target of a voice assistant: `{type, url, parameters}`; the admin
/// API checks it (URL scheme by type, parameters only for a stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceTarget {
    #[serde(rename = "type")]
    pub kind: VoiceTargetType,
    pub url: String,
    /// Extra `<Parameter>`s for a stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

impl utoipa::PartialSchema for VoiceTarget {
    /// One object per type, each with its URL scheme.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::validate::{MAX_PARAMETER_NAME_CHARS, MAX_PARAMETER_VALUE_CHARS};
        use utoipa::openapi::OneOfBuilder;
        use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Type};
        let variant = |kind: &str, scheme: &str, description: &str| {
            let parameters = if kind == "stream" {
                schema::nullable(
                    ObjectBuilder::new()
                        .property_names(Some(
                            schema::string()
                                .min_length(Some(1))
                                .max_length(Some(MAX_PARAMETER_NAME_CHARS)),
                        ))
                        .additional_properties(Some(AdditionalProperties::RefOr(
                            schema::string()
                                .max_length(Some(MAX_PARAMETER_VALUE_CHARS))
                                .into(),
                        )))
                        .description(Some("extra <Parameter>s of the stream")),
                )
            } else {
                Object::with_type(Type::Null).into()
            };
            ObjectBuilder::new()
                .description(Some(description))
                .property("type", schema::string().enum_values(Some([kind])))
                .property("url", schema::url(scheme))
                .property("parameters", parameters)
                .required("type")
                .required("url")
                .additional_properties(Some(
                    utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                ))
        };
        OneOfBuilder::new()
            .item(variant(
                "stream",
                "wss://",
                "<Connect><Stream> to a wss:// URL",
            ))
            .item(variant("sip", "sip:", "<Dial><Sip> to a sip: URI"))
            .item(variant(
                "redirect",
                "https://",
                "<Redirect method=\"POST\"> to an https:// TwiML URL",
            ))
            .into()
    }
}

impl ToSchema for VoiceTarget {}

/// What an assistant is: `{"kind": "voice", "target": {…}}` or
/// `{"kind": "texting", "sms_url": "https://…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssistantKind {
    Voice {
        target: VoiceTarget,
    },
    Texting {
        #[schema(value_type = schema::HttpsUrl)]
        sms_url: String,
    },
}

/// The kind of an assistant without its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssistantKindTag {
    Voice,
    Texting,
}

impl AssistantKind {
    /// Voice or texting.
    pub fn tag(&self) -> AssistantKindTag {
        match self {
            AssistantKind::Voice { .. } => AssistantKindTag::Voice,
            AssistantKind::Texting { .. } => AssistantKindTag::Texting,
        }
    }
}

/// Whether an override closes a number or holds it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverrideState {
    /// Closed until `until`: the override's action, else the off-hours
    /// handler, answers whatever the schedules say.
    Closed,
    /// Open until `until`: the override's assistant or ring group answers
    /// whatever the schedules and closures say.
    Open,
}

impl OverrideState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideState::Closed => "closed",
            OverrideState::Open => "open",
        }
    }
}

/// "Closed until…" or "Open until…" on a number: resolved before closures,
/// and gone by itself at `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingOverride {
    pub state: OverrideState,
    /// The instant it ends (exclusive).
    pub until: DateTime<Utc>,
    /// Closed: what runs (`null`: the off-hours handler). Open: the
    /// assistant or ring group that answers (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

impl RoutingOverride {
    /// In force at `at`.
    pub fn applies_at(&self, at: DateTime<Utc>) -> bool {
        at < self.until
    }
}

/// The status a number shows on the Phone Numbers page (`docs/routing.md`,
/// "Number status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberStatus {
    Pending,
    Disabled,
    Forwarding,
    Linked,
    Unassigned,
    Enabled,
    Released,
}

impl NumberStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStatus::Pending => "pending",
            NumberStatus::Disabled => "disabled",
            NumberStatus::Forwarding => "forwarding",
            NumberStatus::Linked => "linked",
            NumberStatus::Unassigned => "unassigned",
            NumberStatus::Enabled => "enabled",
            NumberStatus::Released => "released",
        }
    }
}
