//! The first attempts of a run. When the first N of them are all refused permanently with the
//! same enhanced status code (every RCPT answered `550 5.7.1 relay denied`, a sender the server
//! does not accept), it is a setting that is wrong, not N bad mailboxes: the run stops before it
//! marks the whole population `failed`. Any acceptance, other failure or other code ends the
//! watch for the rest of the run. Pure.

/// What the first attempts of a run said.
#[derive(Debug, Default)]
pub struct Opening {
    /// N; 0 never stops.
    limit: u32,
    refused: u32,
    /// The code the refusals share, and the first reply with it.
    code: Option<(String, String)>,
    over: bool,
}

impl Opening {
    pub fn new(limit: u32) -> Opening {
        Opening {
            limit,
            over: limit == 0,
            ..Opening::default()
        }
    }

    /// Anything but a permanent refusal: the watch is over.
    pub fn other(&mut self) {
        self.over = true;
    }

    /// A permanent refusal with `reply`. Returns why the run should stop when it makes N in a
    /// row with one code.
    pub fn refused(&mut self, reply: &str) -> Option<String> {
        if self.over {
            return None;
        }
        let code = code_of(reply);
        match &self.code {
            Some((first, _)) if *first != code => {
                self.over = true;
                return None;
            }
            Some(_) => {}
            None => self.code = Some((code, reply.to_string())),
        }
        self.refused += 1;
        if self.refused < self.limit {
            return None;
        }
        self.over = true;
        let (code, first) = self.code.as_ref()?;
        Some(format!(
            "the first {} messages of this run were all refused with {code} (\"{first}\"); that looks like a configuration problem (relay denied, a sender the server does not accept), not {} bad mailboxes: check [transport] and [message] from; the people not tried yet are untouched, and those refused are marked failed: `send --retry-failed` tries them again",
            self.refused, self.refused
        ))
    }
}

/// The reply's enhanced status code (`5.7.1`), or its first word when it has none.
fn code_of(reply: &str) -> String {
    let reply = reply.trim_start();
    let (first, rest) = reply.split_once(char::is_whitespace).unwrap_or((reply, ""));
    match crate::transport::smtp::enhanced_code(rest.trim_start()) {
        Some(enhanced) => enhanced.to_string(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: &str = "554 5.7.1 <a@contoso.com>: Relay access denied";

    #[test]
    fn n_refusals_with_one_code_stop_the_run_with_the_reply() {
        let mut o = Opening::new(3);
        assert_eq!(o.refused(RELAY), None);
        assert_eq!(
            o.refused("554 5.7.1 <b@contoso.com>: Relay access denied"),
            None
        );
        let why = o.refused(RELAY).unwrap();
        assert!(why.contains("first 3 messages"), "{why}");
        assert!(why.contains("5.7.1"), "{why}");
        assert!(why.contains("Relay access denied"), "{why}");
        assert!(why.contains("--retry-failed"), "{why}");
        assert_eq!(o.refused(RELAY), None, "said once");
    }

    #[test]
    fn an_acceptance_or_another_code_ends_the_watch() {
        let mut o = Opening::new(2);
        o.refused(RELAY);
        o.other();
        assert_eq!(o.refused(RELAY), None);
        let mut o = Opening::new(2);
        o.refused(RELAY);
        assert_eq!(o.refused("550 5.1.1 User unknown"), None);
        assert_eq!(o.refused(RELAY), None);
        assert_eq!(Opening::new(0).refused(RELAY), None, "0 turns it off");
    }
}
