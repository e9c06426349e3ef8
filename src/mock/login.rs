//! Logging in by QR code in the mock world: `scan` events, the pending scan a new Event stream
//! gets replayed (as the official server does, until the login), and a world whose `Start`
//! shows a QR code instead of logging in at once.

use serde_json::json;

use super::world::{MockScan, MockWorld};
use crate::event::ScanStatus;
use crate::generated::wechaty::puppet::EventType;
use crate::ids::ContactId;

impl MockScan {
    /// The event's payload, as a puppet sends it: `{"status": 2, "qrcode": "…"}` (no `qrcode`
    /// key when there is none).
    fn payload(&self) -> String {
        let mut payload = json!({ "status": self.status.number() });
        if !self.qrcode.is_empty() {
            payload["qrcode"] = json!(self.qrcode);
        }
        payload.to_string()
    }
}

impl MockWorld {
    /// The puppet reports login progress: emits `scan` (`{"status": …, "qrcode": …}`) and keeps
    /// it as the pending scan, replayed to every Event stream opened until the next
    /// [`login`](Self::login) (right after the heartbeat, as the official server does).
    ///
    /// ```
    /// use wechaty_client::mock::MockWorld;
    /// use wechaty_client::ScanStatus;
    ///
    /// let world = MockWorld::new();
    /// world.scan(ScanStatus::Waiting, "https://login.weixin.qq.com/l/abc==");
    /// assert_eq!(world.pending_scan().unwrap().status, ScanStatus::Waiting);
    /// world.login("bot");
    /// assert_eq!(world.pending_scan(), None);
    /// ```
    pub fn scan(&self, status: ScanStatus, qrcode: &str) {
        let scan = MockScan {
            status,
            qrcode: qrcode.to_owned(),
        };
        let payload = scan.payload();
        self.state().pending_scan = Some(scan);
        self.hub().emit(EventType::Scan as i32, payload);
    }

    /// The scan emitted since the last login, if any.
    pub fn pending_scan(&self) -> Option<MockScan> {
        self.state().pending_scan.clone()
    }

    /// From now on the bot logs in by QR code: the world is logged out (quietly, as a puppet
    /// that never logged in), and `Start` on a logged-out world shows `qrcode` (a `scan`,
    /// [`Waiting`](ScanStatus::Waiting)) instead of logging in at once. Then
    /// [`confirm_scan`](Self::confirm_scan) is the phone that scans it.
    ///
    /// ```
    /// use wechaty_client::mock::MockWorld;
    ///
    /// let world = MockWorld::demo();
    /// world.require_scan("https://login.weixin.qq.com/l/abc==");
    /// assert_eq!(world.current_user(), None);
    /// // A bot's `start()` now gets `scan` (waiting); later:
    /// world.confirm_scan("bot");
    /// assert_eq!(world.current_user().unwrap().as_str(), "bot");
    /// ```
    pub fn require_scan(&self, qrcode: impl Into<String>) {
        let mut state = self.state();
        state.logged_in = false;
        state.login_qrcode = Some(qrcode.into());
    }

    /// The phone scans the QR code and the user confirms: `scan`
    /// [`Scanned`](ScanStatus::Scanned), `scan` [`Confirmed`](ScanStatus::Confirmed) (with the
    /// QR code shown), then [`login`](Self::login) as `contact_id` (which clears the pending
    /// scan), whether or not a QR code was showing.
    pub fn confirm_scan(&self, contact_id: impl Into<ContactId>) {
        let qrcode = self.shown_qrcode();
        self.scan(ScanStatus::Scanned, &qrcode);
        self.scan(ScanStatus::Confirmed, &qrcode);
        self.login(contact_id);
    }

    /// The QR code on show: the pending scan's, else the one [`require_scan`] gave, else `""`.
    ///
    /// [`require_scan`]: Self::require_scan
    pub(crate) fn shown_qrcode(&self) -> String {
        let state = self.state();
        state
            .pending_scan
            .as_ref()
            .map(|scan| scan.qrcode.clone())
            .filter(|qrcode| !qrcode.is_empty())
            .or_else(|| state.login_qrcode.clone())
            .unwrap_or_default()
    }

    /// What `Start` does to a logged-out puppet: when the world requires a scan, shows its QR
    /// code (unless a scan is pending already: the puppet runs and shows it); otherwise logs
    /// in again as the bot it was, if it ever was one.
    pub(super) fn start_puppet(&self) {
        enum Next {
            Nothing,
            Scan(String),
            Login(ContactId),
        }
        let next = {
            let state = self.state();
            match (&state.login_qrcode, &state.self_id) {
                _ if state.logged_in || state.pending_scan.is_some() => Next::Nothing,
                (Some(qrcode), _) => Next::Scan(qrcode.clone()),
                (None, Some(self_id)) => Next::Login(self_id.clone()),
                (None, None) => Next::Nothing,
            }
        };
        match next {
            Next::Nothing => {}
            Next::Scan(qrcode) => self.scan(ScanStatus::Waiting, &qrcode),
            Next::Login(self_id) => self.login(self_id),
        }
    }

    /// The pending scan's payload, for the replay at the start of an Event stream.
    pub(super) fn scan_replay(&self) -> Option<String> {
        self.state().pending_scan.as_ref().map(MockScan::payload)
    }
}
