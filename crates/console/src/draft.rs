//! The routing page's form, and the document it edits.
//!
//! The form's field names are the routing document's own paths
//! (`ring_groups[0].members[1].target`), so a problem the core reports on a
//! path is shown next to the field of that name, and adding, removing or
//! moving an element of a list is a renaming of the fields under it
//! ([`Form::apply`]). A [`DraftDoc`] holds what was typed, as typed, so a
//! refused save shows everything again; [`DraftDoc::to_doc`] makes the
//! document the core validates and the store saves.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};
use switchboard_core::FieldError;
use switchboard_core::model::{Action, Closure, ClosureRule, RoutingDoc, Strategy, Window};

use crate::views::typed_number;

/// A posted form: its fields in order.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Reads an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Result<Form, String> {
        serde_urlencoded::from_bytes(body)
            .map(Form)
            .map_err(|e| e.to_string())
    }

    /// The first value of a field ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of a field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The indices present under `list` (`list[N]…`), in order.
    pub fn indices(&self, list: &str) -> Vec<usize> {
        let prefix = format!("{list}[");
        let set: BTreeSet<usize> = self
            .0
            .iter()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix(&prefix)?;
                rest[..rest.find(']')?].parse().ok()
            })
            .collect();
        set.into_iter().collect()
    }

    /// Applies a list operation of the page's buttons: `add:LIST`,
    /// `remove:LIST[i]`, `up:LIST[i]`, `down:LIST[i]`. Unknown ones are
    /// ignored (a stale page).
    pub fn apply(&mut self, op: &str) {
        let Some((verb, target)) = op.split_once(':') else {
            return;
        };
        match verb {
            "add" => {
                let next = self.indices(target).last().map_or(0, |i| i + 1);
                self.0
                    .push((format!("{target}[{next}].new"), "1".to_owned()));
            }
            "remove" | "up" | "down" => {
                let Some((list, index)) = split_index(target) else {
                    return;
                };
                match verb {
                    "remove" => {
                        let prefix = format!("{list}[{index}]");
                        self.0.retain(|(k, _)| !under(k, &prefix));
                        for i in self.indices(list).into_iter().filter(|i| *i > index) {
                            self.rename(list, i, i - 1);
                        }
                    }
                    "up" if index > 0 => self.swap(list, index - 1, index),
                    "down" if self.indices(list).contains(&(index + 1)) => {
                        self.swap(list, index, index + 1)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn rename(&mut self, list: &str, from: usize, to: usize) {
        let old = format!("{list}[{from}]");
        let new = format!("{list}[{to}]");
        for (k, _) in &mut self.0 {
            if under(k, &old) {
                *k = format!("{new}{}", &k[old.len()..]);
            }
        }
    }

    fn swap(&mut self, list: &str, a: usize, b: usize) {
        let (pa, pb) = (format!("{list}[{a}]"), format!("{list}[{b}]"));
        for (k, _) in &mut self.0 {
            if under(k, &pa) {
                *k = format!("{pb}{}", &k[pa.len()..]);
            } else if under(k, &pb) {
                *k = format!("{pa}{}", &k[pb.len()..]);
            }
        }
    }
}

/// Whether the field `key` is `prefix` or under it.
fn under(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// `ring_groups[0].members[2]` → (`ring_groups[0].members`, 2).
fn split_index(path: &str) -> Option<(&str, usize)> {
    let open = path.rfind('[')?;
    let index = path[open + 1..].strip_suffix(']')?.parse().ok()?;
    Some((&path[..open], index))
}

/// A weekly window as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftWindow {
    pub path: String,
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

impl DraftWindow {
    /// Whether the window is on `day` (`mon`…).
    pub fn on(&self, day: &str) -> bool {
        self.days.iter().any(|d| d == day)
    }
}

/// What happens, as typed: `kind` is the action's `type` ("" for none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftAction {
    pub path: String,
    pub kind: String,
    pub assistant_id: String,
    pub ring_group_id: String,
    pub greeting: String,
    pub to: String,
    pub text: String,
}

/// An assistant binding as typed: `when` is `always` or `schedule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftBinding {
    pub path: String,
    pub assistant_id: String,
    pub when: String,
    pub schedule: Vec<DraftWindow>,
}

/// A ring group member as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftMember {
    pub path: String,
    pub target: String,
    pub label: String,
}

/// A ring group as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftGroup {
    pub path: String,
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub ring_seconds: String,
    pub members: Vec<DraftMember>,
    pub when: String,
    pub schedule: Vec<DraftWindow>,
    pub on_no_answer: DraftAction,
    /// Confirm to accept: the box is ticked.
    pub confirm: bool,
    pub confirm_prompt: String,
}

/// A closure as typed: `by` says whether a monthly or yearly closure is on
/// a day of the month (`day`) or the nth weekday (`nth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftClosure {
    pub path: String,
    pub id: String,
    pub name: String,
    pub repeat: String,
    pub start: String,
    pub end: String,
    pub weekdays: Vec<String>,
    pub by: String,
    pub day: String,
    pub nth: String,
    pub weekday: String,
    pub month: String,
    pub days: String,
    pub start_time: String,
    pub end_time: String,
    pub from: String,
    pub until: String,
    pub action: DraftAction,
}

impl DraftClosure {
    /// Whether a weekly closure is on `day`.
    pub fn on(&self, day: &str) -> bool {
        self.weekdays.iter().any(|d| d == day)
    }
}

/// The routing page's document, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftDoc {
    pub timezone: String,
    pub location_id: String,
    pub assistants: Vec<DraftBinding>,
    pub ring_groups: Vec<DraftGroup>,
    pub closures: Vec<DraftClosure>,
    pub off_hours: DraftAction,
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn weekday_tag(day: &switchboard_core::model::Weekday) -> String {
    serde_json::to_value(day)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn windows_of(path: &str, windows: &[Window]) -> Vec<DraftWindow> {
    windows
        .iter()
        .enumerate()
        .map(|(j, w)| DraftWindow {
            path: format!("{path}.schedule[{j}]"),
            days: w.days.iter().map(weekday_tag).collect(),
            start: w.start.clone(),
            end: w.end.clone(),
        })
        .collect()
}

fn action_of(path: String, action: Option<&Action>) -> DraftAction {
    let mut d = DraftAction {
        path,
        ..DraftAction::default()
    };
    match action {
        None => {}
        Some(Action::Assistant { assistant_id }) => {
            d.kind = "assistant".into();
            d.assistant_id = assistant_id.clone();
        }
        Some(Action::RingGroup { ring_group_id }) => {
            d.kind = "ring_group".into();
            d.ring_group_id = ring_group_id.clone();
        }
        Some(Action::Voicemail { greeting }) => {
            d.kind = "voicemail".into();
            d.greeting = text(greeting);
        }
        Some(Action::Forward { to }) => {
            d.kind = "forward".into();
            d.to = to.clone();
        }
        Some(Action::Message { text: t }) => {
            d.kind = "message".into();
            d.text = t.clone();
        }
        Some(Action::Hangup) => d.kind = "hangup".into(),
    }
    d
}

fn default_window(path: String) -> DraftWindow {
    DraftWindow {
        path,
        days: ["mon", "tue", "wed", "thu", "fri"]
            .map(str::to_owned)
            .to_vec(),
        start: "09:00".into(),
        end: "17:00".into(),
    }
}

fn windows_from(form: &Form, path: &str) -> Vec<DraftWindow> {
    let list = format!("{path}.schedule");
    form.indices(&list)
        .into_iter()
        .enumerate()
        .map(|(j, i)| {
            let at = format!("{list}[{i}]");
            let new = format!("{list}[{j}]");
            if form.get(&format!("{at}.new")) == "1" {
                return default_window(new);
            }
            DraftWindow {
                path: new,
                days: form.all(&format!("{at}.days")),
                start: form.get(&format!("{at}.start")).to_owned(),
                end: form.get(&format!("{at}.end")).to_owned(),
            }
        })
        .collect()
}

fn action_from(form: &Form, path: String) -> DraftAction {
    let get = |f: &str| form.get(&format!("{path}.{f}")).to_owned();
    DraftAction {
        kind: get("type"),
        assistant_id: get("assistant_id"),
        ring_group_id: get("ring_group_id"),
        greeting: get("greeting"),
        to: get("to"),
        text: get("text"),
        path,
    }
}

impl DraftDoc {
    /// The document as saved, for the form.
    pub fn from_doc(doc: &RoutingDoc, location_id: Option<String>) -> DraftDoc {
        DraftDoc {
            timezone: text(&doc.timezone),
            location_id: location_id.unwrap_or_default(),
            assistants: doc
                .assistants
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let path = format!("assistants[{i}]");
                    DraftBinding {
                        assistant_id: b.assistant_id.clone(),
                        when: if b.schedule.is_some() {
                            "schedule"
                        } else {
                            "always"
                        }
                        .into(),
                        schedule: windows_of(&path, b.schedule.as_deref().unwrap_or_default()),
                        path,
                    }
                })
                .collect(),
            ring_groups: doc
                .ring_groups
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let path = format!("ring_groups[{i}]");
                    DraftGroup {
                        id: text(&g.id),
                        name: g.name.clone(),
                        strategy: match g.strategy {
                            Strategy::Simultaneous => "simultaneous",
                            Strategy::Sequential => "sequential",
                        }
                        .into(),
                        ring_seconds: g.ring_seconds.map(|s| s.to_string()).unwrap_or_default(),
                        members: g
                            .members
                            .iter()
                            .enumerate()
                            .map(|(j, m)| DraftMember {
                                path: format!("{path}.members[{j}]"),
                                target: m.target.clone(),
                                label: text(&m.label),
                            })
                            .collect(),
                        when: if g.schedule.is_some() {
                            "schedule"
                        } else {
                            "always"
                        }
                        .into(),
                        schedule: windows_of(&path, g.schedule.as_deref().unwrap_or_default()),
                        on_no_answer: action_of(
                            format!("{path}.on_no_answer"),
                            g.on_no_answer.as_ref(),
                        ),
                        confirm: g.confirm,
                        confirm_prompt: text(&g.confirm_prompt),
                        path,
                    }
                })
                .collect(),
            closures: doc
                .closures
                .iter()
                .enumerate()
                .map(|(i, c)| closure_of(format!("closures[{i}]"), c))
                .collect(),
            off_hours: action_of("off_hours".into(), doc.off_hours.as_ref()),
        }
    }

    /// The document as the form has it.
    pub fn from_form(form: &Form) -> DraftDoc {
        let assistants = form
            .indices("assistants")
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                let at = format!("assistants[{i}]");
                let path = format!("assistants[{n}]");
                let fresh = form.get(&format!("{at}.new")) == "1";
                let mut schedule = windows_from(form, &at);
                fix_paths(&mut schedule, &path);
                let when = match form.get(&format!("{at}.when")) {
                    "" if fresh => "always".to_owned(),
                    w => w.to_owned(),
                };
                if when == "schedule" && schedule.is_empty() {
                    schedule.push(default_window(format!("{path}.schedule[0]")));
                }
                DraftBinding {
                    assistant_id: form.get(&format!("{at}.assistant_id")).to_owned(),
                    when,
                    schedule,
                    path,
                }
            })
            .collect();
        let ring_groups = form
            .indices("ring_groups")
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                let at = format!("ring_groups[{i}]");
                let path = format!("ring_groups[{n}]");
                let get = |f: &str| form.get(&format!("{at}.{f}")).to_owned();
                let fresh = get("new") == "1";
                let mut members: Vec<DraftMember> = form
                    .indices(&format!("{at}.members"))
                    .into_iter()
                    .enumerate()
                    .map(|(m, j)| DraftMember {
                        path: format!("{path}.members[{m}]"),
                        target: form.get(&format!("{at}.members[{j}].target")).to_owned(),
                        label: form.get(&format!("{at}.members[{j}].label")).to_owned(),
                    })
                    .collect();
                if fresh && members.is_empty() {
                    members.push(DraftMember {
                        path: format!("{path}.members[0]"),
                        target: String::new(),
                        label: String::new(),
                    });
                }
                let mut schedule = windows_from(form, &at);
                fix_paths(&mut schedule, &path);
                let when = if fresh {
                    "schedule".to_owned()
                } else {
                    get("when")
                };
                if when == "schedule" && schedule.is_empty() {
                    schedule.push(default_window(format!("{path}.schedule[0]")));
                }
                let mut on_no_answer = action_from(form, format!("{at}.on_no_answer"));
                on_no_answer.path = format!("{path}.on_no_answer");
                DraftGroup {
                    id: get("id"),
                    name: get("name"),
                    strategy: if fresh {
                        "simultaneous".to_owned()
                    } else {
                        get("strategy")
                    },
                    ring_seconds: if fresh {
                        "20".to_owned()
                    } else {
                        get("ring_seconds")
                    },
                    members,
                    when,
                    schedule,
                    on_no_answer,
                    confirm: !fresh && get("confirm") == "on",
                    confirm_prompt: get("confirm_prompt"),
                    path,
                }
            })
            .collect();
        let closures = form
            .indices("closures")
            .into_iter()
            .enumerate()
            .map(|(n, i)| {
                let at = format!("closures[{i}]");
                let path = format!("closures[{n}]");
                let get = |f: &str| form.get(&format!("{at}.{f}")).to_owned();
                let mut action = action_from(form, format!("{at}.action"));
                action.path = format!("{path}.action");
                DraftClosure {
                    id: get("id"),
                    name: get("name"),
                    repeat: if get("new") == "1" {
                        "none".to_owned()
                    } else {
                        get("repeat")
                    },
                    start: get("start"),
                    end: get("end"),
                    weekdays: form.all(&format!("{at}.weekdays")),
                    by: get("by"),
                    day: get("day"),
                    nth: get("nth"),
                    weekday: get("weekday"),
                    month: get("month"),
                    days: get("days"),
                    start_time: get("start_time"),
                    end_time: get("end_time"),
                    from: get("from"),
                    until: get("until"),
                    action,
                    path,
                }
            })
            .collect();
        DraftDoc {
            timezone: form.get("timezone").to_owned(),
            location_id: form.get("location_id").to_owned(),
            assistants,
            ring_groups,
            closures,
            off_hours: action_from(form, "off_hours".into()),
        }
    }

    /// The routing document, or the fields that cannot even be read (a
    /// number that is not one).
    pub fn to_doc(&self) -> Result<RoutingDoc, Vec<FieldError>> {
        let mut problems = Vec::new();
        let value = json!({
            "timezone": non_empty(&self.timezone),
            "assistants": self.assistants.iter().map(|b| json!({
                "assistant_id": b.assistant_id,
                "schedule": (b.when == "schedule").then(|| windows_json(&b.schedule)),
            })).collect::<Vec<_>>(),
            "ring_groups": self.ring_groups.iter().map(|g| {
                let mut o = Map::new();
                if !g.id.is_empty() {
                    o.insert("id".into(), json!(g.id));
                }
                o.insert("name".into(), json!(g.name));
                o.insert("strategy".into(), json!(g.strategy));
                if let Some(s) = read_number(&mut problems, &format!("{}.ring_seconds", g.path), &g.ring_seconds) {
                    o.insert("ring_seconds".into(), json!(s));
                }
                o.insert("members".into(), json!(g.members.iter().map(|m| {
                    let mut mo = Map::new();
                    mo.insert("target".into(), json!(phone_or_as_typed(&m.target)));
                    if !m.label.trim().is_empty() {
                        mo.insert("label".into(), json!(m.label.trim()));
                    }
                    Value::Object(mo)
                }).collect::<Vec<_>>()));
                o.insert("schedule".into(), if g.when == "schedule" { windows_json(&g.schedule) } else { Value::Null });
                o.insert("on_no_answer".into(), action_json(&g.on_no_answer));
                if g.confirm {
                    o.insert("confirm".into(), json!(true));
                }
                if !g.confirm_prompt.trim().is_empty() {
                    o.insert("confirm_prompt".into(), json!(g.confirm_prompt.trim()));
                }
                Value::Object(o)
            }).collect::<Vec<_>>(),
            "off_hours": action_json(&self.off_hours),
            "closures": self.closures.iter().map(|c| closure_json(&mut problems, c)).collect::<Vec<_>>(),
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        serde_json::from_value(value).map_err(|e| vec![FieldError::new("routing", e.to_string())])
    }
}

fn fix_paths(windows: &mut [DraftWindow], parent: &str) {
    for (j, w) in windows.iter_mut().enumerate() {
        w.path = format!("{parent}.schedule[{j}]");
    }
}

fn closure_of(path: String, c: &Closure) -> DraftClosure {
    let mut d = DraftClosure {
        id: text(&c.id),
        name: c.name.clone(),
        repeat: String::new(),
        start: String::new(),
        end: String::new(),
        weekdays: Vec::new(),
        by: "day".into(),
        day: String::new(),
        nth: String::new(),
        weekday: String::new(),
        month: String::new(),
        days: String::new(),
        start_time: text(&c.start_time),
        end_time: text(&c.end_time),
        from: text(&c.from),
        until: text(&c.until),
        action: action_of(format!("{path}.action"), c.action.as_ref()),
        path,
    };
    match &c.rule {
        ClosureRule::None { start, end } => {
            d.repeat = "none".into();
            d.start = start.clone();
            d.end = end.clone();
        }
        ClosureRule::Weekly { days } => {
            d.repeat = "weekly".into();
            d.weekdays = days.iter().map(weekday_tag).collect();
        }
        ClosureRule::Monthly { day, nth, weekday } => {
            d.repeat = "monthly".into();
            d.by = if day.is_some() { "day" } else { "nth" }.into();
            d.day = number(*day);
            d.nth = number(*nth);
            d.weekday = weekday.as_ref().map(weekday_tag).unwrap_or_default();
        }
        ClosureRule::Yearly {
            month,
            day,
            nth,
            weekday,
            days,
        } => {
            d.repeat = "yearly".into();
            d.month = month.to_string();
            d.by = if day.is_some() { "day" } else { "nth" }.into();
            d.day = number(*day);
            d.nth = number(*nth);
            d.weekday = weekday.as_ref().map(weekday_tag).unwrap_or_default();
            d.days = number(*days);
        }
    }
    d
}

fn non_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// A phone number as typed becomes E.164; a SIP URI, a client or anything
/// else stays as typed, for the core to judge.
fn phone_or_as_typed(typed: &str) -> String {
    typed_number(typed).unwrap_or_else(|| typed.trim().to_owned())
}

fn read_number(problems: &mut Vec<FieldError>, path: &str, typed: &str) -> Option<i64> {
    let t = typed.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(FieldError::new(path, "must be a whole number"));
            None
        }
    }
}

fn windows_json(windows: &[DraftWindow]) -> Value {
    json!(
        windows
            .iter()
            .map(|w| json!({"days": w.days, "start": w.start.trim(), "end": w.end.trim()}))
            .collect::<Vec<_>>()
    )
}

fn action_json(a: &DraftAction) -> Value {
    match a.kind.as_str() {
        "" => Value::Null,
        "assistant" => json!({"type": "assistant", "assistant_id": a.assistant_id}),
        "ring_group" => json!({"type": "ring_group", "ring_group_id": a.ring_group_id}),
        "voicemail" => match non_empty(&a.greeting) {
            Some(g) => json!({"type": "voicemail", "greeting": g}),
            None => json!({"type": "voicemail"}),
        },
        "forward" => json!({"type": "forward", "to": phone_or_as_typed(&a.to)}),
        "message" => json!({"type": "message", "text": a.text.trim()}),
        other => json!({"type": other}),
    }
}

fn closure_json(problems: &mut Vec<FieldError>, c: &DraftClosure) -> Value {
    let mut o = Map::new();
    if !c.id.is_empty() {
        o.insert("id".into(), json!(c.id));
    }
    o.insert("name".into(), json!(c.name));
    let action = action_json(&c.action);
    if !action.is_null() {
        o.insert("action".into(), action);
    }
    for (key, value) in [
        ("start_time", &c.start_time),
        ("end_time", &c.end_time),
        ("from", &c.from),
        ("until", &c.until),
    ] {
        if let Some(v) = non_empty(value) {
            o.insert(key.into(), json!(v));
        }
    }
    let mut num = |key: &str, typed: &str, o: &mut Map<String, Value>| {
        if let Some(n) = read_number(problems, &format!("{}.{key}", c.path), typed) {
            o.insert(key.into(), json!(n));
        }
    };
    o.insert("repeat".into(), json!(c.repeat));
    match c.repeat.as_str() {
        "none" => {
            o.insert("start".into(), json!(c.start.trim()));
            o.insert("end".into(), json!(c.end.trim()));
        }
        "weekly" => {
            o.insert("days".into(), json!(c.weekdays));
        }
        "monthly" | "yearly" => {
            if c.repeat == "yearly" {
                num("month", &c.month, &mut o);
                num("days", &c.days, &mut o);
            }
            if c.by == "nth" {
                num("nth", &c.nth, &mut o);
                if !c.weekday.is_empty() {
                    o.insert("weekday".into(), json!(c.weekday));
                }
            } else {
                num("day", &c.day, &mut o);
            }
        }
        _ => {}
    }
    Value::Object(o)
}

/// The problems of a save or preview, by field path, for the form.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub HashMap<String, String>);

impl Problems {
    pub fn from_errors(errors: &[FieldError]) -> Problems {
        let mut map: HashMap<String, String> = HashMap::new();
        for e in errors {
            // A weekly closure's days are the form's `weekdays`.
            let field = e.field.strip_prefix("routing.").unwrap_or(&e.field);
            map.entry(field.to_owned())
                .and_modify(|m| {
                    m.push_str("; ");
                    m.push_str(&e.problem);
                })
                .or_insert_with(|| e.problem.clone());
        }
        Problems(map)
    }

    fn key(path: &str, field: &str) -> String {
        match (path.is_empty(), field.is_empty()) {
            (_, true) => path.to_owned(),
            (true, _) => field.to_owned(),
            _ => format!("{path}.{field}"),
        }
    }

    /// The problem of `path.field` (`field` "" for the element itself).
    pub fn at(&self, path: &str, field: &str) -> Option<&str> {
        self.0.get(&Self::key(path, field)).map(String::as_str)
    }

    /// A field's name in the form.
    pub fn name(&self, path: &str, field: &str) -> String {
        Self::key(path, field)
    }

    /// A field's DOM id.
    pub fn id(&self, path: &str, field: &str) -> String {
        let key = Self::key(path, field);
        let mut id = String::from("f-");
        for c in key.chars() {
            id.push(if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            });
        }
        id
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every problem, where it is in words, for the summary above the form.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> =
            self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all.sort();
        all.into_iter().map(|(k, v)| (path_words(&k), v)).collect()
    }
}

/// A field path for people: `ring_groups[0].members[1].target` →
/// "Ring group 1, member 2, target".
pub fn path_words(path: &str) -> String {
    let words: Vec<String> = path
        .split('.')
        .map(|part| {
            let (name, index) = match part.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            let name = match name {
                "assistants" => "assistant",
                "ring_groups" => "ring group",
                "members" => "member",
                "schedule" => "days and hours",
                "closures" => "closure",
                "on_no_answer" => "if nobody answers",
                "off_hours" => "off hours",
                "assistant_id" => "assistant",
                "ring_group_id" => "ring group",
                "ring_seconds" => "seconds",
                "location_id" => "location",
                "start_time" => "from time",
                "end_time" => "to time",
                "who_time" => "who answers at",
                "confirm_prompt" => "what a member hears first",
                other => other,
            }
            .replace('_', " ");
            match index {
                Some(i) => format!("{name} {}", i + 1),
                None => name,
            }
        })
        .collect();
    let text = words.join(", ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), chars.as_str()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_read_as_words() {
        assert_eq!(
            super::path_words("ring_groups[0].members[1].target"),
            "Ring group 1, member 2, target"
        );
        assert_eq!(
            super::path_words("assistants[1].schedule"),
            "Assistant 2, days and hours"
        );
    }

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn removing_an_element_renumbers_the_ones_after_it() {
        let mut f = form(&[
            ("ring_groups[0].name", "A"),
            ("ring_groups[1].name", "B"),
            ("ring_groups[1].members[0].target", "+14155550100"),
            ("ring_groups[2].name", "C"),
        ]);
        f.apply("remove:ring_groups[1]");
        let draft = DraftDoc::from_form(&f);
        let names: Vec<_> = draft.ring_groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["A", "C"]);
        assert_eq!(draft.ring_groups[1].path, "ring_groups[1]");
    }

    #[test]
    fn moving_a_group_up_swaps_it_with_the_one_before_and_keeps_its_members() {
        let mut f = form(&[
            ("ring_groups[0].name", "A"),
            ("ring_groups[1].name", "B"),
            ("ring_groups[1].members[0].target", "+14155550100"),
        ]);
        f.apply("up:ring_groups[1]");
        let draft = DraftDoc::from_form(&f);
        assert_eq!(draft.ring_groups[0].name, "B");
        assert_eq!(draft.ring_groups[0].members[0].target, "+14155550100");
        assert_eq!(draft.ring_groups[1].name, "A");
        f.apply("down:ring_groups[1]");
        assert_eq!(DraftDoc::from_form(&f).ring_groups[1].name, "A");
    }

    #[test]
    fn an_added_group_comes_with_defaults_and_one_member() {
        let mut f = form(&[("timezone", "")]);
        f.apply("add:ring_groups");
        let draft = DraftDoc::from_form(&f);
        let g = &draft.ring_groups[0];
        assert_eq!(g.strategy, "simultaneous");
        assert_eq!(g.ring_seconds, "20");
        assert_eq!(g.members.len(), 1);
        assert_eq!(g.schedule[0].days, ["mon", "tue", "wed", "thu", "fri"]);
    }

    #[test]
    fn a_document_goes_through_the_form_and_back_unchanged() {
        let doc: RoutingDoc = serde_json::from_value(json!({
            "timezone": "America/New_York",
            "assistants": [{"assistant_id": "a1", "schedule": [{"days": ["mon", "fri"], "start": "12:00", "end": "13:00"}]},
                           {"assistant_id": "a2"}],
            "ring_groups": [{"id": "g1", "name": "Front desk", "strategy": "sequential", "ring_seconds": 25,
                "members": [{"target": "+14155550100", "label": "Desk"}, {"target": "sip:nurse@pbx.example.com"}],
                "schedule": [{"days": ["mon"], "start": "08:00", "end": "18:00"}],
                "on_no_answer": {"type": "voicemail", "greeting": "Leave a message."}}],
            "off_hours": {"type": "assistant", "assistant_id": "a2"},
            "closures": [
                {"id": "c1", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"},
                {"id": "c2", "name": "Lunch", "repeat": "weekly", "days": ["sat"], "start_time": "12:00", "end_time": "13:00",
                 "action": {"type": "message", "text": "Back at one."}},
                {"id": "c3", "name": "Move", "repeat": "none", "start": "2027-02-01", "end": "2027-02-02"},
                {"id": "c4", "name": "Audit", "repeat": "monthly", "day": 15, "from": "2027-01-01", "until": "2027-12-31"}
            ]
        }))
        .expect("a document");
        let draft = DraftDoc::from_doc(&doc, None);
        assert_eq!(draft.to_doc().expect("it reads back"), doc);
    }

    #[test]
    fn a_number_typed_for_people_is_saved_in_e164_and_a_bad_count_is_a_field_problem() {
        let f = form(&[
            ("ring_groups[0].name", "Desk"),
            ("ring_groups[0].strategy", "simultaneous"),
            ("ring_groups[0].ring_seconds", "twenty"),
            ("ring_groups[0].when", "always"),
            ("ring_groups[0].members[0].target", "(415) 555-0100"),
        ]);
        let problems = DraftDoc::from_form(&f).to_doc().expect_err("a bad count");
        assert_eq!(problems[0].field, "ring_groups[0].ring_seconds");
        let f = form(&[
            ("ring_groups[0].name", "Desk"),
            ("ring_groups[0].strategy", "simultaneous"),
            ("ring_groups[0].when", "always"),
            ("ring_groups[0].members[0].target", "(415) 555-0100"),
        ]);
        let doc = DraftDoc::from_form(&f).to_doc().expect("a document");
        assert_eq!(doc.ring_groups[0].members[0].target, "+14155550100");
        assert_eq!(doc.ring_groups[0].schedule, None);
    }
}
