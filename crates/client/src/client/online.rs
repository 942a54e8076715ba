//! The parts of `Client` that need the live connection (or the server over
//! HTTP): rooms, history, receipts, typing, presence, users, downloads.

use std::path::PathBuf;

use leetchat_protocol::events::{
    AddMembers, CreateRoom, Direction, History, NotifyChoice, NotifyLevel, Presence, PresenceGet,
    ReadPointer, RemoveMember, SetNotifyDefault, SetRole, SetRoomNotify, TypingStart, TypingStop,
    UpdateRoom,
};
use leetchat_protocol::{Role, RoomType, User};

use super::Client;
use crate::error::{Error, Result};
use crate::views::{ClientEvent, Origin, RoomView};

impl Client {
    /// The stored view of a room an ack just carried (the connection
    /// stored it before answering).
    fn stored_room(&self, room_id: &str) -> Result<RoomView> {
        self.room(room_id)?
            .ok_or_else(|| Error::Protocol("room not stored".into()))
    }

    /// Opens (or finds) the direct room with a user.
    pub async fn create_direct(&self, user_id: &str) -> Result<RoomView> {
        let ack = self
            .call(&CreateRoom {
                room_type: RoomType::Direct,
                name: None,
                description: None,
                member_ids: vec![user_id.to_owned()],
                is_private: None,
            })
            .await?;
        self.stored_room(&ack.room.room_id)
    }

    /// Sets the user's notification level (or `default`) for a room and,
    /// when `mute_until` is given, its mute (`Some(None)` unmutes). Every
    /// other device of the user hears of it at once.
    pub async fn set_room_notify(
        &self,
        room_id: &str,
        level: NotifyChoice,
        mute_until: Option<Option<String>>,
    ) -> Result<RoomView> {
        let ack = self
            .call(&SetRoomNotify {
                room_id: room_id.to_owned(),
                level,
                mute_until,
            })
            .await?;
        self.inner.store.set_room_notify(&ack)?;
        let room = self.stored_room(room_id)?;
        self.inner
            .emit(ClientEvent::RoomUpdated { room: room.clone() });
        Ok(room)
    }

    /// Sets the user's default notification level (the level of every room
    /// the user has set none for), on every device.
    pub async fn set_notify_default(&self, level: NotifyLevel) -> Result<NotifyLevel> {
        let ack = self.call(&SetNotifyDefault { level }).await?;
        self.inner.store.set_notify_default(ack.level)?;
        for room in self.rooms()? {
            self.inner.emit(ClientEvent::RoomUpdated { room });
        }
        self.inner
            .emit(ClientEvent::NotifyDefault { level: ack.level });
        Ok(ack.level)
    }

    /// Creates a group owned by the user.
    pub async fn create_group(&self, name: &str, member_ids: &[String]) -> Result<RoomView> {
        let ack = self
            .call(&CreateRoom {
                room_type: RoomType::Group,
                name: Some(name.to_owned()),
                description: None,
                member_ids: member_ids.to_vec(),
                is_private: None,
            })
            .await?;
        self.stored_room(&ack.room.room_id)
    }

    /// Renames a group (owner/admin).
    pub async fn rename_room(&self, room_id: &str, name: &str) -> Result<RoomView> {
        self.update_room(room_id, Some(name), None).await
    }

    /// Changes a group's name and/or description (owner/admin); what is
    /// `None` stays as it is.
    pub async fn update_room(
        &self,
        room_id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<RoomView> {
        let ack = self
            .call(&UpdateRoom {
                room_id: room_id.to_owned(),
                name: name.map(str::to_owned),
                description: description.map(str::to_owned),
            })
            .await?;
        self.stored_room(&ack.room.room_id)
    }

    /// Makes a member of a group an admin or a plain member, or hands the
    /// group to them (`Owner`; owner only).
    pub async fn set_role(&self, room_id: &str, user_id: &str, role: Role) -> Result<RoomView> {
        let ack = self
            .call(&SetRole {
                room_id: room_id.to_owned(),
                user_id: user_id.to_owned(),
                role,
            })
            .await?;
        self.stored_room(&ack.room.room_id)
    }

    /// Adds members to a group (owner/admin).
    pub async fn add_members(&self, room_id: &str, user_ids: &[String]) -> Result<RoomView> {
        let ack = self
            .call(&AddMembers {
                room_id: room_id.to_owned(),
                user_ids: user_ids.to_vec(),
            })
            .await?;
        self.stored_room(&ack.room.room_id)
    }

    /// Removes a member (owner/admin), or leaves when it is the user.
    pub async fn remove_member(&self, room_id: &str, user_id: &str) -> Result<()> {
        self.call(&RemoveMember {
            room_id: room_id.to_owned(),
            user_id: user_id.to_owned(),
        })
        .await?;
        if Some(user_id.to_owned()) == self.me().map(|m| m.user_id) {
            self.inner.store.remove_room(room_id)?;
            self.inner.emit(ClientEvent::RoomRemoved {
                room_id: room_id.to_owned(),
            });
        }
        Ok(())
    }

    /// Fetches the page of history just older than what is stored and merges it.
    /// Returns how many messages came.
    pub async fn load_older(&self, room_id: &str, limit: u32) -> Result<usize> {
        let oldest = self.inner.store.oldest_seq(room_id)?;
        let page = self
            .call(&History {
                room_id: room_id.to_owned(),
                cursor: oldest.map(|seq| seq.to_string().into()),
                limit: Some(limit.into()),
                direction: Direction::Before,
            })
            .await?;
        let me = self.my_id()?;
        let events = crate::engine::apply::history_page(
            &self.inner.store,
            &me,
            room_id,
            &page,
            Origin::History,
        )?;
        for e in events {
            self.inner.emit(e);
        }
        Ok(page.messages.len())
    }

    /// Moves the user's read pointer.
    pub async fn mark_read(&self, room_id: &str, seq: i64) -> Result<()> {
        let ack = self
            .call(&ReadPointer {
                room_id: room_id.to_owned(),
                seq,
            })
            .await?;
        let me = self.my_id()?;
        self.inner.store.apply_receipt(room_id, &me, ack.seq, &me)?;
        self.inner.store.set_my_read(room_id, ack.seq)?;
        if let Some(room) = self.room(room_id)? {
            self.inner.emit(ClientEvent::RoomUpdated { room });
        }
        Ok(())
    }

    /// Starts or stops the typing indicator.
    pub async fn set_typing(&self, room_id: &str, typing: bool) -> Result<()> {
        let room_id = room_id.to_owned();
        if typing {
            self.call(&TypingStart { room_id }).await?;
        } else {
            self.call(&TypingStop { room_id }).await?;
        }
        Ok(())
    }

    /// Presence of users who share a room with the user.
    pub async fn presence(&self, user_ids: &[String]) -> Result<Vec<Presence>> {
        let list = self
            .call(&PresenceGet {
                user_ids: user_ids.to_vec(),
            })
            .await?;
        for p in &list.presence {
            self.inner.store.apply_presence(p)?;
        }
        Ok(list.presence)
    }

    /// Users whose name contains `query` (over HTTP).
    pub async fn search_users(&self, query: &str) -> Result<Vec<User>> {
        let token = self.inner.session.access_token(false).await?;
        let users = self.inner.api.users(&token, query).await?;
        self.inner.store.apply_users(&users)?;
        Ok(users)
    }

    /// A file shared with the user (or its thumbnail), over HTTP: the path
    /// of its copy in the data folder's cache (`files/<fileId>`, or
    /// `files/<fileId>.thumb`). A cached file is returned without asking the
    /// server; a new one is written under a temporary name and renamed, so a
    /// cached file is always complete.
    pub async fn download(&self, file_id: &str, thumbnail: bool) -> Result<PathBuf> {
        let dest = crate::files::cache_path(&self.inner.config.data_dir, file_id, thumbnail)?;
        if tokio::fs::try_exists(&dest).await.unwrap_or(false) {
            return Ok(dest);
        }
        let dir = dest
            .parent()
            .expect("a cache path is inside the cache folder");
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Error::File(format!("{}: {e}", dir.display())))?;
        let partial = dir.join(format!(
            ".{}.{}.partial",
            dest.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            uuid::Uuid::new_v4()
        ));
        let result = self.download_into(file_id, thumbnail, &partial).await;
        let result = match result {
            Ok(()) => tokio::fs::rename(&partial, &dest)
                .await
                .map_err(|e| Error::File(format!("{}: {e}", dest.display()))),
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result.map(|()| dest)
    }

    /// Downloads into `dest`, refreshing the token once if it was refused.
    async fn download_into(
        &self,
        file_id: &str,
        thumbnail: bool,
        dest: &std::path::Path,
    ) -> Result<()> {
        for attempt in 0..2 {
            let token = self.inner.session.access_token(attempt > 0).await?;
            match self
                .inner
                .api
                .download(&token, file_id, thumbnail, dest)
                .await
            {
                Err(Error::Server(b))
                    if attempt == 0 && b.code == leetchat_protocol::ErrorCode::Unauthenticated => {}
                other => return other.map(|_| ()),
            }
        }
        Err(Error::SignedOut(
            "the server refused a freshly refreshed token".into(),
        ))
    }

    /// The user with exactly this login name (case-insensitive).
    pub async fn find_user(&self, user_name: &str) -> Result<User> {
        self.search_users(user_name)
            .await?
            .into_iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
            .ok_or_else(|| Error::NotFound(format!("no user named {user_name:?}")))
    }
}
