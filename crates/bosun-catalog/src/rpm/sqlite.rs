//! rpm's sqlite backend (rpm 4.16+): table `Packages(hnum, blob)`, read
//! from the bytes in memory, never from a file.

use rusqlite::{Connection, DatabaseName, OpenFlags};

use super::Records;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub fn read(data: &[u8]) -> Result<Records, String> {
    if data.len() < 100 || data.get(..16) != Some(MAGIC) {
        return Err("not an SQLite database (bad magic)".into());
    }
    if i32::try_from(data.len()).is_err() {
        return Err(format!(
            "sqlite database of {} bytes is too big",
            data.len()
        ));
    }
    // rpm keeps its database in WAL mode, which an in-memory copy cannot
    // open; header bytes 18-19 set to 1 mean "rollback journal" instead.
    let header: Vec<u8> = data[..18].iter().copied().chain([1, 1]).collect();
    let reader = std::io::Read::chain(&header[..], &data[20..]);
    let err = |e: rusqlite::Error| format!("sqlite: {e}");
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.deserialize_read_exact(DatabaseName::Main, reader, data.len(), true)
        .map_err(err)?;
    // Only a plain table is read: a view or virtual table could make the
    // query run arbitrary (and unbounded) work.
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => "sqlite: no Packages table".to_string(),
            e => err(e),
        })?;
    if sql.is_some_and(|s| {
        s.trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL")
    }) {
        return Err("sqlite: Packages is a virtual table".into());
    }
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1))))
        .map_err(err)?;
    let mut out = Records::new();
    for row in rows {
        out.push(match row {
            Ok((_, Ok(blob))) => Ok(blob),
            Ok((hnum, Err(e))) => Err(format!("sqlite: package {hnum}: {e}")),
            Err(e) => Err(err(e)),
        });
    }
    Ok(out)
}
