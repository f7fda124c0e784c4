//! Formatter tests: each input's canonical layout, which must also be a fixed
//! point (formatting it again changes nothing).

use super::*;

/// Formats `text`, checking that the result is idempotent and tidy.
fn fmt(text: &str) -> String {
    let once = match format(FileId(0), text) {
        Ok(once) => once,
        Err(error) => panic!("{text:?} does not format: {error:?}"),
    };
    let twice = match format(FileId(0), &once) {
        Ok(twice) => twice,
        Err(error) => panic!("the formatted text does not format: {error:?}\n{once}"),
    };
    assert_eq!(once, twice, "formatting is not idempotent for {text:?}");
    for line in once.lines() {
        assert_eq!(line, line.trim_end(), "trailing whitespace in {once:?}");
    }
    assert!(
        once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")),
        "{once:?} must end with exactly one newline"
    );
    assert!(!once.starts_with('\n'), "leading blank line in {once:?}");
    assert!(!once.contains('\r'), "carriage return in {once:?}");
    once
}

#[test]
fn tokens_are_spaced_canonically() {
    assert_eq!(
        fmt("internal   10.0.0.0/8 ,fd00::/8 ;"),
        "internal 10.0.0.0/8, fd00::/8;\n"
    );
    assert_eq!(
        fmt("service web=tcp 80,443 , 8080-8081,udp 53,icmp;"),
        "service web = tcp 80, 443, 8080-8081, udp 53, icmp;\n"
    );
    assert_eq!(
        fmt("bmc r = inventory ( site = \"a\" , rack!=\"b\" ) ;"),
        "bmc r = inventory(site = \"a\", rack != \"b\");\n"
    );
    assert_eq!(fmt("bmc all = inventory( );"), "bmc all = inventory();\n");
    assert_eq!(
        fmt("network n = 10.0.0.10 - 10.0.0.20, fd00::1 -fd00::9 except 10.0.0.15;"),
        "network n = 10.0.0.10-10.0.0.20, fd00::1-fd00::9 except 10.0.0.15;\n"
    );
    assert_eq!(
        fmt("include\t\"common/admins.wall\"  ;"),
        "include \"common/admins.wall\";\n"
    );
}

#[test]
fn values_are_written_as_in_the_source() {
    // Not normalised: an IPv6 address, an upper-case code, a port range.
    assert_eq!(
        fmt("allow FD00:0::5 -> 010.0.0.1 : tcp 0443  waive bw206 \"r\";"),
        "allow FD00:0::5 -> 010.0.0.1 : tcp 0443  waive bw206 \"r\";\n"
    );
}

#[test]
fn one_statement_per_line() {
    assert_eq!(
        fmt("host a = 10.0.0.1; host b = 10.0.0.2;host c = 10.0.0.3;"),
        "host a = 10.0.0.1;\nhost b = 10.0.0.2;\nhost c = 10.0.0.3;\n"
    );
}

#[test]
fn definitions_align_in_blocks() {
    let text = "\
host jump-ams1 = 10.20.0.5;
network noc = 10.30.8.0/24;
group admins = jump-ams1, noc;
service kvm = tcp 5900;

bmc a = 10.10.1.1;
bmc long-name = 10.10.1.2;
internal 10.0.0.0/8;
host x = 10.0.0.1;
";
    assert_eq!(
        fmt(text),
        "\
host    jump-ams1 = 10.20.0.5;
network noc       = 10.30.8.0/24;
group   admins    = jump-ams1, noc;
service kvm       = tcp 5900;

bmc a         = 10.10.1.1;
bmc long-name = 10.10.1.2;
internal 10.0.0.0/8;
host x = 10.0.0.1;
"
    );
}

#[test]
fn comment_lines_do_not_end_a_block() {
    let text = "host a = 10.0.0.1;\n  # the NOC\nnetwork noc = 10.30.8.0/24;\n";
    assert_eq!(
        fmt(text),
        "host    a   = 10.0.0.1;\n# the NOC\nnetwork noc = 10.30.8.0/24;\n"
    );
}

#[test]
fn rules_align_action_source_and_destination() {
    let text = "\
allow admins -> rack-a : redfish, ssh \"admins manage rack A\";
allow jump-ams1 -> bmcs : ipmi, redfish log;
allow vendor-vpn -> lab-bmc : https until 2027-03-31 \"vendor\";
deny any -> internal-and-more log;
deny any -> bmcs;
";
    assert_eq!(
        fmt(text),
        "\
allow admins     -> rack-a  : redfish, ssh  \"admins manage rack A\";
allow jump-ams1  -> bmcs    : ipmi, redfish  log;
allow vendor-vpn -> lab-bmc : https  until 2027-03-31  \"vendor\";
deny  any        -> internal-and-more  log;
deny  any        -> bmcs;
"
    );
}

#[test]
fn attributes_keep_their_order() {
    assert_eq!(
        fmt("allow a -> b \"why\" waive BW206 \"ok\" log until 2027-01-01;"),
        "allow a -> b  \"why\"  waive BW206 \"ok\"  log  until 2027-01-01;\n"
    );
}

#[test]
fn a_rule_over_several_lines_is_joined() {
    let text = "allow monitor -> bmcs : snmp\n      waive BW206 \"read-only\";\ndeny\n  any\n  ->\n  bmcs\n  ;\n";
    assert_eq!(
        fmt(text),
        "allow monitor -> bmcs : snmp  waive BW206 \"read-only\";\ndeny  any     -> bmcs;\n"
    );
}

#[test]
fn expectations_align_among_themselves() {
    let text = "\
allow a -> b : https;
expect allow jump-ams1 -> lab-bmc : redfish;
expect deny internet -> bmcs;
expect deny bmcs -> internet \"no egress\";
";
    assert_eq!(
        fmt(text),
        "\
allow a -> b : https;
expect allow jump-ams1 -> lab-bmc : redfish;
expect deny  internet  -> bmcs;
expect deny  bmcs      -> internet  \"no egress\";
"
    );
}

#[test]
fn unreachable_expectations_and_waived_services_are_laid_out() {
    let text = "\
allow a -> b : vnc, http waive BW206( vnc ,http ) \"console\";
expect unreachable internet  ->  bmcs:ipmi;
expect deny internet -> bmcs;
";
    assert_eq!(
        fmt(text),
        "\
allow a -> b : vnc, http  waive BW206(vnc, http) \"console\";
expect unreachable internet -> bmcs : ipmi;
expect deny        internet -> bmcs;
"
    );
}

#[test]
fn trailing_comments_align_in_runs() {
    let text = "\
internal 10.0.0.0/8, fd00::/8;            # everything else is `internet`
inventory \"inventory/ams1.yaml\";   # BMCs
host a = 10.0.0.1;

host b = 10.0.0.2;\t# one
host ccc = 10.0.0.3; #two
";
    assert_eq!(
        fmt(text),
        "\
internal 10.0.0.0/8, fd00::/8;    # everything else is `internet`
inventory \"inventory/ams1.yaml\";  # BMCs
host a = 10.0.0.1;

host b   = 10.0.0.2;  # one
host ccc = 10.0.0.3;  #two
"
    );
}

#[test]
fn own_line_comments_stay_and_lose_their_indentation() {
    let text = "# head\n\n   # about a\nhost a = 10.0.0.1;\n\t# after a\n\n# tail   \n";
    assert_eq!(
        fmt(text),
        "# head\n\n# about a\nhost a = 10.0.0.1;\n# after a\n\n# tail\n"
    );
}

#[test]
fn a_comment_inside_a_statement_keeps_its_line_break() {
    let text = "\
group admins = jump, # the jump host
        noc,   # the NOC
  # and the vendor
  vendor;
allow admins
  # only https
  -> bmcs : https;
";
    assert_eq!(
        fmt(text),
        "\
group admins = jump,  # the jump host
    noc,              # the NOC
    # and the vendor
    vendor;
allow admins
    # only https
    -> bmcs : https;
"
    );
}

#[test]
fn a_statement_with_inner_comments_ends_an_alignment_block() {
    let text = "host a = 10.0.0.1;\nhost bb = 10.0.0.2, # two\n 10.0.0.3;\nhost ccc = 10.0.0.4;\n";
    assert_eq!(
        fmt(text),
        "host a = 10.0.0.1;\nhost bb = 10.0.0.2,  # two\n    10.0.0.3;\nhost ccc = 10.0.0.4;\n"
    );
}

#[test]
fn the_semicolon_follows_the_last_token() {
    assert_eq!(
        fmt("host a = 10.0.0.1 # one\n;\nhost b = 10.0.0.2\n  ;  # two\n"),
        "host a = 10.0.0.1;  # one\nhost b = 10.0.0.2;  # two\n"
    );
    // Comments between the last token and the `;` keep their order.
    assert_eq!(
        fmt("host a = 10.0.0.1 # one\n# two\n; # three\nhost b = 10.0.0.2;"),
        "host a = 10.0.0.1;  # one\n# two\n# three\nhost b = 10.0.0.2;\n"
    );
}

#[test]
fn strings_keep_escapes_and_hashes() {
    let text = "allow a -> b : https \"say \\\"hi\\\" # not a comment \\\\\";  # a comment\nbmc r = inventory(note = \"#1;\");\n";
    assert_eq!(
        fmt(text),
        "allow a -> b : https  \"say \\\"hi\\\" # not a comment \\\\\";  # a comment\nbmc r = inventory(note = \"#1;\");\n"
    );
}

#[test]
fn windows_line_endings_become_newlines() {
    let text = "# head\r\nhost a = 10.0.0.1;  # a\r\n\r\n\r\nallow a\r\n  -> b : ssh;\r\n";
    assert_eq!(
        fmt(text),
        "# head\nhost a = 10.0.0.1;  # a\n\nallow a -> b : ssh;\n"
    );
}

#[test]
fn blank_lines_collapse_and_the_file_ends_with_one_newline() {
    let text = "\n\n\nhost a = 10.0.0.1;\n\n\n\nhost b = 10.0.0.2;\n \n\t\n# c\n\n\n";
    assert_eq!(
        fmt(text),
        "host a = 10.0.0.1;\n\nhost b = 10.0.0.2;\n\n# c\n"
    );
    assert_eq!(fmt("host a = 10.0.0.1;"), "host a = 10.0.0.1;\n");
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n \n\r\n"), "");
    assert_eq!(fmt("# only\n\n"), "# only\n");
}

#[test]
fn blank_lines_inside_a_statement_go() {
    assert_eq!(
        fmt("allow a\n\n -> b\n\n : ssh;\n"),
        "allow a -> b : ssh;\n"
    );
}

#[test]
fn invalid_values_are_formatted_as_written() {
    // BW006 is a value's problem, not the layout's.
    assert_eq!(
        fmt("network n   = 10.0.0.256,10.1.2.3/16;"),
        "network n = 10.0.0.256, 10.1.2.3/16;\n"
    );
}

#[test]
fn text_that_does_not_parse_is_refused_with_the_parser_diagnostics() {
    for text in [
        "allow a b;\n",
        "host a = 10.0.0.1\nhost b = 10.0.0.2;\n",
        "allow a -> b : ssh \"open;\n",
        "deny any->bmcs;\n",
        "allow a -> b log log;\n",
    ] {
        match format(FileId(0), text) {
            Err(FormatError::Syntax(diagnostics)) => assert!(
                diagnostics.iter().any(|d| d.code == Code::SyntaxError),
                "{text:?}: {diagnostics:?}"
            ),
            other => panic!("{text:?} was not refused: {other:?}"),
        }
    }
}

#[test]
fn the_example_is_close_to_canonical() {
    let text = include_str!("../../examples/ams1/ams1.wall");
    let formatted = fmt(text);
    assert_eq!(formatted.lines().count(), text.lines().count());
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(fmt(&crlf), formatted);
}

#[test]
fn the_output_is_checked_against_the_input() {
    let text = "host a = 10.0.0.1;  # one\nhost b = 10.0.0.2;\n";
    let document = Document::read(text).expect("the text parses");
    assert!(verify(FileId(0), &document, text).is_ok());
    for tampered in [
        "host a = 10.0.0.1;  # one\nhost b = 10.0.0.3;\n",
        "host a = 10.0.0.1;  # one\n",
        "host a = 10.0.0.1;\nhost b = 10.0.0.2;  # one\n",
        "host a = 10.0.0.1;\n# one\nhost b = 10.0.0.2;\n",
        "host a = 10.0.0.1;  # 1\nhost b = 10.0.0.2;\n",
        "network a = 10.0.0.1;  # one\nhost b = 10.0.0.2;\n",
        "host a = 10.0.0.1  # one\nhost b = 10.0.0.2;\n",
    ] {
        assert!(
            matches!(
                verify(FileId(0), &document, tampered),
                Err(FormatError::Internal(_))
            ),
            "{tampered:?} passed"
        );
    }
}
