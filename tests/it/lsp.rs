//! `bmcwall lsp` as an editor meets it: the binary started as a child,
//! JSON-RPC over its pipes, and exact answers (positions in UTF-16, as the
//! protocol counts them) for each feature, for edits that break and repair a
//! file, and for an included file changed in another buffer.

use crate::support::{crate_root, TODAY};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// An editor talking to one server.
struct Editor {
    child: Child,
    input: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Notifications that arrived while waiting for a response.
    notifications: Vec<Value>,
    next_id: i64,
}

impl Editor {
    fn start() -> Editor {
        Editor::start_with(Value::Null)
    }

    /// A server initialized with these `initializationOptions`.
    fn start_with(options: Value) -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bmcwall"))
            .args(["lsp", "--today", TODAY])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("bmcwall lsp starts");
        let input = child.stdin.take().expect("stdin");
        let output = child.stdout.take().expect("stdout");
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(output);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).expect("a body");
                let value: Value = serde_json::from_slice(&body).expect("JSON");
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        let mut editor = Editor {
            child,
            input,
            messages,
            notifications: Vec::new(),
            next_id: 1,
        };
        let init = editor.request(
            "initialize",
            json!({"capabilities": {}, "initializationOptions": options}),
        );
        assert_eq!(init["capabilities"]["hoverProvider"], true);
        editor.notify("initialized", json!({}));
        editor
    }

    fn send(&mut self, value: Value) {
        let body = value.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.input.flush().expect("flush");
    }

    fn next(&mut self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers")
    }

    /// The full response to a request.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message["id"] == id {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let wanted = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.notifications.iter().position(wanted) {
            let m = self.notifications.remove(i);
            return m["params"]["diagnostics"]
                .as_array()
                .expect("array")
                .clone();
        }
        loop {
            let message = self.next();
            if wanted(&message) {
                return message["params"]["diagnostics"]
                    .as_array()
                    .expect("array")
                    .clone();
            }
            self.notifications.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "bmcwall", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        let mut params = json!({"textDocument": {"uri": uri},
                                "position": {"line": line, "character": character}});
        if method == "textDocument/references" {
            params["context"] = json!({"includeDeclaration": true});
        }
        self.request(method, params)
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("the server ends");
        assert_eq!(status.code(), Some(0));
    }
}

/// The ams1 example in a temporary directory; its policy's path and URI.
fn ams1(dir: &Path) -> (PathBuf, String, String) {
    let source = crate_root().join("examples/ams1");
    std::fs::create_dir_all(dir.join("inventory")).expect("dir");
    std::fs::copy(
        source.join("inventory/ams1.yaml"),
        dir.join("inventory/ams1.yaml"),
    )
    .expect("copy");
    let text = std::fs::read_to_string(source.join("ams1.wall")).expect("ams1");
    let path = dir.join("ams1.wall");
    std::fs::write(&path, &text).expect("write");
    let path = std::fs::canonicalize(path).expect("path");
    let uri = format!("file://{}", path.display());
    (path, uri, text)
}

/// Line and UTF-16 column of the first `needle` in `text`.
fn pos(text: &str, needle: &str) -> (u32, u32) {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?}"));
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (line as u32, text[start..at].encode_utf16().count() as u32)
}

fn summary(diagnostics: &[Value]) -> Vec<(String, u64, u64, u64, u64)> {
    diagnostics
        .iter()
        .map(|d| {
            let r = &d["range"];
            (
                d["code"].as_str().expect("code").to_string(),
                r["start"]["line"].as_u64().expect("n"),
                r["start"]["character"].as_u64().expect("n"),
                r["end"]["line"].as_u64().expect("n"),
                r["end"]["character"].as_u64().expect("n"),
            )
        })
        .collect()
}

#[test]
fn diagnostics_follow_unsaved_edits_that_break_and_repair_the_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let mut editor = Editor::start();
    editor.open(&uri, &text);
    assert_eq!(
        editor.diagnostics(&uri),
        Vec::<Value>::new(),
        "ams1 is clean"
    );

    // A typo in a name, after non-ASCII text on the same line.
    let broken = text.replace(
        "allow bmcs      -> ntp1    : ntp;",
        "allow bmcs -> ntp1 : ntp \"é𝄞\"; allow admnis -> bmcs : ssh;",
    );
    editor.change(&uri, 2, &broken);
    let found = editor.diagnostics(&uri);
    let (line, character) = pos(&broken, "admnis");
    assert_eq!(
        summary(&found),
        [(
            "BW002".into(),
            line as u64,
            character as u64,
            line as u64,
            character as u64 + 6
        )]
    );
    assert_eq!(
        character, 38,
        "é counts one unit, 𝄞 two (37 characters, 41 bytes)"
    );
    let message = found[0]["message"].as_str().expect("message");
    assert!(message.contains("`admnis`"), "{message}");
    assert!(message.contains("admins"), "the did-you-mean: {message}");
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(found[0]["source"], "bmcwall");

    // A security finding on a valid policy, with its level.
    let exposed = text.replace(
        "deny  any       -> bmcs    log;",
        "allow any -> bmcs : ipmi;\ndeny  any       -> bmcs    log;",
    );
    editor.change(&uri, 3, &exposed);
    let codes: Vec<String> = summary(&editor.diagnostics(&uri))
        .into_iter()
        .map(|(code, ..)| code)
        .collect();
    assert!(codes.contains(&"BW201".to_string()), "{codes:?}");

    editor.change(&uri, 4, &text);
    assert_eq!(editor.diagnostics(&uri), Vec::<Value>::new(), "repaired");
    // The file on disk was never what was checked.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ams1.wall")).expect("file"),
        text
    );
    editor.shutdown();
}

#[test]
fn hover_definition_references_symbols_and_rename() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let mut editor = Editor::start();
    editor.open(&uri, &text);
    editor.diagnostics(&uri);

    let use_line = "allow jump-ams1 -> bmcs";
    let (line, character) = pos(&text, use_line);
    let hover = editor.at("textDocument/hover", &uri, line, character + 8);
    assert_eq!(
        hover["contents"]["value"],
        "host `jump-ams1`: 10.20.0.5, fd00:20::5\n\n1 IPv4 and 1 IPv6 ranges; used 3 times"
    );
    assert_eq!(
        hover["range"],
        json!({"start": {"line": line, "character": 6}, "end": {"line": line, "character": 15}})
    );
    let (sline, schar) = pos(&text, "vendor-kvm  \"admins");
    let hover = editor.at("textDocument/hover", &uri, sline, schar + 1);
    assert_eq!(
        hover["contents"]["value"],
        "service `vendor-kvm`: tcp 5120, tcp 5900-5901, udp 623\n\nused once"
    );
    let (sline, schar) = pos(&text, "redfish, ssh");
    let hover = editor.at("textDocument/hover", &uri, sline, schar);
    assert_eq!(
        hover["contents"]["value"],
        "built-in service `redfish`: tcp 443"
    );

    let (iline, ichar) = pos(&text, "inventory(site");
    let hover = editor.at("textDocument/hover", &uri, iline, ichar + 12);
    assert_eq!(
        hover["contents"]["value"],
        "selects 4 BMCs:\n\
         - `ams1-a01-bmc` 10.10.1.11 (rack=a, site=ams1, vendor=supermicro)\n\
         - `ams1-a02-bmc` 10.10.1.12 (rack=a, site=ams1, vendor=supermicro)\n\
         - `ams1-a03-bmc` 10.10.1.13, fd00:10:1::13 (rack=a, site=ams1, vendor=dell)\n\
         - `ams1-a04-bmc` 10.10.1.14 (rack=a, site=ams1, vendor=hpe)"
    );

    let (dline, dchar) = pos(&text, "admins     = jump-ams1");
    let (uline, uchar) = pos(&text, "admins    -> rack-a");
    let definition = editor.at("textDocument/definition", &uri, uline, uchar + 2);
    assert_eq!(
        definition,
        json!({"uri": uri, "range": {"start": {"line": dline, "character": dchar},
                                     "end": {"line": dline, "character": dchar + 6}}})
    );

    let references = editor.at("textDocument/references", &uri, line, character + 8);
    let lines: Vec<u64> = references
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().expect("line"))
        .collect();
    // Defined on line 5, used in `admins`, a rule and an expectation.
    assert_eq!(lines, [4, 8, 16, 21]);

    let rename = editor.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character + 8},
               "newName": "jump-a"}),
    );
    let edits = rename["changes"][&uri].as_array().expect("edits");
    assert_eq!(edits.len(), 4);
    assert!(edits.iter().all(|e| e["newText"] == "jump-a"));
    let bad = editor.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character + 8},
               "newName": "allow"}),
    );
    assert_eq!(bad["error"]["code"], -32602, "{bad}");

    let symbols = editor.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names = strings(&symbols, "name");
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(
        names[..9],
        [
            "jump-ams1",
            "ntp1",
            "noc",
            "vendor-vpn",
            "admins",
            "rack-a",
            "lab-bmc",
            "vendor-kvm",
            "allow admins -> rack-a : redfish, ssh, vendor-kvm \"admins manage rack A\";"
        ]
    );
    assert_eq!(names.len(), 8 + 5 + 3);
    editor.shutdown();
}

#[test]
fn formatting_and_completion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let mut editor = Editor::start();
    let messy = text.replace("host    ntp1       = 10.0.0.123;", "host ntp1=10.0.0.123 ;");
    editor.open(&uri, &messy);
    editor.diagnostics(&uri);
    let edits = editor.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let expected = bmcwall::fmt::format(bmcwall::source::FileId(0), &messy).expect("formats");
    assert_eq!(edits.as_array().expect("edits").len(), 1);
    assert_eq!(edits[0]["newText"], expected);
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );

    // After the `:` of a rule: services, not addresses.
    let typing = format!("{text}allow noc -> rack-a : ");
    editor.change(&uri, 2, &typing);
    editor.diagnostics(&uri);
    let end = pos(&typing, "allow noc -> rack-a : ");
    let items = editor.at("textDocument/completion", &uri, end.0, end.1 + 22);
    let labels = strings(&items, "label");
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    for wanted in ["ssh", "redfish", "vendor-kvm", "ipmi"] {
        assert!(labels.contains(&wanted), "{wanted}: {labels:?}");
    }
    assert!(!labels.contains(&"admins"), "{labels:?}");
    // Addresses at the source of a rule.
    let typing = format!("{text}allow ");
    editor.change(&uri, 3, &typing);
    editor.diagnostics(&uri);
    let items = editor.at("textDocument/completion", &uri, 25, 6);
    let labels = strings(&items, "label");
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    for wanted in ["admins", "jump-ams1", "bmcs", "internet"] {
        assert!(labels.contains(&wanted), "{wanted}: {labels:?}");
    }
    assert!(!labels.contains(&"vendor-kvm"), "{labels:?}");
    // Codes after `waive`.
    let typing = format!("{text}allow noc -> rack-a : telnet waive ");
    editor.change(&uri, 4, &typing);
    editor.diagnostics(&uri);
    let items = editor.at("textDocument/completion", &uri, 25, 35);
    let labels = strings(&items, "label");
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    assert!(labels.contains(&"BW206") && labels.iter().all(|l| l.starts_with("BW")));
    editor.shutdown();
}

#[test]
fn an_included_file_changed_in_another_buffer_and_bad_requests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let main = dir.path().join("site.wall");
    let shared = dir.path().join("shared.wall");
    let main_text = "include \"shared.wall\";\nallow admins -> bmcs : ssh;\n";
    let shared_text = "host admin1 = 10.1.0.1;\ngroup admins = admin1;\nbmc b1 = 10.9.0.1;\n";
    std::fs::write(&main, main_text).expect("write");
    std::fs::write(&shared, shared_text).expect("write");
    let uri = |p: &Path| {
        format!(
            "file://{}",
            std::fs::canonicalize(p).expect("path").display()
        )
    };
    let (main_uri, shared_uri) = (uri(&main), uri(&shared));
    let mut editor = Editor::start();
    editor.open(&main_uri, main_text);
    assert_eq!(editor.diagnostics(&main_uri), Vec::<Value>::new());
    editor.open(&shared_uri, shared_text);
    // The shared file is checked as part of the policy that includes it,
    // not alone (where `admins` would be unused).
    assert_eq!(editor.diagnostics(&main_uri), Vec::<Value>::new());
    assert_eq!(editor.diagnostics(&shared_uri), Vec::<Value>::new());
    // `admins` goes in the shared buffer (unsaved): the rule breaks.
    editor.change(
        &shared_uri,
        2,
        "host admin1 = 10.1.0.1;\nbmc b1 = 10.9.0.1;\n",
    );
    let found = editor.diagnostics(&main_uri);
    assert_eq!(summary(&found), [("BW002".into(), 1, 6, 1, 12)]);
    // Definition across files.
    editor.change(&shared_uri, 3, shared_text);
    assert_eq!(editor.diagnostics(&main_uri), Vec::<Value>::new());
    let definition = editor.at("textDocument/definition", &main_uri, 1, 7);
    assert_eq!(definition["uri"], shared_uri);
    assert_eq!(
        definition["range"]["start"],
        json!({"line": 1, "character": 6})
    );

    // Requests the server cannot answer are errors, and it goes on.
    let unknown = editor.call("textDocument/unknownThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let far = editor.at("textDocument/hover", &main_uri, 999, 999);
    assert_eq!(far, Value::Null);
    let garbage = editor.call("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(garbage["error"]["code"], -32602);
    let hover = editor.at("textDocument/hover", &main_uri, 1, 7);
    assert_eq!(
        hover["contents"]["value"],
        "group `admins`: 10.1.0.1\n\n1 IPv4 and 0 IPv6 ranges; used once"
    );
    editor.shutdown();
}

/// The `key` of every object in the list `list`.
fn strings(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item[key].as_str().expect("a string").to_string())
        .collect()
}

fn titles(actions: &Value) -> Vec<String> {
    strings(actions, "title")
}

#[test]
fn quick_fixes_lenses_and_workspace_symbols() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let mut editor = Editor::start();
    let broken = text.replace(
        "network noc        = 10.30.8.0/24;",
        "network noc        = 10.30.8.1/24;",
    ) + "allow admnis -> bmcs : ssh;\n";
    editor.open(&uri, &broken);
    assert_eq!(
        summary(&editor.diagnostics(&uri))
            .into_iter()
            .map(|(code, line, ..)| (code, line))
            .collect::<Vec<_>>(),
        [("BW006".to_string(), 6), ("BW002".to_string(), 24)]
    );
    let actions_at = |editor: &mut Editor, line: u32, character: u32| {
        editor.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "context": {"diagnostics": []},
                   "range": {"start": {"line": line, "character": character},
                             "end": {"line": line, "character": character}}}),
        )
    };
    let prefix = actions_at(&mut editor, 6, 24);
    assert_eq!(titles(&prefix), ["replace with `10.30.8.0/24`"]);
    let edit = &prefix[0]["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "10.30.8.0/24");
    assert_eq!(
        edit["range"],
        json!({"start": {"line": 6, "character": 21}, "end": {"line": 6, "character": 33}})
    );
    let name = actions_at(&mut editor, 24, 7);
    assert_eq!(titles(&name), ["replace with `admins`"]);

    // A redundant rule: remove it, or waive the finding.
    let redundant = text.replace(
        "allow bmcs      -> ntp1    : ntp;",
        "allow bmcs      -> ntp1    : ntp;\nallow jump-ams1 -> lab-bmc : redfish;",
    );
    editor.change(&uri, 2, &redundant);
    assert_eq!(
        summary(&editor.diagnostics(&uri)),
        [("BW102".to_string(), 18, 0, 18, 37)]
    );
    let fixes = actions_at(&mut editor, 18, 3);
    assert_eq!(
        titles(&fixes),
        ["remove the redundant rule", "waive BW102 on this rule"]
    );
    let removal = &fixes[0]["edit"]["changes"][&uri][0];
    assert_eq!(
        removal["range"],
        json!({"start": {"line": 18, "character": 0}, "end": {"line": 19, "character": 0}})
    );
    let waiver = &fixes[1]["edit"]["changes"][&uri][0];
    assert_eq!(waiver["newText"], " waive BW102 \"why this is accepted\"");
    assert_eq!(
        waiver["range"]["start"],
        json!({"line": 18, "character": 36})
    );

    let lenses = editor.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let shown: Vec<(u64, String)> = lenses
        .as_array()
        .expect("lenses")
        .iter()
        .map(|l| {
            (
                l["range"]["start"]["line"].as_u64().expect("line"),
                l["command"]["title"].as_str().expect("title").to_string(),
            )
        })
        .collect();
    assert_eq!(shown[0], (4, "4 uses".to_string()), "jump-ams1: {shown:?}");
    assert!(
        shown.contains(&(18, "BW102 redundant-rule".to_string())),
        "{shown:?}"
    );

    // Highlighting: the first line is a comment, then `internal` a keyword.
    let tokens = editor.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    );
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|n| n.as_u64().expect("number"))
        .collect();
    let first_line = text.lines().next().expect("a line").encode_utf16().count() as u64;
    assert_eq!(data[..10], [0, 0, first_line, 0, 0, 1, 0, 8, 2, 0]);
    assert_eq!(data.len() % 5, 0);

    let symbols = editor.request("workspace/symbol", json!({"query": "vendor"}));
    let names = strings(&symbols, "name");
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names, ["vendor-kvm", "vendor-vpn"]);
    editor.shutdown();
}

/// Random edits of the shipped example, each followed by requests at a
/// random place: the server answers every one and never goes away.
#[test]
fn random_edits_never_crash_or_hang_the_server() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let editor = std::cell::RefCell::new(Editor::start());
    editor.borrow_mut().open(&uri, &text);
    editor.borrow_mut().diagnostics(&uri);
    let pieces = prop::sample::select(vec![
        ";",
        "\"",
        "#",
        "->",
        ":",
        ",",
        "(",
        ")",
        "\n",
        " ",
        "é𝄞",
        "allow ",
        "deny ",
        "host h = ",
        "10.0.0.1",
        "fd00::1/64",
        "jump-ams1",
        "bmcs",
        "inventory(rack = \"a\")",
        "waive BW206 ",
        "until 2020-01-01",
        "log",
        "except ",
        "include \"x.wall\";",
        "\u{0}",
        "\r\n",
    ]);
    let edit = (
        any::<prop::sample::Index>(),
        0usize..12,
        prop::collection::vec(pieces, 0..4),
    );
    let case = (
        prop::collection::vec(edit, 1..4),
        any::<prop::sample::Index>(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let version = std::cell::Cell::new(1);
    let current = std::cell::RefCell::new(text.clone());
    runner
        .run(&case, |(edits, at)| {
            let mut doc = current.borrow().clone();
            for (place, cut, insert) in edits {
                let mut start = place.index(doc.len() + 1);
                while !doc.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + cut).min(doc.len());
                while !doc.is_char_boundary(end) {
                    end += 1;
                }
                doc.replace_range(start..end, &insert.concat());
            }
            version.set(version.get() + 1);
            let mut editor = editor.borrow_mut();
            editor.change(&uri, version.get(), &doc);
            editor.diagnostics(&uri);
            let offset = at.index(doc.len() + 1);
            let line = doc[..doc.floor_char_boundary(offset)].matches('\n').count() as u32;
            for method in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/references",
                "textDocument/completion",
            ] {
                let params = json!({"textDocument": {"uri": uri},
                    "position": {"line": line, "character": 3},
                    "context": {"includeDeclaration": true}});
                let response = if method == "textDocument/completion" {
                    editor.call(method, json!({"textDocument": {"uri": uri},
                        "position": {"line": line, "character": 3}}))
                } else {
                    editor.call(method, params)
                };
                prop_assert!(response.get("result").is_some(), "{method}: {response}");
            }
            for method in [
                "textDocument/documentSymbol",
                "textDocument/codeLens",
                "textDocument/semanticTokens/full",
            ] {
                let response = editor.call(method, json!({"textDocument": {"uri": uri}}));
                prop_assert!(response.get("result").is_some(), "{method}: {response}");
            }
            let formatted = editor.call(
                "textDocument/formatting",
                json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
            );
            // Formatted, or refused for syntax errors; never an internal error.
            prop_assert!(formatted["error"]["code"] != -32603, "{formatted}");
            *current.borrow_mut() = doc;
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    editor.into_inner().shutdown();
}

#[test]
fn a_fleet_in_the_editor_outlines_its_gateways_and_checks_clean() {
    let path = std::fs::canonicalize(crate_root().join("examples/fleet/fleet.wall")).expect("path");
    let uri = format!("file://{}", path.display());
    let text = std::fs::read_to_string(&path).expect("read");
    let mut editor = Editor::start();
    editor.open(&uri, &text);
    assert_eq!(summary(&editor.diagnostics(&uri)), []);
    let symbols = editor.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let gateways: Vec<String> = symbols
        .as_array()
        .expect("symbols")
        .iter()
        .filter(|s| s["detail"] == "gateway")
        .map(|s| s["name"].as_str().expect("a name").to_string())
        .collect();
    assert_eq!(
        gateways,
        ["ams1-gw", "ams1-gw-b", "fra1-gw", "jump-fra1-fw", "nyc1-gw"]
    );
    // `pair ams1-gw` leads to the gateway, and hover describes it.
    let (line, character) = pos(&text, "pair ams1-gw");
    let definition = editor.at("textDocument/definition", &uri, line, character + 6);
    assert_eq!(
        definition["range"]["start"],
        json!({"line": pos(&text, "ams1-gw = ").0, "character": 8}),
        "{definition}"
    );
    let hover = editor.at("textDocument/hover", &uri, line, character + 6);
    let said = hover["contents"]["value"].as_str().expect("a hover");
    assert!(
        said.starts_with("gateway `ams1-gw`: mode forward, host, pair of ams1-gw and ams1-gw-b"),
        "{said}"
    );
    assert!(said.ends_with("governs 3 BMCs"), "{said}");
    // Completion in a gateway's braces: the peers after `pair` (not the
    // gateway itself), the words of `mode` and `sync`, the items' keywords
    // where an item starts, and addresses after `scope`.
    let complete = |editor: &mut Editor, needle: &str, after: u32| {
        let (line, character) = pos(&text, needle);
        let items = editor.at("textDocument/completion", &uri, line, character + after);
        strings(&items, "label")
    };
    assert_eq!(
        complete(&mut editor, "pair ams1-gw;", 5),
        ["ams1-gw", "fra1-gw", "jump-fra1-fw", "nyc1-gw"]
    );
    assert_eq!(
        complete(&mut editor, "pair ams1-gw;", 9),
        ["ams1-gw", "fra1-gw", "jump-fra1-fw", "nyc1-gw"],
        "while the name is typed"
    );
    assert_eq!(
        complete(&mut editor, "mode host; }", 5),
        ["forward", "host"]
    );
    assert_eq!(
        complete(&mut editor, "sync vrrp, conntrackd;", 11),
        ["conntrackd", "vrrp"]
    );
    assert_eq!(
        complete(&mut editor, "{ mode host; }", 2),
        ["mode", "pair", "scope", "sync"]
    );
    assert_eq!(
        complete(&mut editor, "mode host; }", 11),
        ["mode", "pair", "scope", "sync"],
        "after an item"
    );
    let in_scope = complete(&mut editor, "scope inventory(site = \"fra1\")", 6);
    assert!(
        in_scope.contains(&"jump-fra1".to_string()) && in_scope.contains(&"bmcs".to_string()),
        "{in_scope:?}"
    );
    assert!(!in_scope.contains(&"ssh".to_string()), "{in_scope:?}");
    // An unsaved edit that makes a pair member name no gateway: BW502 at
    // the name, as `check` reports it.
    let broken = text.replace("{ pair ams1-gw; }", "{ pair ams1-gx; }");
    assert_ne!(broken, text);
    editor.change(&uri, 2, &broken);
    let diagnostics = summary(&editor.diagnostics(&uri));
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.0.as_str()).collect();
    assert!(codes.contains(&"BW502"), "{diagnostics:?}");
    let formatted = editor.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(
        formatted.is_null() || formatted == json!([]),
        "the example is formatted: no edits, got {formatted}"
    );
    editor.shutdown();
}

/// A policy that loads `bmcs.yaml` and selects from it, in a temporary
/// directory: the policy's URI and text, the inventory's URI and text.
fn with_inventory(dir: &Path) -> (String, String, String, String) {
    let policy = "inventory \"bmcs.yaml\";\n\
                  host admin1 = 10.1.0.1;\n\
                  bmc db = inventory(name = \"db1-bmc\");\n\
                  bmc dell = inventory(vendor = \"dell\");\n\
                  allow admin1 -> db : ssh;\n\
                  allow admin1 -> dell : https;\n";
    let inventory = "bmcs:\n  - name: db1-bmc\n    address: 10.9.0.1\n    vendor: dell\n  \
                     - name: db2-bmc\n    address: 10.9.0.2\n    vendor: dell\n";
    std::fs::write(dir.join("site.wall"), policy).expect("write");
    std::fs::write(dir.join("bmcs.yaml"), inventory).expect("write");
    let uri = |name: &str| {
        let path = std::fs::canonicalize(dir.join(name)).expect("path");
        format!("file://{}", path.display())
    };
    (
        uri("site.wall"),
        policy.into(),
        uri("bmcs.yaml"),
        inventory.into(),
    )
}

#[test]
fn an_inventory_edited_in_its_buffer_is_what_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (policy_uri, policy, inventory_uri, inventory) = with_inventory(dir.path());
    let mut editor = Editor::start();
    editor.open(&policy_uri, &policy);
    assert_eq!(summary(&editor.diagnostics(&policy_uri)), []);
    assert_eq!(summary(&editor.diagnostics(&inventory_uri)), []);
    editor.open(&inventory_uri, &inventory);
    assert_eq!(summary(&editor.diagnostics(&policy_uri)), []);
    assert_eq!(summary(&editor.diagnostics(&inventory_uri)), []);

    // `db1-bmc` disappears from the buffer (renamed), and `db2-bmc`'s
    // address is not one: the selector of `db1-bmc` selects nothing, and
    // the address is an error in the inventory, on the buffer's URI.
    let edited = inventory
        .replace("db1-bmc", "db3-bmc")
        .replace("10.9.0.2", "10.9.0.300");
    editor.change(&inventory_uri, 2, &edited);
    let (line, character) = pos(&policy, "inventory(name");
    let on_policy = editor.diagnostics(&policy_uri);
    assert_eq!(
        summary(&on_policy),
        [(
            "BW008".into(),
            line as u64,
            character as u64,
            line as u64,
            character as u64 + 27
        )]
    );
    let (line, character) = pos(&edited, "10.9.0.300");
    let on_inventory = editor.diagnostics(&inventory_uri);
    assert_eq!(
        summary(&on_inventory),
        [(
            "BW005".into(),
            line as u64,
            character as u64,
            line as u64,
            character as u64 + 10
        )]
    );
    let message = on_inventory[0]["message"].as_str().expect("message");
    assert!(message.contains("10.9.0.300"), "{message}");
    // The file on disk was never what was checked.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bmcs.yaml")).expect("file"),
        inventory
    );

    // Repaired in the buffer: both clean again.
    editor.change(&inventory_uri, 3, &inventory);
    assert_eq!(summary(&editor.diagnostics(&policy_uri)), []);
    assert_eq!(summary(&editor.diagnostics(&inventory_uri)), []);
    editor.shutdown();
}

#[test]
fn from_a_selector_to_the_inventory_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (policy_uri, policy, inventory_uri, inventory) = with_inventory(dir.path());
    let mut editor = Editor::start();
    editor.open(&policy_uri, &policy);
    assert_eq!(summary(&editor.diagnostics(&policy_uri)), []);
    let entry = |name: &str| {
        let (line, character) = pos(&inventory, name);
        json!({"uri": inventory_uri, "range": {
            "start": {"line": line, "character": character},
            "end": {"line": line, "character": character + name.len() as u32}}})
    };
    // A BMC's name goes to its entry.
    let (line, character) = pos(&policy, "db1-bmc");
    let definition = editor.at("textDocument/definition", &policy_uri, line, character + 2);
    assert_eq!(definition, entry("db1-bmc"));
    let references = editor.at("textDocument/references", &policy_uri, line, character);
    assert_eq!(references, json!([entry("db1-bmc")]));
    // A label value goes to every entry that has it, in inventory order;
    // so does its label.
    let (line, character) = pos(&policy, "\"dell\"");
    let definition = editor.at("textDocument/definition", &policy_uri, line, character + 1);
    assert_eq!(definition, json!([entry("db1-bmc"), entry("db2-bmc")]));
    let (line, character) = pos(&policy, "vendor =");
    let references = editor.at("textDocument/references", &policy_uri, line, character);
    assert_eq!(references, json!([entry("db1-bmc"), entry("db2-bmc")]));
    // Elsewhere in a selector, nothing.
    let (line, character) = pos(&policy, "inventory(vendor");
    let nothing = editor.at("textDocument/definition", &policy_uri, line, character + 3);
    assert_eq!(nothing, Value::Null);
    editor.shutdown();
}

/// What a check with kept inventories finds, next to a fresh `check` of
/// the same files: the same findings, also after the inventory changes on
/// disk, and with a buffer standing for it.
#[test]
fn kept_inventories_find_what_a_fresh_check_finds() {
    use bmcwall::pipeline::{self, Settings};
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().expect("temp dir");
    with_inventory(dir.path());
    let policy = std::fs::canonicalize(dir.path().join("site.wall")).expect("path");
    let inventory = std::fs::canonicalize(dir.path().join("bmcs.yaml")).expect("path");
    let original = std::fs::read_to_string(&inventory).expect("inventory");
    let cache = bmcwall::resolve::Cache::default();
    let settings = Settings::default();
    let findings = |checked: &pipeline::Checked| -> Vec<String> {
        checked
            .findings
            .iter()
            .map(|f| format!("{:?}", f.diagnostic))
            .collect()
    };
    let kept = |open: BTreeMap<PathBuf, String>| {
        findings(&pipeline::check_open(
            &policy,
            open,
            crate::support::today(),
            &settings,
            &cache,
        ))
    };
    assert_eq!(kept(BTreeMap::new()), Vec::<String>::new());
    assert_eq!(kept(BTreeMap::new()), Vec::<String>::new(), "kept");
    std::fs::write(&inventory, original.replace("db1-bmc", "db3-bmc")).expect("write");
    let changed = kept(BTreeMap::new());
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].contains("EmptySelector"), "{changed:?}");
    assert_eq!(changed, findings(&crate::support::check(&policy)));
    // The buffer holds the text before the change: that is what counts.
    let open = BTreeMap::from([(inventory.clone(), original.clone())]);
    assert_eq!(kept(open), Vec::<String>::new());
    assert_eq!(kept(BTreeMap::new()), changed, "the file again");
    // A name used twice: found across the inventories, kept, found again.
    std::fs::write(&inventory, original.replace("db1-bmc", "db2-bmc")).expect("write");
    let twice = kept(BTreeMap::new());
    assert!(
        twice
            .iter()
            .any(|f| f.contains("duplicate inventory name `db2-bmc`")),
        "{twice:?}"
    );
    assert_eq!(twice, findings(&crate::support::check(&policy)));
    assert_eq!(kept(BTreeMap::new()), twice, "kept");
}

/// The ams1 example's table as `nft -j list table` shows it once loaded:
/// the compiled JSON's objects, with 12 packets and 3400 bytes on the first
/// rule's counter (`admins manage rack A`).
fn saved_listing(dir: &Path) -> PathBuf {
    let out = crate::support::bmcwall_in(
        dir,
        &["compile", "ams1.wall", "--format", "json", "--today", TODAY],
        "",
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&out)
    );
    let compiled: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut first = true;
    let objects: Vec<Value> = compiled["nftables"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|command| command.get("add").cloned())
        .map(|mut object| {
            if first && object.get("counter").is_some() {
                first = false;
                object["counter"]["packets"] = json!(12);
                object["counter"]["bytes"] = json!(3400);
            }
            object
        })
        .collect();
    let path = dir.join("saved.json");
    std::fs::write(&path, json!({"nftables": objects}).to_string()).expect("write");
    path
}

#[test]
fn hover_on_a_rule_shows_its_findings_and_its_hits_in_a_saved_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, uri, text) = ams1(dir.path());
    let saved = saved_listing(dir.path());
    let mut editor = Editor::start_with(json!({"bmcwall": {"liveTable": saved}}));
    editor.open(&uri, &text);
    assert_eq!(summary(&editor.diagnostics(&uri)), []);
    let rule = "allow admins    -> rack-a  : redfish, ssh, vendor-kvm  \"admins manage rack A\";";
    let (line, character) = pos(&text, rule);
    let hover = editor.at("textDocument/hover", &uri, line, character + 2);
    assert_eq!(
        hover["contents"]["value"],
        format!(
            "`allow` rule: admins manage rack A\n\ndecides flows such as 10.20.0.5 -> \
             10.10.1.11 tcp 22 (first match; 9 cells of the decision table)\n\nhits in {}: \
             12 packets, 3400 bytes",
            saved.display()
        )
    );
    assert_eq!(
        hover["range"],
        json!({"start": {"line": line, "character": character},
               "end": {"line": line, "character": character + rule.len() as u32}})
    );
    // The second rule's counter is in the table, with nothing counted.
    let (line, _) = pos(&text, "allow jump-ams1 -> bmcs");
    let hover = editor.at("textDocument/hover", &uri, line, 1);
    assert_eq!(
        hover["contents"]["value"],
        format!(
            "`allow` rule\n\ndecides flows such as 10.20.0.5 -> 10.10.2.11 tcp 443 (first \
             match; 6 cells of the decision table)\n\nhits in {}: 0 packets, 0 bytes",
            saved.display()
        )
    );

    // A rule that earlier ones make redundant: its finding, and, the buffer
    // being another policy now, no counts from the table.
    let redundant = text.replace(
        "deny  any       -> bmcs    log;",
        "deny  any       -> bmcs    log;\nallow admins -> rack-a : ssh;",
    );
    editor.change(&uri, 2, &redundant);
    let (line, _) = pos(&redundant, "allow admins -> rack-a : ssh;");
    assert_eq!(
        summary(&editor.diagnostics(&uri)),
        [("BW102".into(), line as u64, 0, line as u64, 29)]
    );
    let hover = editor.at("textDocument/hover", &uri, line, 2);
    let said = hover["contents"]["value"].as_str().expect("a hover");
    let prefix = format!(
        "`allow` rule\n\ndecides no flow: earlier rules decide every flow it matches\n\n\
         findings: BW102 redundant-rule\n\nhits in {}: compiled from policy sha256:",
        saved.display()
    );
    assert!(said.starts_with(&prefix), "{said}");
    assert!(said.contains(", not from this one (sha256:"), "{said}");

    // A setting changed to a file that is not there.
    editor.change(&uri, 3, &text);
    assert_eq!(summary(&editor.diagnostics(&uri)), []);
    let missing = dir.path().join("missing.json");
    editor.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"bmcwall": {"liveTable": missing}}}),
    );
    let (line, character) = pos(&text, rule);
    let hover = editor.at("textDocument/hover", &uri, line, character + 2);
    let said = hover["contents"]["value"].as_str().expect("a hover");
    assert!(
        said.starts_with(&format!(
            "`allow` rule: admins manage rack A\n\ndecides flows such as 10.20.0.5 -> \
             10.10.1.11 tcp 22 (first match; 9 cells of the decision table)\n\nhits in {}: \
             not readable: ",
            missing.display()
        )),
        "{said}"
    );
    editor.shutdown();
}
