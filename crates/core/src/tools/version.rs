//! Reading a version out of `--version` / `-version` output.

/// The version in the first non-empty line of a tool's version output.
///
/// Handles `ffmpeg version 5.1.9-0+deb12u1 Copyright …`, `streamlink 8.6.3`,
/// `Apprise v2.2.0` and a bare `2026.10.26`.
pub fn parse_version(output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|l| !l.is_empty())?;
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let after_word_version = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("version"))
        .and_then(|i| tokens.get(i + 1));
    if let Some(next) = after_word_version {
        return Some(clean(next));
    }
    tokens
        .iter()
        .map(|t| clean(t))
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
}

fn clean(token: &str) -> String {
    let token = token.trim_end_matches([',', ';', ':']);
    match token.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_owned(),
        _ => token.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_formats_of_our_tools() {
        let cases = [
            (
                "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\nbuilt with gcc",
                "5.1.9-0+deb12u1",
            ),
            ("ffprobe version n7.1 Copyright (c) 2007-2024", "n7.1"),
            ("2026.10.26\n", "2026.10.26"),
            ("streamlink 8.6.3", "8.6.3"),
            ("Apprise v2.2.0\nCopyright (c) 2026, Chris Caron", "2.2.0"),
            ("\n  Python 3.11.7\n", "3.11.7"),
        ];
        for (output, want) in cases {
            assert_eq!(parse_version(output).as_deref(), Some(want), "{output}");
        }
    }

    #[test]
    fn no_version_gives_none() {
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("usage: tool [options]"), None);
    }
}
