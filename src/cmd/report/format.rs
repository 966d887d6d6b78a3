//! The report's formats, pure functions over the ledger's rows (and, with move-state exports,
//! the users they hold back): a human table per campaign (users who need attention first),
//! JSON, CSV safe to open in Excel; the HTML page is in `html`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::diag::one_line;
use crate::ledger::deliveries::{DeliveryRow, DeliveryState, TestSendRow};

/// How many users of a campaign are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub users: u64,
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub uncertain: u64,
    #[serde(rename = "in-flight")]
    pub in_flight: u64,
    pub pending: u64,
}

impl Totals {
    pub(super) fn add(&mut self, state: DeliveryState) {
        self.users += 1;
        let counter = match state {
            DeliveryState::Sent => &mut self.sent,
            DeliveryState::Deferred => &mut self.deferred,
            DeliveryState::Failed => &mut self.failed,
            DeliveryState::Uncertain => &mut self.uncertain,
            DeliveryState::InFlight => &mut self.in_flight,
            DeliveryState::Pending => &mut self.pending,
        };
        *counter += 1;
    }

    fn line(&self, campaign: &str) -> String {
        format!(
            "Campaign {campaign}: {} users: {} sent, {} deferred, {} failed, {} uncertain, {} in flight, {} pending",
            self.users, self.sent, self.deferred, self.failed, self.uncertain, self.in_flight, self.pending
        )
    }
}

/// A mapped user the move-state exports hold back: never attempted, so not in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRow {
    pub source_upn: String,
    pub target_upn: String,
    /// `Failed`, `InProgress`, `unknown state `X``, `not in any move-state export`.
    pub hold: String,
    /// The move will not finish by itself: the migration team must act.
    pub action_needed: bool,
    pub reason: String,
    pub batch: Option<String>,
    /// Where the user's newest entry is (`batch-1.csv:4`).
    pub export: Option<String>,
}

/// The ledger's rows, grouped by campaign, and the held-back users when exports were given.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub(super) campaigns: BTreeMap<String, Vec<DeliveryRow>>,
    pub(super) tests: Vec<TestSendRow>,
    pub(super) held_back: Vec<HeldRow>,
}

/// Users who need the admin come first.
pub(super) fn attention(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Failed => 0,
        DeliveryState::Uncertain => 1,
        DeliveryState::InFlight => 2,
        DeliveryState::Deferred => 3,
        DeliveryState::Pending => 4,
        DeliveryState::Sent => 5,
    }
}

impl Report {
    /// The report of these rows and test sends, and of the users the move-state exports hold
    /// back (kept in the order given: sorted by hold, `Failed` first).
    pub fn new(rows: Vec<DeliveryRow>, tests: Vec<TestSendRow>, held_back: Vec<HeldRow>) -> Report {
        let mut campaigns: BTreeMap<String, Vec<DeliveryRow>> = BTreeMap::new();
        for row in rows {
            campaigns.entry(row.campaign.clone()).or_default().push(row);
        }
        for rows in campaigns.values_mut() {
            rows.sort_by_cached_key(|r| (attention(r.state), r.user_key.clone()));
        }
        Report {
            campaigns,
            tests,
            held_back,
        }
    }

    /// Every delivery row, by campaign, users who need attention first.
    pub fn rows(&self) -> impl Iterator<Item = &DeliveryRow> {
        self.campaigns.values().flatten()
    }

    /// Totals per batch label (`None`: users sent without move-state exports), with how many
    /// held-back users each batch has.
    pub fn batch_totals(&self) -> BTreeMap<Option<&str>, (Totals, u64)> {
        let mut out: BTreeMap<Option<&str>, (Totals, u64)> = BTreeMap::new();
        for r in self.rows() {
            out.entry(r.batch.as_deref()).or_default().0.add(r.state);
        }
        for h in &self.held_back {
            out.entry(h.batch.as_deref()).or_default().1 += 1;
        }
        out
    }

    /// Totals per campaign.
    pub fn totals(&self) -> BTreeMap<&str, Totals> {
        self.campaigns
            .iter()
            .map(|(name, rows)| {
                let mut t = Totals::default();
                rows.iter().for_each(|r| t.add(r.state));
                (name.as_str(), t)
            })
            .collect()
    }

    /// One line of totals per campaign, and one for test sends.
    pub fn totals_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.totals().iter().map(|(c, t)| t.line(c)).collect();
        if lines.is_empty() {
            lines.push("No deliveries recorded.".into());
        }
        if !self.held_back.is_empty() {
            lines.push(format!(
                "Held back by their move state (not notified): {}",
                self.held_back.len()
            ));
        }
        if !self.tests.is_empty() {
            let sent = self
                .tests
                .iter()
                .filter(|t| t.state == DeliveryState::Sent)
                .count();
            lines.push(format!(
                "Test sends (--test-to) and admin summaries: {} messages, {sent} accepted",
                self.tests.len()
            ));
        }
        lines
    }

    /// A table per campaign, then the test sends.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let totals = self.totals();
        for (campaign, rows) in &self.campaigns {
            out.push_str(&totals[campaign.as_str()].line(campaign));
            out.push_str("\n\n");
            let header = [
                "STATE",
                "ATTEMPTS",
                "USER",
                "MESSAGE-ID",
                "LAST ATTEMPT",
                "SENT",
                "LAST REPLY",
            ];
            out.push_str(&table(&header, rows.iter().map(human_cells)));
            out.push('\n');
        }
        if self.campaigns.is_empty() {
            out.push_str("No deliveries recorded.\n");
        }
        if !self.held_back.is_empty() {
            out.push_str(&format!(
                "\nHeld back by their move state, not notified: {}\n\n",
                self.held_back.len()
            ));
            let header = ["REASON", "USER", "TARGET", "BATCH", "WHY"];
            out.push_str(&table(&header, self.held_back.iter().map(held_cells)));
            out.push('\n');
        }
        if !self.tests.is_empty() {
            out.push_str(&format!(
                "Test sends (--test-to) and admin summaries, recorded apart: {}\n\n",
                self.tests.len()
            ));
            let header = ["STATE", "TO", "USER", "MESSAGE-ID", "SENT", "LAST REPLY"];
            out.push_str(&table(&header, self.tests.iter().map(test_cells)));
        }
        out
    }

    /// `{campaigns: [{campaign, totals, users}], test_sends}`.
    pub fn json(&self) -> serde_json::Value {
        let totals = self.totals();
        let campaigns: Vec<_> = self
            .campaigns
            .iter()
            .map(|(name, rows)| json!({"campaign": name, "totals": totals[name.as_str()], "users": rows}))
            .collect();
        json!({"campaigns": campaigns, "test_sends": self.tests, "held_back": self.held_back})
    }

    /// One row per user with a header.
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "campaign",
            "user",
            "state",
            "attempts",
            "recipients",
            "message_id",
            "last_reply",
            "first_attempt_at",
            "last_attempt_at",
            "sent_at",
            "batch",
            "content_hash",
        ])?;
        for r in self.campaigns.values().flatten() {
            let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
            w.write_record([
                cell(&r.campaign),
                cell(&r.user_key),
                r.state.to_string(),
                r.attempts.to_string(),
                cell(&r.recipients.join(";")),
                opt(&r.message_id),
                opt(&r.last_reply),
                opt(&r.first_attempt_at),
                opt(&r.last_attempt_at),
                opt(&r.sent_at),
                opt(&r.batch),
                opt(&r.content_hash),
            ])?;
        }
        for h in &self.held_back {
            let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
            w.write_record([
                String::new(),
                cell(&h.source_upn.to_lowercase()),
                "held-back".into(),
                "0".into(),
                cell(&h.target_upn),
                String::new(),
                cell(&h.reason),
                String::new(),
                String::new(),
                String::new(),
                opt(&h.batch),
                String::new(),
            ])?;
        }
        w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// A spreadsheet cell that cannot turn into a formula (`=`, `+`, `-`, `@` at the start).
pub(super) fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// A table cell of an optional value: `-` when there is none.
fn dash(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".into())
}

fn human_cells(r: &DeliveryRow) -> [String; 7] {
    [
        r.state.to_string(),
        r.attempts.to_string(),
        r.user_key.clone(),
        dash(&r.message_id),
        dash(&r.last_attempt_at),
        dash(&r.sent_at),
        one_line(r.last_reply.as_deref().unwrap_or("-")),
    ]
}

fn held_cells(h: &HeldRow) -> [String; 5] {
    [
        h.hold.clone(),
        h.source_upn.clone(),
        h.target_upn.clone(),
        dash(&h.batch),
        one_line(&h.reason),
    ]
}

fn test_cells(t: &TestSendRow) -> [String; 6] {
    [
        t.state.to_string(),
        t.test_to.clone(),
        t.user_key.clone(),
        dash(&t.message_id),
        dash(&t.sent_at),
        one_line(t.last_reply.as_deref().unwrap_or("-")),
    ]
}

/// Left-aligned columns two spaces apart; the last column is not padded.
pub(super) fn table<const N: usize>(
    header: &[&str; N],
    rows: impl Iterator<Item = [String; N]>,
) -> String {
    let rows: Vec<[String; N]> = rows.collect();
    let mut widths: [usize; N] = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(header.as_slice()).chain(rows.iter().map(|r| r.as_slice())) {
        let last = row.len() - 1;
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            out.push_str(c);
            if i < last {
                out.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(super) mod tests;
