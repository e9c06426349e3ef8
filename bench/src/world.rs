//! The world the benchmarks run against: many rooms, many contacts, and big rooms whose members
//! all have names, contact aliases and room aliases (so a member list loads everything).

use wechaty_client::mock::{MockContact, MockRoom, MockWorld};

/// How big the benchmark world is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldSize {
    /// Ordinary rooms (`room0@chatroom` … topic `Bench room 0` …).
    pub rooms: usize,
    /// Contacts (`contact0` … named `Member 0` …, alias `Alias 0` …).
    pub contacts: usize,
    /// Members of each ordinary room.
    pub room_members: usize,
    /// Member counts of the big rooms (`big500@chatroom` has 500 members, every one with a
    /// room alias).
    pub big_rooms: Vec<usize>,
}

impl Default for WorldSize {
    /// 1,000 rooms of 20 members, 50,000 contacts, big rooms of 500 and 5,000 members.
    fn default() -> Self {
        Self {
            rooms: 1_000,
            contacts: 50_000,
            room_members: 20,
            big_rooms: vec![500, 5_000],
        }
    }
}

/// The id of ordinary room `index`.
pub fn room_id(index: usize) -> String {
    format!("room{index}@chatroom")
}

/// The topic of ordinary room `index`.
pub fn room_topic(index: usize) -> String {
    format!("Bench room {index}")
}

/// The id of contact `index`.
pub fn contact_id(index: usize) -> String {
    format!("contact{index}")
}

/// The name of contact `index`.
pub fn contact_name(index: usize) -> String {
    format!("Member {index}")
}

/// The id of the big room with `members` members.
pub fn big_room_id(members: usize) -> String {
    format!("big{members}@chatroom")
}

/// Builds the world: the bot `bot` logged in, then contacts, rooms and big rooms.
pub fn bench_world(size: &WorldSize) -> MockWorld {
    let world = MockWorld::new();
    world.add_contact(MockContact::new("bot", "Bench Bot"));
    let biggest = size.big_rooms.iter().copied().max().unwrap_or(0);
    for index in 0..size.contacts.max(biggest) {
        world.add_contact(
            MockContact::new(contact_id(index), contact_name(index))
                .alias(format!("Alias {index}")),
        );
    }
    let contacts = size.contacts.max(1);
    for index in 0..size.rooms {
        let first = index * size.room_members;
        let members = (0..size.room_members).map(|offset| contact_id((first + offset) % contacts));
        world.add_room(
            MockRoom::new(room_id(index), room_topic(index))
                .members(std::iter::once("bot".to_owned()).chain(members))
                .owner("bot"),
        );
    }
    for &members in &size.big_rooms {
        let mut room = MockRoom::new(big_room_id(members), format!("Big room {members}"))
            .members((0..members).map(contact_id))
            .owner(contact_id(0));
        for index in 0..members {
            room = room.room_alias(contact_id(index), format!("Nick {index}"));
        }
        world.add_room(room);
    }
    world.login("bot");
    world
}
