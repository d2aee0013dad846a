//! Arr paths → Tapearr paths. Radarr/Sonarr may run on another machine (or Windows): the
//! connection's mappings translate their folder into the one Tapearr sees, at directory
//! boundaries, longest prefix first (the media-server mapping rules, in the other direction).

use crate::mediaserver::mapping::to_server;
use crate::mediaserver::model::PathMapping;
use crate::trailers::model::ArrPathMapping;

/// The Arr's `path` as Tapearr sees it (unchanged when no mapping applies).
pub fn to_local(arr_path: &str, mappings: &[ArrPathMapping]) -> String {
    let reversed: Vec<PathMapping> = mappings
        .iter()
        .map(|m| PathMapping {
            local: m.remote.clone(),
            server: m.local.clone(),
        })
        .collect();
    to_server(arr_path, &reversed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(remote: &str, local: &str) -> ArrPathMapping {
        ArrPathMapping {
            remote: remote.into(),
            local: local.into(),
        }
    }

    #[test]
    fn windows_drive_and_unc_paths_map_to_posix_folders() {
        let maps = [
            m("D:\\Movies", "/media/movies"),
            m("\\\\nas\\tv\\", "/media/tv"),
        ];
        assert_eq!(
            to_local("D:\\Movies\\Alien (1979)", &maps),
            "/media/movies/Alien (1979)"
        );
        assert_eq!(to_local("\\\\nas\\tv\\Dark", &maps), "/media/tv/Dark");
        // Directory boundary: D:\MoviesOld is another folder.
        assert_eq!(to_local("D:\\MoviesOld\\X", &maps), "D:\\MoviesOld\\X");
    }

    #[test]
    fn longest_prefix_wins_and_unmapped_paths_stay() {
        let maps = [m("/data", "/srv"), m("/data/movies", "/mnt/films")];
        assert_eq!(
            to_local("/data/movies/Up (2009)", &maps),
            "/mnt/films/Up (2009)"
        );
        assert_eq!(to_local("/data/tv/Dark", &maps), "/srv/tv/Dark");
        assert_eq!(to_local("/other/X", &maps), "/other/X");
    }
}
