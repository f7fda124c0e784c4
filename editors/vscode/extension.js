// Starts `bmcwall lsp` for .wall files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate() {
  const command = vscode.workspace.getConfiguration("bmcwall").get("path", "bmcwall");
  client = new LanguageClient(
    "bmcwall",
    "bmcwall",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "bmcwall" }] }
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
