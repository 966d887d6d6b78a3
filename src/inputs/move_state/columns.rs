//! Which CSV column or JSON property holds what. Names are compared without case, spaces,
//! underscores or dashes, against the names seen in the cmdlet's output and public scripts;
//! when several are present, the one earlier in the list wins (`MoveState` over `State`).

/// What a column or property holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateColumn {
    Source,
    Target,
    State,
    Timestamp,
    JobId,
}

impl StateColumn {
    /// The accepted names, best first, as admins would write them.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            StateColumn::Source => &[
                "SourceUserPrincipalName",
                "SourceUserUpn",
                "SourceUpn",
                "SourceUser",
                "SourcePrincipalName",
                "SourceUserName",
            ],
            StateColumn::Target => &[
                "TargetUserPrincipalName",
                "TargetUserUpn",
                "TargetUpn",
                "TargetUser",
                "TargetPrincipalName",
                "TargetUserName",
            ],
            StateColumn::State => &["MoveState", "State", "MoveStatus", "Status"],
            StateColumn::Timestamp => &[
                "TimeStamp",
                "LastModified",
                "LastModifiedTime",
                "LastModifiedDateTime",
                "LastUpdated",
                "LastUpdatedTime",
                "LastUpdatedDateTime",
                "Modified",
                "Updated",
                "EndTime",
                "CompletedTime",
            ],
            StateColumn::JobId => &["MoveJobId", "JobId", "MoveId"],
        }
    }
}

/// Lower-case letters and digits only: `Source User-UPN` -> `sourceuserupn`.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Positions (in the header or property list) of each field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub source: Option<usize>,
    pub target: Option<usize>,
    pub state: Option<usize>,
    pub timestamp: Option<usize>,
    pub job_id: Option<usize>,
}

/// Finds each field among `names`.
pub fn resolve<S: AsRef<str>>(names: &[S]) -> Columns {
    let normalized: Vec<String> = names.iter().map(|n| normalize(n.as_ref())).collect();
    let find = |field: StateColumn| {
        field
            .names()
            .iter()
            .find_map(|want| normalized.iter().position(|n| *n == normalize(want)))
    };
    Columns {
        source: find(StateColumn::Source),
        target: find(StateColumn::Target),
        state: find(StateColumn::State),
        timestamp: find(StateColumn::Timestamp),
        job_id: find(StateColumn::JobId),
    }
}

/// The required fields `columns` lacks: what each holds, and its accepted names.
pub fn missing_required(columns: &Columns) -> impl Iterator<Item = (&'static str, String)> {
    [
        (StateColumn::Source, columns.source, "the source user"),
        (StateColumn::State, columns.state, "the move state"),
    ]
    .into_iter()
    .filter(|(_, found, _)| found.is_none())
    .map(|(field, _, what)| (what, field.names().join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_case_or_punctuation_best_first() {
        let c = resolve(&[
            "state",
            "SOURCEUPN",
            "Move State",
            "target_user_principal_name",
            "Last-Modified",
            "JobId",
        ]);
        assert_eq!(
            c,
            Columns {
                source: Some(1),
                target: Some(3),
                state: Some(2),
                timestamp: Some(4),
                job_id: Some(5),
            }
        );
    }

    #[test]
    fn missing_fields_are_none() {
        let c = resolve(&["UserPrincipalName", "DisplayName"]);
        assert_eq!(c, Columns::default());
    }
}
