//! The client's one error: the server's answer, the network, the device, or the call itself.

use taina_core::wire::{ErrorBody, ErrorCode};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum ClientError {
    /// The server refused: its status and its error (`code`, `message`, `field`).
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's stable code (`NotFound`, `Unauthenticated`, `QuotaExceeded`, ...;
        /// `Unknown` for one this version does not know, or an answer without the error shape).
        code: ErrorCode,
        /// What is wrong, for the person.
        message: String,
        /// The input field at fault, if any.
        field: Option<String>,
    },
    /// The server could not be reached (or the answer was cut off): try again later.
    #[error("cannot reach the server: {message}")]
    Network {
        /// What happened.
        message: String,
    },
    /// A file on the device could not be read or written.
    #[error("{message}")]
    Device {
        /// What happened.
        message: String,
    },
    /// The call itself is wrong (a bad server URL, say).
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

impl ClientError {
    /// Whether the calls after this one would fail the same way: the server is out of reach, the
    /// session ended, or the community's quota or the server's disk is full.
    pub(crate) fn stops_a_batch(&self) -> bool {
        match self {
            ClientError::Network { .. } => true,
            ClientError::Api { status, code, .. } => {
                *status == 401 || matches!(code, ErrorCode::QuotaExceeded | ErrorCode::StorageFull)
            }
            ClientError::Device { .. } | ClientError::Invalid { .. } => false,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError::Network {
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Device {
            message: e.to_string(),
        }
    }
}

/// The error a non-success answer carries.
pub(crate) async fn from_response(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    match response.json::<ErrorBody>().await {
        Ok(body) => ClientError::Api {
            status,
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
        },
        Err(_) => ClientError::Api {
            status,
            code: ErrorCode::Unknown,
            message: format!("the server answered {status}"),
            field: None,
        },
    }
}
