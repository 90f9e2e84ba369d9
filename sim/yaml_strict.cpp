#include "sim/yaml_strict.h"

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace roisim::yaml {

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.value == key) return &v;
  return nullptr;
}

const char* Node::type_name() const {
  switch (type) {
    case Type::Null: return "nothing";
    case Type::Scalar: return quoted ? "text" : "a scalar";
    case Type::Sequence: return "a list";
    case Type::Map: return "a mapping";
  }
  return "?";
}

namespace {

constexpr std::size_t kMaxNodes = 2'000'000;
constexpr std::size_t kMaxDepth = 200;

// 3 when text starts with a UTF-8 byte-order mark (which yaml-cpp's marks do not count), else 0.
std::size_t bom_length(const std::string& text) { return text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0; }

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::string file, const std::string& text) : file_(std::move(file)), text_(text) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second_document_ = mark;
  }
  // Where a second document began (see parse()).
  const YAML::Mark& second_document() const { return second_document_; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n = make(Node::Type::Null, mark);
    add(std::move(n), anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(mark, "unknown alias");
    count(it->second.second, mark);
    Node copy = it->second.first;
    add(std::move(copy), 0, it->second.second);  // an alias counts as its whole subtree
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node n = make(Node::Type::Scalar, mark);
    n.value = value;
    n.quoted = (tag == "!");  // yaml-cpp tags non-plain (quoted, block) scalars with "!"
    if (n.quoted) check_closed(mark);
    refuse_tag(mark, tag);
    add(std::move(n), anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    refuse_tag(mark, tag);
    push(make(Node::Type::Sequence, mark), anchor, mark);
  }
  void OnSequenceEnd() override { pop(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    refuse_tag(mark, tag);
    push(make(Node::Type::Map, mark), anchor, mark);
  }
  void OnMapEnd() override {
    Frame& f = stack_.back();
    if (f.pending_key) fail_at(f.node.line, f.node.column, "mapping key without a value");
    pop();
  }

  // A mark's column counted in characters, as every message counts them (yaml-cpp counts bytes:
  // an "é" earlier on the line had moved the column one further than the UTF-8 check said).
  // Every node asks (make): an ASCII line answers at once, and on another the count goes on from
  // the last mark on that line (marks come in order), so a long flow line costs linear time (the
  // count from the line's start each time had taken minutes for a 3 MB line of 300,000 values).
  int column_of(const YAML::Mark& mark) {
    if (mark.line < 0 || mark.column < 0) return mark.column + 1;
    const std::size_t start = line_start(mark.line);
    if (static_cast<std::size_t>(mark.line) >= non_ascii_line_.size() || !non_ascii_line_[static_cast<std::size_t>(mark.line)])
      return mark.column + 1;
    const std::size_t end = std::min(text_.size(), start + static_cast<std::size_t>(mark.column));
    if (mark.line != cursor_line_ || end < cursor_byte_) cursor_line_ = mark.line, cursor_byte_ = start, cursor_column_ = 1;
    for (; cursor_byte_ < end; ++cursor_byte_)
      if ((static_cast<unsigned char>(text_[cursor_byte_]) & 0xC0) != 0x80) ++cursor_column_;
    return cursor_column_;
  }

  Node take_root() {
    if (!have_root_) return Node{};
    return std::move(root_);
  }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    bool pending_key = false;  // maps: a key was read, its value not yet
    Node key;
    std::size_t nodes = 1;     // nodes inside this one, for alias accounting
    std::unordered_map<std::string, int> key_lines;  // maps: each key's line (duplicates in O(1))
  };

  Node make(Node::Type t, const YAML::Mark& mark) {
    Node n;
    n.type = t;
    n.line = mark.line + 1;
    n.column = column_of(mark);
    return n;
  }
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& msg) {
    fail_at(mark.line + 1, column_of(mark), msg);
  }
  // Tags are not read (a "!!float" would mean nothing to roisim): refused on scalars and
  // collections alike ("!" and "?" are yaml-cpp's marks for untagged nodes; tags on maps and
  // lists had been dropped silently).
  void refuse_tag(const YAML::Mark& mark, const std::string& tag) {
    if (!tag.empty() && tag != "!" && tag != "?") fail(mark, "YAML tags are not supported (" + tag + ")");
  }
  static int characters(const std::string& s) {
    int n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  }
  [[noreturn]] void fail_at(int line, int col, const std::string& msg) {
    throw InputError::at(file_, line, col, msg);
  }
  // Every node counts, and again in each copy kept for an anchor and each alias's expansion: the
  // copies are made, so nested anchors (each level keeping all below it) are bounded too.
  void count(std::size_t n, const YAML::Mark& mark) { count_at(n, mark.line + 1, column_of(mark)); }
  void count_at(std::size_t n, int line, int col) {
    total_ += n;
    if (total_ > kMaxNodes)
      fail_at(line, col, "the document is too large (more than 2,000,000 nodes, counting each anchored or aliased part again)");
  }
  void push(Node n, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (stack_.size() >= kMaxDepth) fail(mark, "the document is nested too deeply (more than 200 levels)");
    count(1, mark);
    Frame f;
    f.node = std::move(n);
    f.anchor = anchor;
    stack_.push_back(std::move(f));
  }
  void pop() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) {
      count_at(f.nodes, f.node.line, f.node.column);
      anchors_[f.anchor] = {f.node, f.nodes};
    }
    add(std::move(f.node), 0, f.nodes);
  }
  void add(Node n, YAML::anchor_t anchor, std::size_t nodes = 1) {
    if (anchor) {
      count_at(nodes, n.line, n.column);
      anchors_[anchor] = {n, nodes};
    }
    if (n.type != Node::Type::Sequence && n.type != Node::Type::Map) ++total_;
    if (stack_.empty()) {
      if (!have_root_) {
        root_ = std::move(n);
        have_root_ = true;
      }
      return;
    }
    Frame& f = stack_.back();
    f.nodes += nodes;
    if (f.node.type == Node::Type::Sequence) {
      f.node.items.push_back(std::move(n));
    } else if (!f.pending_key) {
      if (n.type != Node::Type::Scalar) fail_at(n.line, n.column, "mapping keys must be plain names, not " + std::string(n.type_name()));
      // YAML 1.1's merge key: read as a key named "<<" it made, e.g., a sweep axis of that name.
      if (!n.quoted && n.value == "<<")
        fail_at(n.line, n.column, "merge keys (<<) are not supported: write the keys out (an anchor may still stand for a whole value)");
      if (auto [it, fresh] = f.key_lines.emplace(n.value, n.line); !fresh)
        fail_at(n.line, n.column, "duplicate key '" + n.value + "' (first defined at line " + std::to_string(it->second) + ")");
      f.key = std::move(n);
      f.pending_key = true;
    } else {
      // "key:" with nothing after it: yaml-cpp marks the null at the next token (often the next
      // line); point just past the key instead, where the value is missing.
      if (n.type == Node::Type::Null && n.line != f.key.line) {
        n.line = f.key.line;
        n.column = f.key.column + characters(f.key.value) + 1;
      }
      f.node.entries.emplace_back(std::move(f.key), std::move(n));
      f.pending_key = false;
    }
  }

  // yaml-cpp 0.7 ends a quoted scalar that lacks its closing quote at the end of the file, taking
  // every later line into the string (a scenario named "x\n    projects: [...]"): refused here.
  void check_closed(const YAML::Mark& mark) {
    const std::size_t at = offset_of(mark);
    if (at >= text_.size()) return;
    const char q = text_[at];
    if (q != '"' && q != '\'') return;  // a block scalar (| or >)
    for (std::size_t i = at + 1; i < text_.size(); ++i) {
      if (q == '"' && text_[i] == '\\') {
        ++i;  // an escape: the next character is not the end
      } else if (text_[i] == q) {
        if (q == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is a quote inside single quotes
          continue;
        }
        return;
      }
    }
    fail(mark, std::string("this quoted text has no closing ") + (q == '"' ? "double" : "single") + " quote");
  }

  // The byte offset in text_ of a mark (yaml-cpp counts columns in bytes), past an anchor (&a)
  // or tag (!t) in front of the scalar, where yaml-cpp puts the mark; a byte-order mark before
  // line 1 skipped.
  std::size_t offset_of(const YAML::Mark& mark) {
    if (mark.line < 0 || mark.column < 0) return text_.size();
    std::size_t i = line_start(mark.line) + static_cast<std::size_t>(mark.column);
    while (i < text_.size() && (text_[i] == '&' || text_[i] == '!')) {
      while (i < text_.size() && text_[i] != ' ' && text_[i] != '\t' && text_[i] != '\n' && text_[i] != '"' && text_[i] != '\'') ++i;
      while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
    }
    return i;
  }
  // The byte offset of 0-based line `line` (past a byte-order mark on the first), or the end.
  std::size_t line_start(int line) {
    if (line_starts_.empty()) {
      line_starts_.push_back(bom_length(text_));
      non_ascii_line_.push_back(false);
      for (std::size_t i = line_starts_[0]; i < text_.size(); ++i) {
        if (text_[i] == '\n') line_starts_.push_back(i + 1), non_ascii_line_.push_back(false);
        else if (static_cast<unsigned char>(text_[i]) >= 0x80) non_ascii_line_.back() = true;
      }
    }
    return static_cast<std::size_t>(line) < line_starts_.size() ? line_starts_[static_cast<std::size_t>(line)] : text_.size();
  }

  std::string file_;
  const std::string& text_;
  std::vector<std::size_t> line_starts_;
  std::vector<bool> non_ascii_line_;  // per line of line_starts_
  int cursor_line_ = -1;              // column_of's count: at byte cursor_byte_ of that line,
  std::size_t cursor_byte_ = 0;       // the column is cursor_column_
  int cursor_column_ = 1;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<Node, std::size_t>> anchors_;
  Node root_;
  bool have_root_ = false;
  int documents_ = 0;
  YAML::Mark second_document_;
  std::size_t total_ = 0;
};

}  // namespace

namespace {
// The offset of the first byte of text that is not part of well-formed UTF-8 (no overlong forms,
// surrogates or code points above U+10FFFF), or npos.
std::size_t invalid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);  // sim/errors.h
    if (n == 0) return i;
    i += n;
  }
  return std::string::npos;
}
}  // namespace

Node parse(const std::string& text, const std::string& file) {
  if (text.find('\0') != std::string::npos)
    throw InputError::at(file, 1, 1, "the file is binary, not YAML text (it contains NUL bytes)");
  // Names end up in the results file as UTF-8 strings (SPEC section 6): other encodings are refused
  // here, where the place can still be named.
  if (const std::size_t bad = invalid_utf8(text); bad != std::string::npos) {
    int line = 1, col = 1;
    for (std::size_t i = bom_length(text); i < bad; ++i) {  // a byte-order mark is no column
      if (text[i] == '\n') ++line, col = 1;
      else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
    throw InputError::at(file, line, col, std::string("the file is not UTF-8 text (byte ") + hex +
                                              " here); save it as UTF-8");
  }
  std::istringstream in(text);
  TreeBuilder builder(file, text);
  try {
    YAML::Parser parser(in);
    // At most two calls: the second only detects a second document. (yaml-cpp 0.7 can return true
    // forever without consuming input, e.g. on a file holding just ",": jbeder/yaml-cpp#1040.)
    if (parser.HandleNextDocument(builder) && parser.HandleNextDocument(builder)) {
      const YAML::Mark& second = builder.second_document();
      // A "second document" that starts with ',' is a stray comma yaml-cpp does not report as such
      // (after the top-level value, as a JSON-minded trailing comma, or at the very start, where
      // it would report an empty document forever). yaml-cpp's positions do not count a BOM.
      const std::size_t at = static_cast<std::size_t>(std::max(0, second.pos)) + bom_length(text);
      if (at < text.size() && text[at] == ',')
        throw InputError::at(file, second.line + 1, builder.column_of(second),
                             "invalid YAML: unexpected ',' (no value can start with it here)");
      throw InputError::at(file, second.line + 1, builder.column_of(second),
                           "the file holds more than one YAML document (the second starts here); roisim reads one");
    }
  } catch (const YAML::DeepRecursion& e) {
    throw InputError::at(file, e.mark.line + 1, builder.column_of(e.mark), "the document is nested too deeply");
  } catch (const YAML::Exception& e) {
    // A tab in a line's indentation is the usual cause of yaml-cpp's "end of map not found" and
    // kin, which do not say so: name the first such line up to the error.
    std::string hint;
    std::size_t line_start = 0;
    for (int line = 1; line_start < text.size() && line <= e.mark.line + 1; ++line) {
      const std::size_t end = std::min(text.find('\n', line_start), text.size());
      const std::size_t first = text.find_first_not_of(" \t", line_start);
      if (first != std::string::npos && first < end && text[first] != '#' &&
          text.find('\t', line_start) < first) {
        hint = " (line " + std::to_string(line) + " is indented with a tab; YAML indents with spaces only)";
        break;
      }
      line_start = end + 1;
    }
    // YAML limits an implicit key (a key followed by ':' on its line, quoted or not) to 1024
    // characters, and yaml-cpp counts bytes; it only says the ':' after a longer one is an "illegal
    // map value". An explicit key ("? KEY" on a line, ": VALUE" on the next) has no limit.
    if (hint.empty() && e.msg == YAML::ErrorMsg::MAP_VALUE && e.mark.column > 1024)
      hint = " (a key of more than 1024 bytes must be written as an explicit key: '? KEY' on one line, ': VALUE' on the next)";
    throw InputError::at(file, e.mark.line + 1, builder.column_of(e.mark), "invalid YAML: " + e.msg + hint);
  }
  return builder.take_root();
}

}  // namespace roisim::yaml
