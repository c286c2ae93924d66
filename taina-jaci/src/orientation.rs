//! EXIF orientation: how a stored image must be turned to appear upright.

use serde::{Deserialize, Serialize};

/// An EXIF orientation, 1 to 8 (1: already upright).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = u8, description = "EXIF orientation, 1 to 8"))]
pub struct Orientation(u8);

// Crosses to the mobile SDK as its EXIF value.
#[cfg(feature = "uniffi")]
uniffi::custom_type!(Orientation, u8, {
    lower: |o| o.0,
    try_lift: |v| Orientation::from_exif(v)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("an EXIF orientation is 1 to 8, not {v}")),
});

impl Default for Orientation {
    fn default() -> Self {
        Orientation(1)
    }
}

impl Orientation {
    /// The orientation for an EXIF value, if it is one (1 to 8).
    pub fn from_exif(value: u8) -> Option<Orientation> {
        (1..=8).contains(&value).then_some(Orientation(value))
    }

    /// The EXIF value.
    pub fn value(self) -> u8 {
        self.0
    }

    /// Whether turning it upright swaps width and height (orientations 5 to 8).
    pub fn swaps_sides(self) -> bool {
        self.0 >= 5
    }

    /// The displayed size of an image stored as `width` × `height`.
    pub fn displayed(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_sides() {
            (height, width)
        } else {
            (width, height)
        }
    }
}

impl TryFrom<u8> for Orientation {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Orientation::from_exif(value).ok_or_else(|| format!("orientation {value} is not 1 to 8"))
    }
}

impl From<Orientation> for u8 {
    fn from(o: Orientation) -> u8 {
        o.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_to_eight() {
        assert_eq!(Orientation::from_exif(0), None);
        assert_eq!(Orientation::from_exif(9), None);
        assert_eq!(
            Orientation::from_exif(6).unwrap().displayed(450, 600),
            (600, 450)
        );
        assert_eq!(
            Orientation::from_exif(3).unwrap().displayed(600, 450),
            (600, 450)
        );
        assert_eq!(Orientation::default().value(), 1);
    }
}
