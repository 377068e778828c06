//! SSH: how lvsctl reaches hosts. One connection per host, reused for the whole run; host
//! keys checked by our own known_hosts reader before authentication.

pub mod known_hosts;
pub mod session;

pub use session::{ExecOutput, Options, Session, SshError, Target, DEFAULT_STALL_TIMEOUT};
