//! [`Location`]: a place on the map, as sent with `say` (`MessageSendLocation`) and read with
//! `Message::to_location` (`MessageLocation`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;

/// A place: a name, an address and coordinates (WGS 84 degrees), as wechaty's `Location`.
///
/// ```
/// use wechaty_client::{Location, Sayable};
/// let office = Location::new("Office", "1 Main St", 39.9042, 116.4074).accuracy(15.0);
/// assert_eq!(office.latitude, 39.9042);
/// let sayable: Sayable = office.into();
/// assert!(matches!(sayable, Sayable::Location(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// What the place is called.
    pub name: String,
    /// Its street address.
    pub address: String,
    /// Degrees north (−90 to 90).
    pub latitude: f64,
    /// Degrees east (−180 to 180).
    pub longitude: f64,
    /// How precise the coordinates are, in metres (the wire's `float`; 0 when unknown).
    pub accuracy: f32,
}

impl Location {
    /// A place at `latitude`, `longitude` (degrees), accuracy unknown.
    pub fn new(
        name: impl Into<String>,
        address: impl Into<String>,
        latitude: f64,
        longitude: f64,
    ) -> Self {
        Self {
            name: name.into(),
            address: address.into(),
            latitude,
            longitude,
            accuracy: 0.0,
        }
    }

    /// The same place with an accuracy, in metres.
    pub fn accuracy(mut self, metres: f32) -> Self {
        self.accuracy = metres;
        self
    }

    /// Why these coordinates are on no map, if they are not (the service would pass them on
    /// as they are).
    pub(crate) fn problem(&self) -> Option<String> {
        let valid = self.latitude.is_finite()
            && self.longitude.is_finite()
            && (-90.0..=90.0).contains(&self.latitude)
            && (-180.0..=180.0).contains(&self.longitude)
            && self.accuracy.is_finite()
            && self.accuracy >= 0.0;
        (!valid).then(|| {
            format!(
                "latitude {} / longitude {} / accuracy {} is not a place: latitude must be \
                 within ±90, longitude within ±180, accuracy finite and not negative",
                self.latitude, self.longitude, self.accuracy
            )
        })
    }

    pub(crate) fn to_wire(&self) -> pb::LocationPayload {
        pb::LocationPayload {
            accuracy: self.accuracy,
            address: self.address.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            name: self.name.clone(),
        }
    }

    /// The location of a `MessageLocation` answer, checked: the service's data is untrusted.
    pub(crate) fn from_wire(payload: Option<pb::LocationPayload>, message: &str) -> Result<Self> {
        let payload = payload.ok_or_else(|| {
            Error::invalid_data(
                "location",
                format!("message {message} carries no location (is it a location message?)"),
            )
        })?;
        let location = Self {
            name: payload.name,
            address: payload.address,
            latitude: payload.latitude,
            longitude: payload.longitude,
            accuracy: payload.accuracy,
        };
        match location.problem() {
            None => Ok(location),
            Some(problem) => Err(Error::invalid_data(
                "location",
                format!("message {message}: {problem}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_goes_through_the_wire_unchanged() {
        let place = Location::new("Office", "1 Main St", -33.8688, 151.2093).accuracy(5.5);
        let back = Location::from_wire(Some(place.to_wire()), "m-1").unwrap();
        assert_eq!(back, place);
    }

    #[test]
    fn impossible_coordinates_are_refused() {
        for (latitude, longitude) in [(91.0, 0.0), (0.0, -181.0), (f64::NAN, 0.0)] {
            let place = Location::new("x", "y", latitude, longitude);
            assert!(Location::from_wire(Some(place.to_wire()), "m-1").is_err());
        }
        let error = Location::from_wire(None, "m-9").unwrap_err();
        assert!(error.to_string().contains("m-9"), "{error}");
    }
}
