//! The chat as an ASS subtitle track media servers show beside the video.
//!
//! Readable at TV distance: a large font in the bottom-right corner, each message up to
//! [`SHOW_MS`] and at most [`VISIBLE`] lines at once (a newer message pushes the oldest out).
//! A flood is thinned to [`PER_SECOND`] messages per second: the rest are left out of the
//! subtitles (the JSON file keeps them all).

use super::record::ChatLine;
use std::fmt::Write as _;

/// How long a message stays on screen.
const SHOW_MS: u64 = 6_000;
/// Lines on screen at once.
const VISIBLE: usize = 4;
/// Messages shown per second of video, at most.
const PER_SECOND: usize = 2;
/// Longer messages are cut (with an ellipsis) so one cannot fill the screen.
const MAX_CHARS: usize = 140;

const HEADER: &str = "[Script Info]
; Chat captured by Tapearr
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
WrapStyle: 0
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Chat,Arial,46,&H00FFFFFF,&H000000FF,&H00000000,&H99000000,0,0,0,0,100,100,0,0,1,3,1,3,1100,48,60,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
";

/// The subtitle file for messages on the MP4's timeline (sorted by `ms`).
pub fn subtitles(lines: &[ChatLine]) -> String {
    let shown = thin(lines);
    let mut out = String::from(HEADER);
    for (i, line) in shown.iter().enumerate() {
        let start = line.ms;
        // Pushed out when the VISIBLE-th next message appears.
        let pushed = shown.get(i + VISIBLE).map_or(u64::MAX, |l| l.ms);
        let end = (start + SHOW_MS).min(pushed).max(start + 1);
        let _ = writeln!(
            out,
            "Dialogue: 0,{},{},Chat,,0,0,0,,{}",
            clock(start),
            clock(end),
            text_of(line)
        );
    }
    out
}

/// At most [`PER_SECOND`] messages in any one second of video.
fn thin(lines: &[ChatLine]) -> Vec<&ChatLine> {
    let mut shown: Vec<&ChatLine> = Vec::new();
    for line in lines {
        let recent = shown
            .iter()
            .rev()
            .take_while(|s| line.ms.saturating_sub(s.ms) < 1_000)
            .count();
        if recent < PER_SECOND {
            shown.push(line);
        }
    }
    shown
}

/// `H:MM:SS.cc`, ASS's clock.
fn clock(ms: u64) -> String {
    let cs = ms / 10;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6_000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

/// The sender in their colour, then the message.
fn text_of(line: &ChatLine) -> String {
    let name = escape(if line.name.trim().is_empty() {
        &line.user
    } else {
        &line.name
    });
    let mut text: String = line.text.chars().take(MAX_CHARS).collect();
    if line.text.chars().count() > MAX_CHARS {
        text.push('…');
    }
    match bgr(&line.color) {
        Some(colour) => format!(
            "{{\\c&H{colour}&}}{name}{{\\c&HFFFFFF&}}: {}",
            escape(&text)
        ),
        None => format!("{name}: {}", escape(&text)),
    }
}

/// `#1E90FF` → `FF901E` (ASS colours are blue-green-red).
fn bgr(color: &str) -> Option<String> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("{}{}{}", &hex[4..6], &hex[2..4], &hex[0..2]).to_uppercase())
}

/// Chat text cannot start override blocks (`{…}`) or escapes (`\N`, `\h`): braces are
/// escaped the way libass reads them, a backslash is followed by a word joiner so it shows
/// as itself, and line breaks become spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '\\' => out.push_str("\\\u{2060}"),
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ms: u64, name: &str, text: &str) -> ChatLine {
        ChatLine {
            ms,
            ts: 0,
            id: format!("{ms}"),
            user: name.to_lowercase(),
            name: name.into(),
            color: "#1E90FF".into(),
            text: text.into(),
            emotes: String::new(),
        }
    }

    fn dialogues(ass: &str) -> Vec<&str> {
        ass.lines().filter(|l| l.starts_with("Dialogue:")).collect()
    }

    #[test]
    fn each_message_is_a_coloured_line_shown_for_a_few_seconds() {
        let ass = subtitles(&[line(1_500, "Foo", "hello")]);
        assert!(ass.starts_with("[Script Info]"));
        assert_eq!(
            dialogues(&ass),
            [
                "Dialogue: 0,0:00:01.50,0:00:07.50,Chat,,0,0,0,,{\\c&HFF901E&}Foo{\\c&HFFFFFF&}: hello"
            ]
        );
        assert_eq!(clock(3_723_450), "1:02:03.45");
    }

    #[test]
    fn control_characters_of_ass_cannot_be_injected() {
        let ass = subtitles(&[line(0, "x{\\b1}", "{\\pos(0,0)}big\\Nline\nnext }")]);
        let d = dialogues(&ass)[0];
        let text = d.split_once(",,").expect("text").1;
        let text = text.split_once(",,").map_or(text, |t| t.1);
        assert!(!text.contains("{\\pos"), "{text}");
        assert!(!text.contains("\\N"), "{text}");
        assert!(
            text.contains("\\{\\\u{2060}pos(0,0)\\}big\\\u{2060}Nline next \\}"),
            "{text}"
        );
        assert!(!d.contains('\n'));
    }

    #[test]
    fn a_flood_is_thinned_and_few_lines_are_on_screen() {
        let flood: Vec<ChatLine> = (0..100).map(|i| line(i * 50, "Spam", "LUL")).collect();
        let ass = subtitles(&flood);
        // 5 s of video at 20 messages per second: 2 per second are shown.
        assert_eq!(dialogues(&ass).len(), 10);
        // The first line leaves when the fifth shown one (at 2 s) appears.
        assert!(
            dialogues(&ass)[0].starts_with("Dialogue: 0,0:00:00.00,0:00:02.00,"),
            "{ass}"
        );
        let long = subtitles(&[line(0, "Foo", &"é".repeat(5_000))]);
        assert!(dialogues(&long)[0].chars().count() < 260);
    }
}
