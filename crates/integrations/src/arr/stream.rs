//! An incremental splitter for one top-level JSON array: bytes go in as they arrive, each
//! complete element comes out as its raw bytes. It only tracks nesting depth, strings and
//! escapes (the element itself is parsed by the caller), so a whole-library answer is never
//! held in memory: at most one element (plus the current chunk) is.

/// Why the bytes are not one JSON array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// The first non-blank byte is not `[` (`None`: the body was blank).
    NotAnArray(Option<u8>),
    /// Structure broken between elements (e.g. a missing comma, data after the `]`).
    Syntax(&'static str),
    /// One element is larger than [`MAX_ELEMENT`].
    TooLarge,
    /// The body ended before the closing `]`.
    Unfinished,
}

/// The largest element accepted (a real movie or series object is a few KiB).
pub(crate) const MAX_ELEMENT: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After `,`: an element.
    Next,
    /// Inside an element.
    Element,
    /// After an element: `,` or `]`.
    After,
    /// After the closing `]`: only blanks.
    Done,
}

#[derive(Debug)]
pub(crate) struct Splitter {
    state: State,
    /// Nesting inside the current element (0 for a scalar).
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The element is a bare scalar (number, `true`, …): it ends at the next delimiter.
    scalar: bool,
    /// The part of the current element that arrived in earlier chunks.
    buf: Vec<u8>,
}

fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Splitter {
    pub fn new() -> Self {
        Self {
            state: State::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            scalar: false,
            buf: Vec::new(),
        }
    }

    /// Feeds the next chunk; `on_element` gets each element completed by it, in order.
    pub fn feed<E: From<SplitError>>(
        &mut self,
        chunk: &[u8],
        on_element: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        // Where the current element starts in this chunk (0 when it began in an earlier one).
        let mut start = 0;
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            match self.state {
                State::Element => {
                    if self.in_string {
                        if self.escaped {
                            self.escaped = false;
                        } else if b == b'\\' {
                            self.escaped = true;
                        } else if b == b'"' {
                            self.in_string = false;
                            if self.depth == 0 {
                                self.emit(&chunk[start..=i], on_element)?;
                            }
                        }
                    } else if self.scalar {
                        if b == b',' || b == b']' || blank(b) {
                            self.emit(&chunk[start..i], on_element)?;
                            continue; // the delimiter is read again in `After`
                        }
                    } else {
                        match b {
                            b'"' => self.in_string = true,
                            b'{' | b'[' => self.depth += 1,
                            b'}' | b']' => {
                                self.depth -= 1;
                                if self.depth == 0 {
                                    self.emit(&chunk[start..=i], on_element)?;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ if blank(b) => {}
                State::Start => {
                    if b != b'[' {
                        return Err(SplitError::NotAnArray(Some(b)).into());
                    }
                    self.state = State::First;
                }
                State::First | State::Next => {
                    if b == b']' && self.state == State::First {
                        self.state = State::Done;
                    } else if b == b']' || b == b',' {
                        return Err(SplitError::Syntax("an empty place in the list").into());
                    } else {
                        self.state = State::Element;
                        start = i;
                        self.depth = u32::from(b == b'{' || b == b'[');
                        self.in_string = b == b'"';
                        self.escaped = false;
                        self.scalar = self.depth == 0 && !self.in_string;
                    }
                }
                State::After => match b {
                    b',' => self.state = State::Next,
                    b']' => self.state = State::Done,
                    _ => return Err(SplitError::Syntax("a missing comma between items").into()),
                },
                State::Done => {
                    return Err(SplitError::Syntax("data after the end of the list").into());
                }
            }
            i += 1;
        }
        if self.state == State::Element {
            if self.buf.len() + (chunk.len() - start) > MAX_ELEMENT {
                return Err(SplitError::TooLarge.into());
            }
            self.buf.extend_from_slice(&chunk[start..]);
        }
        Ok(())
    }

    /// Hands over one finished element: straight from the chunk when it lies within it,
    /// else joined with what earlier chunks brought.
    fn emit<E: From<SplitError>>(
        &mut self,
        tail: &[u8],
        on_element: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.state = State::After;
        if self.buf.is_empty() {
            return on_element(tail);
        }
        if self.buf.len() + tail.len() > MAX_ELEMENT {
            return Err(SplitError::TooLarge.into());
        }
        self.buf.extend_from_slice(tail);
        let result = on_element(&self.buf);
        self.buf.clear();
        if self.buf.capacity() > 1024 * 1024 {
            // One huge element must not keep its memory for the rest of the list.
            self.buf.shrink_to(64 * 1024);
        }
        result
    }

    /// The body ended: fine only after the closing `]`.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.state {
            State::Done => Ok(()),
            State::Start => Err(SplitError::NotAnArray(None)),
            _ => Err(SplitError::Unfinished),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `doc` fed in the given pieces; the elements as strings, or the error.
    fn split(pieces: &[&[u8]]) -> Result<Vec<String>, SplitError> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for p in pieces {
            s.feed(p, &mut |e: &[u8]| -> Result<(), SplitError> {
                out.push(String::from_utf8(e.to_vec()).expect("utf-8"));
                Ok(())
            })?;
        }
        s.finish()?;
        Ok(out)
    }

    fn whole(doc: &str) -> Result<Vec<String>, SplitError> {
        split(&[doc.as_bytes()])
    }

    const TRICKY: &str = r#" [
  {"title": "A ] bracket", "x": [1, [2, 3]], "y": {"z": "}"}},
  {"title": "Quote \" and \\", "e": "\\\"]}", "u": "日本語 ✓ \u00e9"},
  "a string, with ] and }",
  [[], [[]], {}],
  12.5e3, true , null,false,
  -7,
  {}
] "#;

    fn tricky_expected() -> Vec<String> {
        vec![
            r#"{"title": "A ] bracket", "x": [1, [2, 3]], "y": {"z": "}"}}"#.into(),
            r#"{"title": "Quote \" and \\", "e": "\\\"]}", "u": "日本語 ✓ \u00e9"}"#.into(),
            r#""a string, with ] and }""#.into(),
            "[[], [[]], {}]".into(),
            "12.5e3".into(),
            "true".into(),
            "null".into(),
            "false".into(),
            "-7".into(),
            "{}".into(),
        ]
    }

    #[test]
    fn splits_strings_brackets_escapes_and_nesting() {
        let got = whole(TRICKY).expect("splits");
        assert_eq!(got, tricky_expected());
        for e in &got {
            serde_json::from_str::<serde_json::Value>(e).expect("each element is valid JSON");
        }
    }

    #[test]
    fn every_chunk_boundary_gives_the_same_elements() {
        let doc = TRICKY.as_bytes();
        for cut in 0..=doc.len() {
            let got = split(&[&doc[..cut], &doc[cut..]]);
            assert_eq!(got.as_ref().ok(), Some(&tricky_expected()), "cut at {cut}");
        }
        for cut in 0..doc.len() {
            for cut2 in cut..=doc.len() {
                let got = split(&[&doc[..cut], &doc[cut..cut2], &doc[cut2..]]);
                assert_eq!(
                    got.as_ref().ok(),
                    Some(&tricky_expected()),
                    "cuts {cut} {cut2}"
                );
            }
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = doc.chunks(1).collect();
        assert_eq!(split(&bytes).expect("splits"), tricky_expected());
    }

    #[test]
    fn empty_arrays() {
        assert_eq!(whole("[]"), Ok(vec![]));
        assert_eq!(whole(" \n[ \r\n\t] \n"), Ok(vec![]));
    }

    #[test]
    fn every_truncation_is_unfinished() {
        let doc = TRICKY.trim_end();
        let doc = doc.trim_start();
        for cut in 1..doc.len() {
            if !doc.is_char_boundary(cut) {
                continue;
            }
            assert_eq!(
                whole(&doc[..cut]),
                Err(SplitError::Unfinished),
                "cut at {cut}: {:?}",
                &doc[..cut]
            );
        }
    }

    #[test]
    fn not_an_array() {
        assert_eq!(whole(""), Err(SplitError::NotAnArray(None)));
        assert_eq!(whole("  \n"), Err(SplitError::NotAnArray(None)));
        assert_eq!(
            whole(r#"{"message": "x"}"#),
            Err(SplitError::NotAnArray(Some(b'{')))
        );
        assert_eq!(whole("<html>"), Err(SplitError::NotAnArray(Some(b'<'))));
    }

    #[test]
    fn broken_structure() {
        assert!(matches!(whole("[1 2]"), Err(SplitError::Syntax(_))));
        assert!(matches!(
            whole(r#"[{"a":1} {"b":2}]"#),
            Err(SplitError::Syntax(_))
        ));
        assert!(matches!(whole("[1,]"), Err(SplitError::Syntax(_))));
        assert!(matches!(whole("[,1]"), Err(SplitError::Syntax(_))));
        assert!(matches!(whole("[1] [2]"), Err(SplitError::Syntax(_))));
        assert!(matches!(whole("[1]x"), Err(SplitError::Syntax(_))));
    }

    #[test]
    fn elements_already_sent_arrive_before_an_error() {
        let mut s = Splitter::new();
        let mut n = 0;
        let r = s.feed(
            b"[1, 2, {\"a\": 3}",
            &mut |_: &[u8]| -> Result<(), SplitError> {
                n += 1;
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(n, 3);
        assert_eq!(s.finish(), Err(SplitError::Unfinished));
    }

    #[test]
    fn a_callback_error_stops_the_split() {
        #[derive(Debug, PartialEq)]
        enum E {
            Split,
            Mine,
        }
        impl From<SplitError> for E {
            fn from(_: SplitError) -> Self {
                E::Split
            }
        }
        let mut s = Splitter::new();
        let mut seen = 0;
        let r = s.feed(b"[1, 2, 3]", &mut |_: &[u8]| {
            seen += 1;
            if seen == 2 { Err(E::Mine) } else { Ok(()) }
        });
        assert_eq!(r, Err(E::Mine));
        assert_eq!(seen, 2);
    }

    #[test]
    fn the_buffer_holds_one_element_at_most() {
        let big = format!("{{\"t\": \"{}\"}}", "x".repeat(10_000));
        let doc = format!("[{big},{big},{big}]");
        let mut s = Splitter::new();
        let mut n = 0;
        for piece in doc.as_bytes().chunks(100) {
            s.feed(piece, &mut |e: &[u8]| -> Result<(), SplitError> {
                assert_eq!(e, big.as_bytes());
                n += 1;
                Ok(())
            })
            .expect("splits");
            assert!(s.buf.len() <= big.len());
        }
        s.finish().expect("finished");
        assert_eq!(n, 3);
    }
}
