//! Application-generated ids: UUIDv7 text, so they sort by creation time on every backend.

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
