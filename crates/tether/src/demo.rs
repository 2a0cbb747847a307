//! The demo camera: a built-in source for trying rollcall without a camera. It "shoots" a
//! given list of JPEG frames into the spool, one per press: on every software trigger (the
//! console's shutter button) and, with a pace, by itself at that interval, as a photographer
//! shooting a class would. After the last frame it starts again from the first.
//!
//! A real camera never writes the same bytes twice, and the session treats identical bytes as
//! a duplicate; so each shot gets a JPEG comment segment (`FF FE`) right after the start-of-
//! image marker naming the shot number. The picture itself is untouched.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::spool::{Spool, store_blocking};
use crate::{Command, Event, FrameArrived, FrameKind, Status, TetherError};

/// One frame the demo camera can shoot.
#[derive(Debug, Clone)]
pub struct DemoFrame {
    /// Its name, as a camera would show it (`IMG_1007.JPG`).
    pub name: String,
    pub bytes: Arc<[u8]>,
}

/// The name the demo camera reports.
pub const MODEL: &str = "rollcall demo camera";

/// `bytes` with a comment segment naming `shot` after the SOI marker; bytes that do not start
/// with SOI are returned with the comment appended (still unique; the pipeline reports what
/// it finds).
pub fn unique_shot(bytes: &[u8], shot: u64) -> Vec<u8> {
    let text = format!("rollcall demo shot {shot}");
    let mut out = Vec::with_capacity(bytes.len() + text.len() + 4);
    match bytes.strip_prefix(&[0xFF, 0xD8]) {
        Some(rest) => {
            out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xFE]);
            // The length counts itself (2 bytes) and the text; the text is short.
            let len = u16::try_from(text.len() + 2).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(rest);
        }
        None => {
            out.extend_from_slice(bytes);
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

/// Runs the demo camera until `shutdown`: a shot on every [`Command::Trigger`] and, with
/// `pace`, one every `pace` by itself. `first_shot` numbers the comment of the first shot (a
/// restarted demo continues its numbering, so no shot repeats an earlier one's bytes).
pub async fn run(
    frames: Vec<DemoFrame>,
    pace: Option<Duration>,
    first_shot: u64,
    spool: Arc<Spool>,
    events: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), TetherError> {
    if frames.is_empty() {
        return Err(TetherError::Camera("the demo camera has no frames".into()));
    }
    let _ = events
        .send(Event::Status(Status::Connected {
            model: MODEL.into(),
            port: "demo:".into(),
            battery: Some("100%".into()),
            free_bytes: None,
        }))
        .await;
    let mut shot = first_shot;
    let mut next = 0usize;
    let mut ticker = pace.map(|p| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let tick = async {
            match ticker.as_mut() {
                Some(t) => {
                    t.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            command = commands.recv() => match command {
                Some(Command::Trigger) => {}
                None => break,
            },
            () = tick => {}
        }
        if *shutdown.borrow() {
            break;
        }
        let frame = &frames[next % frames.len()];
        next += 1;
        let bytes = unique_shot(&frame.bytes, shot);
        let len = bytes.len() as u64;
        let (_, extension) = crate::split_name(std::path::Path::new(&frame.name));
        let path =
            store_blocking(Arc::clone(&spool), bytes, "demo".into(), extension.clone()).await?;
        let _ = events
            .send(Event::Frame(FrameArrived {
                path,
                camera: MODEL.into(),
                camera_path: frame.name.clone(),
                capture: shot,
                kind: FrameKind::from_extension(&extension),
                bytes: len,
            }))
            .await;
        shot += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shot_is_the_same_jpeg_with_a_comment_and_differs_from_every_other_shot() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0xFF, 0xD9];
        let a = unique_shot(&jpeg, 1);
        let b = unique_shot(&jpeg, 2);
        assert_ne!(a, b);
        assert_eq!(&a[..4], &[0xFF, 0xD8, 0xFF, 0xFE]);
        let len = usize::from(u16::from_be_bytes([a[4], a[5]]));
        assert_eq!(&a[4 + len..], &jpeg[2..]);
        assert_eq!(&a[6..4 + len], b"rollcall demo shot 1");
    }
}
