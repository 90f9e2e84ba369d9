#include "sim/yaml_strict.h"

#include <map>
#include <sstream>

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

class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(std::string file) : file_(std::move(file)) {}

  void OnDocumentStart(const YAML::Mark&) override { ++documents_; }
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
    if (!tag.empty() && tag != "!" && tag != "?") fail(mark, "YAML tags are not supported (" + tag + ")");
    add(std::move(n), anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    push(make(Node::Type::Sequence, mark), anchor, mark);
  }
  void OnSequenceEnd() override { pop(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    push(make(Node::Type::Map, mark), anchor, mark);
  }
  void OnMapEnd() override {
    Frame& f = stack_.back();
    if (f.pending_key) fail_at(f.node.line, f.node.column, "mapping key without a value");
    pop();
  }

  Node take_root() {
    if (documents_ > 1) fail_at(1, 1, "the file holds more than one YAML document");
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
  };

  Node make(Node::Type t, const YAML::Mark& mark) {
    Node n;
    n.type = t;
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    return n;
  }
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& msg) {
    fail_at(mark.line + 1, mark.column + 1, msg);
  }
  [[noreturn]] void fail_at(int line, int col, const std::string& msg) {
    throw InputError::at(file_, line, col, msg);
  }
  void count(std::size_t n, const YAML::Mark& mark) {
    total_ += n;
    if (total_ > kMaxNodes) fail(mark, "the document is too large (more than 2,000,000 nodes, aliases expanded)");
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
    if (f.anchor) anchors_[f.anchor] = {f.node, f.nodes};
    add(std::move(f.node), 0, f.nodes);
  }
  void add(Node n, YAML::anchor_t anchor, std::size_t nodes = 1) {
    if (anchor) anchors_[anchor] = {n, nodes};
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
      for (const auto& [k, v] : f.node.entries)
        if (k.value == n.value)
          fail_at(n.line, n.column, "duplicate key '" + n.value + "' (first defined at line " + std::to_string(k.line) + ")");
      f.key = std::move(n);
      f.pending_key = true;
    } else {
      f.node.entries.emplace_back(std::move(f.key), std::move(n));
      f.pending_key = false;
    }
  }

  std::string file_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<Node, std::size_t>> anchors_;
  Node root_;
  bool have_root_ = false;
  int documents_ = 0;
  std::size_t total_ = 0;
};

}  // namespace

Node parse(const std::string& text, const std::string& file) {
  if (text.find('\0') != std::string::npos)
    throw InputError::at(file, 1, 1, "the file is binary, not YAML text (it contains NUL bytes)");
  std::istringstream in(text);
  TreeBuilder builder(file);
  try {
    YAML::Parser parser(in);
    // At most two calls: the second only detects a second document. (yaml-cpp 0.7 can return true
    // forever without consuming input, e.g. on a file holding just ",": jbeder/yaml-cpp#1040.)
    if (parser.HandleNextDocument(builder) && parser.HandleNextDocument(builder))
      throw InputError::at(file, 1, 1, "the file holds more than one YAML document");
  } catch (const YAML::DeepRecursion& e) {
    throw InputError::at(file, e.mark.line + 1, e.mark.column + 1, "the document is nested too deeply");
  } catch (const YAML::Exception& e) {
    throw InputError::at(file, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
  return builder.take_root();
}

}  // namespace roisim::yaml
