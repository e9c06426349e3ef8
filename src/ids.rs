//! Typed ids, so a room id can never be passed where a contact id is expected.

/// Most members a room's member list may have: a WeChat room holds 500, a WeCom one 2,000; a
/// longer list is a broken or hostile service's, refused rather than kept.
pub(crate) const MAX_MEMBER_IDS: usize = 10_000;

/// About how many bytes a list of ids holds on the heap.
pub(crate) fn weight_of_ids<I: AsRef<str>>(ids: &[I]) -> usize {
    ids.iter()
        .map(|id| id.as_ref().len() + 3 * std::mem::size_of::<usize>())
        .sum()
}

/// About how many bytes an optional text holds on the heap.
pub(crate) fn weight_of_text(text: &Option<String>) -> usize {
    text.as_ref().map_or(0, String::len)
}

use std::fmt;
use std::sync::Arc;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps an id as the service spells it.
            pub fn new(id: impl AsRef<str>) -> Self {
                Self(Arc::from(id.as_ref()))
            }

            /// The id as the service spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's shared text, for keys that should not copy it.
            #[allow(dead_code)] // not every kind of id is a key
            pub(crate) fn shared(&self) -> Arc<str> {
                Arc::clone(&self.0)
            }

            /// About how many bytes the id holds on the heap: its text and the `Arc`'s counts.
            #[allow(dead_code)] // not every kind of id is weighed
            pub(crate) fn weight(&self) -> usize {
                self.0.len() + 2 * std::mem::size_of::<usize>()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(Arc::from(id))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// The id of a contact (a WeChat user, including the bot itself).
    ///
    /// ```
    /// use wechaty_client::ContactId;
    /// let id = ContactId::from("wxid_ann");
    /// assert_eq!(id.as_str(), "wxid_ann");
    /// ```
    ContactId
);
id_type!(
    /// The id of a room (a WeChat group chat), usually ending in `@chatroom`.
    ///
    /// ```
    /// use wechaty_client::RoomId;
    /// let id = RoomId::from("r1@chatroom");
    /// assert_eq!(id.to_string(), "r1@chatroom");
    /// ```
    RoomId
);
id_type!(
    /// The id of a message.
    ///
    /// ```
    /// use wechaty_client::MessageId;
    /// assert_eq!(MessageId::new("m-1"), MessageId::from("m-1"));
    /// ```
    MessageId
);

/// `""` is how proto3 says "absent"; this turns it into `None`.
pub(crate) fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}
