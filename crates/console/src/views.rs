//! What the templates show, derived from the operations' answers.

use switchboard_admin::ops::numbers::{ForwardingOut, NamedRefOut, NumberCardOut, display};
use switchboard_core::model::{Lifecycle, NumberStatus, OverrideState};
use uuid::Uuid;

use crate::render::Can;

/// A status in words, and the class that colours it.
pub fn status_words(status: NumberStatus) -> (&'static str, &'static str) {
    match status {
        NumberStatus::Enabled => ("Enabled", "ok"),
        NumberStatus::Disabled => ("Disabled", "off"),
        NumberStatus::Forwarding => ("Forwarding", "info"),
        NumberStatus::Linked => ("Linked", "link"),
        NumberStatus::Unassigned => ("Unassigned", "warn"),
        NumberStatus::Pending => ("Pending", "pending"),
        NumberStatus::Released => ("Released", "off"),
    }
}

/// The forward dialog's form: what was typed, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct ForwardForm {
    pub to: String,
    pub number_id: String,
    pub error: Option<String>,
}

/// A number of the clinic a call can be linked to.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    pub id: String,
    pub label: String,
}

/// One card of the Phone Numbers page.
#[derive(Debug, Clone)]
pub struct CardView {
    pub clinic: Uuid,
    pub id: Uuid,
    pub display: String,
    pub e164: String,
    pub friendly_name: Option<String>,
    pub primary: bool,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub pending: bool,
    pub enabled: bool,
    pub assistants: Vec<NamedRefOut>,
    pub ring_groups: Vec<String>,
    /// An outside number calls go to.
    pub forwards_to: Option<String>,
    /// The clinic's number this one links to.
    pub linked_to: Option<String>,
    pub can: Can,
    pub csrf: String,
    pub forward: ForwardForm,
    /// Finish the purchase as soon as the card is shown.
    pub complete_purchase: bool,
    /// "Closed until 8:00 tomorrow", while an override is in force.
    pub hold: Option<String>,
    /// The override in force closes the number (else holds it open).
    pub closed: bool,
    /// The close dialog, when it is filled for this number.
    pub close: CloseForm,
}

/// The "Close now…" dialog: the quick choices with their instants in
/// words, and what was typed when a choice was refused.
#[derive(Debug, Clone, Default)]
pub struct CloseForm {
    /// "Thu Dec 3, 8:00" and the instant, when the schedules open again.
    pub next: Option<(String, String)>,
    pub tomorrow: Option<(String, String)>,
    pub date: String,
    pub time: String,
    pub choice: String,
    pub error: Option<String>,
    /// The wall clock the date and time are read on.
    pub timezone: String,
}

/// The numbers of the clinic (`all`) that number `id` can link to: live
/// ones answered by an assistant, not forwarded themselves. Only the
/// forward dialog lists them (a page of 200 cards would list 40 000).
pub fn link_targets(id: Uuid, all: &[NumberCardOut]) -> Vec<LinkTarget> {
    all.iter()
        .filter(|n| {
            n.id != id
                && n.forwarding.is_none()
                && !n.assistants.is_empty()
                && matches!(n.lifecycle, Lifecycle::Active | Lifecycle::Paused)
        })
        .map(|n| LinkTarget {
            id: n.id.to_string(),
            label: format!(
                "{} ({})",
                n.display,
                n.assistants
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect()
}

impl CardView {
    /// The card of `card`.
    pub fn new(clinic: Uuid, card: &NumberCardOut, can: Can, csrf: &str) -> CardView {
        let (status_label, status_class) = status_words(card.status);
        let (forwards_to, linked_to) = match &card.forwarding {
            Some(ForwardingOut::External { to }) => (Some(display(to)), None),
            Some(ForwardingOut::Number { e164, .. }) => (None, Some(display(e164))),
            None => (None, None),
        };
        let forward = match &card.forwarding {
            Some(ForwardingOut::External { to }) => ForwardForm {
                to: display(to),
                ..ForwardForm::default()
            },
            Some(ForwardingOut::Number { number_id, .. }) => ForwardForm {
                number_id: number_id.clone(),
                ..ForwardForm::default()
            },
            None => ForwardForm::default(),
        };
        let hold = card.hold.as_ref().map(|h| {
            let until = crate::words::until_words(&h.until, Some(chrono::Utc::now()));
            match h.state {
                OverrideState::Closed => format!("Closed until {until}"),
                OverrideState::Open => format!("Open until {until}"),
            }
        });
        CardView {
            hold,
            closed: card
                .hold
                .as_ref()
                .is_some_and(|h| h.state == OverrideState::Closed),
            close: CloseForm::default(),
            clinic,
            id: card.id,
            display: card.display.clone(),
            e164: card.e164.clone(),
            friendly_name: card.friendly_name.clone(),
            primary: card.primary,
            status_label,
            status_class,
            pending: card.lifecycle == Lifecycle::Pending,
            enabled: card.lifecycle == Lifecycle::Active,
            assistants: card.assistants.clone(),
            ring_groups: card.ring_groups.iter().map(|g| g.name.clone()).collect(),
            forwards_to,
            linked_to,
            can,
            csrf: csrf.to_owned(),
            forward,
            complete_purchase: false,
        }
    }

    /// Whether the card has a forwarding to update or stop.
    pub fn forwarding(&self) -> bool {
        self.forwards_to.is_some() || self.linked_to.is_some()
    }

    /// Whether the settings menu has anything for this person.
    pub fn has_menu(&self) -> bool {
        !self.pending && (self.can.edit || self.can.admin)
    }
}

/// A phone number as a person types it, in E.164: `(415) 555-0123` and
/// `415-555-0123` are North American, `+44 20 7946 0000` carries its country.
pub fn typed_number(typed: &str) -> Option<String> {
    let t = typed.trim();
    let plus = t.starts_with('+');
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        || t.chars().skip(1).any(|c| c == '+')
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let e164 = if plus {
        format!("+{digits}")
    } else if digits.len() == 10 {
        format!("+1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        format!("+{digits}")
    } else {
        return None;
    };
    switchboard_core::validate::E164::parse(&e164)
        .ok()
        .map(|_| e164)
}

#[cfg(test)]
mod tests {
    use super::typed_number;

    #[test]
    fn typed_numbers_become_e164() {
        assert_eq!(
            typed_number("(415) 555-0123").as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            typed_number("415-555-0123").as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            typed_number("1 415 555 0123").as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            typed_number("+44 20 7946 0000").as_deref(),
            Some("+442079460000")
        );
        for bad in ["", "hello", "555-0123", "+", "++1415", "+0123456"] {
            assert_eq!(typed_number(bad), None, "{bad}");
        }
    }
}
