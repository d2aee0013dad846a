use std::time::Duration;

use super::datetime::parse_iso8601;
use super::*;

const TWITCH_MASTER: &str = r#"#EXTM3U
#EXT-X-TWITCH-INFO:NODE="video-edge-1",MANIFEST-NODE-TYPE="weaver_cluster"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="chunked",NAME="1080p60 (source)",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS="avc1.64002A,mp4a.40.2",VIDEO="chunked",FRAME-RATE=60.000
https://edge.example/v1/chunked.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p60",NAME="720p60",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=3422999,RESOLUTION=1280x720,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="720p60",FRAME-RATE=60.000
https://edge.example/v1/720p60.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="720p30",NAME="720p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=2373000,RESOLUTION=1280x720,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="720p30",FRAME-RATE=30.000
https://edge.example/v1/720p30.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="audio_only",NAME="audio_only",AUTOSELECT=NO,DEFAULT=NO
#EXT-X-STREAM-INF:BANDWIDTH=160000,CODECS="mp4a.40.2",VIDEO="audio_only"
https://edge.example/v1/audio_only.m3u8
"#;

const TWITCH_MEDIA: &str = r#"#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-TWITCH-LIVE-SEQUENCE:140
#EXT-X-TWITCH-ELAPSED-SECS:200.000
#EXT-X-DATERANGE:ID="playlist-creation-1",CLASS="timestamp",START-DATE="2024-05-01T12:00:00.000Z",END-ON-NEXT=YES
#EXT-X-DATERANGE:ID="stitched-ad-1714564804-30",CLASS="twitch-stitched-ad",START-DATE="2024-05-01T12:00:04.000Z",DURATION=4.000,X-TV-TWITCH-AD-POD-LENGTH="2"
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.000Z
#EXTINF:2.000,live
seg100.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:02.000Z
#EXTINF:2.000,live
seg101.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:04.000Z
#EXTINF:2.000,Amazon|8675309
ad0.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:06.000Z
#EXTINF:2.000,
ad1.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:08.000Z
#EXTINF:2.000,live
seg104.ts
#EXT-X-TWITCH-PREFETCH:https://edge.example/seg105.ts
#EXT-X-TWITCH-PREFETCH:https://edge.example/seg106.ts
"#;

#[test]
fn twitch_master_variants_and_names() {
    let Playlist::Master(m) = Playlist::parse(TWITCH_MASTER).expect("parses") else {
        panic!("expected master");
    };
    let names: Vec<String> = m.variants.iter().map(Variant::quality_name).collect();
    assert_eq!(names, ["1080p60", "720p60", "720p", "audio_only"]);
    assert_eq!(m.variants[0].resolution, Some((1920, 1080)));
    assert_eq!(m.variants[0].frame_rate, Some(60.0));
    assert_eq!(m.variants[0].codecs, ["avc1.64002A", "mp4a.40.2"]);
    assert!(m.variants[3].is_audio_only());
    assert!(!m.variants[1].is_audio_only());
}

#[test]
fn twitch_media_sequence_ads_and_prefetch() {
    let Playlist::Media(p) = Playlist::parse(TWITCH_MEDIA).expect("parses") else {
        panic!("expected media");
    };
    assert_eq!(p.target_duration, 6.0);
    assert_eq!(p.media_sequence, 100);
    assert_eq!(p.twitch_live_sequence, Some(140));
    let seqs: Vec<u64> = p.segments.iter().map(|s| s.sequence).collect();
    assert_eq!(seqs, [100, 101, 102, 103, 104]);
    let ads: Vec<bool> = p.segments.iter().map(|s| p.is_ad(s)).collect();
    // 102 by title, 103 only by the DATERANGE window.
    assert_eq!(ads, [false, false, true, true, false]);
    assert!(p.segments[4].discontinuity);
    assert_eq!(p.segments[4].discontinuity_sequence, 1);
    assert_eq!(p.prefetch.len(), 2);
    assert!(!p.end_list);
    assert_eq!(p.date_ranges.len(), 2);
    assert!(p.date_ranges[1].is_twitch_ad());
}

#[test]
fn fmp4_maps_byteranges_and_endlist() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n\
#EXT-X-MAP:URI=\"init0.mp4\"\n#EXTINF:2,\na.m4s\n#EXT-X-BYTERANGE:100@0\n#EXTINF:2,\nall.m4s\n\
#EXT-X-BYTERANGE:50\n#EXTINF:2,\nall.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init1.mp4\",BYTERANGE=\"10@5\"\n\
#EXTINF:1.5,\nb.m4s\n#EXT-X-ENDLIST\n";
    let p = MediaPlaylist::parse(text).expect("parses");
    assert!(p.end_list);
    assert_eq!(p.segments.len(), 4);
    assert_eq!(
        p.segments[0].map.as_ref().map(|m| m.uri.as_str()),
        Some("init0.mp4")
    );
    assert_eq!(
        p.segments[1].byte_range,
        Some(ByteRange {
            length: 100,
            offset: Some(0)
        })
    );
    assert_eq!(
        p.segments[2].byte_range,
        Some(ByteRange {
            length: 50,
            offset: Some(100)
        })
    );
    let last = &p.segments[3];
    assert_eq!(last.sequence, 10);
    assert_eq!(last.discontinuity_sequence, 4);
    assert_eq!(
        last.map,
        Some(InitMap {
            uri: "init1.mp4".into(),
            byte_range: Some(ByteRange {
                length: 10,
                offset: Some(5)
            })
        })
    );
    assert_eq!(last.duration, 1.5);
}

#[test]
fn program_date_time_is_carried_forward() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n\
#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n";
    let p = MediaPlaylist::parse(text).expect("parses");
    let t0 = parse_iso8601("2024-01-01T00:00:00Z").expect("date");
    assert_eq!(
        p.segments[1].program_date_time,
        Some(t0 + Duration::from_secs(2))
    );
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    assert_eq!(Playlist::parse("hello"), Err(ParseError::MissingHeader));
    assert!(matches!(
        MediaPlaylist::parse("#EXTM3U\nseg.ts\n"),
        Err(ParseError::UriWithoutExtinf { line: 2 })
    ));
    assert!(MediaPlaylist::parse("#EXTM3U\n#EXTINF:abc,\nseg.ts\n").is_err());
    assert!(MediaPlaylist::parse("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n").is_err());
    assert_eq!(
        MasterPlaylist::parse(TWITCH_MEDIA),
        Err(ParseError::NotMaster)
    );
    assert_eq!(
        MediaPlaylist::parse(TWITCH_MASTER),
        Err(ParseError::NotMedia)
    );
    assert!(MediaPlaylist::parse("#EXTM3U\n#EXTINF:NaN,\nseg.ts\n").is_err());
    assert!(
        MediaPlaylist::parse(
            "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n#EXTINF:1,\na\n#EXTINF:1,\nb\n"
        )
        .is_ok()
    );
}

#[test]
fn codec_families() {
    assert_eq!(codec_family("avc1.64002A"), CodecFamily::H264);
    assert_eq!(codec_family("hev1.1.6.L93.B0"), CodecFamily::H265);
    assert_eq!(codec_family("av01.0.08M.08"), CodecFamily::Av1);
    assert_eq!(codec_family("mp4a.40.2"), CodecFamily::Audio);
    assert_eq!(CodecFamily::from_name("HEVC"), Some(CodecFamily::H265));
}
