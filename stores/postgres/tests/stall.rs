//! R-SAFE-1: the store never hangs on a server that stops answering. A fake server accepts TCP and then
//! says nothing, before or after the startup exchange; every call must fail within its timeouts, as
//! `Unavailable`, and no error may show the connection string's password. No database is needed.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::time::Duration;

use common::{accept_startup, fake_server};

use refresh_rotation::error::StoreError;
use refresh_rotation::store::{AsyncRefreshTokenStore, FamilyId};
use refresh_rotation_postgres::PgRefreshTokenStore;

const PASSWORD: &str = "pw-xyzzy-not-shown";

/// A server that accepts TCP and, if `handshake`, completes the startup (AuthenticationOk,
/// ReadyForQuery); then reads whatever comes and never answers. Its port.
fn silent_server(handshake: bool) -> u16 {
    fake_server(move |mut s| {
        if handshake {
            accept_startup(&mut s)?;
        }
        let mut sink = [0u8; 1024];
        while s.read(&mut sink)? > 0 {}
        Ok(())
    })
}

fn url(port: u16) -> String {
    format!("postgresql://rr:{PASSWORD}@127.0.0.1:{port}/db")
}

fn assert_unavailable(e: &StoreError) {
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(!format!("{e} {e:?}").contains(PASSWORD), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_safe_1_a_server_that_never_completes_the_startup_fails_the_connect_in_time() {
    let url = url(silent_server(false));
    let connect = PgRefreshTokenStore::builder()
        .connect_timeout(Duration::from_secs(1))
        .connect(&url);
    let answer = tokio::time::timeout(Duration::from_secs(20), connect)
        .await
        .expect("connect returns, it does not hang");
    assert_unavailable(&answer.unwrap_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_safe_1_a_statement_the_server_never_answers_fails_in_time() {
    let store = PgRefreshTokenStore::builder()
        .connect_timeout(Duration::from_secs(1))
        .statement_timeout(Some(Duration::from_secs(1)))
        .connect(&url(silent_server(true)))
        .await
        .expect("the fake server completes the startup");
    let id = FamilyId::from_bytes([7; 16]);
    for _ in 0..2 {
        let read = store.read(&id);
        let answer = tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the read returns, it does not hang");
        assert_unavailable(&answer.unwrap_err());
    }
}
