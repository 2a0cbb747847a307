//! What a roster reload changes: corrected names and IDs (whose photos get renamed), new rows,
//! and removed rows (whose photos are kept and reported, never deleted).

use serde::{Deserialize, Serialize};

use crate::event::StudentRecord;
use crate::state::State;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterDiff {
    /// Students whose ID or name changed: (key, old file stem, new file stem, has a photo).
    pub corrected: Vec<Correction>,
    /// Keys of rows that are new.
    pub added: Vec<String>,
    /// Rows no longer on the roster that have takes (kept, reported).
    pub removed_with_photos: Vec<String>,
    /// Rows no longer on the roster without takes.
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub key: String,
    pub name: String,
    pub old_stem: Option<String>,
    pub new_stem: Option<String>,
    pub has_photo: bool,
}

impl RosterDiff {
    pub fn is_empty(&self) -> bool {
        self.corrected.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.removed_with_photos.is_empty()
    }
}

/// Compares the session's current roster with a newly loaded one.
pub fn diff(state: &State, new: &[StudentRecord]) -> RosterDiff {
    let mut out = RosterDiff::default();
    let stem = |r: &StudentRecord| {
        r.id_number
            .as_ref()
            .map(|id| format!("{id}{}{}", state.separator, r.name))
    };
    let mut seen = std::collections::HashSet::new();
    for r in new {
        seen.insert(r.key.as_str());
        match state.find(&r.key) {
            Some(s) => {
                let old = &state.students[s].rec;
                if old.id_number != r.id_number || old.name != r.name || old.class != r.class {
                    out.corrected.push(Correction {
                        key: r.key.clone(),
                        name: r.name.clone(),
                        old_stem: stem(old),
                        new_stem: stem(r),
                        has_photo: state.chosen_take(s).is_some(),
                    });
                }
            }
            None => out.added.push(r.key.clone()),
        }
    }
    for s in state.roster_order() {
        let st = &state.students[s];
        if st.rec.walk_in || seen.contains(st.rec.key.as_str()) {
            continue;
        }
        if st.takes.is_empty() {
            out.removed.push(st.rec.key.clone());
        } else {
            out.removed_with_photos.push(st.rec.key.clone());
        }
    }
    out
}
