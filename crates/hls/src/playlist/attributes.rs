//! Attribute lists (`KEY=VALUE,KEY="quoted, value"`) as used by most HLS tags.

/// Parsed attribute list; keeps the order and the raw values (quotes removed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Vec<(String, String)>);

impl Attributes {
    /// Parses an attribute list. Malformed pairs are skipped rather than rejected: live
    /// playlists carry vendor attributes and we only need a few well-known keys.
    pub fn parse(input: &str) -> Self {
        let mut pairs = Vec::new();
        let mut rest = input.trim();
        while !rest.is_empty() {
            let Some(eq) = rest.find('=') else { break };
            let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
            let after = &rest[eq + 1..];
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                match quoted.find('"') {
                    Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                    None => (quoted.to_owned(), ""),
                }
            } else {
                match after.find(',') {
                    Some(end) => (after[..end].trim().to_owned(), &after[end..]),
                    None => (after.trim().to_owned(), ""),
                }
            };
            if !key.is_empty() {
                pairs.push((key, value));
            }
            rest = remaining.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        }
        Self(pairs)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }

    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_keep_commas() {
        let a =
            Attributes::parse(r#"BANDWIDTH=100,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=640x360"#);
        assert_eq!(a.get("BANDWIDTH"), Some("100"));
        assert_eq!(a.get("CODECS"), Some("avc1.4d401f,mp4a.40.2"));
        assert_eq!(a.get("resolution"), Some("640x360"));
    }

    #[test]
    fn garbage_does_not_panic() {
        for input in ["", "=", "\"", "A=\"unterminated", ",,,=,", "A", "A=1,B"] {
            let _ = Attributes::parse(input);
        }
    }
}
