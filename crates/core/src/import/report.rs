//! What an import created (or would create) and what it left out, for people.

use serde::{Deserialize, Serialize};

/// One thing: its kind (`connection`, `profile`, …), its name, and for a skip the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportLine {
    pub kind: String,
    pub name: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Created (or, in a dry run, to be created).
    pub created: Vec<ReportLine>,
    /// Already imported by an earlier run: left as they are.
    pub unchanged: Vec<ReportLine>,
    /// Not imported, with the reason.
    pub skipped: Vec<ReportLine>,
    /// Imported, but a setting had no Tapearr equivalent and was left out.
    pub not_mapped: Vec<ReportLine>,
}

impl ImportReport {
    pub(crate) fn line(kind: &str, name: &str, detail: Option<String>) -> ReportLine {
        ReportLine {
            kind: kind.into(),
            name: name.into(),
            detail,
        }
    }

    pub(crate) fn created(&mut self, kind: &str, name: &str, detail: Option<String>) {
        self.created.push(Self::line(kind, name, detail));
    }

    pub(crate) fn unchanged(&mut self, kind: &str, name: &str) {
        self.unchanged.push(Self::line(kind, name, None));
    }

    pub(crate) fn skipped(&mut self, kind: &str, name: &str, why: impl Into<String>) {
        self.skipped.push(Self::line(kind, name, Some(why.into())));
    }

    pub(crate) fn not_mapped(&mut self, kind: &str, name: &str, what: impl Into<String>) {
        self.not_mapped
            .push(Self::line(kind, name, Some(what.into())));
    }

    /// Plain text for the CLI (never a secret: no line carries one).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run {
            "would create"
        } else {
            "created"
        };
        for (title, lines) in [
            (verb, &self.created),
            ("already imported", &self.unchanged),
            ("skipped", &self.skipped),
            ("not mapped", &self.not_mapped),
        ] {
            out.push_str(&format!("{title}: {}\n", lines.len()));
            for l in lines {
                match &l.detail {
                    Some(d) => out.push_str(&format!("  {} {}: {d}\n", l.kind, l.name)),
                    None => out.push_str(&format!("  {} {}\n", l.kind, l.name)),
                }
            }
        }
        if self.dry_run {
            out.push_str("dry run: nothing was written\n");
        }
        out
    }
}
