#pragma once
// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits: the config hash recorded
// in every results file.
#include <string>
#include <string_view>

namespace roisim {
std::string sha256_hex(std::string_view data);
}
