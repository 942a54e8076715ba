//! The ROOM argument: a room id, a user name (the direct room with that
//! user), or a group name that matches exactly one stored group.

use leetchat_client::RoomView;

/// What a ROOM argument matched in the stored rooms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one room: its id.
    Room(String),
    /// No stored room (a sync may bring it).
    None,
    /// Several groups have this name: their ids.
    Ambiguous(Vec<String>),
}

/// Finds the room `arg` names among `rooms`, as seen by the user `me`.
///
/// A room id wins; then the direct room whose other member has that login
/// name (compared case-insensitively, like the server does); then the one
/// group with exactly that name.
pub fn find(rooms: &[RoomView], me: &str, arg: &str) -> Match {
    if let Some(r) = rooms.iter().find(|r| r.room_id == arg) {
        return Match::Room(r.room_id.clone());
    }
    if let Some(r) = rooms.iter().find(|r| {
        r.room_type == "direct"
            && r.members
                .iter()
                .any(|m| m.user_id != me && m.user_name.eq_ignore_ascii_case(arg))
    }) {
        return Match::Room(r.room_id.clone());
    }
    let groups: Vec<String> = rooms
        .iter()
        .filter(|r| r.room_type == "group" && r.name == arg)
        .map(|r| r.room_id.clone())
        .collect();
    match groups.as_slice() {
        [] => Match::None,
        [one] => Match::Room(one.clone()),
        _ => Match::Ambiguous(groups),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leetchat_client::views::MemberView;

    fn member(id: &str, name: &str) -> MemberView {
        MemberView {
            user_id: id.into(),
            user_name: name.into(),
            display_name: String::new(),
            role: "member".into(),
            last_read_seq: 0,
            status: None,
            last_seen: None,
            avatar_url: None,
        }
    }

    fn room(id: &str, kind: &str, name: &str, members: Vec<MemberView>) -> RoomView {
        RoomView {
            room_id: id.into(),
            room_type: kind.into(),
            name: name.into(),
            description: String::new(),
            members,
            last_seq: 0,
            unread_count: 0,
            my_read_seq: 0,
            last_message: None,
            has_older: false,
            mention_count: 0,
            pinned_message_ids: Vec::new(),
            notify_level: Default::default(),
            mute_until: None,
            notify_follows_default: true,
        }
    }

    fn rooms() -> Vec<RoomView> {
        let me = member("u-me", "me");
        vec![
            room(
                "direct_bob",
                "direct",
                "Bobby",
                vec![me.clone(), member("u-bob", "bob")],
            ),
            room("g1", "group", "team", vec![me.clone()]),
            room("g2", "group", "twins", vec![me.clone()]),
            room("g3", "group", "twins", vec![me.clone()]),
            room("g4", "group", "bob", vec![me]),
        ]
    }

    #[test]
    fn a_room_id_names_its_room() {
        assert_eq!(find(&rooms(), "u-me", "g2"), Match::Room("g2".into()));
    }

    #[test]
    fn a_user_name_names_the_direct_room_with_that_user_before_a_group() {
        assert_eq!(
            find(&rooms(), "u-me", "BOB"),
            Match::Room("direct_bob".into())
        );
    }

    #[test]
    fn my_own_name_does_not_pick_a_direct_room() {
        assert_eq!(find(&rooms(), "u-me", "me"), Match::None);
    }

    #[test]
    fn a_group_name_must_match_exactly_one_group() {
        assert_eq!(find(&rooms(), "u-me", "team"), Match::Room("g1".into()));
        assert_eq!(find(&rooms(), "u-me", "Team"), Match::None);
        assert_eq!(
            find(&rooms(), "u-me", "twins"),
            Match::Ambiguous(vec!["g2".into(), "g3".into()])
        );
    }
}
