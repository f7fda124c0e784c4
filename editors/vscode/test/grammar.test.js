// Tokenizes every .wall file of the repository with the TextMate grammar, the
// way VS Code does (vscode-textmate on the Oniguruma regex engine), and checks
// the scopes against a plain reading of the text: statement keywords,
// strings and comments. Run: `node test/grammar.test.js` in editors/vscode.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.resolve(__dirname, "../../..");
const grammarPath = path.resolve(__dirname, "../syntaxes/bmcwall.tmLanguage.json");

// The scope a word at the start of a statement gets, by word.
const STATEMENT_START = {
  allow: "keyword.control.action.bmcwall",
  deny: "keyword.control.action.bmcwall",
  expect: "keyword.control.expect.bmcwall",
  include: "keyword.other.include.bmcwall",
  inventory: "keyword.other.inventory.bmcwall",
  internal: "keyword.other.internal.bmcwall",
  scope: "keyword.other.scope.bmcwall",
  watch: "keyword.other.watch.bmcwall",
  host: "storage.type.definition.bmcwall",
  network: "storage.type.definition.bmcwall",
  group: "storage.type.definition.bmcwall",
  bmc: "storage.type.definition.bmcwall",
  service: "storage.type.service.bmcwall",
  gateway: "storage.type.gateway.bmcwall",
  // inside a gateway's braces
  pair: "keyword.other.pair.bmcwall",
  mode: "keyword.other.mode.bmcwall",
  sync: "keyword.other.sync.bmcwall",
};

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.bmcwall"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  return registry.loadGrammar("source.bmcwall");
}

// Lines of tokens: { start, end, text, scopes }.
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const result = grammar.tokenizeLine(line, stack);
    stack = result.ruleStack;
    return result.tokens.map((t) => ({
      start: t.startIndex,
      end: Math.min(t.endIndex, line.length),
      text: line.slice(t.startIndex, t.endIndex),
      scopes: t.scopes,
    }));
  });
}

// A plain reading of the text, independent of the grammar: the words that
// start statements (after the start, a `;`, `{` or `}`), the strings (with
// their escapes) and the comments, each as line and columns.
function read(text) {
  const starts = [];
  const strings = [];
  const escapes = [];
  const comments = [];
  let atStart = true;
  text.split(/\r?\n/).forEach((line, n) => {
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (c === "#") {
        comments.push({ line: n, start: i, end: line.length });
        break;
      } else if (c === '"') {
        let j = i + 1;
        while (j < line.length && line[j] !== '"') {
          if (line[j] === "\\") {
            escapes.push({ line: n, start: j, end: j + 2 });
            j += 1;
          }
          j += 1;
        }
        strings.push({ line: n, start: i, end: Math.min(j + 1, line.length) });
        atStart = false;
        i = j + 1;
      } else if (/\s/.test(c)) {
        i += 1;
      } else if (c === ";" || c === "{" || c === "}") {
        atStart = true;
        i += 1;
      } else {
        const word = /^[A-Za-z0-9_.:\/-]+/.exec(line.slice(i));
        const length = word ? word[0].length : 1;
        if (atStart && word) starts.push({ line: n, start: i, word: word[0] });
        atStart = false;
        i += length;
      }
    }
  });
  return { starts, strings, escapes, comments };
}

function tokensIn(lines, span) {
  return lines[span.line].filter((t) => t.start < span.end && t.end > span.start);
}

function has(token, prefix) {
  return token.scopes.some((s) => s === prefix || s.startsWith(prefix + "."));
}

function where(file, span) {
  return `${file}:${span.line + 1}:${span.start + 1}`;
}

function wallFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...wallFiles(full));
    else if (entry.name.endsWith(".wall")) out.push(full);
  }
  return out.sort();
}

// Every valid file: every token scoped, none invalid.illegal; statement
// keywords, strings, escapes and comments scoped as they are.
function checkValid(file, text, lines) {
  const rel = path.relative(root, file);
  for (const [n, tokens] of lines.entries()) {
    for (const t of tokens) {
      const leaf = t.scopes[t.scopes.length - 1];
      assert.ok(
        !t.text.trim() || !(leaf === "source.bmcwall" || leaf.startsWith("meta.")),
        `${rel}:${n + 1}:${t.start + 1}: ${JSON.stringify(t.text)} has no scope of its own`
      );
      assert.ok(
        !has(t, "invalid.illegal"),
        `${rel}:${n + 1}:${t.start + 1}: ${JSON.stringify(t.text)} is ${t.scopes.join(" ")}`
      );
    }
  }
  const { starts, strings, escapes, comments } = read(text);
  for (const s of starts) {
    const expected = STATEMENT_START[s.word];
    assert.ok(expected, `${where(rel, s)}: ${s.word} starts no statement`);
    const [token] = tokensIn(lines, { ...s, end: s.start + 1 });
    assert.equal(token.text, s.word, `${where(rel, s)}: one token for ${s.word}`);
    assert.ok(
      has(token, expected) && (has(token, "keyword") || has(token, "storage.type")),
      `${where(rel, s)}: ${s.word} is ${token.scopes.join(" ")}, not ${expected}`
    );
  }
  for (const [spans, scope] of [
    [strings, "string.quoted.double"],
    [escapes, "constant.character.escape"],
    [comments, "comment.line.number-sign"],
  ]) {
    for (const span of spans) {
      for (const t of tokensIn(lines, span)) {
        assert.ok(has(t, scope), `${where(rel, span)}: ${JSON.stringify(t.text)} is ${t.scopes.join(" ")}, not ${scope}`);
      }
    }
  }
  return starts.length;
}

// Exact expectations on a sample: each [line, token text, occurrence, scope].
const SAMPLE = [
  'host bmcs-a = 10.0.0.1, fd00::1-fd00::9;',
  'allow bmcs-a -> bmcs : ssh, tcp 5900-5901  "a # b"  log;',
  "gateway gw-a = 10.1.0.1, fd00:1::1 {",
  '    scope inventory(site = "ams1", rack != "b"), 10.1.8.0/24;   # governs',
  "    pair gw-b;",
  "    mode forward, host;",
  "    sync vrrp, conntrackd;",
  "}",
  'allow x -> y : vnc  until 2027-03-31  waive BW206(vnc) "say \\"hi\\" \\\\";',
  "network pair = 10.0.0.0/8;",
  'expect unreachable internet -> bmcs "never";',
  'inventory "a.csv" format csv address ip resolve;',
  "allow a -> b : ssh",
  "host h2 = 10.0.0.2;",
  'include "broken',
].join("\n");

const EXPECT = [
  [0, "bmcs-a", 0, "entity.name.address.bmcwall"],
  [0, "fd00::1", 0, "constant.numeric.address.ipv6.bmcwall"],
  [0, "-", 0, "keyword.operator.range.bmcwall"],
  [0, "fd00::9", 0, "constant.numeric.address.ipv6.bmcwall"],
  [1, "bmcs-a", 0, "variable.other.name.bmcwall"],
  [1, "->", 0, "keyword.operator.arrow.bmcwall"],
  [1, "bmcs", 0, "constant.language.set.bmcwall"],
  [1, "ssh", 0, "support.constant.service.bmcwall"],
  [1, "tcp", 0, "keyword.other.protocol.bmcwall"],
  [1, "5900-5901", 0, "constant.numeric.port.bmcwall"],
  [1, "a # b", 0, "string.quoted.double.bmcwall"],
  [1, "log", 0, "keyword.other.bmcwall"],
  [2, "gateway", 0, "storage.type.gateway.bmcwall"],
  [2, "gw-a", 0, "entity.name.gateway.bmcwall"],
  [2, "{", 0, "punctuation.section.block.begin.bmcwall"],
  [3, "scope", 0, "keyword.other.scope.bmcwall"],
  [3, "inventory", 0, "support.function.inventory.bmcwall"],
  [3, "site", 0, "entity.other.attribute-name.label.bmcwall"],
  [3, "=", 0, "keyword.operator.comparison.bmcwall"],
  [3, "!=", 0, "keyword.operator.comparison.bmcwall"],
  [3, "ams1", 0, "string.quoted.double.bmcwall"],
  [3, "10.1.8.0", 0, "constant.numeric.address.ipv4.bmcwall"],
  [3, "24", 0, "constant.numeric.prefix-length.bmcwall"],
  [3, " governs", 0, "comment.line.number-sign.bmcwall"],
  [4, "pair", 0, "keyword.other.pair.bmcwall"],
  [4, "gw-b", 0, "entity.name.gateway.bmcwall"],
  [5, "mode", 0, "keyword.other.mode.bmcwall"],
  [5, "forward", 0, "constant.language.mode.bmcwall"],
  [5, "host", 0, "constant.language.mode.bmcwall"],
  [6, "sync", 0, "keyword.other.sync.bmcwall"],
  [6, "vrrp", 0, "constant.language.sync.bmcwall"],
  [6, "conntrackd", 0, "constant.language.sync.bmcwall"],
  [7, "}", 0, "punctuation.section.block.end.bmcwall"],
  [8, "until", 0, "keyword.other.bmcwall"],
  [8, "2027-03-31", 0, "constant.numeric.date.bmcwall"],
  [8, "waive", 0, "keyword.other.waive.bmcwall"],
  [8, "BW206", 0, "constant.other.diagnostic-code.bmcwall"],
  [8, "vnc", 1, "support.constant.service.bmcwall"],
  [8, '\\"', 0, "constant.character.escape.bmcwall"],
  [8, "\\\\", 0, "constant.character.escape.bmcwall"],
  [9, "network", 0, "storage.type.definition.bmcwall"],
  [9, "pair", 0, "entity.name.address.bmcwall"],
  [10, "unreachable", 0, "keyword.control.action.bmcwall"],
  [10, "internet", 0, "constant.language.set.bmcwall"],
  [11, "format", 0, "keyword.other.format.bmcwall"],
  [11, "csv", 0, "support.constant.format.bmcwall"],
  [11, "address", 0, "keyword.other.address.bmcwall"],
  [11, "ip", 0, "variable.other.key.bmcwall"],
  [11, "resolve", 0, "keyword.other.resolve.bmcwall"],
  // A line starting with a statement keyword starts a statement, even when
  // the `;` before it is missing (the parser reads both, too).
  [13, "h2", 0, "entity.name.address.bmcwall"],
  [14, '"broken', 0, "invalid.illegal.unclosed-string.bmcwall"],
];

function checkSample(grammar) {
  const lines = tokenize(grammar, SAMPLE);
  for (const [line, text, nth, scope] of EXPECT) {
    const found = lines[line].filter((t) => t.text === text);
    assert.ok(
      found[nth],
      `sample line ${line + 1}: no token ${JSON.stringify(text)} (#${nth}); tokens: ` +
        JSON.stringify(lines[line].map((t) => t.text))
    );
    assert.ok(
      found[nth].scopes.includes(scope),
      `sample line ${line + 1}: ${JSON.stringify(text)} is ${found[nth].scopes.join(" ")}, not ${scope}`
    );
  }
  // `bmcs-a` is one name, never the keyword `bmcs`; `"a # b"` holds no comment.
  assert.ok(!lines[0].concat(lines[1]).some((t) => t.text === "bmcs-a" && has(t, "constant.language")));
  assert.ok(!lines[1].some((t) => has(t, "comment")));
  // The one invalid token is the unclosed string.
  const invalid = lines.flat().filter((t) => has(t, "invalid.illegal"));
  assert.deepEqual(invalid.map((t) => t.text), ['"broken']);
  return EXPECT.length;
}

async function main() {
  const started = Date.now();
  const grammar = await loadGrammar();
  const expectations = checkSample(grammar);
  const files = [...wallFiles(path.join(root, "examples")), ...wallFiles(path.join(root, "tests/fixtures"))];
  const invalidDir = path.join(root, "tests/fixtures/invalid") + path.sep;
  let valid = 0;
  let broken = 0;
  let starts = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const lines = tokenize(grammar, text);
    if (file.startsWith(invalidDir)) {
      broken += 1; // tokenized without an exception is all that is asked
    } else {
      starts += checkValid(file, text, lines);
      valid += 1;
    }
  }
  assert.ok(valid > 0 && broken > 0, "the examples and fixtures are found");
  console.log(
    `grammar: ${valid} valid files (${starts} statement keywords), ${broken} invalid files, ` +
      `${expectations} sample expectations, ${Date.now() - started} ms`
  );
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
