//! The derived `status` of a number card (`docs/routing.md`, "Number status").
//!
//! Computed from plain facts, which [`crate::Snapshot::status_of`] takes from
//! a compiled number; the admin's cards are made from the compiled clinic.

use crate::model::{Lifecycle, NumberStatus};

/// How a number forwards, as far as its status cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingFacts {
    /// It does not forward.
    None,
    /// It forwards to an external number.
    External,
    /// It links to another number of its clinic; whether the number at the
    /// end of the link has at least one assistant.
    Linked { target_has_assistant: bool },
}

/// What the status of a number depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFacts {
    pub lifecycle: Lifecycle,
    pub forwarding: ForwardingFacts,
    /// At least one assistant is bound or named by an action of the number.
    pub has_assistant: bool,
    pub has_ring_group: bool,
}

/// The status a number shows.
pub fn number_status(facts: &StatusFacts) -> NumberStatus {
    match facts.lifecycle {
        Lifecycle::Pending => NumberStatus::Pending,
        Lifecycle::Paused => NumberStatus::Disabled,
        Lifecycle::Released => NumberStatus::Released,
        Lifecycle::Active => match facts.forwarding {
            ForwardingFacts::External => NumberStatus::Forwarding,
            ForwardingFacts::Linked {
                target_has_assistant: true,
            } => NumberStatus::Linked,
            ForwardingFacts::Linked {
                target_has_assistant: false,
            } => NumberStatus::Forwarding,
            ForwardingFacts::None if facts.has_assistant || facts.has_ring_group => {
                NumberStatus::Enabled
            }
            ForwardingFacts::None => NumberStatus::Unassigned,
        },
    }
}
