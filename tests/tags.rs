//! Tags against the mock: adding, removing, deleting, listing every tag and a contact's.

mod common;

use wechaty_client::mock::MockWorld;
use wechaty_client::Tag;

fn names(tags: &[Tag]) -> Vec<&str> {
    tags.iter().map(Tag::name).collect()
}

#[tokio::test]
async fn add_remove_delete_and_list() {
    let server = common::serve("insecure_tags", MockWorld::demo()).await;
    let (bot, _events) = common::started(server.bot_builder()).await;
    let world = server.world();
    let (ann, ben) = (bot.contact("ann"), bot.contact("ben"));
    assert!(bot.tags().await.unwrap().is_empty());

    let vip = bot.tag("vip");
    vip.add(&ann).await.unwrap();
    vip.add(&ben).await.unwrap();
    bot.tag("family").add(&ann).await.unwrap();
    assert_eq!(names(&bot.tags().await.unwrap()), ["family", "vip"]);
    assert_eq!(names(&ann.tags().await.unwrap()), ["family", "vip"]);
    assert_eq!(names(&ben.tags().await.unwrap()), ["vip"]);
    assert_eq!(world.tags_of("ann"), ["family", "vip"]);

    vip.remove(&ann).await.unwrap();
    assert_eq!(names(&ann.tags().await.unwrap()), ["family"]);
    vip.delete().await.unwrap();
    assert!(ben.tags().await.unwrap().is_empty());
    assert_eq!(names(&bot.tags().await.unwrap()), ["family"]);

    // Both fields of the list request carry the contact, for old servers and new.
    let sent = world.requests("TagContactList");
    assert!(
        sent.iter().any(|r| r.contains("contact_id: \"ben\"")
            && r.contains("contact_id_string_value_deprecated: Some(\"ben\")")),
        "{sent:?}"
    );

    let unknown = bot
        .tag("vip")
        .add(&bot.contact("nobody"))
        .await
        .unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("no payload found for id nobody"),
        "{unknown}"
    );
    assert!(bot.tag("never").delete().await.is_err(), "no such tag");
    let empty = bot.tag("").add(&ann).await.unwrap_err();
    assert!(empty.to_string().contains("cannot be empty"), "{empty}");
}
