//! Which users a run sends to, from the ledger's state before the run: `sent` never again,
//! `failed` only with `--retry-failed`, `uncertain` only with `--resend-uncertain`, everyone else
//! (new, `pending`, `deferred`) yes. A test run (`--test-to`) sends every job it is given.

use std::collections::HashMap;

use crate::ledger::deliveries::DeliveryState;

/// Why a user is not sent to in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    AlreadySent,
    Failed,
    Uncertain,
}

/// The rule and the ledger's states it applies to.
#[derive(Debug, Clone, Default)]
pub struct SendSelection {
    states: HashMap<String, DeliveryState>,
    pub retry_failed: bool,
    pub resend_uncertain: bool,
    /// A test run: no user is skipped and no user's state is read.
    pub test: bool,
}

impl SendSelection {
    /// The selection for a campaign run over `states`. Rows still `in-flight` count as `uncertain`:
    /// they are what an earlier run left, and the run settles them so before it sends.
    pub fn campaign(
        mut states: HashMap<String, DeliveryState>,
        retry_failed: bool,
        resend_uncertain: bool,
    ) -> Self {
        for state in states.values_mut() {
            if *state == DeliveryState::InFlight {
                *state = DeliveryState::Uncertain;
            }
        }
        SendSelection {
            states,
            retry_failed,
            resend_uncertain,
            test: false,
        }
    }

    /// The selection for a `--test-to` run.
    pub fn test() -> Self {
        SendSelection {
            test: true,
            ..SendSelection::default()
        }
    }

    /// Send (with the state the user had before, to restore if the run stops), or skip.
    pub fn decide(&self, key: &str) -> Result<Option<DeliveryState>, SkipReason> {
        if self.test {
            return Ok(None);
        }
        let prior = self.states.get(key).copied();
        match prior {
            Some(DeliveryState::Sent) => Err(SkipReason::AlreadySent),
            Some(DeliveryState::Failed) if !self.retry_failed => Err(SkipReason::Failed),
            Some(DeliveryState::Uncertain | DeliveryState::InFlight) if !self.resend_uncertain => {
                Err(SkipReason::Uncertain)
            }
            _ => Ok(prior),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states() -> HashMap<String, DeliveryState> {
        [
            ("sent", DeliveryState::Sent),
            ("failed", DeliveryState::Failed),
            ("uncertain", DeliveryState::Uncertain),
            ("deferred", DeliveryState::Deferred),
            ("pending", DeliveryState::Pending),
        ]
        .into_iter()
        .map(|(k, s)| (k.to_string(), s))
        .collect()
    }

    #[test]
    fn sent_users_are_never_sent_again_whatever_the_flags() {
        assert_eq!(
            SendSelection::campaign(states(), true, true).decide("sent"),
            Err(SkipReason::AlreadySent)
        );
    }

    #[test]
    fn failed_and_uncertain_need_their_flag() {
        let plain = SendSelection::campaign(states(), false, false);
        assert_eq!(plain.decide("failed"), Err(SkipReason::Failed));
        assert_eq!(plain.decide("uncertain"), Err(SkipReason::Uncertain));
        let both = SendSelection::campaign(states(), true, true);
        assert_eq!(both.decide("failed"), Ok(Some(DeliveryState::Failed)));
        assert_eq!(both.decide("uncertain"), Ok(Some(DeliveryState::Uncertain)));
    }

    #[test]
    fn new_pending_and_deferred_users_are_sent() {
        let plain = SendSelection::campaign(states(), false, false);
        assert_eq!(plain.decide("new"), Ok(None));
        assert_eq!(plain.decide("deferred"), Ok(Some(DeliveryState::Deferred)));
        assert_eq!(plain.decide("pending"), Ok(Some(DeliveryState::Pending)));
    }

    #[test]
    fn leftover_in_flight_rows_are_uncertain() {
        let states = HashMap::from([("left".to_string(), DeliveryState::InFlight)]);
        assert_eq!(
            SendSelection::campaign(states.clone(), false, false).decide("left"),
            Err(SkipReason::Uncertain)
        );
        assert_eq!(
            SendSelection::campaign(states, false, true).decide("left"),
            Ok(Some(DeliveryState::Uncertain)),
            "restored as uncertain, never as in-flight, if it does not leave"
        );
    }

    #[test]
    fn a_test_run_sends_everyone() {
        assert_eq!(SendSelection::test().decide("sent"), Ok(None));
    }
}
