//! Images: measured and thumbnailed with decoding limits (so a small
//! "decompression bomb" cannot eat the server), and served without EXIF or
//! other metadata.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Largest accepted side, in pixels.
pub const MAX_SIDE: u32 = 10_000;
/// Largest accepted area, in pixels (bombs declare huge areas in few bytes).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest side of a thumbnail.
pub const THUMB_SIDE: u32 = 320;

/// What processing an image gave.
#[derive(Debug)]
pub struct Processed {
    /// The bytes to serve: the original with metadata removed.
    pub bytes: Vec<u8>,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The thumbnail (PNG when the image has transparency, else JPEG).
    pub thumbnail: Vec<u8>,
    /// The thumbnail's MIME type.
    pub thumbnail_mime: &'static str,
    /// The thumbnail's width, in pixels.
    pub thumbnail_width: u32,
    /// The thumbnail's height, in pixels.
    pub thumbnail_height: u32,
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Too many pixels, or a side too long.
    #[error("image is too large ({0}); at most {MAX_SIDE} px a side and {MAX_PIXELS} px in all")]
    TooLarge(String),
    /// Would take more memory to decode than allowed.
    #[error(
        "image would take {} MiB to decode ({dims}); at most {} MiB",
        needed.div_ceil(1 << 20),
        allowed / (1 << 20)
    )]
    TooMuchMemory {
        /// Width x height, colour type.
        dims: String,
        /// Bytes its pixels take decoded.
        needed: u64,
        /// Bytes allowed.
        allowed: u64,
    },
    /// Could not be decoded.
    #[error("image could not be decoded: {0}")]
    Undecodable(String),
}

fn format_of(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Decodes an image within the limits: (pixels, format, width, height).
fn decode(
    bytes: &[u8],
    mime: &str,
    max_decode_bytes: u64,
) -> Result<(DynamicImage, ImageFormat, u32, u32), ImageError> {
    let format = format_of(mime)
        .ok_or_else(|| ImageError::Undecodable(format!("not an image type: {mime}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // The decoder's own allocations, beyond the pixels checked below.
    limits.max_alloc = Some(max_decode_bytes.saturating_add(16 << 20));

    // The header alone first: refuse bombs before allocating anything.
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    header.limits(limits.clone());
    let (width, height) = header
        .into_dimensions()
        .map_err(|e| ImageError::Undecodable(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(ImageError::Undecodable("empty image".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge(format!("{width}x{height}")));
    }
    let decode_err = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => ImageError::TooLarge(l.to_string()),
        other => ImageError::Undecodable(other.to_string()),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(decode_err)?;
    // What the pixels take: width x height x channels x bytes per channel
    // (a 16-bit RGBA image takes 8 bytes a pixel), checked before decoding.
    let needed = decoder.total_bytes();
    if needed > max_decode_bytes {
        return Err(ImageError::TooMuchMemory {
            dims: format!("{width}x{height} {:?}", decoder.color_type()),
            needed,
            allowed: max_decode_bytes,
        });
    }
    let img = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    Ok((img, format, width, height))
}

/// Side of an avatar, in pixels.
pub const AVATAR_SIDE: u32 = 256;

/// A square avatar from an image: its middle, cropped to a square and
/// scaled to [`AVATAR_SIDE`] (PNG when it has transparency, else JPEG).
/// CPU-heavy, like [`process`].
pub fn avatar(
    bytes: &[u8],
    mime: &str,
    max_decode_bytes: u64,
) -> Result<(Vec<u8>, &'static str), ImageError> {
    let (img, _, _, _) = decode(bytes, mime, max_decode_bytes)?;
    let square = img.resize_to_fill(
        AVATAR_SIDE,
        AVATAR_SIDE,
        image::imageops::FilterType::Lanczos3,
    );
    encode(&square)
}

/// A re-encoded picture: PNG when it has transparency, else JPEG.
fn encode(img: &DynamicImage) -> Result<(Vec<u8>, &'static str), ImageError> {
    let mut out = Vec::new();
    let mime = if img.color().has_alpha() {
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        "image/png"
    } else {
        img.to_rgb8()
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .map_err(|e| ImageError::Undecodable(e.to_string()))?;
        "image/jpeg"
    };
    Ok((out, mime))
}

/// Measures, checks, strips and thumbnails an image whose pixels take at
/// most `max_decode_bytes` decoded. CPU-heavy: run it on the blocking pool,
/// with a turn from [`crate::state::AppState::image_turn`].
pub fn process(bytes: Vec<u8>, mime: &str, max_decode_bytes: u64) -> Result<Processed, ImageError> {
    let (img, format, width, height) = decode(&bytes, mime, max_decode_bytes)?;
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let (thumbnail_width, thumbnail_height) = (thumb.width(), thumb.height());
    let (thumbnail, thumbnail_mime) = encode(&thumb)?;
    Ok(Processed {
        bytes: strip_metadata(bytes, format),
        width,
        height,
        thumbnail,
        thumbnail_mime,
        thumbnail_width,
        thumbnail_height,
    })
}

/// Removes EXIF, XMP and text metadata without re-encoding the pixels
/// (colour profiles stay). GIFs carry no EXIF and are served as they are.
pub fn strip_metadata(bytes: Vec<u8>, format: ImageFormat) -> Vec<u8> {
    use img_parts::{Bytes, ImageEXIF};
    let input = Bytes::from(bytes.clone());
    match format {
        ImageFormat::Jpeg => match img_parts::jpeg::Jpeg::from_bytes(input) {
            Ok(mut j) => {
                j.set_exif(None);
                // APP1 (EXIF/XMP), APP12/13 (Photoshop, IPTC), COM (comments)
                j.segments_mut().retain(|s| {
                    !matches!(
                        s.marker(),
                        img_parts::jpeg::markers::APP1
                            | img_parts::jpeg::markers::APP12
                            | img_parts::jpeg::markers::APP13
                            | img_parts::jpeg::markers::COM
                    )
                });
                j.encoder().bytes().to_vec()
            }
            Err(_) => bytes,
        },
        ImageFormat::Png => match img_parts::png::Png::from_bytes(input) {
            Ok(mut p) => {
                p.set_exif(None);
                p.chunks_mut().retain(|c| {
                    !matches!(&c.kind(), b"tEXt" | b"iTXt" | b"zTXt" | b"eXIf" | b"tIME")
                });
                p.encoder().bytes().to_vec()
            }
            Err(_) => bytes,
        },
        ImageFormat::WebP => match img_parts::webp::WebP::from_bytes(input) {
            Ok(mut w) => {
                w.set_exif(None);
                w.chunks_mut().retain(|c| c.id() != *b"XMP ");
                w.encoder().bytes().to_vec()
            }
            Err(_) => bytes,
        },
        _ => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    const BOUND: u64 = 160 << 20;

    /// A PNG header declaring `w` x `h` pixels of 16-bit RGBA, and an IDAT of
    /// nothing: what the header says is all the check may read.
    fn declared_png(w: u32, h: u32, depth: u8, colour: u8) -> Vec<u8> {
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (&b"IHDR"[..], &ihdr[..]),
            (b"IDAT", &[0x78, 0x9c]),
            (b"IEND", &[]),
        ] {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let mut h = crc32fast::Hasher::new();
            h.update(kind);
            h.update(data);
            out.extend_from_slice(&h.finalize().to_be_bytes());
        }
        out
    }

    #[test]
    fn decode_memory_is_bounded_by_bytes_not_only_pixels() {
        // 7000x7000 is 49 Mpx, inside the pixel limit, but 16-bit RGBA takes
        // 8 bytes a pixel: 392 MB decoded, from a file of a few hundred KiB.
        let e = process(declared_png(7000, 7000, 16, 6), "image/png", BOUND).expect_err("refused");
        match &e {
            ImageError::TooMuchMemory {
                needed, allowed, ..
            } => {
                assert_eq!(*needed, 7000 * 7000 * 8);
                assert_eq!(*allowed, BOUND);
            }
            other => panic!("refused for the wrong reason: {other}"),
        }
        assert!(e.to_string().contains("374 MiB"), "{e}");
        // The same pixels as 8-bit grey take 49 MB: over the check, to decoding.
        let grey = process(declared_png(7000, 7000, 8, 0), "image/png", BOUND);
        assert!(
            matches!(grey, Err(ImageError::Undecodable(_))),
            "allowed to decode (and then found empty): {grey:?}"
        );
    }

    #[test]
    fn images_are_measured_and_thumbnailed() {
        let p = process(png(1200, 600), "image/png", BOUND).expect("processed");
        assert_eq!((p.width, p.height), (1200, 600));
        let t = image::load_from_memory(&p.thumbnail).expect("thumb decodes");
        assert_eq!((t.width(), t.height()), (320, 160));
    }

    #[test]
    fn a_declared_giant_is_refused_before_decoding() {
        // A PNG header claiming 100000x100000 pixels: a few bytes, a bomb if decoded.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(matches!(
            process(bomb, "image/png", BOUND),
            Err(ImageError::Undecodable(_) | ImageError::TooLarge(_))
        ));
    }

    #[test]
    fn jpeg_exif_is_removed() {
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]));
        let mut jpeg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .expect("jpeg");
        // Insert an APP1 Exif segment carrying a "GPS" marker right after SOI.
        let payload = b"Exif\0\0GPS-SECRET-LOCATION";
        let len = (payload.len() + 2) as u16;
        let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
        with_exif.extend_from_slice(&len.to_be_bytes());
        with_exif.extend_from_slice(payload);
        with_exif.extend_from_slice(&jpeg[2..]);
        assert!(with_exif.windows(10).any(|w| w == b"GPS-SECRET"));
        let p = process(with_exif, "image/jpeg", BOUND).expect("processed");
        assert!(
            !p.bytes.windows(10).any(|w| w == b"GPS-SECRET"),
            "EXIF stripped"
        );
        image::load_from_memory(&p.bytes).expect("still a valid JPEG");
    }
}
