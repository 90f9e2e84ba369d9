#pragma once
// A strict YAML reader: builds a tree that keeps every node's line and column, and rejects
// what yaml-cpp's own tree accepts silently (duplicate keys, non-scalar keys, alias bombs).
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/errors.h"

namespace roisim::yaml {

struct Node {
  Node() {}  // user-provided: clang's libstdc++ C++20 mode needs it for the recursive vector of pairs
  enum class Type { Null, Scalar, Sequence, Map };
  Type type = Type::Null;
  int line = 0, column = 0;     // 1-based
  std::string value;            // scalars
  bool quoted = false;          // a quoted scalar is always a string
  std::vector<Node> items;      // sequences
  std::vector<std::pair<Node, Node>> entries;  // maps, in document order

  bool is_map() const { return type == Type::Map; }
  bool is_seq() const { return type == Type::Sequence; }
  bool is_scalar() const { return type == Type::Scalar; }
  bool is_null() const { return type == Type::Null; }
  // The value under a key of a map, or nullptr.
  const Node* find(std::string_view key) const;
  // "a mapping", "a list", "a number or text", "nothing" for messages.
  const char* type_name() const;
};

// Parses one YAML document. Throws InputError located in `file` on syntax errors, duplicate keys,
// non-scalar keys, more than one document, excessive nesting or too many nodes.
Node parse(const std::string& text, const std::string& file);

}  // namespace roisim::yaml
