//! Just enough IRC (with IRCv3 tags) to read Twitch chat.

/// One server line: `@tags :prefix COMMAND params :trailing`.
#[derive(Debug, PartialEq, Eq)]
pub struct IrcLine<'a> {
    tags: Vec<(&'a str, &'a str)>,
    prefix: Option<&'a str>,
    pub command: &'a str,
    pub params: Vec<&'a str>,
    pub trailing: Option<&'a str>,
}

impl<'a> IrcLine<'a> {
    /// `None` for an empty or malformed line (skipped, never fatal).
    pub fn parse(line: &'a str) -> Option<Self> {
        let mut rest = line.trim_end_matches(['\r', '\n']);
        let mut tags = Vec::new();
        if let Some(after) = rest.strip_prefix('@') {
            let (raw, more) = after.split_once(' ')?;
            tags = raw
                .split(';')
                .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
                .collect();
            rest = more.trim_start();
        }
        let mut prefix = None;
        if let Some(after) = rest.strip_prefix(':') {
            let (p, more) = after.split_once(' ')?;
            prefix = Some(p);
            rest = more.trim_start();
        }
        let (head, trailing) = match rest.split_once(" :") {
            Some((head, trailing)) => (head, Some(trailing)),
            None => (rest, None),
        };
        let mut words = head.split(' ').filter(|w| !w.is_empty());
        let command = words.next()?;
        Some(Self {
            tags,
            prefix,
            command,
            params: words.collect(),
            trailing,
        })
    }

    /// A tag's value, unescaped; `None` when absent or empty.
    pub fn tag(&self, key: &str) -> Option<String> {
        self.tags
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| unescape(v))
            .filter(|v| !v.is_empty())
    }

    /// The sender's nick (`foo` of `foo!foo@foo.tmi.twitch.tv`).
    pub fn nick(&self) -> Option<&'a str> {
        self.prefix
            .map(|p| p.split_once('!').map_or(p, |(nick, _)| nick))
    }

    /// The channel a command is about, without `#`.
    pub fn channel(&self) -> Option<&'a str> {
        self.params.first().and_then(|p| p.strip_prefix('#'))
    }
}

/// IRCv3 tag values escape `;`, space, `\`, CR and LF.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('\\') => out.push('\\'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tagged_privmsg_has_its_tags_sender_channel_and_text() {
        let line = "@badge-info=;badges=subscriber/12;color=#1E90FF;display-name=Foo\\sBar;emotes=25:0-4;id=abc;tmi-sent-ts=1700000000123 :foo!foo@foo.tmi.twitch.tv PRIVMSG #login :Kappa hello :) there\r\n";
        let m = IrcLine::parse(line).expect("parses");
        assert_eq!(m.command, "PRIVMSG");
        assert_eq!(m.channel(), Some("login"));
        assert_eq!(m.nick(), Some("foo"));
        assert_eq!(m.trailing, Some("Kappa hello :) there"));
        assert_eq!(m.tag("display-name").as_deref(), Some("Foo Bar"));
        assert_eq!(m.tag("tmi-sent-ts").as_deref(), Some("1700000000123"));
        assert_eq!(m.tag("badge-info"), None);
        assert_eq!(m.tag("missing"), None);
    }

    #[test]
    fn untagged_and_bare_lines_parse_and_garbage_does_not() {
        let ping = IrcLine::parse("PING :tmi.twitch.tv").expect("ping");
        assert_eq!(
            (ping.command, ping.trailing),
            ("PING", Some("tmi.twitch.tv"))
        );
        let reconnect = IrcLine::parse(":tmi.twitch.tv RECONNECT").expect("reconnect");
        assert_eq!(reconnect.command, "RECONNECT");
        let clear = IrcLine::parse("@room-id=1 :tmi.twitch.tv CLEARCHAT #login").expect("clear");
        assert_eq!((clear.channel(), clear.trailing), (Some("login"), None));
        assert_eq!(IrcLine::parse(""), None);
        assert_eq!(IrcLine::parse("@tags-without-anything-else"), None);
        assert_eq!(IrcLine::parse(":prefix-only"), None);
    }
}
