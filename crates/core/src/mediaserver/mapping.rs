//! Path mappings: the same folder seen from Tapearr and from the media server.
//!
//! A mapping applies at a directory boundary only (`/data/tv` maps `/data/tv/Show`, not
//! `/data/tvshows`), the longest match wins, and a Windows-style target (`D:\Media`,
//! `\\nas\media`) gets backslashes.

use super::model::PathMapping;

fn strip_dir<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    let dir = dir.trim_end_matches(['/', '\\']);
    let rest = path.strip_prefix(dir)?;
    (rest.is_empty() || rest.starts_with(['/', '\\'])).then_some(rest)
}

fn is_windows(path: &str) -> bool {
    path.starts_with("\\\\") || path.as_bytes().get(1) == Some(&b':') || path.contains('\\')
}

/// Tapearr's path → the media server's path (unchanged when no mapping applies).
pub fn to_server(path: &str, mappings: &[PathMapping]) -> String {
    let best = mappings
        .iter()
        .filter_map(|m| strip_dir(path, &m.local).map(|rest| (m, rest)))
        .max_by_key(|(m, _)| m.local.trim_end_matches(['/', '\\']).len());
    let Some((m, rest)) = best else {
        return path.to_string();
    };
    let target = m.server.trim_end_matches(['/', '\\']);
    if is_windows(target) {
        format!("{target}{}", rest.replace('/', "\\"))
    } else {
        format!("{target}{}", rest.replace('\\', "/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(local: &str, server: &str) -> PathMapping {
        PathMapping {
            local: local.into(),
            server: server.into(),
        }
    }

    #[test]
    fn maps_at_directory_boundaries_longest_first() {
        let maps = [m("/data", "/srv"), m("/data/tv/", "/mnt/tv")];
        assert_eq!(to_server("/data/tv/Show/S01", &maps), "/mnt/tv/Show/S01");
        assert_eq!(to_server("/data/movies/X", &maps), "/srv/movies/X");
        assert_eq!(to_server("/datatv/x", &maps), "/datatv/x");
        assert_eq!(to_server("/data", &maps), "/srv");
    }

    #[test]
    fn windows_and_unc_targets_use_backslashes() {
        let maps = [
            m("/media/tv", "D:\\TV"),
            m("/media/movies", "\\\\nas\\movies\\"),
        ];
        assert_eq!(to_server("/media/tv/Show/S01", &maps), "D:\\TV\\Show\\S01");
        assert_eq!(
            to_server("/media/movies/X (2020)", &maps),
            "\\\\nas\\movies\\X (2020)"
        );
    }
}
