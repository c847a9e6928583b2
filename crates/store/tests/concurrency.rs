//! Several connections opening one fresh database at the same moment: the schema migrations run
//! under an exclusive lock, so every opener succeeds and each step is applied exactly once.

use std::sync::{Arc, Barrier};

use store::Store;
use store::migrations::LATEST_VERSION;

const ROUNDS: usize = 20;
const OPENERS: usize = 4;

#[test]
fn openers_racing_on_a_fresh_directory_all_succeed() {
    for round in 0..ROUNDS {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let barrier = Arc::new(Barrier::new(OPENERS));
        let handles: Vec<_> = (0..OPENERS)
            .map(|_| {
                let dir = dir.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&dir).map(|s| s.schema_version().unwrap())
                })
            })
            .collect();
        for h in handles {
            let version = h
                .join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(version, LATEST_VERSION, "round {round}");
        }
        let store = Store::open(&dir).unwrap();
        let applied: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(applied, i64::from(LATEST_VERSION), "round {round}");
    }
}
