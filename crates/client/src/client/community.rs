//! Running a community (protocol 9.8) from a client: invite links, joining
//! by one, bans, blocks and reports. Each needs the live connection.

use leetchat_protocol::events::{
    Ban, BanUser, Block, BlockUser, CreateInvite, JoinRoom, ListBans, ListBlocks, ListInvites,
    ReportMessage, RevokeInvite, RoomInvite, UnbanUser, UnblockUser,
};

use super::Client;
use crate::error::{Error, Result};
use crate::views::RoomView;

/// The code in what someone pasted: the code itself, or a link whose last
/// path segment (or `code=` parameter) is the code.
pub fn invite_code(pasted: &str) -> Option<String> {
    let t = pasted.trim();
    let from_query = t
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("code=")));
    let code = match from_query {
        Some(c) => c,
        None => t
            .split(['?', '#'])
            .next()
            .unwrap_or(t)
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(t),
    };
    let ok = !code.is_empty()
        && code.len() <= 128
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| code.to_owned())
}

impl Client {
    /// Makes an invite link to a group (owner/admin).
    pub async fn create_invite(
        &self,
        room_id: &str,
        max_uses: Option<u32>,
        expires_in_s: Option<u64>,
    ) -> Result<RoomInvite> {
        let ack = self
            .call(&CreateInvite {
                room_id: room_id.to_owned(),
                max_uses,
                expires_in_s,
            })
            .await?;
        Ok(ack.invite)
    }

    /// A group's usable invite links (owner/admin).
    pub async fn invites(&self, room_id: &str) -> Result<Vec<RoomInvite>> {
        let ack = self
            .call(&ListInvites {
                room_id: room_id.to_owned(),
            })
            .await?;
        Ok(ack.invites)
    }

    /// Revokes an invite link (owner/admin of its group).
    pub async fn revoke_invite(&self, code: &str) -> Result<()> {
        self.call(&RevokeInvite {
            code: code.to_owned(),
        })
        .await?;
        Ok(())
    }

    /// Joins a group with an invite's code, or a link holding one.
    pub async fn join_room(&self, code_or_link: &str) -> Result<RoomView> {
        let code = invite_code(code_or_link)
            .ok_or_else(|| Error::Invalid("that is not an invite code or link".to_owned()))?;
        let ack = self.call(&JoinRoom { code }).await?;
        self.room(&ack.room.room_id)?
            .ok_or_else(|| Error::Protocol("room not stored".into()))
    }

    /// Bans someone from a group (owner/admin); a member is removed.
    pub async fn ban(&self, room_id: &str, user_id: &str, reason: Option<&str>) -> Result<()> {
        self.call(&BanUser {
            room_id: room_id.to_owned(),
            user_id: user_id.to_owned(),
            reason: reason.map(str::to_owned),
        })
        .await?;
        Ok(())
    }

    /// Lifts a ban (owner/admin).
    pub async fn unban(&self, room_id: &str, user_id: &str) -> Result<()> {
        self.call(&UnbanUser {
            room_id: room_id.to_owned(),
            user_id: user_id.to_owned(),
        })
        .await?;
        Ok(())
    }

    /// A group's bans (owner/admin).
    pub async fn bans(&self, room_id: &str) -> Result<Vec<Ban>> {
        let ack = self
            .call(&ListBans {
                room_id: room_id.to_owned(),
            })
            .await?;
        Ok(ack.bans)
    }

    /// Blocks a user; returns everyone the user blocked.
    pub async fn block(&self, user_id: &str) -> Result<Vec<Block>> {
        let ack = self
            .call(&BlockUser {
                user_id: user_id.to_owned(),
            })
            .await?;
        Ok(ack.blocks)
    }

    /// Unblocks a user; returns everyone the user still blocks.
    pub async fn unblock(&self, user_id: &str) -> Result<Vec<Block>> {
        let ack = self
            .call(&UnblockUser {
                user_id: user_id.to_owned(),
            })
            .await?;
        Ok(ack.blocks)
    }

    /// The ids of everyone the user blocked, as this device last heard
    /// (asked after each connect, kept by blocks and their push); no
    /// connection needed.
    pub fn blocked(&self) -> Result<std::collections::HashSet<String>> {
        self.inner.store.blocked()
    }

    /// Everyone the user blocked.
    pub async fn blocks(&self) -> Result<Vec<Block>> {
        Ok(self.call(&ListBlocks {}).await?.blocks)
    }

    /// Changes the user's display name and/or picture (a local image file,
    /// uploaded and made a square avatar by the server; `Some(None)`
    /// removes it). Everyone who shares a room sees it.
    pub async fn update_profile(
        &self,
        display_name: Option<&str>,
        avatar: Option<Option<&std::path::Path>>,
    ) -> Result<leetchat_protocol::User> {
        let token = self.inner.session.access_token(false).await?;
        let avatar_file_id = match avatar {
            None => None,
            Some(None) => Some(None),
            Some(Some(path)) => {
                let name = path
                    .file_name()
                    .map_or_else(|| "avatar".to_owned(), |n| n.to_string_lossy().into_owned());
                let uploaded = self
                    .inner
                    .api
                    .upload(&token, path, &name, |_, _| {})
                    .await?;
                Some(Some(uploaded.file_id))
            }
        };
        let user = self
            .inner
            .api
            .update_profile(
                &token,
                &leetchat_protocol::http::UpdateProfile {
                    display_name: display_name.map(str::to_owned),
                    avatar_file_id,
                },
            )
            .await?;
        self.inner.store.apply_profile(&user)?;
        Ok(user)
    }

    /// Writes a JSON archive of the user's data (profile, devices, rooms,
    /// blocks, own messages) to `dest`; returns its size in bytes.
    pub async fn export_data(&self, dest: &std::path::Path) -> Result<u64> {
        let token = self.inner.session.access_token(false).await?;
        let bytes = self.inner.api.export(&token).await?;
        tokio::fs::write(dest, &bytes)
            .await
            .map_err(|e| Error::File(format!("{}: {e}", dest.display())))?;
        Ok(bytes.len() as u64)
    }

    /// The account's signed-in devices (this one marked `current`).
    pub async fn devices(&self) -> Result<Vec<leetchat_protocol::http::DeviceInfo>> {
        let token = self.inner.session.access_token(false).await?;
        self.inner.api.devices(&token).await
    }

    /// Signs another device of the account out (this one: use `logout`).
    pub async fn sign_out_device(&self, device_id: &str) -> Result<()> {
        let token = self.inner.session.access_token(false).await?;
        self.inner.api.sign_out_device(&token, device_id).await
    }

    /// Deletes the account on the server (the password confirms it), then
    /// forgets this device's tokens. Its messages become tombstones
    /// everywhere; the name stays taken.
    pub async fn delete_account(&self, password: &str) -> Result<()> {
        let token = self.inner.session.access_token(false).await?;
        self.inner.api.delete_account(&token, password).await?;
        self.stop().await;
        if let Some(c) = self.inner.session.take().await {
            self.inner.session.forget(&c.user_name).await?;
        }
        self.inner.store.set_meta("signed_in", "0")?;
        Ok(())
    }

    /// The signed-in user's profile as this device knows it (stored at
    /// sign-in, kept by `user.updated` and `update_profile`).
    pub fn profile(&self) -> Result<leetchat_protocol::User> {
        let me = self.me().ok_or(Error::NotSignedIn)?;
        Ok(self
            .known_user(&me.user_id)?
            .unwrap_or(leetchat_protocol::User {
                user_id: me.user_id,
                display_name: me.user_name.clone(),
                user_name: me.user_name,
                avatar_url: None,
                deactivated: false,
                deleted: false,
            }))
    }

    /// A user as this device knows them (a member of a shared room, or
    /// someone found by a search), if it does.
    pub fn known_user(&self, user_id: &str) -> Result<Option<leetchat_protocol::User>> {
        self.inner.store.user(user_id)
    }

    /// A user's login name as the store knows it, else the id.
    pub fn user_name_of(&self, user_id: &str) -> String {
        self.inner
            .store
            .user_name_of(user_id)
            .ok()
            .flatten()
            .unwrap_or_else(|| user_id.to_owned())
    }

    /// Reports a message to the server's admins.
    pub async fn report(&self, message_id: &str, reason: &str) -> Result<()> {
        self.call(&ReportMessage {
            message_id: message_id.to_owned(),
            reason: reason.to_owned(),
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_found_in_what_was_pasted() {
        let code = "3q2-7wZ0yV1mXkQ8c0fJ2u9hTgAaBbCc";
        for pasted in [
            code.to_owned(),
            format!("  {code}\n"),
            format!("https://chat.example.com/join/{code}"),
            format!("https://chat.example.com/join/{code}/"),
            format!("leetchat://join?server=https%3A%2F%2Fchat.example.com&code={code}"),
        ] {
            assert_eq!(invite_code(&pasted).as_deref(), Some(code), "{pasted}");
        }
        assert_eq!(invite_code(""), None);
        assert_eq!(invite_code("not a code!"), None);
    }
}
