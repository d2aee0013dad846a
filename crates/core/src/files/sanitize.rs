//! Turning arbitrary titles into file names that are safe on Linux, SMB shares and Windows.

use unicode_normalization::UnicodeNormalization;

use super::roots::NAME_MAX;

/// Longest tail after the last dot that still counts as an extension to keep.
const MAX_EXTENSION_BYTES: usize = 16;

/// Names Windows reserves whatever the extension (`CON.txt` is still `CON`).
const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Makes one path component from an untrusted title.
///
/// * NFKC (NFKD, then canonical recomposition): fullwidth and other compatibility
///   forms fold to plain ones (`／` becomes `/` and is then replaced) while accents
///   stay readable (`Amélie` stays `Amélie`, which media servers match on).
/// * `: ` becomes ` - `; other `:`, `/`, `\`, `|` become `-`; `"` becomes `'`;
///   `<>?*` are dropped; control and invisible bidi/zero-width characters are dropped.
/// * Whitespace runs collapse to one space; leading dots/spaces and trailing
///   dots/spaces are trimmed (no hidden files, no `..`, no names Windows mangles).
/// * Windows reserved names get a `_` prefix; an empty result becomes `_`.
/// * At most 255 bytes, cut on a char boundary, keeping a short extension.
pub fn sanitize_file_name(name: &str) -> String {
    let normalized: String = name.nfkc().collect();
    let mut out = String::with_capacity(normalized.len());
    let mut chars = normalized.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ':' if chars.peek().is_some_and(|n| n.is_whitespace()) => out.push_str(" -"),
            ':' | '/' | '\\' | '|' => out.push('-'),
            '"' => out.push('\''),
            '<' | '>' | '?' | '*' => {}
            c if c.is_whitespace() => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_invisible(c) => {}
            c => out.push(c),
        }
    }
    let mut name = trim_edges(&out).to_owned();
    if name.is_empty() {
        name.push('_');
    }
    if is_windows_reserved(&name) {
        name.insert(0, '_');
    }
    cap_length(&name)
}

/// Zero-width and bidi control characters that can disguise a name.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

fn trim_edges(s: &str) -> &str {
    s.trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
}

fn is_windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(stem))
}

/// Cuts the stem so the whole name fits `NAME_MAX` bytes, keeping a short extension.
fn cap_length(name: &str) -> String {
    if name.len() <= NAME_MAX {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot - 1 <= MAX_EXTENSION_BYTES => name.split_at(dot),
        _ => (name, ""),
    };
    let budget = NAME_MAX - ext.len();
    let mut cut = budget.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(['.', ' ']);
    format!("{stem}{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illegal_characters_are_replaced_readably() {
        assert_eq!(
            sanitize_file_name("Star Wars: Episode IV"),
            "Star Wars - Episode IV"
        );
        assert_eq!(sanitize_file_name("AC/DC \\ Live|2"), "AC-DC - Live-2");
        assert_eq!(sanitize_file_name("What? <Really>*"), "What Really");
        assert_eq!(sanitize_file_name("Say \"hi\""), "Say 'hi'");
        assert_eq!(sanitize_file_name("10:30"), "10-30");
    }

    #[test]
    fn control_and_invisible_characters_are_dropped() {
        assert_eq!(sanitize_file_name("a\u{0}b\u{7}c\u{1b}[31m"), "abc[31m");
        assert_eq!(sanitize_file_name("evil\u{202E}4pm.exe"), "evil4pm.exe");
        assert_eq!(
            sanitize_file_name("tab\there\nnew  line"),
            "tab here new line"
        );
    }

    #[test]
    fn compatibility_forms_fold_and_accents_stay() {
        assert_eq!(sanitize_file_name("ＡＢＣ／ｘｙｚ"), "ABC-xyz");
        assert_eq!(sanitize_file_name("ﬁle①"), "file1");
        assert_eq!(sanitize_file_name("Ame\u{301}lie"), "Amélie");
        assert_eq!(sanitize_file_name("千と千尋の神隠し"), "千と千尋の神隠し");
    }

    #[test]
    fn dots_and_spaces_at_the_edges_are_trimmed() {
        assert_eq!(sanitize_file_name("  name. . "), "name");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name(".."), "_");
        assert_eq!(sanitize_file_name("."), "_");
        assert_eq!(sanitize_file_name(""), "_");
        assert_eq!(sanitize_file_name("???"), "_");
    }

    #[test]
    fn windows_reserved_names_are_prefixed() {
        assert_eq!(sanitize_file_name("CON"), "_CON");
        assert_eq!(sanitize_file_name("nul.txt"), "_nul.txt");
        assert_eq!(sanitize_file_name("com1 .mkv"), "_com1 .mkv");
        assert_eq!(sanitize_file_name("Console"), "Console");
        assert_eq!(sanitize_file_name("LPT10"), "LPT10");
    }

    #[test]
    fn long_names_are_cut_on_a_char_boundary_keeping_the_extension() {
        let long = format!("{}.mkv", "é".repeat(300));
        let out = sanitize_file_name(&long);
        assert!(out.len() <= NAME_MAX, "{} bytes", out.len());
        assert!(out.ends_with("é.mkv"));
        assert_eq!(out.len(), 254); // 125 × 2-byte é + ".mkv"

        let no_ext = "a".repeat(400);
        assert_eq!(sanitize_file_name(&no_ext).len(), NAME_MAX);

        let huge_ext = format!("x.{}", "b".repeat(400));
        assert_eq!(sanitize_file_name(&huge_ext).len(), NAME_MAX);
    }

    #[test]
    fn sanitized_names_always_resolve_as_one_component() {
        for input in [
            "../../etc/passwd",
            "a/../b",
            "/abs",
            "C:\\x",
            "\\\\srv\\share",
        ] {
            let out = sanitize_file_name(input);
            assert!(!out.contains('/') && !out.contains('\\'), "{out}");
            assert_ne!(out, "..");
        }
    }
}
