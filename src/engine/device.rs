//! Device binding at refresh (R-REF-9): what a request asks of the family's device, and the metadata
//! that announces one.

use crate::error::Error;
use crate::secret::constant_time_eq;
use crate::store::Family;

use super::ids::DeviceKey;

/// A device announced to the client (`NewDeviceMetadata`): the key, and a group key derived from it so
/// that every answer announcing one device announces the same pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// `DeviceKey`, `<region>_<uuid>` as Cognito writes them.
    pub device_key: String,
    /// `DeviceGroupKey`.
    pub device_group_key: String,
}

impl NewDevice {
    /// The metadata announcing `device_key`.
    pub(crate) fn announcing(device_key: &str) -> NewDevice {
        let digest = ring::digest::digest(&ring::digest::SHA256, device_key.as_bytes());
        let group: String = digest
            .as_ref()
            .iter()
            .take(9)
            .map(|b| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        [usize::from(*b) % 62],
                )
            })
            .collect();
        NewDevice {
            device_key: device_key.to_owned(),
            device_group_key: format!("-{group}"),
        }
    }
}

/// What R-REF-9 asks of a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceStep {
    /// Nothing: the family is bound to a confirmed device and the request named it, or the pool tracks
    /// no devices.
    Keep,
    /// The request presented the family's unconfirmed device: confirm it once an answer is certain.
    Confirm,
    /// Bind a new device once an answer is certain, and announce it.
    Issue,
    /// The family's device is unconfirmed and the request named none: the answer that announced it may
    /// have been lost, so announce it again.
    Reannounce,
}

/// R-REF-9, the reading half. A pool that tracks no devices ignores them. A family bound to a confirmed
/// device needs that DeviceKey, compared in constant time. A family bound to a device that no request
/// has presented yet may be refreshed without it, and the device is announced again. A pool that tracks
/// devices issues one to an unbound family; a DeviceKey sent for an unbound family is not trusted to
/// bind it.
pub(crate) fn device_step(
    tracking: bool,
    family: &Family,
    presented: Option<DeviceKey<'_>>,
) -> Result<DeviceStep, Error> {
    if !tracking {
        return Ok(DeviceStep::Keep);
    }
    let Some(bound) = family.info.device_key.as_deref() else {
        return Ok(DeviceStep::Issue);
    };
    let confirmed = family.state.device_confirmed;
    match presented {
        Some(p) if constant_time_eq(bound.as_bytes(), p.expose_secret().as_bytes()) => {
            Ok(if confirmed {
                DeviceStep::Keep
            } else {
                DeviceStep::Confirm
            })
        }
        None if !confirmed => Ok(DeviceStep::Reannounce),
        _ => Err(Error::InvalidRefreshToken),
    }
}
