//! The avatar every app has until its operator sets one: a square in a
//! colour derived from the app's name with the app's initial in white, as
//! a PNG (which every fediverse server shows; many do not show SVG). Pure
//! code, no I/O. This module owns the look both the PNG and the SVG icon
//! ([`super::profile::icon_svg`]) share: [`hue`] and [`initial`].
//!
//! The initial is drawn from a bitmap font of our own (5×7 cells for
//! `A`–`Z` and `0`–`9`, scaled up), so no font file is needed; any other
//! initial (`É`, `Ж`, `字`, …) gets a white diamond instead.

use crate::actors::{App, AppName};
use crate::error::AppError;

/// Width and height of the generated avatar, in pixels.
pub const SIZE: u32 = 256;

/// Pixels per font cell: a 5×7 glyph becomes 100×140, the size the SVG's
/// 140-pixel text has.
const SCALE: u32 = 20;

/// Hue (0–359) of an app's avatar: stable for a name, spread over the
/// colour wheel.
pub fn hue(name: &AppName) -> u32 {
    fnv1a(name.as_str()) % 360
}

/// The character shown on an app's avatar: the first letter or digit of
/// its display name, else of its name, upper-cased.
pub fn initial(display_name: &str, name: &AppName) -> String {
    display_name
        .chars()
        .find(|c| c.is_alphanumeric())
        .or_else(|| name.as_str().chars().next())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

/// 32-bit FNV-1a.
pub fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The app's generated avatar as PNG bytes ([`SIZE`]×[`SIZE`], RGB).
/// Deterministic: the same app always gives the same bytes.
pub fn generated_png(app: &App) -> Result<Vec<u8>, AppError> {
    let pixels = render(hue(&app.name), &initial(&app.display_name, &app.name));
    encode_rgb(SIZE, SIZE, &pixels)
}

/// A short tag that changes whenever the generated avatar's look does (its
/// colour or its initial), for its URL.
pub fn generated_version(app: &App) -> String {
    let initial = initial(&app.display_name, &app.name);
    format!("g{:08x}", fnv1a(&format!("{}\n{initial}", app.name)))
}

/// Encodes RGB rows as a PNG.
fn encode_rgb(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>, AppError> {
    let failed = |e: png::EncodingError| AppError::Internal(format!("encoding the avatar: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

/// The avatar's RGB pixels, row by row.
fn render(hue: u32, initial: &str) -> Vec<u8> {
    let background = hsl_to_rgb(hue, 0.55, 0.45);
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 3) as usize);
    for _ in 0..SIZE * SIZE {
        pixels.extend_from_slice(&background);
    }
    let mut chars = initial.chars();
    let glyph = match (chars.next(), chars.next()) {
        (Some(c), None) => glyph(c),
        _ => None,
    };
    for y in 0..SIZE {
        for x in 0..SIZE {
            let ink = match glyph {
                Some(rows) => glyph_covers(&rows, x, y),
                None => diamond_covers(x, y),
            };
            if ink {
                let at = ((y * SIZE + x) * 3) as usize;
                pixels[at..at + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
    }
    pixels
}

/// Whether pixel (x, y) is inside the glyph, scaled and centred.
fn glyph_covers(rows: &[u8; 7], x: u32, y: u32) -> bool {
    let left = (SIZE - 5 * SCALE) / 2;
    let top = (SIZE - 7 * SCALE) / 2;
    if x < left || y < top {
        return false;
    }
    let (col, row) = ((x - left) / SCALE, (y - top) / SCALE);
    if col >= 5 || row >= 7 {
        return false;
    }
    rows[row as usize] & (0b10000 >> col) != 0
}

/// The mark for initials the font lacks: a centred diamond.
fn diamond_covers(x: u32, y: u32) -> bool {
    let centre = SIZE as i64 / 2;
    (x as i64 - centre).abs() + (y as i64 - centre).abs() <= 64
}

/// CSS `hsl(h, s, l)` as 8-bit RGB.
fn hsl_to_rgb(hue: u32, saturation: f64, lightness: f64) -> [u8; 3] {
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let h = f64::from(hue % 360) / 60.0;
    let x = chroma * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = lightness - chroma / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}

/// The 5×7 cells of `c` (one byte a row, the leftmost cell in bit 4), for
/// `A`–`Z` and `0`–`9`.
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        'A' => [
            0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'B' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110,
        ],
        'C' => [
            0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110,
        ],
        'D' => [
            0b11110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11110,
        ],
        'E' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111,
        ],
        'F' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'G' => [
            0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111,
        ],
        'H' => [
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'I' => [
            0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        'J' => [
            0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100,
        ],
        'K' => [
            0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001,
        ],
        'L' => [
            0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111,
        ],
        'M' => [
            0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001,
        ],
        'N' => [
            0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001,
        ],
        'O' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'P' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'Q' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101,
        ],
        'R' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001,
        ],
        'S' => [
            0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110,
        ],
        'T' => [
            0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'U' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'V' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100,
        ],
        'W' => [
            0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010,
        ],
        'X' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001,
        ],
        'Y' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'Z' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111,
        ],
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, display_name: &str) -> App {
        let mut app =
            crate::actors::apps::new_app(AppName::parse(name).unwrap(), None, None).unwrap();
        app.display_name = display_name.to_string();
        app
    }

    /// Decodes a PNG to (width, height, RGB pixels).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        pixels.truncate(info.buffer_size());
        (info.width, info.height, pixels)
    }

    fn pixel(pixels: &[u8], x: u32, y: u32) -> [u8; 3] {
        let at = ((y * SIZE + x) * 3) as usize;
        [pixels[at], pixels[at + 1], pixels[at + 2]]
    }

    #[test]
    fn initials() {
        let n = AppName::parse("blog").unwrap();
        assert_eq!(initial("  «market»", &n), "M");
        assert_eq!(initial("", &n), "B");
        assert_eq!(initial("éclair", &n), "É");
        assert_ne!(hue(&n), hue(&AppName::parse("market").unwrap()));
    }

    #[test]
    fn every_glyph_is_drawn() {
        for c in ('A'..='Z').chain('0'..='9') {
            let rows = glyph(c).unwrap_or_else(|| panic!("{c}"));
            assert!(rows.iter().all(|r| *r < 32), "{c}");
            assert!(rows.iter().any(|r| *r != 0), "{c}");
        }
        assert!(glyph('a').is_none());
        // No two glyphs alike.
        let all: Vec<_> = ('A'..='Z').chain('0'..='9').filter_map(glyph).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(a));
        }
    }

    #[test]
    fn colours_match_the_svg() {
        // hsl(0,55%,45%) and hsl(120,55%,45%) as a browser computes them.
        assert_eq!(hsl_to_rgb(0, 0.55, 0.45), [178, 52, 52]);
        assert_eq!(hsl_to_rgb(120, 0.55, 0.45), [52, 178, 52]);
        assert_eq!(hsl_to_rgb(240, 0.55, 0.45), [52, 52, 178]);
    }

    #[test]
    fn the_png_decodes_to_the_right_size_and_look() {
        let blog = app("blog", "Blog");
        let bytes = generated_png(&blog).unwrap();
        let (width, height, pixels) = decode(&bytes);
        assert_eq!((width, height), (SIZE, SIZE));
        let background = hsl_to_rgb(hue(&blog.name), 0.55, 0.45);
        assert_eq!(pixel(&pixels, 0, 0), background);
        assert_eq!(pixel(&pixels, SIZE - 1, SIZE - 1), background);
        // B's top-left cell is ink, its top-right cell is not.
        let (left, top) = ((SIZE - 5 * SCALE) / 2, (SIZE - 7 * SCALE) / 2);
        assert_eq!(pixel(&pixels, left + 1, top + 1), [255, 255, 255]);
        assert_eq!(pixel(&pixels, left + 4 * SCALE + 1, top + 1), background);
        // An initial the font lacks gets the diamond.
        let (_, _, marked) = decode(&generated_png(&app("blog", "Ωmega")).unwrap());
        assert_eq!(pixel(&marked, SIZE / 2, SIZE / 2), [255, 255, 255]);
        assert_eq!(pixel(&marked, left + 1, top + 1), background);
    }

    #[test]
    fn deterministic_and_distinct() {
        let blog = generated_png(&app("blog", "Blog")).unwrap();
        assert_eq!(blog, generated_png(&app("blog", "Blog")).unwrap());
        // Another colour, another initial, or both.
        assert_ne!(blog, generated_png(&app("market", "Market")).unwrap());
        assert_ne!(blog, generated_png(&app("blog", "Weblog")).unwrap());
        assert_ne!(blog, generated_png(&app("bloc", "Blog")).unwrap());
        // Its URL's version follows the look.
        let version = generated_version(&app("blog", "Blog"));
        assert_eq!(version, generated_version(&app("blog", "Bellows")));
        assert_ne!(version, generated_version(&app("blog", "Weblog")));
        assert_ne!(version, generated_version(&app("bloc", "Blog")));
    }
}
