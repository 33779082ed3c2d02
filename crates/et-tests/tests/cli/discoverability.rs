//! What a newcomer meets first: help where they look for it, clap's hints
//! kept, errors pointing to the right `--help`.

use std::process::Output;

use crate::common;

use common::{et_stdin, text};

fn et(args: &[&str]) -> Output {
    et_stdin(args, b"")
}

#[test]
fn et_alone_and_a_group_alone_print_their_subcommands() {
    for (args, commands) in [
        (&[][..], &["call", "sandbox", "demo", "notify"][..]),
        (&["sandbox"][..], &["init", "serve", "admin", "faults"][..]),
        (&["notify"][..], &["sign", "verify", "send"][..]),
    ] {
        let out = et(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let help = text(&out.stderr);
        for command in commands {
            assert!(help.contains(&format!("  {command} ")), "{args:?}: {help}");
        }
    }
}

#[test]
fn clap_hints_are_kept_and_point_to_the_subcommands_help() {
    let out = et(&["cal"]);
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("a similar subcommand exists: 'call'"), "{err}");
    let out = et(&["demo", "--jmp"]);
    let err = text(&out.stderr);
    assert!(err.contains("a similar argument exists: '--jump'"), "{err}");
    assert!(err.contains("(see `et demo --help`)"), "{err}");
    let err = text(&et(&["sandbox", "admin", "--nope"]).stderr);
    assert!(err.contains("(see `et sandbox admin --help`)"), "{err}");
}

#[test]
fn the_endpoint_is_accepted_after_a_faults_subcommand() {
    // Nothing listens there: the failure is the connection, not the arguments.
    let out = et(&[
        "sandbox",
        "faults",
        "list",
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(
        err.contains("Connection refused") || err.contains("connect"),
        "{err}"
    );
}

#[test]
fn the_exit_code_table_is_printed_once_at_the_top_and_as_a_help_topic() {
    let table = text(&et(&["help", "exit-codes"]).stdout);
    for (code, meaning) in et_cli::exit_codes() {
        assert!(table.contains(&format!("  {code}  {meaning}")), "{table}");
    }
    assert!(text(&et(&["--help"]).stdout).contains(table.trim_end()));
    let call = text(&et(&["call", "--help"]).stdout);
    assert!(
        !call.contains("  3  "),
        "no table in a subcommand's help: {call}"
    );
    assert!(call.contains("et help exit-codes"), "{call}");
}

#[test]
fn faults_add_help_lists_the_fault_kinds() {
    let help = text(&et(&["sandbox", "faults", "add", "--help"]).stdout);
    for kind in [
        "latency",
        "http_status",
        "reset",
        "error_code",
        "notify_drop",
    ] {
        assert!(help.contains(kind), "{kind}: {help}");
    }
}

#[test]
fn profile_options_show_only_where_they_change_something() {
    let verify = text(&et(&["notify", "verify", "--help"]).stdout);
    assert!(
        verify.contains("--notify-sign-rule") && !verify.contains("--sign-hash"),
        "{verify}"
    );
    let open = text(&et(&["response", "open", "--help"]).stdout);
    assert!(
        open.contains("--sign-hash") && !open.contains("--tuition-spelling"),
        "{open}"
    );
    let build = text(&et(&["request", "build", "--help"]).stdout);
    assert!(
        build.contains("--tuition-spelling") && !build.contains("--notify-sign-rule"),
        "{build}"
    );
}

#[test]
fn a_key_of_the_wrong_kind_names_its_file_what_it_is_and_which_option_takes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let init = et(&[
        "sandbox",
        "init",
        "--bits",
        "1024",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    common::assert_success(&init);
    let private = dir.path().join("merchant-private.pem");
    let private = private.to_str().unwrap();
    let out = et(&[
        "response",
        "open",
        "--merchant-key",
        private,
        "--et-public-key",
        private,
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("merchant-private.pem: RSA key load: this is a private key, where a public key is needed"),
        "{err}"
    );
    assert!(err.contains("--et-public-key ET's public key"), "{err}");
}

#[test]
fn a_directory_that_is_not_a_sandbox_says_how_to_make_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nosuch = dir.path().join("nosuch");
    let nosuch = nosuch.to_str().unwrap();
    for args in [
        &["sandbox", "serve", "--dir", nosuch][..],
        &[
            "call",
            "get_rate",
            "--endpoint",
            "http://127.0.0.1:9",
            "--dir",
            nosuch,
            "--data",
            "-",
        ][..],
    ] {
        let err = text(&et(args).stderr);
        assert!(
            err.contains("does not exist; `et sandbox init --dir"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_missing_salt_asks_for_the_salt_file() {
    let out = std::process::Command::new(common::ET)
        .args(["notify", "verify"])
        .env_remove("ET_NOTIFY_SALT")
        .output()
        .expect("et");
    let err = text(&out.stderr);
    assert!(
        err.starts_with("et: no salt: give --salt-file FILE"),
        "{err}"
    );
}
