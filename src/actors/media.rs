//! The rules for the images an operator sets for an app, its avatar and its
//! header: which files are accepted (PNG, JPEG, GIF or WebP, recognised
//! from the bytes themselves, at most [`MAX_BYTES`], each side
//! 1..=[`MAX_SIDE`] pixels) and what is kept of them. Pure code, no I/O;
//! stored by [`crate::db::media`], served by [`super::routes`].
//!
//! SVG is refused on purpose: it is a document that can carry scripts, and
//! Mastodon does not show it as an avatar anyway.

use std::fmt;

use crate::error::AppError;

/// Largest accepted file: 2 MiB, as Mastodon's own avatar limit.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// Largest accepted width or height, in pixels.
pub const MAX_SIDE: u64 = 4096;

/// Which of an app's images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// The square picture beside the name (AS2 `icon`).
    Avatar,
    /// The wide banner of the profile (AS2 `image`).
    Header,
}

impl MediaKind {
    /// As stored in `app_media.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Avatar => "avatar",
            MediaKind::Header => "header",
        }
    }

    pub fn parse(raw: &str) -> Option<MediaKind> {
        match raw {
            "avatar" => Some(MediaKind::Avatar),
            "header" => Some(MediaKind::Header),
            _ => None,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An accepted image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub media_type: &'static str,
    pub width: u64,
    pub height: u64,
    pub bytes: Vec<u8>,
}

/// What an actor document says about a set image (not its bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub media_type: String,
    /// Unix milliseconds; versions the image's URL, since Mastodon fetches
    /// a remote avatar or header again only when its URL changes.
    pub updated_at: i64,
}

/// Which images an operator has set for an app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppMedia {
    pub avatar: Option<ImageInfo>,
    pub header: Option<ImageInfo>,
}

/// Refuses a file of `len` bytes if it is over [`MAX_BYTES`]; for callers
/// that can tell the size before reading a file whole.
pub fn check_size(kind: MediaKind, len: u64) -> Result<(), AppError> {
    if len > MAX_BYTES as u64 {
        return Err(AppError::BadRequest(format!(
            "the {kind} is {len} bytes; the limit is {MAX_BYTES} (2 MiB)"
        )));
    }
    Ok(())
}

/// Checks an uploaded file against the rules above. `kind` only names the
/// image in the messages.
pub fn check(kind: MediaKind, bytes: Vec<u8>) -> Result<Image, AppError> {
    let refuse = |why: String| AppError::BadRequest(format!("the {kind} {why}"));
    if bytes.is_empty() {
        return Err(refuse("file is empty".into()));
    }
    check_size(kind, bytes.len() as u64)?;
    let not_an_image = || refuse("is not a PNG, JPEG, GIF or WebP image".into());
    let media_type = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Png) => "image/png",
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        Ok(imagesize::ImageType::Gif) => "image/gif",
        Ok(imagesize::ImageType::Webp) => "image/webp",
        _ => return Err(not_an_image()),
    };
    let size = imagesize::blob_size(&bytes).map_err(|_| {
        refuse(format!(
            "looks like {media_type} but its dimensions cannot be read (a truncated or damaged file?)"
        ))
    })?;
    let (width, height) = (size.width as u64, size.height as u64);
    for (side, value) in [("width", width), ("height", height)] {
        if !(1..=MAX_SIDE).contains(&value) {
            return Err(refuse(format!(
                "is {width}×{height} pixels; its {side} must be from 1 to {MAX_SIDE}"
            )));
        }
    }
    Ok(Image {
        media_type,
        width,
        height,
        bytes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The first bytes of a PNG of `width`×`height`: enough for the rules,
    /// which read headers only.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        b.extend_from_slice(&[0, 0, 0, 13]);
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn gif(width: u16, height: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&width.to_le_bytes());
        b.extend_from_slice(&height.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        // SOF0: length 17, precision 8, height, width, 3 components.
        b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    fn webp_lossy(width: u16, height: u16) -> Vec<u8> {
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&30u32.to_le_bytes());
        b.extend_from_slice(b"WEBPVP8 ");
        b.extend_from_slice(&10u32.to_le_bytes());
        b.extend_from_slice(&[0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A]);
        b.extend_from_slice(&width.to_le_bytes());
        b.extend_from_slice(&height.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b
    }

    #[test]
    fn the_four_formats_are_recognised_from_their_bytes() {
        for (bytes, media_type, w, h) in [
            (png_header(400, 300), "image/png", 400, 300),
            (gif(16, 9), "image/gif", 16, 9),
            (jpeg(640, 480), "image/jpeg", 640, 480),
            (webp_lossy(128, 64), "image/webp", 128, 64),
        ] {
            let image = check(MediaKind::Avatar, bytes).unwrap();
            assert_eq!(
                (image.media_type, image.width, image.height),
                (media_type, w, h)
            );
        }
    }

    #[test]
    fn other_files_are_refused_naming_the_problem() {
        let message = |kind, bytes: Vec<u8>| check(kind, bytes).unwrap_err().to_string();
        assert!(message(MediaKind::Avatar, Vec::new()).contains("empty"));
        for not_image in [
            b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
            b"hello, this is text and not an image".to_vec(),
            b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0".to_vec(),
        ] {
            let m = message(MediaKind::Header, not_image);
            assert!(m.contains("header is not a PNG, JPEG, GIF or WebP"), "{m}");
        }
        let big = message(MediaKind::Avatar, png_header(4097, 10));
        assert!(big.contains("4097×10") && big.contains("width"), "{big}");
        let tall = message(MediaKind::Avatar, png_header(10, 5000));
        assert!(tall.contains("height must be from 1 to 4096"), "{tall}");
        let zero = message(MediaKind::Avatar, gif(0, 5));
        assert!(zero.contains("width"), "{zero}");
        let mut huge = png_header(10, 10);
        huge.resize(MAX_BYTES + 1, 0);
        let m = message(MediaKind::Avatar, huge);
        assert!(m.contains("2097153 bytes") && m.contains("2 MiB"), "{m}");
        let truncated = png_header(10, 10)[..14].to_vec();
        assert!(check(MediaKind::Avatar, truncated).is_err());
        // The limits themselves are accepted.
        let mut exact = png_header(4096, 1);
        exact.resize(MAX_BYTES, 0);
        assert!(check(MediaKind::Avatar, exact).is_ok());
    }

    #[test]
    fn kinds() {
        for kind in [MediaKind::Avatar, MediaKind::Header] {
            assert_eq!(MediaKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MediaKind::parse("icon"), None);
    }
}
