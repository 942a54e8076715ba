//! The upload step of a queued file send: `POST /api/files` for one file,
//! with progress reported to UIs. While the file uploads, the socket is
//! still read, so pushes are applied and the server's pings answered.

use futures_util::StreamExt;
use leetchat_protocol::Attachment;

use super::Conn;
use crate::engine::Upload;
use crate::error::Result;
use crate::views::ClientEvent;

impl Conn {
    /// Uploads one file the engine asked for.
    pub(super) async fn upload(&mut self, u: Upload) -> Result<Attachment> {
        let token = self.shared.session.access_token(false).await?;
        let shared = self.shared.clone();
        let (room_id, temp_id, shown_name) = (u.room_id, u.temp_id, u.name.clone());
        let progress = move |sent, total| {
            shared.emit(ClientEvent::UploadProgress {
                room_id: room_id.clone(),
                temp_id: temp_id.clone(),
                name: shown_name.clone(),
                sent,
                total,
            });
        };
        let api = self.shared.api.clone();
        let (path, name) = (u.path, u.name);
        let upload = async move { api.upload(&token, &path, &name, progress).await };
        tokio::pin!(upload);
        loop {
            tokio::select! {
                r = &mut upload => return r,
                frame = self.ws.next() => {
                    // No request is in flight, so nothing here is an ack.
                    self.receive(frame)?;
                }
            }
        }
    }
}
