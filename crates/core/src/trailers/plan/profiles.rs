//! Profile service (T4): validation, the out-of-the-box defaults, and which profiles apply
//! to an item. Every enabled profile whose filters all match applies; the list is ordered by
//! priority, higher first (see `model/profile.rs`).

use crate::ids::new_id;
use crate::time::Timestamp;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::MediaItem;
use crate::trailers::model::slot::MAX_TRAILERS;
use crate::trailers::model::{
    FilterField, FilterOp, OutputSettings, Placement, Profile, ProfileFilter, SearchRules,
};
use crate::trailers::service::Trailers;
use serde::Deserialize;
use serde_json::Value;

/// Set once the defaults were created, so deleting them all does not bring them back.
const SEEDED_KEY: &str = "trailers.profiles_seeded";

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProfileInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub filters: Vec<ProfileFilter>,
    #[serde(default)]
    pub search: SearchRules,
    #[serde(default)]
    pub output: OutputSettings,
}

fn yes() -> bool {
    true
}

/// The defaults: a `-trailer` file beside the media, which Plex, Jellyfin and Emby all pick
/// up, and (off) a `Trailers/` folder copy for Jellyfin, Emby and Kodi.
pub fn default_profiles() -> Vec<ProfileInput> {
    vec![
        ProfileInput {
            name: "Beside the media (Plex, Jellyfin, Emby)".into(),
            enabled: true,
            priority: 10,
            filters: Vec::new(),
            search: SearchRules::default(),
            output: OutputSettings::default(),
        },
        ProfileInput {
            name: "Trailers folder (Jellyfin, Emby, Kodi)".into(),
            enabled: false,
            priority: 5,
            filters: Vec::new(),
            search: SearchRules::default(),
            output: OutputSettings {
                placement: Placement::Folder,
                file_template: "{title} ({year})".into(),
                ..OutputSettings::default()
            },
        },
    ]
}

pub fn validate(input: &ProfileInput) -> TrailerResult<()> {
    let invalid = |m: String| Err(TrailerError::Invalid(m));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return invalid("name must be 1 to 100 characters".into());
    }
    if !(-1000..=1000).contains(&input.priority) {
        return invalid("priority must be between -1000 and 1000".into());
    }
    for f in &input.filters {
        check_filter(f).map_err(|e| TrailerError::Invalid(e.to_string()))?;
    }
    let s = &input.search;
    if s.min_duration_s >= s.max_duration_s {
        return invalid("search.min_duration_s must be smaller than search.max_duration_s".into());
    }
    if !(1..=50).contains(&s.search_results) {
        return invalid("search.search_results must be 1 to 50".into());
    }
    if s.query.trim().is_empty() || s.query.len() > 200 {
        return invalid("search.query must be 1 to 200 characters".into());
    }
    crate::trailers::search::language::validate(s)
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
    let o = &input.output;
    if !(0.0..=4.0).contains(&o.volume) {
        return invalid("output.volume must be between 0 and 4".into());
    }
    if !(144..=4320).contains(&o.max_height) {
        return invalid("output.max_height must be between 144 and 4320".into());
    }
    if !(1..=MAX_TRAILERS).contains(&o.trailers) {
        return invalid(format!(
            "output.trailers must be between 1 and {MAX_TRAILERS}"
        ));
    }
    if o.placement == Placement::Folder {
        let folder = o.folder_name.trim();
        if folder.is_empty() || folder.contains(['/', '\\']) || folder == "." || folder == ".." {
            return invalid("output.folder_name must be one folder name, like Trailers".into());
        }
    }
    crate::trailers::place::validate_template(o)
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
    crate::trailers::download::ytdlp::check_extra_args(&o.ytdlp_options)
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
    Ok(())
}

/// A filter whose operator or value does not suit its field.
#[derive(Debug, thiserror::Error)]
#[error("filter {:?} {:?} {}: this field takes {takes}", filter.field, filter.op, filter.value)]
pub struct FilterError {
    filter: ProfileFilter,
    takes: &'static str,
}

fn check_filter(f: &ProfileFilter) -> Result<(), FilterError> {
    use FilterField::*;
    use FilterOp::*;
    let ok = match f.field {
        Year => matches!(f.op, Is | IsNot | AtLeast | AtMost) && f.value.is_i64(),
        Monitored | HasFile => matches!(f.op, Is | IsNot) && f.value.is_boolean(),
        Kind => {
            matches!(f.op, Is | IsNot) && matches!(f.value.as_str(), Some("movie") | Some("series"))
        }
        Language | Studio | Title | Tags | ConnectionId => {
            matches!(f.op, Is | IsNot | Contains | NotContains)
                && f.value.as_str().is_some_and(|s| !s.trim().is_empty())
        }
    };
    if ok {
        Ok(())
    } else {
        Err(FilterError {
            filter: f.clone(),
            takes: match f.field {
                Year => "a number with is, is_not, at_least or at_most",
                Monitored | HasFile => "true or false with is or is_not",
                Kind => "\"movie\" or \"series\" with is or is_not",
                _ => "a non-empty text with is, is_not, contains or not_contains",
            },
        })
    }
}

/// Whether every filter of the profile matches the item (text comparisons ignore case).
pub fn matches(profile: &Profile, item: &MediaItem) -> bool {
    profile.filters.iter().all(|f| filter_matches(f, item))
}

fn filter_matches(f: &ProfileFilter, item: &MediaItem) -> bool {
    use FilterField::*;
    match f.field {
        Year => {
            let (Some(year), Some(want)) = (item.year.map(i64::from), f.value.as_i64()) else {
                return f.op == FilterOp::IsNot;
            };
            match f.op {
                FilterOp::Is => year == want,
                FilterOp::IsNot => year != want,
                FilterOp::AtLeast => year >= want,
                FilterOp::AtMost => year <= want,
                _ => false,
            }
        }
        // The Arr's own flag: Tapearr's `monitor` already decides whether an item is worked on.
        Monitored => bool_matches(f, item.arr_monitored),
        HasFile => bool_matches(f, item.has_file),
        Kind => text_matches(f, &[item.kind.as_str()]),
        Language => text_matches(f, &[item.language.as_deref().unwrap_or("")]),
        Studio => text_matches(f, &[item.studio.as_deref().unwrap_or("")]),
        Title => text_matches(
            f,
            &[
                item.title.as_str(),
                item.original_title.as_deref().unwrap_or(""),
            ],
        ),
        Tags => {
            let tags: Vec<&str> = item.tags.iter().map(String::as_str).collect();
            text_matches(f, &tags)
        }
        ConnectionId => text_matches(f, &[item.connection_id.as_str()]),
    }
}

fn bool_matches(f: &ProfileFilter, value: bool) -> bool {
    match (f.op, f.value.as_bool()) {
        (FilterOp::Is, Some(want)) => value == want,
        (FilterOp::IsNot, Some(want)) => value != want,
        _ => false,
    }
}

/// For several values (tags, title + original title): `is`/`contains` need one to match,
/// `is_not`/`not_contains` need none to.
fn text_matches(f: &ProfileFilter, values: &[&str]) -> bool {
    let Some(want) = f.value.as_str().map(str::to_lowercase) else {
        return false;
    };
    let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
    let any_is = lower.contains(&want);
    let any_contains = lower.iter().any(|v| v.contains(&want));
    match f.op {
        FilterOp::Is => any_is,
        FilterOp::IsNot => !any_is,
        FilterOp::Contains => any_contains,
        FilterOp::NotContains => !any_contains,
        _ => false,
    }
}

/// The enabled profiles that apply to `item`, higher priority first (ties by name).
pub fn applicable<'p>(profiles: &'p [Profile], item: &MediaItem) -> Vec<&'p Profile> {
    let mut out: Vec<&Profile> = profiles
        .iter()
        .filter(|p| p.enabled && matches(p, item))
        .collect();
    out.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

impl Trailers {
    pub async fn profiles(&self) -> TrailerResult<Vec<Profile>> {
        Ok(self.store().trailer_profiles().await?)
    }

    /// Creates the default profiles the first time Tapearr starts with trailers.
    pub async fn ensure_default_profiles(&self) -> TrailerResult<()> {
        if self.store().app_value(SEEDED_KEY).await?.is_some() {
            return Ok(());
        }
        if self.store().trailer_profiles().await?.is_empty() {
            for input in default_profiles() {
                self.create_profile(input).await?;
            }
        }
        self.store().set_app_value(SEEDED_KEY, Some("1")).await?;
        Ok(())
    }

    pub async fn create_profile(&self, input: ProfileInput) -> TrailerResult<Profile> {
        validate(&input)?;
        let now = Timestamp::now();
        let profile = Profile {
            id: new_id(),
            name: input.name.trim().to_string(),
            enabled: input.enabled,
            priority: input.priority,
            filters: input.filters,
            search: input.search,
            output: input.output,
            created_at: now,
            updated_at: now,
        };
        self.store().insert_trailer_profile(&profile).await?;
        Ok(profile)
    }

    pub async fn update_profile(&self, id: &str, input: ProfileInput) -> TrailerResult<Profile> {
        validate(&input)?;
        let mut profile = self
            .profiles()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(TrailerError::NotFound("profile"))?;
        profile.name = input.name.trim().to_string();
        profile.enabled = input.enabled;
        profile.priority = input.priority;
        profile.filters = input.filters;
        profile.search = input.search;
        profile.output = input.output;
        profile.updated_at = Timestamp::now();
        self.store().update_trailer_profile(&profile).await?;
        Ok(profile)
    }

    /// Deletes the profile and its download records; placed trailer files stay on disk.
    pub async fn delete_profile(&self, id: &str) -> TrailerResult<()> {
        self.store()
            .delete_trailer_profile(id)
            .await
            .map_err(|e| match TrailerError::from(e) {
                TrailerError::NotFound(_) => TrailerError::NotFound("profile"),
                other => other,
            })
    }
}

/// A JSON value for a filter, for tests and the API docs.
pub fn filter(field: FilterField, op: FilterOp, value: Value) -> ProfileFilter {
    ProfileFilter { field, op, value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trailers::model::MediaKind;
    use serde_json::json;

    fn item() -> MediaItem {
        MediaItem {
            id: "m".into(),
            connection_id: "c".into(),
            kind: MediaKind::Movie,
            arr_id: 1,
            ext_id: 603,
            tmdb_id: Some(603),
            imdb_id: None,
            title: "The Matrix".into(),
            original_title: None,
            year: Some(1999),
            language: Some("English".into()),
            studio: Some("Warner Bros.".into()),
            overview: None,
            runtime_min: Some(136),
            tags: vec!["4k".into(), "kids".into()],
            folder: "/m/The Matrix (1999)".into(),
            media_files: Vec::new(),
            has_file: true,
            arr_monitored: true,
            monitor: true,
            arr_trailer_id: None,
            trailer_id_override: None,
            poster_url: None,
            fanart_url: None,
            server_trailer: None,
            seasons: Vec::new(),
            added_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn profile(name: &str, priority: i32, filters: Vec<ProfileFilter>) -> Profile {
        Profile {
            id: name.into(),
            name: name.into(),
            enabled: true,
            priority,
            filters,
            search: SearchRules::default(),
            output: OutputSettings::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn every_matching_profile_applies_higher_priority_first() {
        let profiles = vec![
            profile("low", 1, vec![]),
            profile(
                "high",
                50,
                vec![filter(FilterField::Year, FilterOp::AtLeast, json!(1990))],
            ),
            profile(
                "series only",
                99,
                vec![filter(FilterField::Kind, FilterOp::Is, json!("series"))],
            ),
            Profile {
                enabled: false,
                ..profile("off", 100, vec![])
            },
        ];
        let names: Vec<&str> = applicable(&profiles, &item())
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["high", "low"]);
    }

    #[test]
    fn filters_on_text_tags_and_flags() {
        let m = item();
        let f = |field, op, v| matches(&profile("p", 0, vec![filter(field, op, v)]), &m);
        assert!(f(FilterField::Tags, FilterOp::Is, json!("KIDS")));
        assert!(!f(FilterField::Tags, FilterOp::IsNot, json!("kids")));
        assert!(f(FilterField::Studio, FilterOp::Contains, json!("warner")));
        assert!(f(
            FilterField::Title,
            FilterOp::NotContains,
            json!("reloaded")
        ));
        assert!(f(FilterField::HasFile, FilterOp::Is, json!(true)));
        assert!(!f(FilterField::Year, FilterOp::AtMost, json!(1990)));
        assert!(f(FilterField::Language, FilterOp::Is, json!("english")));
    }

    #[test]
    fn bad_filters_and_settings_are_refused_with_the_reason() {
        let mut input = default_profiles().remove(0);
        input.filters = vec![filter(FilterField::Year, FilterOp::Contains, json!("x"))];
        let err = validate(&input).expect_err("bad filter").to_string();
        assert!(err.contains("a number"), "{err}");
        let mut input = default_profiles().remove(0);
        input.search.min_duration_s = 700;
        assert!(validate(&input).is_err());
        let mut input = default_profiles().remove(0);
        input.output.placement = Placement::Folder;
        input.output.folder_name = "../x".into();
        assert!(validate(&input).is_err());
    }

    #[test]
    fn the_defaults_are_valid() {
        for p in default_profiles() {
            validate(&p).expect("default profile is valid");
        }
    }
}
