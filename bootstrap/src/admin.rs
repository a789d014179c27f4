//! `admin keys create|list|revoke`: the operator's tool for API keys. The command line and the
//! output are here, over any [`KeyStore`], so that every composition that keeps keys (the
//! `admin` binary on PostgreSQL, the embedded shortener on its own file) offers the same
//! commands with the same output.

use std::io::Write;

use application::ports::{Clock, KeyGenerator, KeyRecord, KeyStore};
use application::use_cases::{create_key, list_keys, revoke_key};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::{KeyId, Role};

pub const USAGE: &str = "usage: admin keys create --name NAME --role admin|member\n       \
                         admin keys list\n       admin keys revoke ID";

/// One command of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create { name: String, role: Role },
    List,
    Revoke(KeyId),
}

impl Command {
    /// The command the arguments (after the program's name) ask for.
    ///
    /// # Errors
    /// What is wrong with them, as one line; the caller shows [`USAGE`] too.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["keys", "create", options @ ..] => create(options),
            ["keys", "list"] => Ok(Self::List),
            ["keys", "revoke", id] => id
                .parse::<i64>()
                .map(|id| Self::Revoke(KeyId(id)))
                .map_err(|_| format!("'{id}' is not a key id (a number, from `admin keys list`)")),
            _ => Err("unknown command".to_owned()),
        }
    }
}

fn create(options: &[&str]) -> Result<Command, String> {
    let (mut name, mut role) = (None, None);
    let mut rest = options.iter();
    while let Some(option) = rest.next() {
        let (key, inline) = match option.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (*option, None),
        };
        let mut value = || {
            inline
                .or_else(|| rest.next().copied())
                .ok_or_else(|| format!("{key} needs a value"))
        };
        match key {
            "--name" => name = Some(value()?.to_owned()),
            "--role" => role = Some(value()?.parse::<Role>().map_err(|e| e.to_string())?),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(Command::Create {
        name: name.ok_or("--name is required")?,
        role: role.ok_or("--role is required (admin or member)")?,
    })
}

/// Carries out `command` against `keys`, writing what it did to `out`. `create` prints the new
/// key alone on the last line, so that a script can take it with `tail -n 1`.
///
/// # Errors
/// Why it failed, as one line.
pub async fn run(
    command: Command,
    keys: &impl KeyStore,
    generator: &impl KeyGenerator,
    clock: &impl Clock,
    out: &mut impl Write,
) -> Result<(), String> {
    let written = |e: std::io::Error| format!("cannot write the output: {e}");
    match command {
        Command::Create { name, role } => {
            let (record, key) = create_key(keys, generator, clock, &name, role)
                .await
                .map_err(|e| e.to_string())?;
            writeln!(
                out,
                "created key {} \"{}\" ({}); it is shown this once, keep it now:",
                record.id, record.name, record.role
            )
            .map_err(written)?;
            writeln!(out, "{}", key.reveal()).map_err(written)
        }
        Command::List => {
            let records = list_keys(keys).await.map_err(|e| e.to_string())?;
            write_table(&records, out).map_err(written)
        }
        Command::Revoke(id) => {
            let record = revoke_key(keys, clock, id)
                .await
                .map_err(|e| e.to_string())?;
            writeln!(
                out,
                "revoked key {} \"{}\" at {}",
                record.id,
                record.name,
                record.revoked_at.map(time).unwrap_or_default()
            )
            .map_err(written)
        }
    }
}

fn write_table(records: &[KeyRecord], out: &mut impl Write) -> std::io::Result<()> {
    let width = records
        .iter()
        .map(|r| r.name.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    writeln!(
        out,
        "{:>6}  {:<width$}  {:<6}  {:<20}  REVOKED",
        "ID", "NAME", "ROLE", "CREATED"
    )?;
    for record in records {
        writeln!(
            out,
            "{:>6}  {:<width$}  {:<6}  {:<20}  {}",
            record.id,
            record.name,
            record.role,
            time(record.created_at),
            record.revoked_at.map(time).unwrap_or_else(|| "-".into())
        )?;
    }
    Ok(())
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use application::ports::{MockClock, MockKeyGenerator, MockKeyStore, NewKey};
    use domain::ApiKey;
    use futures::executor::block_on;
    use rstest::rstest;

    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[rstest]
    #[case("keys create --name ci --role member", Command::Create { name: "ci".into(), role: Role::Member })]
    #[case("keys create --role=admin --name=ops", Command::Create { name: "ops".into(), role: Role::Admin })]
    #[case("keys list", Command::List)]
    #[case("keys revoke 12", Command::Revoke(KeyId(12)))]
    fn reads_the_commands(#[case] line: &str, #[case] command: Command) {
        assert_eq!(Command::parse(&args(line)), Ok(command));
    }

    #[rstest]
    #[case("", "unknown command")]
    #[case("keys delete 1", "unknown command")]
    #[case(
        "keys revoke x",
        "'x' is not a key id (a number, from `admin keys list`)"
    )]
    #[case("keys create --role admin", "--name is required")]
    #[case("keys create --name ci", "--role is required (admin or member)")]
    #[case(
        "keys create --name ci --role root",
        "the role 'root' does not exist; use admin or member"
    )]
    #[case("keys create --name", "--name needs a value")]
    #[case("keys create --name ci --role admin --ttl 5", "unknown option '--ttl'")]
    fn says_what_is_wrong_with_a_command(#[case] line: &str, #[case] error: &str) {
        assert_eq!(Command::parse(&args(line)), Err(error.to_owned()));
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn record(id: i64, name: &str, revoked: bool) -> KeyRecord {
        KeyRecord {
            id: KeyId(id),
            name: name.into(),
            role: Role::Member,
            created_at: at(),
            revoked_at: revoked.then(at),
        }
    }

    fn output(command: Command, keys: &MockKeyStore) -> String {
        let key = ApiKey::from_secret([5; 32]);
        let mut generator = MockKeyGenerator::new();
        generator.expect_generate().returning(move || key.clone());
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at());
        let mut out = Vec::new();
        block_on(run(command, keys, &generator, &clock, &mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn create_prints_the_key_alone_on_the_last_line() {
        let mut keys = MockKeyStore::new();
        keys.expect_create()
            .returning(|new: &NewKey| Ok(record(7, &new.name, false)));

        let printed = output(
            Command::Create {
                name: "ci".into(),
                role: Role::Member,
            },
            &keys,
        );

        assert_eq!(
            printed.lines().last(),
            Some(ApiKey::from_secret([5; 32]).reveal())
        );
        assert!(
            printed.starts_with("created key 7 \"ci\" (member)"),
            "{printed}"
        );
    }

    #[test]
    fn list_prints_every_key_but_never_a_secret() {
        let mut keys = MockKeyStore::new();
        keys.expect_list()
            .returning(|| Ok(vec![record(1, "ops", false), record(2, "old ci", true)]));

        let printed = output(Command::List, &keys);

        assert_eq!(
            printed,
            "    ID  NAME    ROLE    CREATED               REVOKED\n     \
             1  ops     member  2023-11-14T22:13:20Z  -\n     \
             2  old ci  member  2023-11-14T22:13:20Z  2023-11-14T22:13:20Z\n"
        );
    }

    #[test]
    fn revoke_says_when() {
        let mut keys = MockKeyStore::new();
        keys.expect_revoke()
            .returning(|id, _| Ok(Some(record(id.0, "ci", true))));

        assert_eq!(
            output(Command::Revoke(KeyId(3)), &keys),
            "revoked key 3 \"ci\" at 2023-11-14T22:13:20Z\n"
        );
    }
}
