use super::*;
use std::time::UNIX_EPOCH;

const SECRET: &[u8] = b"s3cretsecret";
const TS: &str = "2024-05-01T12:34:56.123456789Z";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_566_896 + 5)
}

fn headers(kind: &str, body: &[u8]) -> EventSubHeaders {
    EventSubHeaders {
        message_id: Some("msg-1".into()),
        message_type: Some(kind.into()),
        signature: Some(sign(SECRET, "msg-1", TS, body)),
        timestamp: Some(TS.into()),
    }
}

const ONLINE: &[u8] = br#"{"subscription":{"id":"sub-1","status":"enabled","type":"stream.online","version":"1","condition":{"broadcaster_user_id":"1337"},"transport":{"method":"webhook","callback":"https://example.com/cb"},"created_at":"2024-05-01T12:00:00Z","cost":0},"event":{"id":"9001","broadcaster_user_id":"1337","broadcaster_user_login":"cool_user","broadcaster_user_name":"Cool_User","type":"live","started_at":"2024-05-01T12:34:50Z"}}"#;

#[test]
fn a_valid_message_verifies_and_parses() {
    let h = headers("notification", ONLINE);
    assert_eq!(verify(&h, ONLINE, SECRET, now()), Ok(()));
    let m = parse(&h, ONLINE).expect("parses");
    let EventSubMessage::Notification {
        subscription,
        event,
    } = m
    else {
        panic!("not a notification: {m:?}");
    };
    assert_eq!(subscription.broadcaster_user_id(), Some("1337"));
    assert_eq!(
        event,
        EventSubEvent::StreamOnline {
            id: "9001".into(),
            broadcaster_user_id: "1337".into(),
            broadcaster_user_login: "cool_user".into(),
            kind: "live".into(),
            started_at: "2024-05-01T12:34:50Z".into(),
        }
    );
}

#[test]
fn signature_matches_an_independent_hmac() {
    // printf 'abc2024-01-01T00:00:00Z{}' | openssl dgst -sha256 -hmac key
    assert_eq!(
        sign(b"key", "abc", "2024-01-01T00:00:00Z", b"{}"),
        "sha256=5014556576c812479bfa0110f51a82e521404fafadbceab882eaa8ac5c2e94db"
    );
}

#[test]
fn forged_signatures_are_refused() {
    let mut h = headers("notification", ONLINE);
    assert_eq!(
        verify(&h, ONLINE, b"another-secret", now()),
        Err(VerifyError::BadSignature)
    );
    let tampered = String::from_utf8_lossy(ONLINE).replace("1337", "1338");
    assert_eq!(
        verify(&h, tampered.as_bytes(), SECRET, now()),
        Err(VerifyError::BadSignature)
    );
    h.signature = Some("sha256=zz".into());
    assert_eq!(
        verify(&h, ONLINE, SECRET, now()),
        Err(VerifyError::BadSignature)
    );
    h.signature = Some(sign(SECRET, "msg-1", TS, ONLINE).replace("sha256=", "md5="));
    assert_eq!(
        verify(&h, ONLINE, SECRET, now()),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn old_and_future_messages_are_refused() {
    let h = headers("notification", ONLINE);
    let later = now() + Duration::from_secs(11 * 60);
    assert_eq!(verify(&h, ONLINE, SECRET, later), Err(VerifyError::Stale));
    let earlier = now() - Duration::from_secs(11 * 60);
    assert_eq!(
        verify(&h, ONLINE, SECRET, earlier),
        Err(VerifyError::FromTheFuture)
    );
    // Nine minutes old is still fine.
    let nine = now() + Duration::from_secs(9 * 60);
    assert_eq!(verify(&h, ONLINE, SECRET, nine), Ok(()));
}

#[test]
fn missing_headers_are_refused() {
    for strip in 0..3 {
        let mut h = headers("notification", ONLINE);
        let expected = match strip {
            0 => {
                h.message_id = None;
                MESSAGE_ID
            }
            1 => {
                h.timestamp = None;
                MESSAGE_TIMESTAMP
            }
            _ => {
                h.signature = None;
                MESSAGE_SIGNATURE
            }
        };
        assert_eq!(
            verify(&h, ONLINE, SECRET, now()),
            Err(VerifyError::MissingHeader(expected))
        );
    }
    let mut h = headers("notification", ONLINE);
    h.message_type = None;
    assert_eq!(
        parse(&h, ONLINE),
        Err(ParseError::MissingHeader(MESSAGE_TYPE))
    );
}

#[test]
fn header_map_lookup_is_case_insensitive() {
    let mut map = reqwest::header::HeaderMap::new();
    map.insert(
        "twitch-eventsub-message-id",
        reqwest::header::HeaderValue::from_static("x"),
    );
    let h = EventSubHeaders::from_header_map(&map);
    assert_eq!(h.message_id.as_deref(), Some("x"));
    assert!(h.signature.is_none());
}

#[test]
fn challenge_revocation_and_other_events_parse() {
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"s","status":"webhook_callback_verification_pending","type":"stream.offline","version":"1","condition":{"broadcaster_user_id":"1"},"transport":{"method":"webhook","callback":"https://x"},"created_at":"2024-05-01T12:00:00Z"}}"#;
    let m = parse(&headers("webhook_callback_verification", body), body).expect("challenge");
    assert!(
        matches!(m, EventSubMessage::Challenge { ref challenge, .. } if challenge == "pogchamp-kappa-360noscope-vohiyo")
    );

    let body = br#"{"subscription":{"id":"s","status":"authorization_revoked","type":"stream.online","version":"1","condition":{},"transport":{"method":"webhook","callback":"https://x"},"created_at":"x"}}"#;
    let m = parse(&headers("revocation", body), body).expect("revocation");
    assert!(
        matches!(m, EventSubMessage::Revocation { ref subscription } if subscription.status == "authorization_revoked")
    );

    let body = br#"{"subscription":{"id":"s","type":"channel.update","version":"2","condition":{}},"event":{"broadcaster_user_id":"1","broadcaster_user_login":"a","broadcaster_user_name":"A","title":"t","language":"en","category_id":"509658","category_name":"Just Chatting","content_classification_labels":[]}}"#;
    let m = parse(&headers("notification", body), body).expect("update");
    assert!(matches!(
        m,
        EventSubMessage::Notification { event: EventSubEvent::ChannelUpdate { ref category_name, .. }, .. } if category_name == "Just Chatting"
    ));

    let body = br#"{"subscription":{"id":"s","type":"channel.follow","version":"2","condition":{}},"event":{"user_id":"5"}}"#;
    let m = parse(&headers("notification", body), body).expect("other");
    assert!(matches!(
        m,
        EventSubMessage::Notification { event: EventSubEvent::Other { ref kind, .. }, .. } if kind == "channel.follow"
    ));

    assert_eq!(
        parse(&headers("bogus", body), body),
        Err(ParseError::UnknownType("bogus".into()))
    );
    assert!(matches!(
        parse(&headers("notification", b"{"), b"{"),
        Err(ParseError::Body(_))
    ));
}

#[test]
fn duplicates_are_skipped_until_forgotten() {
    let d = MessageDeduper::default();
    assert!(d.begin("a"), "first delivery is handled");
    assert!(!d.begin("a"), "a redelivery is a duplicate");
    d.forget("a");
    assert!(d.begin("a"), "after a failed handling the retry is handled");
    assert!(!d.begin("a"));
    assert!(d.begin("b"));
}

#[test]
fn ids_expire_and_the_set_stays_bounded() {
    let d = MessageDeduper::new(Duration::from_secs(600), 3);
    let t0 = Instant::now();
    assert!(d.begin_at("a", t0));
    assert!(!d.begin_at("a", t0 + Duration::from_secs(599)));
    assert!(d.begin_at("a", t0 + Duration::from_secs(601)), "expired");
    for (i, id) in ["b", "c", "d", "e"].iter().enumerate() {
        assert!(d.begin_at(id, t0 + Duration::from_secs(602 + i as u64)));
    }
    assert!(d.len() <= 3, "bounded: {}", d.len());
}
