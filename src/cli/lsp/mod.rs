//! `bmcwall lsp`: a language server over standard input and output.
//!
//! Built on `lsp-server` and `lsp-types` (as rust-analyzer and ruff are):
//! synchronous, one message at a time. Every open `.wall` buffer is checked
//! with the same pipeline call as `check` ([`pipeline::check_open`]), with
//! the unsaved buffers standing for their files, so diagnostics are the same
//! codes, levels, waivers and related locations. A buffer included by another
//! open one is checked as part of it, not on its own. Each change re-checks
//! everything open; what the pipeline keeps across changes is only the
//! parsed inventories (`resolve::Cache`), taken again while their files and
//! buffers read the same, so an inventory buffer edited is parsed anew and
//! a keystroke in a policy parses no inventory.
//!
//! A request that panics is answered with an error and the server goes on.

// `WorkspaceEdit::changes` is keyed by lsp-types' `Uri`, whose cached
// parts never change its hash.
#![allow(clippy::mutable_key_type)]

mod index;

use super::{Exit, LspArgs};
use crate::addr::service;
use crate::diagnostic::{Code, Severity};
use crate::nft::text::addresses;
use crate::pipeline::{self, Checked};
use crate::resolve::{services, NamedKind, Policy};
use crate::source::{SourceMap, Span};
use index::{offset, range, Index, SymbolKind};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, CodeLensRequest, Completion, DocumentSymbolRequest, Formatting,
    GotoDefinition, HoverRequest, References, Rename, Request as _, SemanticTokensFullRequest,
    WorkspaceSymbolRequest,
};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, DiagnosticRelatedInformation,
    DiagnosticSeverity, DocumentSymbol, DocumentSymbolResponse, GotoDefinitionResponse, Hover,
    HoverContents, InitializeParams, Location, MarkupContent, MarkupKind, NumberOrString, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextEdit, Uri, WorkspaceEdit,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub(super) fn run(args: LspArgs) -> Exit {
    let (connection, threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        completion_provider: Some(lsp_types::CompletionOptions::default()),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        code_lens_provider: Some(lsp_types::CodeLensOptions {
            resolve_provider: Some(false),
        }),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(
            lsp_types::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lsp_types::SemanticTokensOptions {
                    legend: lsp_types::SemanticTokensLegend {
                        token_types: index::TOKEN_TYPES
                            .iter()
                            .map(|t| lsp_types::SemanticTokenType::new(t))
                            .collect(),
                        token_modifiers: index::TOKEN_MODIFIERS
                            .iter()
                            .map(|m| lsp_types::SemanticTokenModifier::new(m))
                            .collect(),
                    },
                    full: Some(lsp_types::SemanticTokensFullOptions::Bool(true)),
                    ..lsp_types::SemanticTokensOptions::default()
                },
            ),
        ),
        ..ServerCapabilities::default()
    };
    let capabilities = match serde_json::to_value(capabilities) {
        Ok(value) => value,
        Err(error) => return failed(&format!("cannot describe the server: {error}")),
    };
    let init = match connection.initialize(capabilities) {
        Ok(params) => params,
        Err(error) => return failed(&format!("the client did not initialize: {error}")),
    };
    let live_table = live_table_setting(&init["initializationOptions"]);
    let _: Option<InitializeParams> = serde_json::from_value(init).ok();
    let mut server = Server {
        connection: &connection,
        docs: BTreeMap::new(),
        published: BTreeSet::new(),
        today: args.common.today(),
        common: args.common,
        checks: Vec::new(),
        cache: crate::resolve::Cache::default(),
        live_table,
    };
    let outcome = server.serve();
    drop(connection);
    let _ = threads.join();
    match outcome {
        Ok(()) => Exit::Success,
        Err(message) => failed(&message),
    }
}

fn failed(message: &str) -> Exit {
    let _ = writeln!(std::io::stderr(), "bmcwall lsp: {message}");
    Exit::Refused
}

/// An open buffer.
struct Doc {
    path: PathBuf,
    text: String,
}

/// The check of one open buffer taken as the top-level policy.
struct RootCheck {
    root: PathBuf,
    checked: Checked,
}

struct Server<'c> {
    connection: &'c Connection,
    docs: BTreeMap<String, Doc>,
    /// Files that were last sent diagnostics, to clear them when they have
    /// none any more.
    published: BTreeSet<PathBuf>,
    today: crate::model::Date,
    /// The shared flags; with the bmcwall.toml found from each policy, its
    /// settings.
    common: super::Common,
    checks: Vec<RootCheck>,
    /// The inventories parsed by earlier checks, taken again while their
    /// files and buffers read the same.
    cache: crate::resolve::Cache,
    /// `bmcwall.liveTable`: a saved `nft -j list table` whose counters
    /// hover shows on rules.
    live_table: Option<PathBuf>,
}

impl Server<'_> {
    fn serve(&mut self) -> Result<(), String> {
        while let Ok(message) = self.connection.receiver.recv() {
            match message {
                Message::Request(request) => {
                    match self.connection.handle_shutdown(&request) {
                        Ok(true) => return Ok(()),
                        Ok(false) => {}
                        Err(error) => return Err(error.to_string()),
                    }
                    let response = self.answer(request);
                    self.send(Message::Response(response));
                }
                Message::Notification(notification) => self.notified(notification),
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn send(&self, message: Message) {
        let _ = self.connection.sender.send(message);
    }

    /// Answers a request; a panic in the handler becomes an error response.
    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(&request)));
        match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let _ = writeln!(std::io::stderr(), "bmcwall lsp: {method} panicked: {what}");
                Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    format!("internal error in {method}"),
                )
            }
        }
    }

    fn handle(&mut self, request: &Request) -> Result<serde_json::Value, (ErrorCode, String)> {
        fn params<T: serde::de::DeserializeOwned>(
            request: &Request,
        ) -> Result<T, (ErrorCode, String)> {
            serde_json::from_value(request.params.clone())
                .map_err(|error| (ErrorCode::InvalidParams, error.to_string()))
        }
        let value = match request.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = params(request)?;
                to_json(self.hover(&p.text_document_position_params))
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = params(request)?;
                to_json(self.definition(&p.text_document_position_params))
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = params(request)?;
                to_json(self.references(&p.text_document_position, p.context.include_declaration))
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = params(request)?;
                to_json(self.symbols(&p.text_document.uri))
            }
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = params(request)?;
                to_json(self.format(&p.text_document.uri)?)
            }
            Rename::METHOD => {
                let p: lsp_types::RenameParams = params(request)?;
                to_json(self.rename(&p.text_document_position, &p.new_name)?)
            }
            Completion::METHOD => {
                let p: lsp_types::CompletionParams = params(request)?;
                to_json(self.complete(&p.text_document_position))
            }
            CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = params(request)?;
                to_json(self.actions(&p.text_document.uri, p.range))
            }
            CodeLensRequest::METHOD => {
                let p: lsp_types::CodeLensParams = params(request)?;
                to_json(self.lenses(&p.text_document.uri))
            }
            SemanticTokensFullRequest::METHOD => {
                let p: lsp_types::SemanticTokensParams = params(request)?;
                to_json(
                    self.doc(&p.text_document.uri)
                        .map(|doc| lsp_types::SemanticTokens {
                            result_id: None,
                            data: index::semantic_tokens(&doc.text, &Index::of(&doc.text)),
                        }),
                )
            }
            WorkspaceSymbolRequest::METHOD => {
                let p: lsp_types::WorkspaceSymbolParams = params(request)?;
                to_json(self.workspace_symbols(&p.query))
            }
            other => {
                return Err((
                    ErrorCode::MethodNotFound,
                    format!("bmcwall lsp does not answer {other}"),
                ))
            }
        };
        Ok(value)
    }

    fn notified(&mut self, notification: Notification) {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(
                    notification.params,
                ) {
                    self.open(p.text_document.uri, p.text_document.text);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(
                    notification.params,
                ) {
                    // Full synchronisation: the last change is the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        self.open(p.text_document.uri, change.text);
                    }
                }
            }
            DidChangeConfiguration::METHOD => {
                if let Some(path) = live_table_setting(&notification.params["settings"]) {
                    self.live_table = Some(path);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(
                    notification.params,
                ) {
                    self.docs.remove(p.text_document.uri.as_str());
                    self.recheck();
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, uri: Uri, text: String) {
        let Some(path) = path_of(&uri) else { return };
        self.docs
            .insert(uri.as_str().to_string(), Doc { path, text });
        self.recheck();
    }

    /// Checks every open policy buffer that no other open one includes, and
    /// publishes the diagnostics of every file those checks read.
    fn recheck(&mut self) {
        let open: BTreeMap<PathBuf, String> = self
            .docs
            .values()
            .map(|doc| (canonical(&doc.path), doc.text.clone()))
            .collect();
        let mut checks: Vec<RootCheck> = self
            .docs
            .values()
            .filter(|doc| doc.path.extension().is_some_and(|e| e == "wall"))
            .map(|doc| {
                // A bmcwall.toml that is not valid is reported on stderr;
                // the policy is then checked at the default levels.
                let settings = self.common.settings(&doc.path).unwrap_or_default();
                RootCheck {
                    root: canonical(&doc.path),
                    checked: pipeline::check_open(
                        &doc.path,
                        open.clone(),
                        self.today,
                        &settings,
                        &self.cache,
                    ),
                }
            })
            .collect();
        let included: BTreeSet<PathBuf> = checks
            .iter()
            .flat_map(|check| {
                check
                    .checked
                    .sources
                    .files()
                    .map(|(_, file)| canonical(&file.path))
                    .filter(|path| *path != check.root)
                    .collect::<Vec<_>>()
            })
            .collect();
        checks.retain(|check| !included.contains(&check.root));
        let mut by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for check in &checks {
            for (_, file) in check.checked.sources.files() {
                by_file.entry(canonical(&file.path)).or_default();
            }
            for finding in check.checked.findings.iter().filter(|f| f.waived.is_none()) {
                let primary = finding.diagnostic.primary().span;
                let file = check.checked.sources.file(primary.file);
                by_file
                    .entry(canonical(&file.path))
                    .or_default()
                    .push(diagnostic(&check.checked.sources, &finding.diagnostic));
            }
        }
        let stale: Vec<PathBuf> = self
            .published
            .iter()
            .filter(|path| !by_file.contains_key(*path))
            .cloned()
            .collect();
        for path in stale {
            by_file.insert(path, Vec::new());
        }
        self.published = by_file
            .iter()
            .filter(|(_, diagnostics)| !diagnostics.is_empty())
            .map(|(path, _)| path.clone())
            .collect();
        for (path, diagnostics) in by_file {
            let Some(uri) = uri_of(&path) else { continue };
            let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
            if let Ok(params) = serde_json::to_value(params) {
                self.send(Message::Notification(Notification::new(
                    PublishDiagnostics::METHOD.to_string(),
                    params,
                )));
            }
        }
        self.checks = checks;
    }

    /// The check that read `path`, with the file's text as it read it.
    fn check_of(&self, path: &Path) -> Option<(&Checked, crate::source::FileId)> {
        let key = canonical(path);
        self.checks.iter().find_map(|check| {
            check
                .checked
                .sources
                .files()
                .find(|(_, file)| canonical(&file.path) == key)
                .map(|(id, _)| (&check.checked, id))
        })
    }

    fn doc(&self, uri: &Uri) -> Option<&Doc> {
        self.docs.get(uri.as_str())
    }

    /// The name under the cursor, with the document's index.
    fn name_at(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<(&Doc, index::Occurrence)> {
        let doc = self.doc(&at.text_document.uri)?;
        let index = Index::of(&doc.text);
        let found = index.at(offset(&doc.text, at.position))?.clone();
        Some((doc, found))
    }

    fn policy_of(&self, path: &Path) -> Option<(&Checked, &Policy)> {
        let (checked, _) = self.check_of(path)?;
        let (policy, _) = checked.model.as_ref()?;
        Some((checked, policy))
    }

    fn hover(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<Hover> {
        let doc = self.doc(&at.text_document.uri)?;
        let cursor = offset(&doc.text, at.position);
        let index = Index::of(&doc.text);
        if index.at(cursor).is_none() {
            let Some((start, end, conditions)) = index
                .selectors
                .iter()
                .find(|(start, end, _)| *start <= cursor && cursor <= *end)
            else {
                return self.hover_rule(doc, cursor);
            };
            let (_, policy) = self.policy_of(&doc.path)?;
            return Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: selection(&crate::resolve::selected(&policy.inventory, conditions)),
                }),
                range: Some(range(&doc.text, *start, *end)),
            });
        }
        let (doc, found) = self.name_at(at)?;
        if found.gateway {
            let (_, policy) = self.policy_of(&doc.path)?;
            let index = policy.gateway_named(&found.name)?;
            return Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: describe_gateway(policy, index),
                }),
                range: Some(range(&doc.text, found.start, found.end)),
            });
        }
        let text = match self
            .policy_of(&doc.path)
            .and_then(|(_, policy)| policy.definitions.iter().find(|d| d.name == found.name))
        {
            Some(definition) => describe(&definition.name, &definition.kind, definition.uses),
            None => match services::builtin(&found.name) {
                Some(items) => {
                    let set = services::to_set(items);
                    let clear: Vec<String> = items
                        .iter()
                        .filter(|i| i.cleartext)
                        .map(|i| service::words(&service::ports(i.proto, i.lo, i.hi)).join(", "))
                        .collect();
                    let mut text = format!(
                        "built-in service `{}`: {}",
                        found.name,
                        service::words(&set).join(", ")
                    );
                    if !clear.is_empty() {
                        text.push_str(&format!(" (cleartext: {})", clear.join(", ")));
                    }
                    text
                }
                None => return None,
            },
        };
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(range(&doc.text, found.start, found.end)),
        })
    }

    /// Hover on a rule (not on a name in it): its action and description,
    /// the findings on it, and with `bmcwall.liveTable` set, its counter's
    /// packets and bytes when the saved table is this policy's.
    fn hover_rule(&self, doc: &Doc, cursor: usize) -> Option<Hover> {
        let (checked, file) = self.check_of(&doc.path)?;
        if checked.sources.file(file).text != doc.text {
            return None;
        }
        let (policy, analysis) = checked.model.as_ref()?;
        let (number, rule) = policy.rules.iter().enumerate().find(|(_, rule)| {
            rule.span.file == file
                && rule.span.start as usize <= cursor
                && cursor <= rule.span.end as usize
        })?;
        let mut text = format!("`{}` rule", rule.action.as_str());
        if let Some(description) = &rule.description {
            text.push_str(&format!(": {description}"));
        }
        // The flows it decides: cells of the decision table, and one of them.
        if let Some(ordinal) = analysis.rules.iter().position(|&r| r == number) {
            let facts = crate::analysis::rules::facts(policy, analysis);
            let fact = &facts[ordinal];
            let decides = match fact.effective_witness {
                Some(flow) => format!(
                    "decides flows such as {} (first match; {} cell{} of the decision table)",
                    flow.witness(),
                    fact.effective_cells,
                    if fact.effective_cells == 1 { "" } else { "s" },
                ),
                None => "decides no flow: earlier rules decide every flow it matches".into(),
            };
            text.push_str(&format!("\n\n{decides}"));
        }
        let findings: Vec<String> = self
            .findings_in(&doc.path)
            .into_iter()
            .filter(|(d, _)| {
                let span = d.primary().span;
                rule.span.start <= span.start && span.end <= rule.span.end
            })
            .map(|(d, _)| format!("{} {}", d.code.as_str(), d.code.name()))
            .collect();
        if !findings.is_empty() {
            text.push_str(&format!("\n\nfindings: {}", findings.join(", ")));
        }
        if let Some(path) = &self.live_table {
            let hits = if rule.expired {
                "expired: not in the table".to_string()
            } else {
                live_hits(path, policy, &checked.sources, number)
            };
            text.push_str(&format!("\n\nhits in {}: {hits}", path.display()));
        }
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(range(
                &doc.text,
                rule.span.start as usize,
                rule.span.end as usize,
            )),
        })
    }

    fn definition(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
    ) -> Option<GotoDefinitionResponse> {
        let Some((doc, found)) = self.name_at(at) else {
            let mut entries = self.entries_at(at)?;
            return Some(match entries.len() {
                0 => return None,
                1 => GotoDefinitionResponse::Scalar(entries.remove(0)),
                _ => GotoDefinitionResponse::Array(entries),
            });
        };
        let (checked, policy) = self.policy_of(&doc.path)?;
        let span = if found.gateway {
            policy.gateways[policy.gateway_named(&found.name)?].name_span
        } else {
            policy
                .definitions
                .iter()
                .find(|d| d.name == found.name)?
                .name_span
        };
        location(&checked.sources, span).map(GotoDefinitionResponse::Scalar)
    }

    /// For a cursor on a condition of an `inventory(...)` selector (its
    /// label or its value), the inventory entries whose label has that
    /// value (`name`: the entry of that name), each at its name in its
    /// inventory file, in inventory order.
    fn entries_at(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<Vec<Location>> {
        let doc = self.doc(&at.text_document.uri)?;
        let cursor = offset(&doc.text, at.position);
        let index = Index::of(&doc.text);
        let condition = index
            .selectors
            .iter()
            .flat_map(|(_, _, conditions)| conditions)
            .find(|c| {
                c.label.span.start as usize <= cursor && cursor <= c.value.span.end as usize
            })?;
        let (checked, policy) = self.policy_of(&doc.path)?;
        Some(
            policy
                .inventory
                .iter()
                .filter(|entry| entry.has_label(&condition.label.name, &condition.value.value))
                .filter_map(|entry| location(&checked.sources, entry.span))
                .collect(),
        )
    }

    /// Every occurrence of the name under the cursor in every policy file
    /// the check read.
    fn references(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
        declaration: bool,
    ) -> Option<Vec<Location>> {
        let Some((doc, found)) = self.name_at(at) else {
            return self.entries_at(at);
        };
        let (checked, _) = self.check_of(&doc.path)?;
        let mut locations = Vec::new();
        for (_, file) in checked.sources.files() {
            if file.path.extension().is_none_or(|e| e != "wall") {
                continue;
            }
            let Some(uri) = uri_of(&canonical(&file.path)) else {
                continue;
            };
            for o in Index::of(&file.text).occurrences {
                if o.name == found.name
                    && o.service == found.service
                    && o.gateway == found.gateway
                    && (declaration || !o.definition)
                {
                    locations.push(Location::new(
                        uri.clone(),
                        range(&file.text, o.start, o.end),
                    ));
                }
            }
        }
        Some(locations)
    }

    fn rename(
        &self,
        at: &lsp_types::TextDocumentPositionParams,
        new_name: &str,
    ) -> Result<Option<WorkspaceEdit>, (ErrorCode, String)> {
        let mut chars = new_name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && !crate::syntax::KEYWORDS.contains(&new_name);
        if !valid {
            return Err((
                ErrorCode::InvalidParams,
                format!(
                    "`{new_name}` is not a name: a letter, then letters, digits, `_`, `.`, `-`"
                ),
            ));
        }
        let Some(locations) = self.references(at, true) else {
            return Ok(None);
        };
        let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
        for location in locations {
            changes
                .entry(location.uri)
                .or_default()
                .push(TextEdit::new(location.range, new_name.to_string()));
        }
        Ok(Some(WorkspaceEdit::new(changes)))
    }

    fn symbols(&self, uri: &Uri) -> Option<DocumentSymbolResponse> {
        let doc = self.doc(uri)?;
        let symbols = Index::of(&doc.text)
            .symbols
            .into_iter()
            .map(|s| {
                #[allow(deprecated)] // `deprecated` is a required field
                DocumentSymbol {
                    name: s.name,
                    detail: (!s.detail.is_empty()).then_some(s.detail),
                    kind: match s.kind {
                        SymbolKind::Address(_) => lsp_types::SymbolKind::VARIABLE,
                        SymbolKind::Service => lsp_types::SymbolKind::CONSTANT,
                        SymbolKind::Rule => lsp_types::SymbolKind::EVENT,
                        SymbolKind::Expectation => lsp_types::SymbolKind::BOOLEAN,
                        SymbolKind::Gateway => lsp_types::SymbolKind::INTERFACE,
                    },
                    tags: None,
                    deprecated: None,
                    range: range(&doc.text, s.start, s.end),
                    selection_range: range(&doc.text, s.select.0, s.select.1),
                    children: None,
                }
            })
            .collect();
        Some(DocumentSymbolResponse::Nested(symbols))
    }

    fn format(&self, uri: &Uri) -> Result<Option<Vec<TextEdit>>, (ErrorCode, String)> {
        let Some(doc) = self.doc(uri) else {
            return Ok(None);
        };
        match crate::fmt::format(crate::source::FileId(0), &doc.text) {
            Ok(formatted) if formatted == doc.text => Ok(Some(Vec::new())),
            Ok(formatted) => Ok(Some(vec![TextEdit::new(
                range(&doc.text, 0, doc.text.len()),
                formatted,
            )])),
            Err(crate::fmt::FormatError::Syntax(_)) => Err((
                ErrorCode::RequestFailed,
                "not formatted: the text has syntax errors".to_string(),
            )),
            Err(crate::fmt::FormatError::Internal(why)) => {
                Err((ErrorCode::InternalError, format!("not formatted: {why}")))
            }
        }
    }

    /// The findings of the check that read `path` whose primary label is in
    /// that file, with its text.
    fn findings_in(&self, path: &Path) -> Vec<(&crate::diagnostic::Diagnostic, &str)> {
        let Some((checked, file)) = self.check_of(path) else {
            return Vec::new();
        };
        let text = checked.sources.file(file).text.as_str();
        checked
            .findings
            .iter()
            .filter(|f| f.waived.is_none() && f.diagnostic.primary().span.file == file)
            .map(|f| (&f.diagnostic, text))
            .collect()
    }

    /// Quick fixes for the findings in `range`: the replacement a help
    /// suggests (the name meant, the network meant), a waiver on the rule
    /// of a finding that can be waived, and removing a redundant rule.
    fn actions(
        &self,
        uri: &Uri,
        wanted: lsp_types::Range,
    ) -> Option<Vec<lsp_types::CodeActionOrCommand>> {
        let doc = self.doc(uri)?;
        let index = Index::of(&doc.text);
        let mut actions = Vec::new();
        for (d, text) in self.findings_in(&doc.path) {
            if text != doc.text {
                continue;
            }
            let span = d.primary().span;
            let at = range(text, span.start as usize, span.end as usize);
            if at.end < wanted.start || wanted.end < at.start {
                continue;
            }
            let rule = index.symbols.iter().find(|s| {
                s.kind == SymbolKind::Rule
                    && s.start <= span.start as usize
                    && span.end as usize <= s.end
            });
            let mut offer = |title: String, edits: Vec<TextEdit>| {
                let mut changes = HashMap::new();
                changes.insert(uri.clone(), edits);
                actions.push(lsp_types::CodeActionOrCommand::CodeAction(
                    lsp_types::CodeAction {
                        title,
                        kind: Some(lsp_types::CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diagnostic(
                            &self.check_of(&doc.path)?.0.sources,
                            d,
                        )]),
                        edit: Some(WorkspaceEdit::new(changes)),
                        ..lsp_types::CodeAction::default()
                    },
                ));
                Some(())
            };
            if let Some(fix) = &d.fix {
                offer(
                    format!("replace with `{fix}`"),
                    vec![TextEdit::new(at, fix.clone())],
                );
            }
            let Some(rule) = rule else { continue };
            if d.code == Code::RedundantRule {
                let end = text[rule.end..]
                    .find('\n')
                    .map_or(text.len(), |i| rule.end + i + 1);
                offer(
                    "remove the redundant rule".into(),
                    vec![TextEdit::new(range(text, rule.start, end), String::new())],
                );
            }
            if !d.code.is_input_error() && !text[rule.start..rule.end].contains("waive") {
                // Before the rule's `;`, a reason to fill in.
                let semicolon = rule.end - 1;
                offer(
                    format!("waive {} on this rule", d.code.as_str()),
                    vec![TextEdit::new(
                        range(text, semicolon, semicolon),
                        format!(" waive {} \"why this is accepted\"", d.code.as_str()),
                    )],
                );
            }
        }
        Some(actions)
    }

    /// Above each definition, how often it is used; above each rule, the
    /// findings on it.
    fn lenses(&self, uri: &Uri) -> Option<Vec<lsp_types::CodeLens>> {
        let doc = self.doc(uri)?;
        let index = Index::of(&doc.text);
        let policy = self.policy_of(&doc.path).map(|(_, p)| p);
        let findings = self.findings_in(&doc.path);
        let lens = |start: usize, end: usize, title: String| lsp_types::CodeLens {
            range: range(&doc.text, start, end),
            command: Some(lsp_types::Command::new(title, String::new(), None)),
            data: None,
        };
        let mut lenses = Vec::new();
        for symbol in &index.symbols {
            match symbol.kind {
                SymbolKind::Address(_) | SymbolKind::Service => {
                    let uses = policy
                        .and_then(|p| p.definitions.iter().find(|d| d.name == symbol.name))
                        .map(|d| d.uses);
                    if let Some(uses) = uses {
                        let title = match uses {
                            1 => "1 use".to_string(),
                            n => format!("{n} uses"),
                        };
                        lenses.push(lens(symbol.select.0, symbol.select.1, title));
                    }
                }
                SymbolKind::Rule => {
                    let on_rule: Vec<String> = findings
                        .iter()
                        .filter(|(d, text)| {
                            let span = d.primary().span;
                            *text == doc.text
                                && symbol.start <= span.start as usize
                                && span.end as usize <= symbol.end
                        })
                        .map(|(d, _)| format!("{} {}", d.code.as_str(), d.code.name()))
                        .collect();
                    if !on_rule.is_empty() {
                        lenses.push(lens(symbol.select.0, symbol.select.1, on_rule.join(", ")));
                    }
                }
                SymbolKind::Expectation | SymbolKind::Gateway => {}
            }
        }
        Some(lenses)
    }

    /// The definitions of every checked policy whose name holds `query`.
    #[allow(deprecated)] // `SymbolInformation::deprecated` is a required field
    fn workspace_symbols(&self, query: &str) -> Option<Vec<lsp_types::SymbolInformation>> {
        let mut seen = BTreeSet::new();
        let mut symbols = Vec::new();
        for check in &self.checks {
            let Some((policy, _)) = check.checked.model.as_ref() else {
                continue;
            };
            for definition in &policy.definitions {
                if !definition.name.contains(query) || !seen.insert(definition.name.clone()) {
                    continue;
                }
                let Some(location) = location(&check.checked.sources, definition.name_span) else {
                    continue;
                };
                symbols.push(lsp_types::SymbolInformation {
                    name: definition.name.clone(),
                    kind: match definition.kind {
                        NamedKind::Address(..) => lsp_types::SymbolKind::VARIABLE,
                        NamedKind::Service(_) => lsp_types::SymbolKind::CONSTANT,
                    },
                    tags: None,
                    deprecated: None,
                    location,
                    container_name: Some(kind_word(&definition.kind).to_string()),
                });
            }
        }
        symbols.sort_by(|a, b| a.name.cmp(&b.name));
        Some(symbols)
    }

    /// Names that fit where the cursor is: services after the `:` of a rule,
    /// codes after `waive`, else addresses and keywords.
    fn complete(&self, at: &lsp_types::TextDocumentPositionParams) -> Option<CompletionResponse> {
        let doc = self.doc(&at.text_document.uri)?;
        let cursor = offset(&doc.text, at.position);
        let statement_start = doc.text[..cursor].rfind(';').map_or(0, |i| i + 1);
        let before = &doc.text[statement_start..cursor];
        let last_word = before.split_whitespace().last().unwrap_or("");
        let typing = !before.ends_with(char::is_whitespace);
        let previous = if typing {
            before.split_whitespace().rev().nth(1).unwrap_or("")
        } else {
            last_word
        };
        let mut items = Vec::new();
        if previous == "waive" {
            for code in Code::ALL {
                items.push(item(
                    code.as_str(),
                    CompletionItemKind::ENUM_MEMBER,
                    code.summary(),
                ));
            }
            return Some(CompletionResponse::Array(items));
        }
        if let Some(items) = self.complete_gateway_item(doc, cursor) {
            return Some(CompletionResponse::Array(items));
        }
        let services_here = before
            .find("->")
            .is_some_and(|arrow| before[arrow..].contains(':'));
        let definitions: Vec<(String, bool, String)> = match self.policy_of(&doc.path) {
            Some((_, policy)) => policy
                .definitions
                .iter()
                .map(|d| {
                    let service = matches!(d.kind, NamedKind::Service(_));
                    (d.name.clone(), service, kind_word(&d.kind).to_string())
                })
                .collect(),
            None => Index::of(&doc.text)
                .occurrences
                .into_iter()
                .filter(|o| o.definition && !o.gateway)
                .map(|o| (o.name, o.service, String::new()))
                .collect(),
        };
        for (name, service, detail) in definitions {
            if service == services_here {
                let kind = if service {
                    CompletionItemKind::CONSTANT
                } else {
                    CompletionItemKind::VARIABLE
                };
                items.push(item(&name, kind, &detail));
            }
        }
        if services_here {
            for (name, _) in services::BUILTIN {
                items.push(item(name, CompletionItemKind::CONSTANT, "built-in service"));
            }
            for word in ["any", "tcp", "udp", "icmp", "log", "until", "waive"] {
                items.push(item(word, CompletionItemKind::KEYWORD, ""));
            }
        } else {
            for name in ["any", "internet", "internal", "bmcs"] {
                items.push(item(name, CompletionItemKind::VARIABLE, "built-in"));
            }
            for word in crate::syntax::KEYWORDS {
                items.push(item(word, CompletionItemKind::KEYWORD, ""));
            }
        }
        items.sort_by(|a, b| a.label.cmp(&b.label));
        items.dedup_by(|a, b| a.label == b.label);
        Some(CompletionResponse::Array(items))
    }
}

impl Server<'_> {
    /// Completion inside a gateway's braces: the items' keywords where an
    /// item starts, the other gateways' names after `pair`, the words of
    /// `mode` and `sync`; `None` outside the braces and after `scope` (an
    /// address expression, completed as one).
    fn complete_gateway_item(&self, doc: &Doc, cursor: usize) -> Option<Vec<CompletionItem>> {
        let before = &doc.text[..cursor];
        let brace = before.rfind('{')?;
        if before[brace..].contains('}') {
            return None;
        }
        let item_start = before.rfind(';').filter(|&at| at > brace).unwrap_or(brace) + 1;
        let item_text = &before[item_start..];
        let words: Vec<&str> = item_text.split_whitespace().collect();
        let typing = !item_text.ends_with(char::is_whitespace);
        let keyword = |word: &str| item(word, CompletionItemKind::KEYWORD, "");
        if words.is_empty() || typing && words.len() == 1 {
            return Some(["mode", "pair", "scope", "sync"].map(keyword).to_vec());
        }
        match words[0] {
            "mode" => Some(["forward", "host"].map(keyword).to_vec()),
            "sync" => Some(["conntrackd", "vrrp"].map(keyword).to_vec()),
            "pair" => {
                // The gateway the braces belong to is not its own peer.
                let own = before[..brace]
                    .rfind("gateway")
                    .and_then(|at| {
                        before[at + "gateway".len()..brace]
                            .split_whitespace()
                            .next()
                    })
                    .map(|name| name.trim_end_matches('='));
                let names: BTreeSet<String> = match self.policy_of(&doc.path) {
                    Some((_, policy)) => policy.gateways.iter().map(|g| g.name.clone()).collect(),
                    None => Index::of(&doc.text)
                        .occurrences
                        .into_iter()
                        .filter(|o| o.gateway && o.definition)
                        .map(|o| o.name)
                        .collect(),
                };
                Some(
                    names
                        .iter()
                        .filter(|name| Some(name.as_str()) != own)
                        .map(|name| item(name, CompletionItemKind::VARIABLE, "gateway"))
                        .collect(),
                )
            }
            _ => None,
        }
    }
}

/// The `bmcwall.liveTable` path of an editor's settings or initialization
/// options: `{"liveTable": PATH}` or `{"bmcwall": {"liveTable": PATH}}`.
fn live_table_setting(settings: &serde_json::Value) -> Option<PathBuf> {
    let value = settings
        .get("bmcwall")
        .and_then(|b| b.get("liveTable"))
        .or_else(|| settings.get("liveTable"))?;
    value.as_str().filter(|s| !s.is_empty()).map(PathBuf::from)
}

/// Rule `number`'s packets and bytes in the saved listing at `path`, or why
/// there are none: the listing is read as `bmcwall usage --listing` reads
/// it, and counts only when its policy digest is this policy's (the buffers
/// as they are now).
fn live_hits(path: &Path, policy: &Policy, sources: &SourceMap, number: usize) -> String {
    let text = match crate::resolve::read_text(path) {
        Ok(text) => text,
        Err(error) => return format!("not readable: {error}"),
    };
    let table = crate::nft::DEFAULT_TABLE;
    let ruleset = match crate::nft::parse::listing(&text, table) {
        Ok(ruleset) => ruleset,
        Err(error) => return format!("not a table bmcwall can read: {error}"),
    };
    let ours = sources.digest();
    match crate::nft::policy_digest(&ruleset) {
        Some(theirs) if theirs == ours => {}
        Some(theirs) => {
            return format!("compiled from policy {theirs}, not from this one ({ours})")
        }
        None => return "the table does not name the policy it was compiled from".into(),
    }
    let names = crate::nft::counter_names(policy, sources);
    let Some(name) = names.get(number) else {
        return "no counter".into();
    };
    match ruleset.counters.iter().find(|c| &c.name == name) {
        Some(counter) => format!("{} packets, {} bytes", counter.packets, counter.bytes),
        None => format!("no counter {name}"),
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        ..CompletionItem::default()
    }
}

fn kind_word(kind: &NamedKind) -> &'static str {
    match kind {
        NamedKind::Address(kind, _) => kind.keyword(),
        NamedKind::Service(_) => "service",
    }
}

/// The BMCs a selector selects: how many, and the first few with their
/// addresses and labels.
fn selection(entries: &[&crate::resolve::InventoryEntry]) -> String {
    let mut text = match entries.len() {
        0 => return "selects no inventory entry".into(),
        1 => "selects 1 BMC:".to_string(),
        n => format!("selects {n} BMCs:"),
    };
    for entry in entries.iter().take(5) {
        let labels: Vec<String> = entry
            .labels
            .iter()
            .map(|(key, values)| {
                let values: Vec<&str> = values.iter().collect();
                format!("{key}={}", values.join("|"))
            })
            .collect();
        text.push_str(&format!(
            "\n- `{}` {} ({})",
            entry.name,
            addresses(&entry.addresses).join(", "),
            labels.join(", ")
        ));
    }
    if entries.len() > 5 {
        text.push_str(&format!("\n- and {} more", entries.len() - 5));
    }
    text
}

/// A definition in words: its kind, what it resolved to, its uses.
fn describe(name: &str, kind: &NamedKind, uses: usize) -> String {
    let uses = match uses {
        0 => "not used".to_string(),
        1 => "used once".to_string(),
        n => format!("used {n} times"),
    };
    match kind {
        NamedKind::Address(kind, set) => {
            let list = addresses(set);
            let shown = if list.len() > 6 {
                format!("{}, and {} more", list[..5].join(", "), list.len() - 5)
            } else {
                list.join(", ")
            };
            let (v4, v6) = (set.v4.intervals().len(), set.v6.intervals().len());
            format!(
                "{} `{name}`: {shown}\n\n{v4} IPv4 and {v6} IPv6 ranges; {uses}",
                kind.keyword()
            )
        }
        NamedKind::Service(set) => {
            format!(
                "service `{name}`: {}\n\n{uses}",
                service::words(set).join(", ")
            )
        }
    }
}

fn to_json<T: serde::Serialize>(value: T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn location(sources: &SourceMap, span: Span) -> Option<Location> {
    let file = sources.file(span.file);
    let uri = uri_of(&canonical(&file.path))?;
    Some(Location::new(
        uri,
        range(&file.text, span.start as usize, span.end as usize),
    ))
}

fn diagnostic(sources: &SourceMap, d: &crate::diagnostic::Diagnostic) -> lsp_types::Diagnostic {
    let primary = d.primary();
    let file = sources.file(primary.span.file);
    let mut message = d.message.clone();
    if !primary.message.is_empty() {
        message.push_str(&format!(" ({})", primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: location(sources, label.span)?,
                message: label.message.clone(),
            })
        })
        .chain(d.path.iter().filter_map(|(_, span)| {
            Some(DiagnosticRelatedInformation {
                location: location(sources, *span)?,
                message: "a hop of the path".into(),
            })
        }))
        .collect();
    lsp_types::Diagnostic {
        range: range(
            &file.text,
            primary.span.start as usize,
            primary.span.end as usize,
        ),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("bmcwall".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The path of a `file:` URI, percent-decoded.
fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

/// The `file:` URI of an absolute path, percent-encoded.
fn uri_of(path: &Path) -> Option<Uri> {
    use std::os::unix::ffi::OsStrExt;
    let mut text = String::from("file://");
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            text.push(byte as char);
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&text).ok()
}

/// A gateway for hover: its mode, its pair, what it governs and how many
/// BMCs.
fn describe_gateway(policy: &Policy, index: usize) -> String {
    let gateway = &policy.gateways[index];
    let target = policy.target_of(index);
    let mode = crate::cli::fleet::mode_words(policy, index).join(", ");
    let mut text = format!("gateway `{}`: mode {mode}", gateway.name);
    let members: Vec<&str> = policy
        .members_of(target)
        .map(|i| policy.gateways[i].name.as_str())
        .collect();
    if members.len() > 1 {
        text.push_str(&format!(", pair of {}", members.join(" and ")));
    }
    text.push_str(&format!(
        "\n\nits own addresses: {}\n\ngoverns {} BMCs",
        crate::nft::text::addresses(&gateway.addrs).join(", "),
        crate::cli::fleet::bmcs_governed(policy, index)
    ));
    text
}
