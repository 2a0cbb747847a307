//! School rosters: read, understand and check them before photo day.
//!
//! This crate is rollcall's functional core for rosters: it takes file bytes and returns values.
//! It does no I/O of its own; the CLI and the session engine read the files and hand over bytes.
//!
//! - [`read`]: bytes → tables of cells (xlsx/xlsm/xls/ods via calamine, CSV in UTF-8 or GBK).
//! - [`header`]: finds the header row and maps columns by synonyms.
//! - [`id`], [`name`]: the rules for ID numbers and names; [`filename`]: what a photo's path
//!   may be (one definition for the roster check, the session and verify).
//! - [`load`]: tables → schools, classes, students, with every problem found
//!   ([`load::load`] is the entry point).
//! - [`problem`]: stable problem codes, severities, Chinese and English messages; the words of
//!   each finding are in a catalogue (`messages`), apart from the rules that find them.
//! - [`sheet`]: the problems sheet a school can fix and send back (xlsx bytes).

pub mod filename;
pub mod guard;
pub mod header;
pub mod id;
pub mod load;
mod messages;
pub mod model;
pub mod name;
pub mod problem;
pub mod read;
pub mod sheet;

pub use load::{Options, Source, load};
pub use model::{Class, Counts, Roster, School, SchoolKind, SheetInfo, Student};
pub use problem::{Code, Lang, Location, Problem, Severity, Text};
