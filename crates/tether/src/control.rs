//! The control socket of a running source: where it is (`<spool>/.tether.sock`, inside the
//! owner-only spool folder) and what is said on it — one JSON [`Request`] per line, one JSON
//! [`Reply`] per line back. The server ([`serve`]) and the client ([`ask`]) are both here, so
//! the console and `rollcall tether --trigger` speak exactly what the source answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

use crate::{Command, Status};

/// The socket's file name inside the spool folder.
pub const SOCKET: &str = ".tether.sock";

/// What one connection may send in all (a request is a few bytes; anything longer is not ours).
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// The socket of the source storing into `spool`.
pub fn socket(spool: &Path) -> PathBuf {
    spool.join(SOCKET)
}

/// What a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "lowercase")]
pub enum Request {
    /// Press the shutter.
    Trigger,
    /// The camera's current status.
    Status,
}

/// What the source answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "lowercase")]
pub enum Reply {
    /// The shutter was pressed.
    Ok,
    Status {
        status: Status,
    },
    /// The request could not be served (the source is stopping, or the request was not one).
    Error {
        message: String,
    },
}

/// Why a client got no reply.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no source is running (cannot connect to {path}): {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the source did not answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the source did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the source's answer is not understood: {0}")]
    Garbled(#[from] serde_json::Error),
}

/// Asks the source storing into `spool` one question.
pub async fn ask(spool: &Path, request: Request, wait: Duration) -> Result<Reply, ControlError> {
    let path = socket(spool);
    let exchange = async {
        let stream = UnixStream::connect(&path)
            .await
            .map_err(|source| ControlError::Connect {
                path: path.clone(),
                source,
            })?;
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_string(&request)?;
        line.push('\n');
        write.write_all(line.as_bytes()).await?;
        let mut answer = String::new();
        BufReader::new(read.take(MAX_REQUEST_BYTES))
            .read_line(&mut answer)
            .await?;
        Ok::<_, ControlError>(serde_json::from_str(answer.trim())?)
    };
    tokio::time::timeout(wait, exchange)
        .await
        .map_err(|_| ControlError::Timeout(wait))?
}

/// Serves the control socket until the listener fails: a trigger goes to the source as a
/// [`Command`], a status request is answered with the latest [`Status`].
pub async fn serve(
    listener: UnixListener,
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let commands = commands.clone();
        let status = status.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read.take(MAX_REQUEST_BYTES)).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let reply = match serde_json::from_str::<Request>(line.trim()) {
                    Ok(Request::Trigger) => match commands.try_send(Command::Trigger) {
                        Ok(()) => Reply::Ok,
                        Err(mpsc::error::TrySendError::Full(_)) => Reply::Error {
                            message: "the camera is still busy with earlier presses".into(),
                        },
                        Err(mpsc::error::TrySendError::Closed(_)) => Reply::Error {
                            message: "the source has stopped".into(),
                        },
                    },
                    Ok(Request::Status) => Reply::Status {
                        status: status.borrow().clone(),
                    },
                    Err(_) => {
                        tracing::warn!("a control request that is not one was refused");
                        Reply::Error {
                            message: "not a request".into(),
                        }
                    }
                };
                let Ok(mut text) = serde_json::to_string(&reply) else {
                    break;
                };
                text.push('\n');
                if write.write_all(text.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_and_the_server_speak_the_same_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(socket(dir.path())).unwrap();
        let (commands, mut pressed) = mpsc::channel(4);
        let (publish, status) = watch::channel(Status::Starting {
            message: "正在连接相机".into(),
        });
        tokio::spawn(serve(listener, commands, status));
        let wait = Duration::from_secs(5);
        assert_eq!(
            ask(dir.path(), Request::Status, wait).await.unwrap(),
            Reply::Status {
                status: Status::Starting {
                    message: "正在连接相机".into()
                }
            }
        );
        let connected = Status::Connected {
            model: "Nikon DSC D750".into(),
            port: "usb:001,004".into(),
            battery: Some("80%".into()),
            free_bytes: Some(8_000_000_000),
        };
        publish.send_replace(connected.clone());
        assert_eq!(
            ask(dir.path(), Request::Status, wait).await.unwrap(),
            Reply::Status { status: connected }
        );
        assert_eq!(
            ask(dir.path(), Request::Trigger, wait).await.unwrap(),
            Reply::Ok
        );
        assert_eq!(pressed.recv().await, Some(Command::Trigger));
        // Garbage gets an error, not a dropped connection or a panic.
        let stream = UnixStream::connect(socket(dir.path())).await.unwrap();
        let (read, mut write) = stream.into_split();
        write.write_all(b"format the card\n").await.unwrap();
        let mut answer = String::new();
        BufReader::new(read).read_line(&mut answer).await.unwrap();
        assert!(matches!(
            serde_json::from_str::<Reply>(&answer).unwrap(),
            Reply::Error { .. }
        ));
    }

    #[tokio::test]
    async fn no_source_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = ask(dir.path(), Request::Status, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::Connect { .. }), "{e}");
    }
}
