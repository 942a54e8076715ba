//! Rooms, members, read pointers and the per-room seq counter.

use leetchat_protocol::{Member, Role, Room, RoomType};
use sqlx::{Any, AnyConnection, Executor, FromRow};

use leetchat_protocol::time::rfc3339;

/// A room row.
#[derive(Debug, Clone, FromRow)]
pub struct RoomRow {
    /// Id.
    pub room_id: String,
    /// `direct` or `group`.
    pub room_type: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// 0 or 1.
    pub is_private: i64,
    /// Creator.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Latest seq.
    pub last_seq: i64,
}

impl RoomRow {
    /// The room's type.
    pub fn kind(&self) -> RoomType {
        if self.room_type == "direct" {
            RoomType::Direct
        } else {
            RoomType::Group
        }
    }
}

/// A member row joined with the user's names.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    /// Member.
    pub user_id: String,
    /// `owner`, `admin`, `member`.
    pub role: String,
    /// Unix ms.
    pub joined_at: i64,
    /// Read pointer.
    pub last_read_seq: i64,
    /// Login name.
    pub user_name: String,
    /// Shown name.
    pub display_name: String,
    /// Picture.
    pub avatar_url: Option<String>,
}

impl MemberRow {
    /// The member's role (unknown strings read as plain members).
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }

    fn to_member(&self) -> Member {
        Member {
            user_id: self.user_id.clone(),
            role: self.role(),
            joined_at: rfc3339(self.joined_at),
            user_name: Some(self.user_name.clone()),
            display_name: Some(self.display_name.clone()),
            avatar_url: self.avatar_url.clone(),
            last_read_seq: Some(self.last_read_seq),
        }
    }
}

const ROOM_COLS: &str =
    "room_id, room_type, name, description, is_private, created_by, created_at, last_seq";

/// The room row.
pub async fn row<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Option<RoomRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {ROOM_COLS} FROM rooms WHERE room_id = $1"))
        .bind(room_id)
        .fetch_optional(e)
        .await
}

/// The room's members with names, oldest first.
pub async fn members<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.user_id, m.role, m.joined_at, m.last_read_seq, u.user_name, u.display_name,
                u.avatar_url
         FROM room_members m JOIN users u ON u.user_id = m.user_id
         WHERE m.room_id = $1 ORDER BY m.joined_at, m.user_id",
    )
    .bind(room_id)
    .fetch_all(e)
    .await
}

/// The ids of the room's members.
///
/// Read as one comma-joined row (ids are UUIDs): every message send asks,
/// and sqlx hands SQLite's rows over from a worker thread in batches of 50,
/// so a 1,000-member room cost ~20 thread switches per message (profiled:
/// docs/benchmarks/README.md).
pub async fn member_ids<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let (ids,): (Option<String>,) =
        sqlx::query_as("SELECT string_agg(user_id, ',') FROM room_members WHERE room_id = $1")
            .bind(room_id)
            .fetch_one(e)
            .await?;
    Ok(split_ids(ids))
}

/// The room's members with their roles, in one row as [`member_ids`] reads
/// them (`id:role,id:role`; ids are UUIDs and roles single words).
pub async fn member_roles<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
) -> Result<Vec<(String, Role)>, sqlx::Error> {
    let (pairs,): (Option<String>,) = sqlx::query_as(
        "SELECT string_agg(user_id || ':' || role, ',') FROM room_members WHERE room_id = $1",
    )
    .bind(room_id)
    .fetch_one(e)
    .await?;
    Ok(split_ids(pairs)
        .into_iter()
        .map(|pair| match pair.split_once(':') {
            Some((u, r)) => (u.to_owned(), Role::parse(r).unwrap_or(Role::Member)),
            None => (pair, Role::Member),
        })
        .collect())
}

/// The ids in a comma-joined list (NULL when there were none).
fn split_ids(ids: Option<String>) -> Vec<String> {
    ids.map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The room with its members, as the wire shows it.
pub async fn load(conn: &mut AnyConnection, room_id: &str) -> Result<Option<Room>, sqlx::Error> {
    let Some(r) = row(&mut *conn, room_id).await? else {
        return Ok(None);
    };
    let members = members(&mut *conn, room_id).await?;
    let pins = super::pins::of_room(&mut *conn, room_id).await?;
    Ok(Some(to_room(r, &members, pins)))
}

/// Builds the wire room.
pub fn to_room(r: RoomRow, members: &[MemberRow], pinned_message_ids: Vec<String>) -> Room {
    Room {
        room_type: r.kind(),
        room_id: r.room_id,
        name: r.name,
        description: r.description,
        is_private: r.is_private != 0,
        created_by: r.created_by,
        created_at: rfc3339(r.created_at),
        last_seq: r.last_seq,
        members: members.iter().map(MemberRow::to_member).collect(),
        pinned_message_ids,
    }
}

/// The caller's role in the room, or `None` when not a member.
pub async fn role_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    room_id: &str,
    user_id: &str,
) -> Result<Option<Role>, sqlx::Error> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(e)
            .await?;
    Ok(r.map(|(s,)| Role::parse(&s).unwrap_or(Role::Member)))
}

/// Takes the room's next seq: for [`crate::stream::StreamWrite`] only,
/// which makes it the first statement of its transaction and records an
/// event at the seq. `None` when the room does not exist.
pub async fn next_seq(
    conn: &mut AnyConnection,
    room_id: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let r: Option<(i64,)> = sqlx::query_as(
        "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = $2 WHERE room_id = $1 RETURNING last_seq",
    )
    .bind(room_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|(s,)| s))
}

/// `(room_id, last_seq)` of every room the user is in.
pub async fn seqs_of_user<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.room_id, r.last_seq FROM rooms r \
         JOIN room_members m ON m.room_id = r.room_id WHERE m.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(e)
    .await
}

/// Inserts a room (no members yet). `false` when the id exists.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut AnyConnection,
    room_id: &str,
    kind: RoomType,
    name: &str,
    description: &str,
    is_private: bool,
    created_by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO rooms (room_id, room_type, name, description, is_private, created_by, created_at, last_seq, last_activity_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7) ON CONFLICT (room_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(description)
    .bind(i64::from(is_private))
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Adds a member; `false` when already one. The read pointer starts at the
/// room's current seq so history from before joining does not count as unread.
pub async fn add_member(
    conn: &mut AnyConnection,
    room_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO room_members (room_id, user_id, role, joined_at, last_read_seq)
         SELECT $1, $2, $3, $4, last_seq FROM rooms WHERE room_id = $1
         ON CONFLICT (room_id, user_id) DO NOTHING",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a member; `false` when not one.
pub async fn remove_member(
    conn: &mut AnyConnection,
    room_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets a member's role.
pub async fn set_role(
    conn: &mut AnyConnection,
    room_id: &str,
    user_id: &str,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2")
        .bind(room_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Renames / redescribes a room. Bumps nothing: renames are not stream events.
pub async fn update_info(
    conn: &mut AnyConnection,
    room_id: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE rooms SET name = COALESCE($2, name), description = COALESCE($3, description) WHERE room_id = $1",
    )
    .bind(room_id)
    .bind(name)
    .bind(description)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves the read pointer forward (never back, never past the room's last
/// seq). Returns the pointer after the update, or `None` when not a member.
pub async fn advance_read(
    conn: &mut AnyConnection,
    room_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE room_members SET last_read_seq = $3
         WHERE room_id = $1 AND user_id = $2 AND last_read_seq < $3",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(seq)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT last_read_seq FROM room_members WHERE room_id = $1 AND user_id = $2",
    )
    .bind(room_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(r.map(|(s,)| (s, moved)))
}

/// The ids of the user's rooms, most recently active first.
pub async fn ids_of_user<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT r.room_id FROM rooms r JOIN room_members m ON m.room_id = r.room_id
         WHERE m.user_id = $1 ORDER BY r.last_activity_at DESC, r.room_id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Users who share a room of at most `max_members` members with `user_id`
/// (excluding them). Rooms are counted only up to `max_members + 1`, so a
/// huge group costs no more than a small one.
pub async fn contacts_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: &str,
    max_members: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let (ids,): (Option<String>,) = sqlx::query_as(
        "SELECT string_agg(user_id, ',') FROM (
           SELECT DISTINCT b.user_id FROM room_members b
           WHERE b.user_id <> $1 AND b.room_id IN (
               SELECT a.room_id FROM room_members a WHERE a.user_id = $1
                 AND (SELECT COUNT(*) FROM (SELECT 1 FROM room_members c
                                            WHERE c.room_id = a.room_id LIMIT $3) AS n) <= $2)
         ) AS contacts",
    )
    .bind(user_id)
    .bind(i64::from(max_members))
    .bind(i64::from(max_members) + 1)
    .fetch_one(e)
    .await?;
    Ok(split_ids(ids))
}

/// Whether two users share a room.
pub async fn share_a_room<'e, E: Executor<'e, Database = Any>>(
    e: E,
    a: &str,
    b: &str,
) -> Result<bool, sqlx::Error> {
    let r: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM room_members x JOIN room_members y ON x.room_id = y.room_id
         WHERE x.user_id = $1 AND y.user_id = $2 LIMIT 1",
    )
    .bind(a)
    .bind(b)
    .fetch_optional(e)
    .await?;
    Ok(r.is_some())
}
