//! Thumbnails: three upright WebP renditions from one decode.
//!
//! - small: 200 × 200, centre-cropped, for grids;
//! - medium: 800 px on the long side;
//! - large: 1600 px on the long side.
//!
//! Never upscaled. JPEGs are decoded at a reduced DCT scale when the largest rendition is much
//! smaller than the photo (`jpeg-decoder`'s `scale`: less work and a fraction of the memory); the
//! resizing is SIMD (`fast_image_resize`); each rendition is turned upright after resizing (cheaper
//! than turning the full image) and encoded as lossy WebP with libwebp (the `webp` crate), which
//! writes no metadata, so no GPS leaves in a thumbnail.
//!
//! HEIF/HEIC photos are decoded through libheif (feature `heic`), which applies the container's own
//! rotation and mirroring; [`previews`] also gives them a full-size JPEG rendition, since most
//! browsers cannot show HEIC.

use std::io::Cursor;

use fast_image_resize::images::Image as FrImage;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use serde::{Deserialize, Serialize};

use crate::orientation::Orientation;

/// The most pixels a photo may have to get thumbnails (a 100-megapixel guard against bombs).
pub const MAX_PIXELS: u64 = 100_000_000;
/// The WebP quality used unless told otherwise (0–100).
pub const DEFAULT_QUALITY: f32 = 80.0;

/// Why thumbnails could not be made. All of them are permanent for the given bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not an image this pipeline decodes.
    #[error("not an image that can be decoded: {0}")]
    Decode(String),
    /// The image has more than [`MAX_PIXELS`] pixels.
    #[error("the image is too large ({width} × {height})")]
    TooLarge {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// Resizing failed.
    #[error("resizing failed: {0}")]
    Resize(String),
}

/// A rendition size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "uniffi", uniffi(name = "ThumbnailSize"))]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// 200 × 200, centre-cropped.
    Small,
    /// 800 px on the long side.
    Medium,
    /// 1600 px on the long side.
    Large,
}

impl Size {
    /// Every size, smallest first.
    pub const ALL: [Size; 3] = [Size::Small, Size::Medium, Size::Large];

    /// The size's name, as in its file name (`small`, `medium`, `large`).
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Large => "large",
        }
    }

    /// Parses a size's name.
    pub fn parse(name: &str) -> Option<Size> {
        Size::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The target edge in pixels.
    pub fn edge(self) -> u32 {
        match self {
            Size::Small => 200,
            Size::Medium => 800,
            Size::Large => 1600,
        }
    }

    /// The crop (in the upright image) and output size for an upright image of `width` ×
    /// `height`. Never upscales.
    pub fn plan(self, width: u32, height: u32) -> Plan {
        let (width, height) = (width.max(1), height.max(1));
        match self {
            Size::Small => {
                let side = width.min(height);
                let out = side.min(self.edge());
                Plan {
                    left: (width - side) / 2,
                    top: (height - side) / 2,
                    crop_width: side,
                    crop_height: side,
                    out_width: out,
                    out_height: out,
                }
            }
            Size::Medium | Size::Large => {
                let long = width.max(height);
                let edge = self.edge().min(long);
                let scale = f64::from(edge) / f64::from(long);
                Plan {
                    left: 0,
                    top: 0,
                    crop_width: width,
                    crop_height: height,
                    out_width: ((f64::from(width) * scale).round() as u32).max(1),
                    out_height: ((f64::from(height) * scale).round() as u32).max(1),
                }
            }
        }
    }
}

/// How one size is cut from an image: the crop, then the size it is scaled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The crop's left edge.
    pub left: u32,
    /// The crop's top edge.
    pub top: u32,
    /// The crop's width.
    pub crop_width: u32,
    /// The crop's height.
    pub crop_height: u32,
    /// The rendition's width.
    pub out_width: u32,
    /// The rendition's height.
    pub out_height: u32,
}

impl Plan {
    /// The plan, made in the upright image, for the image as stored with `orientation`: turned
    /// a quarter for orientations 5–8 ([`Plan::transposed`]), as it is otherwise.
    pub fn stored(self, orientation: Orientation) -> Plan {
        if orientation.swaps_sides() {
            self.transposed()
        } else {
            self
        }
    }

    /// The same plan for the image turned a quarter (EXIF orientations 5–8 store it so): a
    /// centred crop is centred in either, and the crop of a square is square.
    pub fn transposed(self) -> Plan {
        Plan {
            left: self.top,
            top: self.left,
            crop_width: self.crop_height,
            crop_height: self.crop_width,
            out_width: self.out_height,
            out_height: self.out_width,
        }
    }
}

/// One encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Which size.
    pub size: Size,
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The WebP bytes.
    pub webp: Vec<u8>,
}

/// The quality of the JPEG rendition given to HEIF/HEIC photos (0–100).
pub const JPEG_RENDITION_QUALITY: u8 = 90;

/// Everything made for an image: its thumbnails and, for formats browsers cannot show (HEIF/HEIC),
/// a full-size upright JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previews {
    /// The three thumbnails, smallest first.
    pub thumbnails: Vec<Rendition>,
    /// A full-size JPEG of the photo, for HEIF/HEIC only.
    pub jpeg: Option<Vec<u8>>,
}

/// A decoded image: RGB, 8 bits per channel, as stored (not yet upright).
struct Decoded {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    /// The orientation still to apply (libheif returns HEIF images already upright).
    orientation: Orientation,
}

/// Makes the three renditions of an image, upright for `orientation`, as WebP of `quality`.
pub fn thumbnails(
    bytes: &[u8],
    orientation: Orientation,
    quality: f32,
) -> Result<Vec<Rendition>, Error> {
    renditions(decode(bytes, orientation)?, quality)
}

/// Makes an image's thumbnails, and its JPEG rendition when it is HEIF/HEIC, from one decode.
pub fn previews(bytes: &[u8], orientation: Orientation, quality: f32) -> Result<Previews, Error> {
    let decoded = decode(bytes, orientation)?;
    let jpeg = if crate::heif::is_heif(bytes) {
        Some(encode_jpeg(&decoded)?)
    } else {
        None
    };
    Ok(Previews {
        thumbnails: renditions(decoded, quality)?,
        jpeg,
    })
}

/// An upright decoded image as a baseline JPEG (no metadata is written).
fn encode_jpeg(decoded: &Decoded) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let (width, height, rgb) = if decoded.orientation.value() == 1 {
        (
            decoded.width,
            decoded.height,
            std::borrow::Cow::Borrowed(&decoded.rgb[..]),
        )
    } else {
        let (w, h, rgb) = upright(
            decoded.width,
            decoded.height,
            decoded.rgb.clone(),
            decoded.orientation,
        )?;
        (w, h, std::borrow::Cow::Owned(rgb))
    };
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_RENDITION_QUALITY)
        .encode(&rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| Error::Resize(e.to_string()))?;
    Ok(out)
}

/// The three renditions of a decoded image.
fn renditions(decoded: Decoded, quality: f32) -> Result<Vec<Rendition>, Error> {
    let orientation = decoded.orientation;
    let (up_w, up_h) = orientation.displayed(decoded.width, decoded.height);
    let source = FrImage::from_vec_u8(decoded.width, decoded.height, decoded.rgb, PixelType::U8x3)
        .map_err(|e| Error::Resize(e.to_string()))?;
    let mut resizer = Resizer::new();
    Size::ALL
        .into_iter()
        .map(|size| {
            // Plan in the upright image; resize in the stored one (turned back for 5–8).
            let Plan {
                left,
                top,
                crop_width: cw,
                crop_height: ch,
                out_width: ow,
                out_height: oh,
            } = size.plan(up_w, up_h).stored(orientation);
            let mut out = FrImage::new(ow, oh, PixelType::U8x3);
            let options = ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
                .crop(
                    f64::from(left),
                    f64::from(top),
                    f64::from(cw),
                    f64::from(ch),
                );
            resizer
                .resize(&source, &mut out, &options)
                .map_err(|e| Error::Resize(e.to_string()))?;
            let (width, height, rgb) = upright(ow, oh, out.into_vec(), orientation)?;
            let webp = webp::Encoder::from_rgb(&rgb, width, height)
                .encode(quality)
                .to_vec();
            Ok(Rendition {
                size,
                width,
                height,
                webp,
            })
        })
        .collect()
}

/// Decodes to RGB, at a reduced scale for JPEGs much larger than the largest rendition.
fn decode(bytes: &[u8], orientation: Orientation) -> Result<Decoded, Error> {
    if bytes.starts_with(&[0xFF, 0xD8])
        && let Some(decoded) = decode_jpeg(bytes, orientation)?
    {
        return Ok(decoded);
    }
    if crate::heif::is_heif(bytes) {
        return decode_heif(bytes);
    }
    let (width, height) = crate::metadata::stored_dimensions(bytes)
        .ok_or_else(|| Error::Decode("unknown or broken image format".into()))?;
    check_pixels(width, height)?;
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Decode(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| Error::Decode(e.to_string()))?;
    let rgb = image.into_rgb8();
    Ok(Decoded {
        width: rgb.width(),
        height: rgb.height(),
        rgb: rgb.into_raw(),
        orientation,
    })
}

/// A HEIF/HEIC photo's primary image through libheif, turned upright by the container's own
/// transformations (which take the place of the EXIF orientation).
#[cfg(feature = "heic")]
fn decode_heif(bytes: &[u8]) -> Result<Decoded, Error> {
    use libheif_rs::{ColorSpace, HeifContext, RgbChroma};
    let heif_error = |e: libheif_rs::HeifError| Error::Decode(format!("HEIF: {e}"));
    // Refuse bombs before libheif allocates anything for the pixels.
    if let Some((w, h)) = crate::heif::primary_size(bytes) {
        check_pixels(w, h)?;
    }
    let context = HeifContext::read_from_bytes(bytes).map_err(heif_error)?;
    let handle = context.primary_image_handle().map_err(heif_error)?;
    check_pixels(handle.width(), handle.height())?;
    let image = handle
        .decode(ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(heif_error)?;
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| Error::Decode("HEIF: no interleaved RGB plane".into()))?;
    let (width, height) = (plane.width, plane.height);
    check_pixels(width, height)?;
    let row = width as usize * 3;
    if plane.stride < row || plane.data.len() < plane.stride * (height as usize - 1) + row {
        return Err(Error::Decode(
            "HEIF: decoded plane is smaller than its size".into(),
        ));
    }
    let mut rgb = Vec::with_capacity(row * height as usize);
    for line in plane.data.chunks(plane.stride).take(height as usize) {
        rgb.extend_from_slice(&line[..row]);
    }
    Ok(Decoded {
        width,
        height,
        rgb,
        orientation: Orientation::default(),
    })
}

/// Without libheif, HEIF/HEIC photos get no thumbnails (and say why).
#[cfg(not(feature = "heic"))]
fn decode_heif(_bytes: &[u8]) -> Result<Decoded, Error> {
    Err(Error::Decode(
        "HEIF/HEIC support (libheif) was not built into this server".into(),
    ))
}

/// A JPEG through `jpeg-decoder`, scaled down in the DCT; `None` for pixel formats it leaves to the
/// general decoder (CMYK, 16-bit).
fn decode_jpeg(bytes: &[u8], orientation: Orientation) -> Result<Option<Decoded>, Error> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder
        .read_info()
        .map_err(|e| Error::Decode(e.to_string()))?;
    let Some(info) = decoder.info() else {
        return Err(Error::Decode("no JPEG header".into()));
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_pixels(width, height)?;
    // The largest rendition's size in stored orientation is the least the decode must give.
    let (up_w, up_h) = orientation.displayed(width, height);
    let Plan {
        out_width: need_w,
        out_height: need_h,
        ..
    } = Size::Large.plan(up_w, up_h).stored(orientation);
    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    decoder
        .scale(clamp(need_w), clamp(need_h))
        .map_err(|e| Error::Decode(e.to_string()))?;
    let pixels = decoder.decode().map_err(|e| Error::Decode(e.to_string()))?;
    let Some(info) = decoder.info() else {
        return Err(Error::Decode("no JPEG header".into()));
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => return Ok(None),
    };
    if rgb.len() < width as usize * height as usize * 3 {
        return Err(Error::Decode("truncated JPEG".into()));
    }
    Ok(Some(Decoded {
        width,
        height,
        rgb,
        orientation,
    }))
}

fn check_pixels(width: u32, height: u32) -> Result<(), Error> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width == 0 || height == 0 {
        return Err(Error::TooLarge { width, height });
    }
    Ok(())
}

/// Turns a stored-orientation RGB buffer upright.
fn upright(
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    orientation: Orientation,
) -> Result<(u32, u32, Vec<u8>), Error> {
    if orientation.value() == 1 {
        return Ok((width, height, rgb));
    }
    let buffer = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::Resize("rendition buffer has the wrong size".into()))?;
    let mut image = image::DynamicImage::ImageRgb8(buffer);
    if let Some(o) = image::metadata::Orientation::from_exif(orientation.value()) {
        image.apply_orientation(o);
    }
    let rgb = image.into_rgb8();
    Ok((rgb.width(), rgb.height(), rgb.into_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plans_never_upscale_and_keep_the_aspect() {
        let plan = |left, top, crop_width, crop_height, out_width, out_height| Plan {
            left,
            top,
            crop_width,
            crop_height,
            out_width,
            out_height,
        };
        assert_eq!(
            Size::Large.plan(3264, 2448),
            plan(0, 0, 3264, 2448, 1600, 1200)
        );
        assert_eq!(
            Size::Medium.plan(2448, 3264),
            plan(0, 0, 2448, 3264, 600, 800)
        );
        assert_eq!(
            Size::Small.plan(3264, 2448),
            plan(408, 0, 2448, 2448, 200, 200)
        );
        assert_eq!(Size::Large.plan(100, 68), plan(0, 0, 100, 68, 100, 68));
        assert_eq!(Size::Small.plan(100, 68), plan(16, 0, 68, 68, 68, 68));
        assert_eq!(
            Size::Small.plan(3264, 2448).transposed(),
            plan(0, 408, 2448, 2448, 200, 200)
        );
    }

    proptest! {
        #[test]
        fn plans_stay_inside_the_image(w in 1u32..20_000, h in 1u32..20_000) {
            for size in Size::ALL {
                let p = size.plan(w, h);
                prop_assert!(p.left + p.crop_width <= w && p.top + p.crop_height <= h);
                prop_assert!(p.out_width >= 1 && p.out_height >= 1);
                prop_assert!(p.out_width <= p.crop_width && p.out_height <= p.crop_height);
                prop_assert!(p.out_width.max(p.out_height) <= size.edge());
            }
        }

        #[test]
        fn random_bytes_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = thumbnails(&bytes, Orientation::default(), 80.0);
        }
    }
}
