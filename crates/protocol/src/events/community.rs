//! Running a community (protocol 9.8): room invite links, bans, blocks and
//! reports.

use serde::{Deserialize, Serialize};

use crate::objects::User;

/// Most characters of a ban's or a report's reason.
pub const MAX_REASON_CHARS: usize = 1000;

/// `room.invite.create` (owner/admin of a group).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvite {
    /// The group.
    pub room_id: String,
    /// How many people may join with it (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Seconds it lasts (default: until revoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_s: Option<u64>,
}

/// A room invite link's code and how it may be used.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInvite {
    /// The secret that lets someone join (at least 128 random bits).
    pub code: String,
    /// The group it joins.
    pub room_id: String,
    /// People who joined with it.
    pub uses: u32,
    /// How many may (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_uses: Option<u32>,
    /// RFC 3339; absent: until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub expires_at: Option<String>,
    /// Extension: who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub created_by: Option<String>,
    /// Extension: RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub created_at: Option<String>,
}

/// Ack of `room.invite.create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteEnvelope {
    /// The new invite.
    pub invite: RoomInvite,
}

/// `room.invite.list` (owner/admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInvites {
    /// The group.
    pub room_id: String,
}

/// Ack of `room.invite.list`: the invites that still let people join,
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteList {
    /// The invites.
    pub invites: Vec<RoomInvite>,
}

/// `room.invite.revoke` (owner/admin of its room).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeInvite {
    /// The invite's code.
    pub code: String,
}

/// `room.join`: join a group with an invite's code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRoom {
    /// The invite's code.
    pub code: String,
}

/// `room.ban` (owner/admin; nobody bans the owner).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanUser {
    /// The group.
    pub room_id: String,
    /// Who.
    pub user_id: String,
    /// Why (shown to the room's owner and admins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `room.unban` (owner/admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbanUser {
    /// The group.
    pub room_id: String,
    /// Who.
    pub user_id: String,
}

/// `room.bans` (owner/admin).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBans {
    /// The group.
    pub room_id: String,
}

/// One ban.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ban {
    /// Who is banned.
    pub user_id: String,
    /// Why, if a reason was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reason: Option<String>,
    /// Who banned them.
    pub banned_by: String,
    /// RFC 3339.
    pub banned_at: String,
}

/// Ack of `room.bans`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanList {
    /// The bans.
    pub bans: Vec<Ban>,
}

/// `user.block` and `user.unblock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockUser {
    /// Who.
    pub user_id: String,
}

/// `user.unblock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnblockUser {
    /// Who.
    pub user_id: String,
}

/// `user.blocks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListBlocks {}

/// One user the caller blocked.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// Who.
    pub user_id: String,
    /// RFC 3339.
    pub blocked_at: String,
}

/// Ack of `user.blocks`, and the push `user.blocks.updated` (extension) to
/// the caller's other devices when the list changes.
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export, export_to = "../../../ui/src/gen/")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockList {
    /// Newest first.
    pub blocks: Vec<Block>,
}

/// `message.report` (a member of the message's room).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportMessage {
    /// The message.
    pub message_id: String,
    /// What is wrong with it (1 to 1000 characters).
    pub reason: String,
}

/// The push `user.updated` (and the answer of `PATCH /api/me`): a user's
/// profile as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEnvelope {
    /// The user.
    pub user: User,
}
