//! Splitting child output into lines, and keeping a bounded tail of them.

use std::collections::VecDeque;

/// Longest line handed on; longer runs without a break are cut into pieces so a
/// child printing no newlines cannot grow memory without bound.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// Splits a byte stream on `\n` and `\r` (ffmpeg redraws its stats line with `\r`).
/// Empty lines are skipped.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// Feeds a chunk; calls `emit` for every complete line in it.
    pub(crate) fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(&str)) {
        while let Some(pos) = data.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.push(&data[..pos], emit);
            self.flush(emit);
            data = &data[pos + 1..];
        }
        self.push(data, emit);
    }

    /// Emits what is left after the stream ended.
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(&str)) {
        self.flush(emit);
    }

    fn push(&mut self, mut data: &[u8], emit: &mut impl FnMut(&str)) {
        while self.buf.len() + data.len() > MAX_LINE_BYTES {
            let take = MAX_LINE_BYTES - self.buf.len();
            self.buf.extend_from_slice(&data[..take]);
            self.flush(emit);
            data = &data[take..];
        }
        self.buf.extend_from_slice(data);
    }

    fn flush(&mut self, emit: &mut impl FnMut(&str)) {
        if !self.buf.is_empty() {
            emit(&String::from_utf8_lossy(&self.buf));
            self.buf.clear();
        }
    }
}

/// The last few lines of a stream, each cut to a readable length.
#[derive(Debug)]
pub(crate) struct Tail {
    lines: VecDeque<String>,
    max_lines: usize,
}

/// Longest line kept in a tail (in chars).
const TAIL_LINE_CHARS: usize = 500;

impl Tail {
    pub(crate) fn new(max_lines: usize) -> Self {
        Self {
            lines: VecDeque::with_capacity(max_lines),
            max_lines,
        }
    }

    pub(crate) fn push(&mut self, line: &str) {
        if self.max_lines == 0 {
            return;
        }
        if self.lines.len() == self.max_lines {
            self.lines.pop_front();
        }
        let line = match line.char_indices().nth(TAIL_LINE_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_owned(),
        };
        self.lines.push_back(line);
    }

    pub(crate) fn joined(&self) -> String {
        self.lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut splitter = LineSplitter::default();
        for chunk in chunks {
            splitter.feed(chunk, &mut |l| out.push(l.to_owned()));
        }
        splitter.finish(&mut |l| out.push(l.to_owned()));
        out
    }

    #[test]
    fn splits_on_newlines_and_carriage_returns_across_chunks() {
        assert_eq!(
            split(&[b"a\nb", b"c\r\nframe=1\rframe=2\r", b"\n\nlast"]),
            ["a", "bc", "frame=1", "frame=2", "last"]
        );
    }

    #[test]
    fn cuts_endless_lines_and_replaces_bad_utf8() {
        let big = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let lines = split(&[&big[..100], &big[100..]]);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), MAX_LINE_BYTES);
        assert_eq!(lines[2].len(), 10);
        assert_eq!(split(&[b"ok \xff\n"]), ["ok \u{FFFD}"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut tail = Tail::new(2);
        for line in ["1", "2", "3"] {
            tail.push(line);
        }
        assert_eq!(tail.joined(), "2\n3");
        tail.push(&"y".repeat(600));
        assert!(tail.joined().ends_with('…'));
    }
}
