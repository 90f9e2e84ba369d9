// The results file of SPEC §6, written with the HDF5 C library and its dimension-scale API (H5DS):
// its datasets made by create_results_datasets (sim/results_datasets.h, shared with the MPI
// writer), the library's calls wrapped by sim/hdf5.h.
//
// Layout (one flat root group, every axis of every dataset attached to a dimension scale, so the file
// is netCDF-4 compatible and xarray's h5netcdf engine reads it directly):
//   scales     scenario [S] (vlen UTF-8), trial [N] (int64 0..N-1), input [K] (vlen UTF-8),
//              quantile [7] (float64), and corr_input / corr_input_to [C] when correlations exist
//   per trial  roi, npv, payback_month float64 [scenario, trial] (unless summary_only), chunked,
//              shuffle + deflate + fletcher32, the filters applied by roisim itself (see below)
//   per scen.  funded (vlen UTF-8), roi_mean ... prob_payback float64 [scenario],
//              roi_quantile / npv_quantile [scenario, quantile], spearman [scenario, input]
//   matrices   correlation_spearman(_repaired) [corr_input, corr_input_to]
//
// Per-trial chunks (the bulk of the file) bypass HDF5's filter pipeline: write_batch forms every
// complete chunk of the batch (row-major, edge chunks padded with zeros to the full chunk shape, as
// HDF5 stores them), applies shuffle -> deflate -> fletcher32 as HDF5's own filters do on write (the
// same bytes once inflated; a test compares with chunks written through H5Dwrite; deflate is
// libdeflate's, but byte planes that are random go into stored blocks, and at level 1 others into
// Huffman codes of their bytes or fixed-code runs: zlib_planes), in parallel with oneTBB
// (the caller's arena and thread limit apply), then hands them to H5Dwrite_chunk serially in chunk
// order. As HDF5 does, deflate is skipped for a chunk (filter-mask bit 1) when its output would
// exceed ceil(1.001 n) + 12 bytes; at level 0 deflate emits stored blocks, so level 0 keeps the
// same filter chain (every reader sees shuffle + deflate + fletcher32) at almost no CPU cost.
// Chunk shape (rows, cols): cols = min(N, 65536), rows = the largest divisor of
// layout.scenarios_per_batch with rows * cols <= 65536 (512 KiB) when that is at least half of the
// largest row count that fits, so that every batch covers whole chunk rows; rows never exceeds S.
// Rows of a chunk row that a batch leaves incomplete are kept in memory until a later batch
// completes them (batches need not match the hint).
// The per-scenario float64 statistics take the same path (shuffle + deflate at max(1, level), no
// checksum; chunks along the scenario axis only), so that closing the file flushes nothing through
// HDF5's serial pipeline: on the seed portfolio that pipeline cost ~55 ms a run, serial, which capped
// the speed-up on many cores.
//
// The file is created exclusively under "<target>.tmp-<pid>-<6 hex>" in the target's folder (the
// target's name cut short where that would pass NAME_MAX: temporary_path) and renamed onto the
// target by commit() after it is closed and fsync'ed; an uncommitted writer removes it.
#include "sim/results_file.h"

#include "sim/buffer.h"
#include "sim/data_syncer.h"
#include "sim/hdf5.h"
#include "sim/replaced_file.h"
#include "sim/results_datasets.h"
#include "sim/results_fields.h"
#include "sim/simd.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>
#include <libdeflate.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <sys/stat.h>
#include <tuple>
#include <set>
#include <limits>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <utility>

#include "sim/errors.h"

namespace roisim {
namespace {

using namespace h5;  // sim/hdf5.h: errors, handles, datasets
// The per-scenario dataset tables: sim/results_fields.h (shared with the MPI writer).
using namespace results_fields;

// ------------------------------------------------------------------------------------------------
// Attributes read back

// Reads a scalar (or one-element) string, integer or float attribute; nullopt for anything else.
std::optional<AttrValue> read_attr(hid_t attr, const std::string& name, const std::string& file) {
  const std::string op = "reading attribute '" + name + "'";
  Hid space = make(H5Aget_space(attr), H5Sclose, file, op);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  Hid ftype = make(H5Aget_type(attr), H5Tclose, file, op);
  switch (H5Tget_class(ftype.get())) {
    case H5T_STRING: {
      const htri_t is_vlen = H5Tis_variable_str(ftype.get());
      if (is_vlen < 0) fail_hdf5(file, op);
      if (is_vlen) {
        Hid mtype = make(H5Tget_native_type(ftype.get(), H5T_DIR_DEFAULT), H5Tclose, file, op);
        char* ptr = nullptr;
        check(H5Aread(attr, mtype.get(), &ptr), file, op);
        std::string value = ptr ? ptr : "";
        H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, &ptr);
        return AttrValue(std::move(value));
      }
      const size_t size = H5Tget_size(ftype.get());
      Hid mtype = make(H5Tget_native_type(ftype.get(), H5T_DIR_DEFAULT), H5Tclose, file, op);
      std::string value(size, '\0');
      if (size) check(H5Aread(attr, mtype.get(), value.data()), file, op);
      value.resize(std::strlen(value.c_str()));  // strip NUL padding
      return AttrValue(std::move(value));
    }
    case H5T_INTEGER: {
      std::int64_t value = 0;
      check(H5Aread(attr, H5T_NATIVE_INT64, &value), file, op);
      return AttrValue(value);
    }
    case H5T_FLOAT: {
      double value = 0;
      check(H5Aread(attr, H5T_NATIVE_DOUBLE, &value), file, op);
      return AttrValue(value);
    }
    default:
      return std::nullopt;
  }
}

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

// The per-trial filter pipeline, applied outside HDF5 (see the file comment).

static_assert(std::endian::native == std::endian::little,
              "per-trial chunks are written as raw IEEE float64 little-endian bytes");

// HDF5's H5_checksum_fletcher32 (H5checksum.c): 16-bit words read big-endian (first byte high),
// sums start at 0, folded every 360 words; an odd trailing byte counts as the high byte of a word.
// HDF5 adds word by word (sum1 += w; sum2 += sum1); a block of n words is added here in closed
// form, sum2 += n * sum1 + sum (n - i) w_i and sum1 += sum w_i, which vectorises: the same uint32
// arithmetic modulo 2^32, so the same checksum.
ROISIM_CLONES
std::uint32_t fletcher32(const unsigned char* data, std::size_t bytes) {
  std::size_t words = bytes / 2;
  std::uint32_t sum1 = 0, sum2 = 0;
  while (words) {
    const std::size_t n = std::min<std::size_t>(words, 360);
    words -= n;
    std::uint32_t s1 = 0, s2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t w = (std::uint32_t(data[2 * i]) << 8) | data[2 * i + 1];
      s1 += w;
      s2 += static_cast<std::uint32_t>(n - i) * w;
    }
    data += 2 * n;
    sum2 += static_cast<std::uint32_t>(n) * sum1 + s2;
    sum1 += s1;
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  if (bytes % 2) {
    sum1 += std::uint32_t(*data) << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  return (sum2 << 16) | sum1;
}

// The shuffle filter's byte planes for n float64 values x: byte b of value i goes to
// out[b * plane + i]. Sixteen values at a time in 16-byte vectors: each pair of values' bytes
// interleaved (b0 of the first, b0 of the second, b1, b1, ...), which makes an 8 x 8 matrix of
// 2-byte pairs (row k: the pairs of values 2k and 2k + 1), then transposed by unpacking 2-, 4- and
// 8-byte blocks, after which vector b holds byte b of the sixteen values. Then eight at a time:
// their 8 x 8 byte matrix transposed in three rounds of masked swaps (4-, 2-, then 1-byte blocks).
ROISIM_CLONES
void shuffle8(const double* x, std::size_t n, unsigned char* out, std::size_t plane) {
  using V16b = unsigned char __attribute__((vector_size(16)));
  using V8h = unsigned short __attribute__((vector_size(16)));
  using V4w = unsigned int __attribute__((vector_size(16)));
  using V2q = unsigned long long __attribute__((vector_size(16)));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V8h r[8];
    for (int k = 0; k < 8; ++k) {
      V16b v;
      std::memcpy(&v, x + i + 2 * k, sizeof v);
      r[k] = reinterpret_cast<V8h>(__builtin_shufflevector(v, v, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
    }
    V4w t[8];  // rows 2j and 2j + 1 interleaved by 2-byte blocks: columns 0-3, then 4-7
    for (int j = 0; j < 4; ++j) {
      t[2 * j] = reinterpret_cast<V4w>(__builtin_shufflevector(r[2 * j], r[2 * j + 1], 0, 8, 1, 9, 2, 10, 3, 11));
      t[2 * j + 1] = reinterpret_cast<V4w>(__builtin_shufflevector(r[2 * j], r[2 * j + 1], 4, 12, 5, 13, 6, 14, 7, 15));
    }
    V2q u[8];  // u[c / 2] (rows 0-3) and u[4 + c / 2] (rows 4-7): columns c, c + 1
    for (int h = 0; h < 2; ++h)
      for (int j = 0; j < 2; ++j) {
        u[4 * j + 2 * h] = reinterpret_cast<V2q>(__builtin_shufflevector(t[4 * j + h], t[4 * j + 2 + h], 0, 4, 1, 5));
        u[4 * j + 2 * h + 1] = reinterpret_cast<V2q>(__builtin_shufflevector(t[4 * j + h], t[4 * j + 2 + h], 2, 6, 3, 7));
      }
    for (int c = 0; c < 8; c += 2) {
      const V2q even = __builtin_shufflevector(u[c / 2], u[4 + c / 2], 0, 2), odd = __builtin_shufflevector(u[c / 2], u[4 + c / 2], 1, 3);
      std::memcpy(out + c * plane + i, &even, sizeof even);
      std::memcpy(out + (c + 1) * plane + i, &odd, sizeof odd);
    }
  }
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v[8];
    std::memcpy(v, x + i, sizeof v);
    for (int j = 0; j < 4; ++j) {
      const std::uint64_t t = ((v[j] >> 32) ^ v[j + 4]) & 0x00000000FFFFFFFFull;
      v[j] ^= t << 32;
      v[j + 4] ^= t;
    }
    for (int j : {0, 1, 4, 5}) {
      const std::uint64_t t = ((v[j] >> 16) ^ v[j + 2]) & 0x0000FFFF0000FFFFull;
      v[j] ^= t << 16;
      v[j + 2] ^= t;
    }
    for (int j : {0, 2, 4, 6}) {
      const std::uint64_t t = ((v[j] >> 8) ^ v[j + 1]) & 0x00FF00FF00FF00FFull;
      v[j] ^= t << 8;
      v[j + 1] ^= t;
    }
    for (int b = 0; b < 8; ++b) std::memcpy(out + b * plane + i, &v[b], 8);
  }
  for (; i < n; ++i) {
    std::uint64_t v;
    std::memcpy(&v, x + i, 8);
    for (int b = 0; b < 8; ++b) out[b * plane + i] = static_cast<unsigned char>(v >> (8 * b));
  }
}

// One thread's compressor (libdeflate: the zlib stream format HDF5's deflate filter reads, 2-3x
// faster than zlib at the same level), reused across chunks.
struct Deflater {
  libdeflate_compressor* compressor = nullptr;
  int level = -1;
  Bytes shuffled;  // one chunk, byte-shuffled (written before it is read: not zero-filled)
  Deflater() = default;
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  ~Deflater() {
    if (compressor) libdeflate_free_compressor(compressor);
  }
};

// The byte histogram of p[0, n) taken every `step` bytes into count[256]; returns the bytes
// counted. Four histograms summed at the end: consecutive equal bytes do not wait on each
// other's increments.
std::size_t byte_histogram(const unsigned char* p, std::size_t n, std::size_t step, std::uint32_t* count) {
  std::uint32_t h[4][256] = {};
  std::size_t i = 0, seen = 0;
  for (; i + 3 * step < n; i += 4 * step, seen += 4) {
    ++h[0][p[i]];
    ++h[1][p[i + step]];
    ++h[2][p[i + 2 * step]];
    ++h[3][p[i + 3 * step]];
  }
  for (; i < n; i += step, ++seen) ++h[0][p[i]];
  for (int b = 0; b < 256; ++b) count[b] = h[0][b] + h[1][b] + h[2][b] + h[3][b];
  return seen;
}

// What decides how a plane is encoded, from the histogram of every byte up to 16 KiB, else of
// about 16 Ki bytes spread evenly over the plane: its Shannon entropy in bits per byte (a uniform
// sample of 16 Ki random bytes measures about 7.98 bits), and its most common byte and that
// byte's share (a sparse plane: sparse_walk).
struct PlaneSample {
  double entropy = 0, top_share = 0;
  unsigned char top = 0;
};
PlaneSample sample_plane(const unsigned char* p, std::size_t n) {
  constexpr std::size_t kSample = 16384;
  std::uint32_t count[256];
  const std::size_t seen = byte_histogram(p, n, std::max<std::size_t>(1, n / kSample), count);
  PlaneSample out;
  std::uint32_t best = 0;
  for (int b = 0; b < 256; ++b) {
    if (!count[b]) continue;
    const double q = static_cast<double>(count[b]) / static_cast<double>(seen);
    out.entropy -= q * std::log2(q);
    if (count[b] > best) best = count[b], out.top = static_cast<unsigned char>(b);
  }
  out.top_share = static_cast<double>(best) / static_cast<double>(seen);
  return out;
}

// Deflate's bit order (RFC 1951 3.1.1): fields least significant bit first, Huffman codes most
// significant bit first (put them reversed).
struct BitWriter {
  unsigned char* out;
  std::size_t cap;  // out[0, cap) may be written
  std::size_t at = 0;
  std::uint64_t acc = 0;
  int n = 0;  // bits in acc, below 8 between calls
  void put(std::uint32_t v, int bits) {
    acc |= static_cast<std::uint64_t>(v) << n;
    n += bits;
    while (n >= 8) {
      out[at++] = static_cast<unsigned char>(acc);
      acc >>= 8;
      n -= 8;
    }
  }
  void put_code(std::uint32_t code, int bits) {  // a Huffman code, first bit its most significant
    std::uint32_t r = 0;
    for (int i = 0; i < bits; ++i) r |= ((code >> i) & 1u) << (bits - 1 - i);
    put(r, bits);
  }
  void align() {
    if (n > 0) put(0, 8 - n);
  }
  // A stored block (BTYPE 00) of len <= 65535 bytes: its 3 header bits, padding to a byte, LEN, NLEN.
  void stored(bool final, const unsigned char* data, std::size_t len) {
    put(final ? 1 : 0, 1);
    put(0, 2);
    align();
    put(static_cast<std::uint32_t>(len), 16);
    put(static_cast<std::uint32_t>(~len & 0xffff), 16);
    if (len) std::memcpy(out + at, data, len);
    at += len;
  }
  // A plane of len >= 1 copies of byte v as one block of fixed Huffman codes (BTYPE 01): the byte,
  // then matches at distance 1 of length 258 (code 285), then of length 3 (code 257), then the
  // last one or two bytes as literals.
  void run(bool final, unsigned char v, std::size_t len) {
    const auto literal = [&] { v < 144 ? put_code(0x30u + v, 8) : put_code(0x190u + (v - 144u), 9); };
    put(final ? 1 : 0, 1);
    put(1, 2);
    literal();
    std::size_t left = len - 1;
    for (; left >= 258; left -= 258) {
      put_code(0xC5, 8);  // length 258
      put(0, 5);          // distance code 0: distance 1
    }
    for (; left >= 3; left -= 3) {
      put_code(1, 7);  // length 3
      put(0, 5);
    }
    for (; left > 0; --left) literal();
    put(0, 7);  // end of block
  }
  // Fixed Huffman codes (RFC 1951 3.2.6): a literal byte, and a match at distance 1 of length
  // len in [3, 258] (its length code, the extra bits, distance code 0).
  void fixed_literal(unsigned char b) { b < 144 ? put_code(0x30u + b, 8) : put_code(0x190u + (b - 144u), 9); }
  void fixed_match(std::size_t len) {
    const int k = length_code(len);
    const unsigned sym = 257u + static_cast<unsigned>(k);
    sym < 280 ? put_code(sym - 256u, 7) : put_code(0xC0u + (sym - 280u), 8);
    if (kLengthExtra[k]) put(static_cast<std::uint32_t>(len - kLengthBase[k]), kLengthExtra[k]);
    put(0, 5);
  }
  static constexpr std::uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                                    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static constexpr std::uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                    2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  static int length_code(std::size_t len) {  // 258 as code 285, never as 284 with extra bits 31
    int k = 28;
    while (kLengthBase[k] > len) --k;
    return k;
  }
};

// A plane of one byte v but for a few others (payback_month's sixth byte, which only months above
// 32 touch) as one block of fixed Huffman codes: the others as literals, each run of v as a
// literal v and distance-1 matches for the rest of it. sparse_walk drives a sink with
// fixed_literal(b) and fixed_match(len): SparseBits counts the block's bits (its size before it is
// written), BitWriter writes it - one walk, so the two agree.
template <class Sink>
void sparse_walk(const unsigned char* p, std::size_t n, unsigned char v, Sink& out) {
  for (std::size_t i = 0; i < n;) {
    if (p[i] != v) {
      out.fixed_literal(p[i++]);
      continue;
    }
    std::size_t j = i + 1;
    const std::uint64_t vv = 0x0101010101010101ull * v;
    for (std::uint64_t word; j + 8 <= n; j += 8) {  // eight bytes at a time: runs are long
      std::memcpy(&word, p + j, 8);
      if (word != vv) break;
    }
    while (j < n && p[j] == v) ++j;
    out.fixed_literal(v);
    std::size_t left = j - i - 1;
    while (left >= 3) {
      std::size_t len = std::min<std::size_t>(258, left);
      if (left - len > 0 && left - len < 3) len = left - 3;  // leaves a match's worth, not 1-2 bytes
      out.fixed_match(len);
      left -= len;
    }
    for (; left > 0; --left) out.fixed_literal(v);
    i = j;
  }
}
struct SparseBits {
  std::uint64_t bits = 3 + 7;  // the block header and end of block
  void fixed_literal(unsigned char b) { bits += b < 144 ? 8 : 9; }
  void fixed_match(std::size_t len) {
    const int k = BitWriter::length_code(len);
    bits += (k < 23 ? 7 : 8) + BitWriter::kLengthExtra[k] + 5;
  }
};
// Code lengths of at most max_len bits for the symbols of freq[0, n) (0: absent; n <= 288):
// Huffman's algorithm (two queues over the leaves sorted by frequency, ties by symbol, so that a
// histogram always gives the same code), run again on the frequencies halved (rounded up, so that
// no symbol drops out) while the deepest leaf is too deep: that flattens the tree, down to a
// balanced one. A lone symbol gets a one-bit code and a neighbour the other (a complete code,
// which inflaters require).
void huffman_lengths(const std::uint32_t* freq, int n, int max_len, std::uint8_t* len) {
  std::uint32_t f[288];
  int sym[288], m = 0;
  std::copy(freq, freq + n, f);
  std::fill(len, len + n, 0);
  for (int s = 0; s < n; ++s)
    if (f[s]) sym[m++] = s;
  if (m < 2) {
    const int s = m ? sym[0] : 0;
    len[s] = 1;
    len[s == 0 ? 1 : s - 1] = 1;
    return;
  }
  std::sort(sym, sym + m, [&](int a, int b) { return f[a] != f[b] ? f[a] < f[b] : a < b; });
  for (;;) {
    std::uint64_t w[2 * 288];
    int parent[2 * 288], depth[2 * 288];
    for (int i = 0; i < m; ++i) w[i] = f[sym[i]];
    int leaf = 0, inner = m, next = m;
    const auto take = [&] { return leaf < m && (inner == next || w[leaf] <= w[inner]) ? leaf++ : inner++; };
    for (; next < 2 * m - 1; ++next) {
      const int a = take(), b = take();
      w[next] = w[a] + w[b];
      parent[a] = parent[b] = next;
    }
    depth[2 * m - 2] = 0;
    int deepest = 0;
    for (int i = 2 * m - 3; i >= 0; --i) {  // a parent comes after its children
      depth[i] = depth[parent[i]] + 1;
      if (i < m) deepest = std::max(deepest, depth[i]);
    }
    if (deepest <= max_len) {
      for (int i = 0; i < m; ++i) len[sym[i]] = static_cast<std::uint8_t>(depth[i]);
      return;
    }
    for (int i = 0; i < m; ++i) f[sym[i]] = (f[sym[i]] + 1) / 2;  // the order by (f, symbol) may change
    std::sort(sym, sym + m, [&](int a, int b) { return f[a] != f[b] ? f[a] < f[b] : a < b; });
  }
}

// The canonical codes of code lengths len[0, n) (RFC 1951 3.2.2), bit-reversed for BitWriter::put.
void canonical_codes(const std::uint8_t* len, int n, std::uint16_t* code) {
  int count[16] = {};
  for (int s = 0; s < n; ++s) ++count[len[s]];
  count[0] = 0;
  int next[16] = {};
  for (int bits = 1, c = 0; bits < 16; ++bits) next[bits] = c = (c + count[bits - 1]) << 1;
  for (int s = 0; s < n; ++s) {
    if (!len[s]) continue;
    const unsigned c = static_cast<unsigned>(next[len[s]]++);
    unsigned r = 0;
    for (int i = 0; i < len[s]; ++i) r |= ((c >> i) & 1u) << (len[s] - 1 - i);
    code[s] = static_cast<std::uint16_t>(r);
  }
}

// One plane as one block of dynamic Huffman codes (BTYPE 10) of its bytes alone - no matches, so
// no match finder: a pass to count and one to write. Its 257 literal/end-of-block code lengths
// (at most 15 bits) and two one-bit distance codes that nothing uses (zlib sends two too: some
// inflaters want a complete distance code) go first, themselves coded by the code-length code
// (at most 7 bits; zero runs as symbols 17 and 18). plan() counts and sizes the block (bits), so
// that a plane is coded so only where that is smaller than storing it; write() emits it.
struct HuffmanPlane {
  std::uint8_t len[257];
  std::uint16_t code[257];
  std::uint8_t cl_len[19];
  std::uint16_t cl_code[19];
  std::uint8_t seq[259], extra[259];  // the code-length symbols, and their repeat counts' extra bits
  int nseq = 0, hclen = 0;
  std::uint64_t bits = 0;  // the block's size, header included
  static constexpr std::uint8_t kOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

  void plan(const unsigned char* p, std::size_t n) {
    std::uint32_t freq[257];
    byte_histogram(p, n, 1, freq);  // exact: the block's size follows from it
    freq[256] = 1;  // end of block
    huffman_lengths(freq, 257, 15, len);
    canonical_codes(len, 257, code);
    // The 257 + 2 code lengths as code-length symbols.
    std::uint8_t all[259];
    std::copy(len, len + 257, all);
    all[257] = all[258] = 1;
    std::uint32_t cl_freq[19] = {};
    nseq = 0;
    std::uint64_t extra_bits = 0;
    for (int k = 0; k < 259;) {
      int run = 1;
      while (k + run < 259 && all[k + run] == all[k]) ++run;
      if (all[k] == 0 && run >= 3) {
        run = std::min(run, 138);
        seq[nseq] = run >= 11 ? 18 : 17;
        extra[nseq] = static_cast<std::uint8_t>(run >= 11 ? run - 11 : run - 3);
        extra_bits += run >= 11 ? 7 : 3;
      } else {
        run = 1;
        seq[nseq] = all[k];
        extra[nseq] = 0;
      }
      ++cl_freq[seq[nseq++]];
      k += run;
    }
    huffman_lengths(cl_freq, 19, 7, cl_len);
    canonical_codes(cl_len, 19, cl_code);
    hclen = 19;
    while (hclen > 4 && cl_len[kOrder[hclen - 1]] == 0) --hclen;
    bits = 3 + 5 + 5 + 4 + 3 * static_cast<std::uint64_t>(hclen) + extra_bits;
    for (int k = 0; k < nseq; ++k) bits += cl_len[seq[k]];
    for (int b = 0; b < 257; ++b) bits += static_cast<std::uint64_t>(freq[b]) * len[b];
  }

  void write(BitWriter& w, bool final, const unsigned char* p, std::size_t n) const {
    w.put(final ? 1 : 0, 1);
    w.put(2, 2);
    w.put(0, 5);  // HLIT: 257 literal/length codes
    w.put(1, 5);  // HDIST: 2 distance codes
    w.put(static_cast<std::uint32_t>(hclen - 4), 4);
    for (int k = 0; k < hclen; ++k) w.put(cl_len[kOrder[k]], 3);
    for (int k = 0; k < nseq; ++k) {
      w.put(cl_code[seq[k]], cl_len[seq[k]]);
      if (seq[k] == 17) w.put(extra[k], 3);
      if (seq[k] == 18) w.put(extra[k], 7);
    }
    // The bytes: codes of at most 15 bits into a 64-bit accumulator. Where the host is little
    // endian and 8 bytes of room are left, three codes at a time (at most 7 + 45 bits), then the
    // accumulator stored whole and its complete bytes stepped over, without a branch; the
    // bytes past them are rewritten by the next store. Else emptied 32 bits at a time.
    std::uint64_t acc = w.acc;
    int used = w.n;
    unsigned char* o = w.out + w.at;
    std::size_t i = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::uint32_t packed[256];  // code | length << 16
      for (int b = 0; b < 256; ++b) packed[b] = code[b] | static_cast<std::uint32_t>(len[b]) << 16;
      unsigned char* const end = w.out + w.cap;
      for (; i + 3 <= n && end - o >= 8; i += 3) {
        for (int j = 0; j < 3; ++j) {
          const std::uint32_t e = packed[p[i + j]];
          acc |= static_cast<std::uint64_t>(e & 0xffffu) << used;
          used += static_cast<int>(e >> 16);
        }
        std::memcpy(o, &acc, 8);
        o += used >> 3;
        acc >>= used & ~7;
        used &= 7;
      }
    }
    for (; i < n; ++i) {
      acc |= static_cast<std::uint64_t>(code[p[i]]) << used;
      used += len[p[i]];
      if (used >= 32) {
        const std::uint32_t word = static_cast<std::uint32_t>(acc);
        for (int b = 0; b < 4; ++b) o[b] = static_cast<unsigned char>(word >> (8 * b));
        o += 4;
        acc >>= 32;
        used -= 32;
      }
    }
    w.at = static_cast<std::size_t>(o - w.out);
    while (used >= 8) {
      w.out[w.at++] = static_cast<unsigned char>(acc);
      acc >>= 8;
      used -= 8;
    }
    w.acc = acc;
    w.n = used;
    w.put(code[256], len[256]);
  }
};

// A zlib stream (RFC 1950/1951, what HDF5's deflate filter inflates) of `planes` byte planes of
// `plane` bytes each (a shuffled chunk), written into out[0, limit); returns its size, or 0 when it
// does not fit. Leading planes are encoded by kind, until the first that is none of these:
//  - one byte repeated (the high bytes of whole months in payback_month, zero padding): a block of
//    fixed Huffman codes with matches at distance 1 - a few hundred bytes;
//  - a byte histogram close to uniform (>= stored_entropy bits per byte: the low mantissa bytes of
//    float64 results, which are random): stored blocks - deflate can shrink such a plane by at
//    most (8 - entropy)/8 (Huffman coding; random bytes have no matches), and its match finder
//    was the bulk of the cost of compressing them;
//  - with `huffman`, a histogram of at least kHuffmanEntropy bits per byte (a random mantissa byte
//    with an atom: the lowest byte of ROI, zero wherever a project failed and ROI is exactly -1;
//    the byte of exponent and top mantissa bits; the sign-and-exponent byte of ROI and NPV, and
//    payback's top byte, from 0.5 bits): one block of Huffman codes for its bytes alone
//    (HuffmanPlane), or stored blocks where those would be smaller. From 2 bits a byte, matches,
//    which only the match finder's cost buys, shorten such planes of independent trials by next
//    to nothing (the seed's file: 83.83 MB with libdeflate, 83.29 MB so), and a plane of them
//    would otherwise have sent every plane after it, random ones included, to libdeflate (the
//    seed's ROI: the lowest plane of 57% of its chunks measured below 7.5 bits, and their eight
//    planes went to libdeflate). Between 0.5 and 2 bits (the last plane of most of the seed's
//    chunks) libdeflate's matches save more, up to half of such a plane at 0.5 bits, but the
//    plane is a few KB: coded so, the seed's file grew 0.46% (83.20 -> 83.58 MB) and libdeflate's
//    and this function's CPU time in a one-thread full-output run fell by about a quarter (perf,
//    two alternating runs; ~6% of the run). Below 0.5 bits a Huffman code's one bit a byte would
//    cost over twice the entropy;
//  - with `huffman`, a plane of one byte but for at most 1/16 of others (in its sample), unless it is the last
//    (payback_month's sixth byte, before the Huffman-coded seventh): a block of fixed codes,
//    runs as distance-1 matches (sparse_walk). The last such plane is left to libdeflate, which
//    finds repeats of the other bytes too (NPV's sign-and-exponent byte: 0.16 MB more so coded).
// The rest is deflated by libdeflate at `level` as one raw stream (byte-aligned first by an empty
// stored block when needed) that ends the zlib stream.
// Per-trial chunks store planes from 7.5 bits (the seed's file came out 0.3 MB smaller than with
// libdeflate throughout, whose blocks for such planes were larger than the bytes, and its output
// phase 40% faster); statistics chunks, whose bytes are few unless scenarios are very many, from
// 7.95 (bench/big_sweep.py's 102,305 scenarios at 300 trials, 2 threads: 243.2 MB of datasets in
// 7.4 s at 7.5; 228.25 MB in 7.9 s at 7.95; 228.24 MB in 10.5 s with libdeflate throughout).
constexpr double kStoredEntropyTrials = 7.5, kStoredEntropyStatistics = 7.95, kHuffmanEntropy = 0.5;
std::size_t zlib_planes(libdeflate_compressor* c, int level, const unsigned char* data, std::size_t plane,
                        std::size_t planes, unsigned char* out, std::size_t limit, double stored_entropy,
                        bool huffman) {
  if (plane == 0 || planes == 0) return 0;  // the caller's libdeflate then writes the empty stream
  const std::size_t total = plane * planes;
  constexpr std::size_t kBlock = 65535;  // a stored block's largest LEN
  enum Kind { kRun, kStored, kHuffman, kSparse };
  Kind kind[64];
  unsigned char common[64];         // of the kSparse planes: their one byte
  std::vector<HuffmanPlane> codes;  // of the kHuffman planes, in order
  std::size_t lead = 0, bound = 2 + 5 + 4;  // header, an aligning empty block, adler32
  for (; lead < planes && lead < 64; ++lead) {
    const unsigned char* p = data + lead * plane;
    // One byte repeated? 256 bytes at a time (a vector loop), stopping at the first block with
    // another: most planes are not runs, and random ones differ in their first bytes.
    unsigned char diff = 0;
    for (std::size_t from = 0; from < plane && diff == 0; from += 256) {
      const std::size_t to = std::min(plane, from + 256);
      for (std::size_t i = from; i < to; ++i) diff |= static_cast<unsigned char>(p[i] ^ p[0]);
    }
    const std::size_t stored = plane + 5 * ((plane + kBlock - 1) / kBlock) + 1;
    if (diff == 0) {
      kind[lead] = kRun;
      bound += (plane / 258 + 1) * 2 + 160;
      continue;
    }
    const PlaneSample sample = sample_plane(p, plane);
    const double entropy = sample.entropy;
    if (entropy >= stored_entropy) {
      kind[lead] = kStored;
      bound += stored;
    } else if (huffman && entropy >= kHuffmanEntropy) {
      codes.emplace_back().plan(p, plane);
      if ((codes.back().bits + 7) / 8 < stored) {
        kind[lead] = kHuffman;
        bound += (codes.back().bits + 7) / 8 + 1;
      } else {
        codes.pop_back();
        kind[lead] = kStored;
        bound += stored;
      }
    } else if (huffman && lead + 1 < planes && sample.top_share >= 15.0 / 16) {
      common[lead] = sample.top;
      // Not the last plane: libdeflate, which also finds repeats of other bytes, does better
      // alone there (NPV's sign-and-exponent byte); here it would take every plane after it.
      // (The share is the sample's; the walk sizes the block exactly, and a plane it misjudged
      // is left to libdeflate.)
      SparseBits b;
      sparse_walk(p, plane, common[lead], b);
      if ((b.bits + 7) / 8 >= stored) break;
      kind[lead] = kSparse;
      bound += (b.bits + 7) / 8 + 1;
    } else {
      break;
    }
  }
  if (bound > limit) return 0;
  // zlib header: CM 8 (deflate), CINFO 7 (32 KiB window), FLEVEL as libdeflate sets it, FCHECK.
  const unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
  unsigned hdr = (0x78u << 8) | (flevel << 6);
  hdr += 31 - hdr % 31;
  BitWriter w{out, limit};
  w.put(hdr >> 8, 8);
  w.put(hdr & 0xff, 8);
  for (std::size_t k = 0, h = 0; k < lead; ++k) {
    const unsigned char* p = data + k * plane;
    const bool last = lead == planes && k + 1 == lead;  // this plane ends the stream
    if (kind[k] == kRun) {
      w.run(last, p[0], plane);
      continue;
    }
    if (kind[k] == kHuffman) {
      codes[h++].write(w, last, p, plane);
      continue;
    }
    if (kind[k] == kSparse) {
      w.put(last ? 1 : 0, 1);
      w.put(1, 2);
      sparse_walk(p, plane, common[k], w);
      w.put(0, 7);  // end of block
      continue;
    }
    for (std::size_t from = 0; from < plane; from += kBlock) {
      const std::size_t len = std::min(kBlock, plane - from);
      w.stored(last && from + len == plane, p + from, len);
    }
  }
  if (lead < planes) {
    if (w.n > 0) w.stored(false, nullptr, 0);  // byte-aligns: libdeflate's stream starts on a byte
    if (limit < w.at + 4) return 0;
    const std::size_t rest = lead * plane;
    const std::size_t n = libdeflate_deflate_compress(c, data + rest, total - rest, out + w.at, limit - w.at - 4);
    if (n == 0) return 0;
    w.at += n;
  } else {
    w.align();
  }
  const std::uint32_t adler = libdeflate_adler32(1, data, total);
  for (int b = 3; b >= 0; --b) out[w.at++] = static_cast<unsigned char>(adler >> (8 * b));  // big-endian
  return w.at;
}

// The trial chunk shape: {rows, cols} (see the file comment).
std::array<std::uint64_t, 2> chunk_shape(std::uint64_t S, std::uint64_t N, std::uint64_t per_batch) {
  constexpr std::uint64_t kElems = 65536;  // 512 KiB of float64
  const std::uint64_t cols = std::max<std::uint64_t>(1, std::min<std::uint64_t>(N, kElems));
  const std::uint64_t rows_max = std::max<std::uint64_t>(1, std::min<std::uint64_t>(S, kElems / cols));
  const std::uint64_t b = std::max<std::uint64_t>(1, per_batch);
  if (S <= b) return {rows_max, cols};  // one batch: nothing to align
  std::uint64_t d = 1;
  for (std::uint64_t r = std::min(rows_max, b); r >= 1; --r)
    if (b % r == 0) {
      d = r;
      break;
    }
  return {2 * d >= rows_max ? d : rows_max, cols};
}

// One filtered chunk, ready for H5Dwrite_chunk.
struct ChunkJob {
  int dataset = 0;            // 0 roi, 1 npv, 2 payback_month
  std::uint64_t row0 = 0, col0 = 0;
  std::uint32_t mask = 0;     // filters skipped (bit 1: deflate)
  std::size_t size = 0;       // bytes used in out
  Bytes out;                  // not zero-filled: only out[0, size) is written and read
};

// Gathers rows [row0, row0 + rows) x columns [col0, col0 + cols) of a [S, N] dataset into one full
// chunk (zeros beyond the dataset's edge), byte-shuffled (the shuffle filter for 8-byte elements:
// byte b of element i goes to b * elements + i), then deflates and (with fletcher) checksums it
// into job.out. row(s) returns scenario s's N values. `fletcher` is set for per-trial chunks,
// which also store random planes more readily (zlib_planes).
template <class RowFn>
void filter_chunk(ChunkJob& job, RowFn&& row, std::uint64_t S, std::uint64_t N, std::uint64_t rows,
                  std::uint64_t cols, int level, bool fletcher, Deflater& z) {
  const std::size_t elems = static_cast<std::size_t>(rows * cols), nbytes = elems * 8;
  z.shuffled.resize(nbytes);
  unsigned char* sh = z.shuffled.data();
  const std::uint64_t rows_in = std::min(rows, S - job.row0), cols_in = std::min(cols, N - job.col0);
  if (rows_in < rows || cols_in < cols) std::memset(sh, 0, nbytes);
  for (std::uint64_t r = 0; r < rows_in; ++r)
    shuffle8(row(job.row0 + r) + job.col0, static_cast<std::size_t>(cols_in), sh + static_cast<std::size_t>(r * cols), elems);
  // HDF5's deflate filter: compress into a buffer of ceil(1.001 n) + 12 bytes; when that overflows
  // the (optional) filter fails and HDF5 stores the chunk without it, marking bit 1 of the mask.
  // libdeflate wants a little slack at the end of its output buffer (it writes whole words), which
  // a tight buffer denies it on small chunks: it gets `room`, and the result must still fit `limit`.
  const std::size_t limit = static_cast<std::size_t>(std::ceil(static_cast<double>(nbytes) * 1.001)) + 12;
  const std::size_t room = limit + 64;
  job.out.resize(std::max(room, nbytes) + 4);
  if (!z.compressor || z.level != level) {
    if (z.compressor) libdeflate_free_compressor(z.compressor);
    z.compressor = libdeflate_alloc_compressor(level);
    if (!z.compressor) throw IoError("results file: libdeflate_alloc_compressor(" + std::to_string(level) + ") failed");
    z.level = level;
  }
  // Random planes are stored (zlib_planes) unless the chunk repeats itself: a per-trial row equal
  // to an earlier one within deflate's 32 KiB reach in a plane (scenarios with the same results,
  // e.g. an override of a project they do not fund) gives random-looking planes that deflate
  // shrinks to the first copy.
  double stored_entropy = fletcher ? kStoredEntropyTrials : kStoredEntropyStatistics;
  if (fletcher && rows_in > 1 && cols_in > 0) {
    const std::uint64_t reach = std::max<std::uint64_t>(1, 32768 / cols);
    for (std::uint64_t r2 = 1; r2 < rows_in && stored_entropy <= 8; ++r2)
      for (std::uint64_t r1 = r2 > reach ? r2 - reach : 0; r1 < r2; ++r1)
        if (std::memcmp(row(job.row0 + r1) + job.col0, row(job.row0 + r2) + job.col0, cols_in * 8) == 0) {
          stored_entropy = std::numeric_limits<double>::infinity();
          break;
        }
  }
  // 0: the stream did not fit. zlib_planes also gives up on chunks too small for its bound on run
  // blocks (a few hundred bytes a plane): libdeflate then compresses the whole.
  // Per-trial planes coded by their bytes' Huffman codes alone at level 1 (zlib_planes), the
  // fastest; higher levels leave them to libdeflate's matches, and so does a repeating chunk. Not
  // the statistics' chunks: their planes are small (the code's set-up weighs) and their rows
  // repeat where scenarios do (the seed's summary-only file: 1.69 MB with libdeflate, 1.75 MB so
  // coded, and no less CPU time: 3.1-3.4% of a one-thread run against 3.3-3.5%, perf).
  const bool huffman = fletcher && level == 1 && std::isfinite(stored_entropy);
  std::size_t size = level == 0 ? 0 : zlib_planes(z.compressor, level, sh, elems, 8, job.out.data(), room, stored_entropy, huffman);
  if (size == 0 || size > limit) size = libdeflate_zlib_compress(z.compressor, sh, nbytes, job.out.data(), room);
  if (size > limit) size = 0;
  job.mask = 0;
  if (size == 0) {
    std::memcpy(job.out.data(), sh, nbytes);
    size = nbytes;
    job.mask = 1u << 1;
  }
  job.size = size;
  if (!fletcher) return;
  const std::uint32_t sum = fletcher32(job.out.data(), size);
  for (int b = 0; b < 4; ++b) job.out[size + b] = static_cast<unsigned char>(sum >> (8 * b));  // UINT32ENCODE
  job.size = size + 4;
}

}  // namespace

std::size_t zlib_planes_for_tests(const unsigned char* data, std::size_t plane, std::size_t planes, int level,
                                  double stored_entropy, bool huffman, unsigned char* out, std::size_t limit) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  if (!c) throw IoError("results file: libdeflate_alloc_compressor(" + std::to_string(level) + ") failed");
  const std::size_t size = zlib_planes(c, level, data, plane, planes, out, limit, stored_entropy, huffman);
  libdeflate_free_compressor(c);
  return size;
}

std::string temporary_path(const std::string& target, std::size_t max_name) {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06x", static_cast<unsigned>(rd()) & 0xffffffu);
  const std::string suffix = ".tmp-" + std::to_string(::getpid()) + "-" + buf;
  // The name in the folder must fit in NAME_MAX (255 on most file systems): a target name of
  // 241-255 bytes is valid, but with the suffix it would not be (ENAMETOOLONG). Then the target's
  // name is cut (at a UTF-8 character's start) so that the temporary name fits; the pid and the
  // random part keep it unique, and the file is created exclusively anyway. A target name that is
  // itself too long is left so, to fail when the file is created, not at the rename after the run.
  const std::size_t slash = target.rfind('/');
  const std::size_t start = slash == std::string::npos ? 0 : slash + 1;
  const std::string folder = start == 0 ? "." : start == 1 ? "/" : target.substr(0, start - 1);
  const long limit = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  const std::size_t name_max = limit > 0 ? static_cast<std::size_t>(limit) : 255;
  const std::size_t cap = max_name > 0 ? std::min(name_max, max_name) : name_max;
  std::size_t keep = target.size() - start;
  if (keep <= name_max && keep + suffix.size() > cap) {
    keep = cap > suffix.size() ? cap - suffix.size() : 0;
    while (keep > 0 && (static_cast<unsigned char>(target[start + keep]) & 0xC0) == 0x80) --keep;
  }
  return target.substr(0, start + keep) + suffix;
}

std::array<std::uint64_t, 2> trial_chunk_shape(const ResultsLayout& layout) {
  return chunk_shape(layout.scenarios, layout.trials, layout.scenarios_per_batch);
}

StatChunkRows stat_chunk_rows(const ResultsLayout& layout) {
  const std::uint64_t S = std::max<std::uint64_t>(1, layout.scenarios), K = std::max<std::size_t>(1, layout.inputs.size());
  const std::uint64_t M = static_cast<std::uint64_t>(std::max(0, layout.horizon_months)) + 1;
  const std::uint64_t small = std::min<std::uint64_t>(S, 64);
  StatChunkRows r;
  r.scalar = std::min<std::uint64_t>(S, 4096);
  r.quantile = small;
  r.input = std::max<std::uint64_t>(1, std::min<std::uint64_t>(small, 16384 / K));
  r.cashflow = std::max<std::uint64_t>(1, std::min<std::uint64_t>(r.scalar, 8192 / (M * kNumQuantiles) + 1));
  return r;
}

ResultsDatasets create_results_datasets(hid_t f, const std::string& fn, const ResultsLayout& layout, hid_t vlen_str) {
  const std::uint64_t S = layout.scenarios, N = layout.trials, K = layout.inputs.size();
  ResultsDatasets d;
  const StatChunkRows rows_of = stat_chunk_rows(layout);
  const hsize_t scen_chunk = rows_of.scalar;

  // --- dimension scales
  DatasetOptions o;
  o.chunk = {scen_chunk};
  o.long_name = "scenario name";
  d.scenario = create_dataset(f, fn, "scenario", vlen_str, {S}, o);
  make_scale(d.scenario.get(), "scenario", fn);

  o = {};
  o.long_name = "trial index";
  Hid trial_ds = create_dataset(f, fn, "trial", H5T_STD_I64LE, {N}, o);
  make_scale(trial_ds.get(), "trial", fn);
  {
    constexpr std::uint64_t kBlock = 1 << 20;
    std::vector<std::int64_t> idx;
    for (std::uint64_t start = 0; start < N; start += kBlock) {
      const std::uint64_t n = std::min(kBlock, N - start);
      idx.resize(n);
      for (std::uint64_t i = 0; i < n; ++i) idx[i] = static_cast<std::int64_t>(start + i);
      write_rows(trial_ds.get(), H5T_NATIVE_INT64, start, n, 1, 0, idx.data(), "trial", fn);
    }
  }

  o = {};
  o.long_name = "uncertain input name";
  Hid input_ds = create_dataset(f, fn, "input", vlen_str, {K}, o);
  make_scale(input_ds.get(), "input", fn);
  if (K) {
    auto ptrs = c_strings(layout.inputs);
    write_all(input_ds.get(), vlen_str, ptrs.data(), "input", fn);
  }

  o = {};
  o.long_name = "quantile level";
  o.units = "1";
  Hid quantile_ds = create_dataset(f, fn, "quantile", H5T_IEEE_F64LE, {hsize_t(kNumQuantiles)}, o);
  make_scale(quantile_ds.get(), "quantile", fn);
  write_all(quantile_ds.get(), H5T_NATIVE_DOUBLE, kQuantiles, "quantile", fn);

  o = {};
  o.long_name = "month since the start (0 = the build, paid up front)";
  o.units = "month";
  const hsize_t M = hsize_t(layout.horizon_months) + 1;
  Hid month_ds = create_dataset(f, fn, "month", H5T_STD_I64LE, {M}, o);
  make_scale(month_ds.get(), "month", fn);
  {
    std::vector<std::int64_t> months(M);
    for (hsize_t m = 0; m < M; ++m) months[m] = static_cast<std::int64_t>(m);
    write_all(month_ds.get(), H5T_NATIVE_INT64, months.data(), "month", fn);
  }

  const bool has_corr = layout.correlation_original.has_value() || layout.correlation_repaired.has_value();
  const hsize_t C = layout.correlated_inputs.size();
  Hid corr_in_ds, corr_to_ds;
  if (has_corr) {
    for (const auto* m : {&layout.correlation_original, &layout.correlation_repaired})
      if (m->has_value() && (hsize_t((*m)->rows()) != C || hsize_t((*m)->cols()) != C))
        throw IoError("results file '" + fn + "': correlation matrix is " + std::to_string((*m)->rows()) +
                      "x" + std::to_string((*m)->cols()) + " for " + std::to_string(C) +
                      " correlated inputs");
    auto ptrs = c_strings(layout.correlated_inputs);
    o = {};
    o.long_name = "correlated input name (row)";
    corr_in_ds = create_dataset(f, fn, "corr_input", vlen_str, {C}, o);
    make_scale(corr_in_ds.get(), "corr_input", fn);
    if (C) write_all(corr_in_ds.get(), vlen_str, ptrs.data(), "corr_input", fn);
    o.long_name = "correlated input name (column)";
    corr_to_ds = create_dataset(f, fn, "corr_input_to", vlen_str, {C}, o);
    make_scale(corr_to_ds.get(), "corr_input_to", fn);
    if (C) write_all(corr_to_ds.get(), vlen_str, ptrs.data(), "corr_input_to", fn);
  }

  // --- per trial
  if (!layout.summary_only) {
    const auto [rows, cols] = trial_chunk_shape(layout);
    o = {};
    o.chunk = {rows, cols};
    o.shuffle = true;
    // Level 0 keeps the deflate filter at level 0 (stored blocks): the file still declares a
    // compression filter (checkers and h5py's .compression see "gzip"), at almost no CPU cost.
    o.deflate = layout.compression;
    o.fletcher32 = true;
    const std::pair<Hid*, std::array<const char*, 3>> trials[] = {
        {&d.roi, {"roi", "ROI per trial", "1"}},
        {&d.npv, {"npv", "NPV per trial", ""}},
        {&d.payback_month, {"payback_month", "payback month per trial (inf: no payback)", "month"}},
    };
    for (const auto& [ds, meta] : trials) {
      o.long_name = meta[1];
      o.units = meta[2];
      *ds = create_dataset(f, fn, meta[0], H5T_IEEE_F64LE, {S, N}, o);
      attach(ds->get(), {d.scenario.get(), trial_ds.get()}, meta[0], fn);
    }
  }

  // --- per scenario
  o = {};
  o.chunk = {scen_chunk};
  o.long_name = "funded projects (joined by '+')";
  d.funded = create_dataset(f, fn, "funded", vlen_str, {S}, o);
  attach(d.funded.get(), {d.scenario.get()}, "funded", fn);

  o = {};
  o.chunk = {scen_chunk};
  o.shuffle = true;
  o.deflate = std::max(1, layout.compression);
  for (int i = 0; i < kNumScalarFields; ++i) {
    o.long_name = kScalarFields[i].long_name;
    o.units = kScalarFields[i].units;
    d.scalar[i] = create_dataset(f, fn, kScalarFields[i].name, H5T_IEEE_F64LE, {S}, o);
    attach(d.scalar[i].get(), {d.scenario.get()}, kScalarFields[i].name, fn);
  }
  o.chunk = {rows_of.quantile, hsize_t(kNumQuantiles)};
  for (int i = 0; i < kNumQuantileFields; ++i) {
    o.long_name = kQuantileFields[i].long_name;
    o.units = kQuantileFields[i].units;
    d.quantile[i] = create_dataset(f, fn, kQuantileFields[i].name, H5T_IEEE_F64LE, {S, hsize_t(kNumQuantiles)}, o);
    attach(d.quantile[i].get(), {d.scenario.get(), quantile_ds.get()}, kQuantileFields[i].name, fn);
  }

  o.chunk = {rows_of.input, std::max<hsize_t>(1, K)};
  for (int i = 0; i < kNumInputFields; ++i) {
    o.long_name = kInputFields[i].long_name;
    o.units = "1";
    d.input[i] = create_dataset(f, fn, kInputFields[i].name, H5T_IEEE_F64LE, {S, K}, o);
    attach(d.input[i].get(), {d.scenario.get(), input_ds.get()}, kInputFields[i].name, fn);
  }

  o.chunk = {rows_of.cashflow, M, hsize_t(kNumQuantiles)};
  o.long_name = "quantiles of the portfolio's cumulative discounted net cash flow at each month";
  o.units = "";
  d.cashflow = create_dataset(f, fn, "cashflow_quantile", H5T_IEEE_F64LE, {S, M, hsize_t(kNumQuantiles)}, o);
  attach(d.cashflow.get(), {d.scenario.get(), month_ds.get(), quantile_ds.get()}, "cashflow_quantile", fn);

  // --- correlation matrices
  if (has_corr) {
    const std::pair<const std::optional<Eigen::MatrixXd>*, std::array<const char*, 2>> mats[] = {
        {&layout.correlation_original,
         {"correlation_spearman", "Spearman correlation of the inputs (as given)"}},
        {&layout.correlation_repaired,
         {"correlation_spearman_repaired", "Spearman correlation of the inputs (repaired, used)"}},
    };
    for (const auto& [m, meta] : mats) {
      if (!m->has_value()) continue;
      o = {};
      o.long_name = meta[1];
      o.units = "1";
      Hid ds = create_dataset(f, fn, meta[0], H5T_IEEE_F64LE, {C, C}, o);
      attach(ds.get(), {corr_in_ds.get(), corr_to_ds.get()}, meta[0], fn);
      if (C) {
        const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = **m;
        write_all(ds.get(), H5T_NATIVE_DOUBLE, row_major.data(), meta[0], fn);
      }
      check(ds.close(), fn, std::string("closing '") + meta[0] + "'");
    }
  }

  // --- root attributes (std::map: key order)
  for (const auto& [name, value] : layout.attributes) write_attr(f, name, value, fn);

  check(trial_ds.close(), fn, "closing 'trial'");
  check(input_ds.close(), fn, "closing 'input'");
  check(quantile_ds.close(), fn, "closing 'quantile'");
  check(month_ds.close(), fn, "closing 'month'");
  check(corr_in_ds.close(), fn, "closing 'corr_input'");
  check(corr_to_ds.close(), fn, "closing 'corr_input_to'");
  return d;
}

// ==================================================================================================
// Writer

struct ResultsWriter::Impl {
  std::string target, temp;
  ResultsLayout layout;
  std::uint64_t S = 0, N = 0, K = 0;
  std::uint64_t rows_written = 0;
  bool created = false, committed = false, failed = false;
  int write_fd = -1;  // the file's descriptor under HDF5's sec2 driver, or -1 (see start_writeback)
  std::unique_ptr<DataSyncer> syncer;  // on write_fd, from the first batch with per-trial data
  ReplacedFileHold previous;  // takes the file at the target for commit's rename (freed after it, not in it)

  Hid file;
  Hid vlen_str;
  Hid scenario_ds, roi_ds, npv_ds, payback_ds, funded_ds;
  std::array<Hid, kNumScalarFields> scalar_ds;
  std::array<Hid, kNumQuantileFields> quantile_field_ds;
  std::array<Hid, kNumInputFields> input_field_ds;
  Hid cashflow_ds;
  hsize_t months = 0;
  // Per-trial chunks: shape, the rows of an incomplete chunk row (roi, npv, payback_month; scenarios
  // [rows_written - pending rows, rows_written)), the filtered chunks of one batch, per-thread compressors.
  std::uint64_t chunk_rows = 0, chunk_cols = 0;
  std::array<std::vector<double>, 3> pending;
  std::vector<ChunkJob> jobs;
  tbb::enumerable_thread_specific<Deflater> deflaters;
  // Per-scenario float64 statistics, chunked along the scenario axis only (a chunk holds `rows`
  // scenarios' whole rows of row_elems values): filtered by roisim too (shuffle + deflate, no
  // checksum), so that no chunk goes through HDF5's serial pipeline. Rows wait in buf until their
  // chunk is complete (or the last scenario has arrived); ds < 0: not chunked (empty), not written.
  struct RowChunks {
    hid_t ds = -1;
    const char* name = "";
    std::uint64_t row_elems = 1, rows = 1;
    std::uint64_t first = 0;  // scenario of buf's first row
    std::vector<double> buf;
  };
  std::array<RowChunks, kNumScalarFields> scalar_rows;
  std::array<RowChunks, kNumQuantileFields> quantile_rows;
  std::array<RowChunks, kNumInputFields> input_rows;
  RowChunks cashflow_rows;
  std::vector<ChunkJob> stat_jobs;

  Impl(std::string target_path, ResultsLayout l) : target(std::move(target_path)), layout(std::move(l)) {
    silence_hdf5();
    S = layout.scenarios;
    N = layout.trials;
    K = layout.inputs.size();
    if (target.empty()) throw IoError("results file: empty output path");
    if (layout.compression < 0 || layout.compression > 9)
      throw IoError("results file '" + target + "': compression level " + std::to_string(layout.compression) +
                    " is not in 0-9");
    namespace fs = std::filesystem;
    fs::path folder = fs::path(target).parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      throw IoError("results file '" + target + "': folder '" + folder.string() + "' does not exist");
    temp = temporary_path(target);

    previous = ReplacedFileHold::prepared();  // before anything is created (see sim/replaced_file.h)
    file = create_temporary_file(temp, target);  // nothing left at temp if it fails
    created = true;
    {  // the POSIX descriptor of HDF5's default (sec2) driver, for start_writeback
      Hid fapl{H5Fget_access_plist(file.get()), H5Pclose};
      void* handle = nullptr;
      if (fapl.get() >= 0 && H5Pget_driver(fapl.get()) == H5FD_SEC2 &&
          H5Fget_vfd_handle(file.get(), H5P_DEFAULT, &handle) >= 0 && handle)
        write_fd = *static_cast<int*>(handle);
    }
    try {
      vlen_str = make_vlen_utf8(target);
      create_layout();
    } catch (...) {  // ~Impl does not run for a constructor that throws
      close_all();
      ::unlink(temp.c_str());
      throw;
    }
  }

  ~Impl() {
    syncer.reset();  // joined before HDF5 closes its descriptor
    close_all();
    if (created && !committed) ::unlink(temp.c_str());
  }

  void close_all() noexcept {
    scenario_ds.reset();
    roi_ds.reset();
    npv_ds.reset();
    payback_ds.reset();
    funded_ds.reset();
    for (auto& d : quantile_field_ds) d.reset();
    for (auto& d : input_field_ds) d.reset();
    cashflow_ds.reset();
    for (auto& d : scalar_ds) d.reset();
    vlen_str.reset();
    file.reset();
  }

  // The RowChunks of a per-scenario dataset, its shape and chunk shape read back from the file as
  // create_results_datasets made them (HDF5 stores an empty dataset contiguously: nothing to
  // write then).
  RowChunks row_chunks(hid_t ds, const char* name) const {
    const std::string op = std::string("reading the chunk shape of '") + name + "'";
    RowChunks rc;
    Hid dcpl = make(H5Dget_create_plist(ds), H5Pclose, target, op);
    if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return rc;
    Hid space = make(H5Dget_space(ds), H5Sclose, target, op);
    hsize_t dims[3] = {0, 0, 0}, chunk[3] = {0, 0, 0};
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 1 || rank > 3 || H5Sget_simple_extent_dims(space.get(), dims, nullptr) != rank ||
        H5Pget_chunk(dcpl.get(), rank, chunk) != rank || chunk[0] == 0)
      fail(target, op);
    for (int i = 1; i < rank; ++i)
      if (chunk[i] != dims[i]) fail(target, op, " (a chunk must hold whole rows)");
    rc.ds = ds;
    rc.name = name;
    rc.rows = chunk[0];
    for (int i = 1; i < rank; ++i) rc.row_elems *= dims[i];
    return rc;
  }

  void create_layout() {
    ResultsDatasets d = create_results_datasets(file.get(), target, layout, vlen_str.get());
    scenario_ds = std::move(d.scenario);
    funded_ds = std::move(d.funded);
    roi_ds = std::move(d.roi);
    npv_ds = std::move(d.npv);
    payback_ds = std::move(d.payback_month);
    cashflow_ds = std::move(d.cashflow);
    if (!layout.summary_only) {
      const auto shape = trial_chunk_shape(layout);
      chunk_rows = shape[0];
      chunk_cols = shape[1];
    }
    months = hsize_t(layout.horizon_months) + 1;
    for (int i = 0; i < kNumScalarFields; ++i) {
      scalar_ds[i] = std::move(d.scalar[i]);
      scalar_rows[i] = row_chunks(scalar_ds[i].get(), kScalarFields[i].name);
    }
    for (int i = 0; i < kNumQuantileFields; ++i) {
      quantile_field_ds[i] = std::move(d.quantile[i]);
      quantile_rows[i] = row_chunks(quantile_field_ds[i].get(), kQuantileFields[i].name);
    }
    for (int i = 0; i < kNumInputFields; ++i) {
      input_field_ds[i] = std::move(d.input[i]);
      input_rows[i] = row_chunks(input_field_ds[i].get(), kInputFields[i].name);
    }
    cashflow_rows = row_chunks(cashflow_ds.get(), "cashflow_quantile");
  }

  void write_batch(const BatchResults& b) {
    const std::string& fn = target;  // messages name the file asked for (the temporary one is removed)
    auto bad = [&](const std::string& what) {
      throw IoError("results file '" + fn + "': batch at scenario " + std::to_string(b.first) + ": " + what);
    };
    if (committed) bad("the file is already committed");
    if (failed) bad("an earlier write failed");
    if (b.first != rows_written)
      bad("batches must be contiguous; expected first scenario " + std::to_string(rows_written));
    if (b.count == 0 || b.count > S - b.first)
      bad(std::to_string(b.count) + " scenarios do not fit in [" + std::to_string(b.first) + ", " +
          std::to_string(S) + ")");
    auto need = [&](std::size_t got, std::uint64_t want, const char* what) {
      if (got != want)
        bad(std::string(what) + " has " + std::to_string(got) + " entries, expected " + std::to_string(want));
    };
    need(b.names.size(), b.count, "names");
    need(b.funded.size(), b.count, "funded");
    need(b.summary.size(), b.count, "summary");
    for (const auto& field : kInputFields) need((b.drivers.*(field.member)).size(), b.count * K, field.name);
    if (!b.cashflow_quantile.empty())  // empty: not computed, stored as NaN
      need(b.cashflow_quantile.size(), b.count * months * kNumQuantiles, "cashflow_quantile");
    if (!layout.summary_only && N > 0 && (!b.roi || !b.npv || !b.payback))
      bad("per-trial roi/npv/payback data missing");

    failed = true;  // until this batch is fully written
    const std::uint64_t first = b.first, count = b.count;
    {
      auto names = c_strings(b.names);
      write_rows(scenario_ds.get(), vlen_str.get(), first, count, 1, 0, names.data(), "scenario", fn);
      auto funded = c_strings(b.funded);
      write_rows(funded_ds.get(), vlen_str.get(), first, count, 1, 0, funded.data(), "funded", fn);
    }
    if (!layout.summary_only && N > 0) {
      write_trial_chunks(b);
      start_writeback();
    }
    for (int i = 0; i < kNumScalarFields; ++i)
      for (std::uint64_t r = 0; r < count; ++r) scalar_rows[i].buf.push_back(b.summary[r].*(kScalarFields[i].member));
    for (int i = 0; i < kNumQuantileFields; ++i)
      for (std::uint64_t r = 0; r < count; ++r) {
        const double* q = b.summary[r].*(kQuantileFields[i].member);
        quantile_rows[i].buf.insert(quantile_rows[i].buf.end(), q, q + kNumQuantiles);
      }
    if (K)
      for (int i = 0; i < kNumInputFields; ++i) {
        const auto& v = b.drivers.*(kInputFields[i].member);
        input_rows[i].buf.insert(input_rows[i].buf.end(), v.begin(), v.end());
      }
    auto& cash = cashflow_rows.buf;
    if (b.cashflow_quantile.empty())
      cash.insert(cash.end(), count * months * kNumQuantiles, std::numeric_limits<double>::quiet_NaN());
    else
      cash.insert(cash.end(), b.cashflow_quantile.begin(), b.cashflow_quantile.end());
    write_stat_chunks(first + count == S);
    rows_written += count;
    failed = false;
  }

  // Filters (in parallel) and writes every statistics chunk whose rows are all in (or, at the end,
  // every chunk that has rows), then drops those rows.
  void write_stat_chunks(bool at_end) {
    const std::string& fn = target;  // messages name the file asked for (the temporary one is removed)
    RowChunks* sets[kNumScalarFields + kNumQuantileFields + kNumInputFields + 1];
    std::size_t ns = 0;
    for (auto& rc : scalar_rows) sets[ns++] = &rc;
    for (auto& rc : quantile_rows) sets[ns++] = &rc;
    for (auto& rc : input_rows) sets[ns++] = &rc;
    sets[ns++] = &cashflow_rows;
    struct Todo { RowChunks* rc; std::uint64_t row0; };
    std::vector<Todo> todo;
    for (std::size_t i = 0; i < ns; ++i) {
      RowChunks& rc = *sets[i];
      if (rc.ds < 0) continue;
      const std::uint64_t have = rc.buf.size() / rc.row_elems, end = rc.first + have;
      for (std::uint64_t r0 = rc.first; r0 + rc.rows <= end || (at_end && r0 < end); r0 += rc.rows) todo.push_back({&rc, r0});
    }
    if (stat_jobs.size() < todo.size()) stat_jobs.resize(todo.size());
    const int level = std::max(1, layout.compression);
    const std::uint64_t SS = S;
    tbb::parallel_for(std::size_t{0}, todo.size(), [&](std::size_t j) {
      const RowChunks& rc = *todo[j].rc;
      ChunkJob& job = stat_jobs[j];
      job.row0 = todo[j].row0;
      job.col0 = 0;
      auto row = [&](std::uint64_t s) -> const double* { return rc.buf.data() + (s - rc.first) * rc.row_elems; };
      filter_chunk(job, row, SS, rc.row_elems, rc.rows, rc.row_elems, level, false, deflaters.local());
    });
    for (std::size_t j = 0; j < todo.size(); ++j) {
      const ChunkJob& job = stat_jobs[j];
      const hsize_t offset[3] = {job.row0, 0, 0};
      check(H5Dwrite_chunk(todo[j].rc->ds, H5P_DEFAULT, job.mask, offset, job.size, job.out.data()), fn,
            std::string("writing a chunk of '") + todo[j].rc->name + "'");
    }
    for (std::size_t i = 0; i < ns; ++i) {
      RowChunks& rc = *sets[i];
      if (rc.ds < 0) continue;
      const std::uint64_t have = rc.buf.size() / rc.row_elems;
      const std::uint64_t done = at_end ? have : have / rc.rows * rc.rows;
      rc.buf.erase(rc.buf.begin(), rc.buf.begin() + static_cast<std::ptrdiff_t>(done * rc.row_elems));
      rc.first += done;
    }
  }

  // Filters and writes every per-trial chunk that rows [.., first + count) complete (see the file
  // comment); keeps the rows of a trailing incomplete chunk row in `pending`.
  void write_trial_chunks(const BatchResults& b) {
    const std::string& fn = target;  // messages name the file asked for (the temporary one is removed)
    const std::uint64_t first = b.first, end = b.first + b.count, R = chunk_rows, C = chunk_cols;
    const std::uint64_t base = first / R * R;  // first scenario of the chunk row `first` is in
    const std::uint64_t done = end == S ? end : end / R * R;  // chunk rows complete up to here
    const double* src[3] = {b.roi, b.npv, b.payback};
    const std::uint64_t chunk_rows_n = done > base ? (done - base + R - 1) / R : 0;
    const std::uint64_t chunk_cols_n = (N + C - 1) / C;
    const std::uint64_t per_ds = chunk_rows_n * chunk_cols_n, n_jobs = 3 * per_ds;
    const int level = layout.compression;
    const std::uint64_t SS = S, NN = N;
    const hid_t dsets[3] = {roi_ds.get(), npv_ds.get(), payback_ds.get()};
    const char* names[3] = {"roi", "npv", "payback_month"};
    // Waves of at most kWave chunks bound the memory held by filtered chunks (kWave x ~0.5 MiB).
    constexpr std::uint64_t kWave = 64;
    if (jobs.size() < std::min(n_jobs, kWave)) jobs.resize(static_cast<std::size_t>(std::min(n_jobs, kWave)));
    for (std::uint64_t w0 = 0; w0 < n_jobs; w0 += kWave) {
      const std::size_t wn = static_cast<std::size_t>(std::min(kWave, n_jobs - w0));
      for (std::size_t j = 0; j < wn; ++j) {
        const std::uint64_t g = w0 + j, k = g % per_ds;
        jobs[j].dataset = static_cast<int>(g / per_ds);
        jobs[j].row0 = base + k / chunk_cols_n * R;
        jobs[j].col0 = k % chunk_cols_n * C;
      }
      tbb::parallel_for(std::size_t{0}, wn, [&](std::size_t j) {
        ChunkJob& job = jobs[j];
        const int d = job.dataset;
        auto row = [&](std::uint64_t s) -> const double* {
          return s < first ? pending[d].data() + (s - base) * NN : src[d] + (s - first) * NN;
        };
        filter_chunk(job, row, SS, NN, R, C, level, true, deflaters.local());
      });
      for (std::size_t j = 0; j < wn; ++j) {
        const ChunkJob& job = jobs[j];
        const hsize_t offset[2] = {job.row0, job.col0};
        check(H5Dwrite_chunk(dsets[job.dataset], H5P_DEFAULT, job.mask, offset, job.size, job.out.data()), fn,
              std::string("writing a chunk of '") + names[job.dataset] + "'");
      }
    }
    // Keep the rows of the incomplete chunk row [done, end) (with what was pending, if base == done).
    for (int d = 0; d < 3; ++d) {
      std::vector<double>& p = pending[d];
      if (done == end) {
        p.clear();
        continue;
      }
      const std::uint64_t keep_from = std::max(done, first);
      if (done > base) p.clear();  // the pending rows went into chunks written above
      p.insert(p.end(), src[d] + (keep_from - first) * N, src[d] + (end - first) * N);
    }
  }

  // Has the batch's chunks made durable in the background (DataSyncer): they reach the disk while
  // later batches are computed, and the fsync in commit() is left with little to do. On the seed
  // portfolio's 84 MB file that fsync took ~40-50 ms at the end of every run, serially, when the
  // chunks were merely handed to the kernel's writeback here (sync_file_range). commit()'s fsync
  // is still what the rename waits for; an error reported in the background fails the commit.
  void start_writeback() {
    if (write_fd < 0) return;
    if (!syncer) try {
        syncer = std::make_unique<DataSyncer>(write_fd);
      } catch (const std::system_error&) {  // no thread to be had: commit's fsync does it all
        write_fd = -1;
        return;
      }
    syncer->request();
  }

  void commit() {
    const std::string& fn = target;  // messages name the file asked for (the temporary one is removed)
    if (committed) throw IoError("results file '" + target + "': already committed");
    if (failed) throw IoError("results file '" + fn + "': cannot commit after a failed write");
    if (rows_written != S)
      throw IoError("results file '" + fn + "': only " + std::to_string(rows_written) + " of " +
                    count_of(S, "scenario") + " were written");
    failed = true;  // until the rename succeeds
    if (syncer) {
      const int err = syncer->finish();
      syncer.reset();
      if (err != 0) fail_errno(fn, "writing to disk (fdatasync)", err);
    }
    write_fd = -1;  // closed with the file below
    Hid* datasets[] = {&scenario_ds, &roi_ds, &npv_ds, &payback_ds, &funded_ds};
    for (Hid* d : datasets) check(d->close(), fn, "closing a dataset (flushing its chunks)");
    for (auto& d : scalar_ds) check(d.close(), fn, "closing a dataset (flushing its chunks)");
    for (auto& d : quantile_field_ds) check(d.close(), fn, "closing a dataset (flushing its chunks)");
    for (auto& d : input_field_ds) check(d.close(), fn, "closing a dataset (flushing its chunks)");
    check(cashflow_ds.close(), fn, "closing a dataset (flushing its chunks)");
    check(vlen_str.close(), fn, "closing the string type");
    check(file.close(), fn, "closing");
    fsync_path(temp, false, fn);
    if (const int err = previous.rename_onto(temp, target)) fail_errno(fn, "renaming '" + temp + "' to it", err);
    committed = true;
    std::filesystem::path folder = std::filesystem::path(target).parent_path();
    fsync_path(folder.empty() ? "." : folder.string(), true, target);
  }
};

ResultsWriter::ResultsWriter(std::string target_path, ResultsLayout layout)
    : impl_(std::make_unique<Impl>(std::move(target_path), std::move(layout))) {}

// HDF5's error stack, and so its printing, is per thread: each call silences the thread it runs on
// (the writer is made, fed and closed from whichever threads the engine's stages run on).
ResultsWriter::~ResultsWriter() {
  silence_hdf5();
  impl_.reset();
}

void ResultsWriter::write_batch(const BatchResults& batch) {
  silence_hdf5();
  impl_->write_batch(batch);
}

void ResultsWriter::commit() {
  silence_hdf5();
  impl_->commit();
}

const std::string& ResultsWriter::temp_path() const { return impl_->temp; }

// ==================================================================================================
// Reader

namespace {

// ------------------------------------------------------------------------------------------------
// The global heap behind variable-length strings.
//
// A variable-length string is stored as a 16-byte record (its length, the file address of a global
// heap collection "GCOL", an object index) whose bytes live in that collection. HDF5 (1.10.8 here)
// trusts the collection: when it loads one it walks the objects by their size fields without a
// bounds check, and when it reads a string it copies the heap object's size, not the record's
// length, into a buffer sized by the record's length. One damaged size field made `report` die
// with SIGSEGV inside H5HG_read (h5dump and h5py die the same way on such a string), and a damaged
// length made it allocate gigabytes. So before any string is read, the records of the string
// datasets (scenario, funded, input) are read raw (H5Dread_chunk / H5Dget_offset, no conversion)
// and every collection they point to is walked here as HDF5 walks it, from the file's bytes: every
// object must lie inside its collection, the collection inside the file, and each string's object
// must exist and hold exactly the record's length. Then HDF5 reads only what was checked.
// What this cannot reach: a string attribute's record (the API gives no raw access to attribute
// data); its object is checked only where its collection is also one the datasets use (as the
// root attributes share the scenario names' collection in files roisim writes). Datasets stored
// filtered or compact (never by roisim; possible after h5repack) are read without the check.

// The file's bytes, read with pread beside HDF5.
class RawFile {
 public:
  explicit RawFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_errno(path, "opening", errno);
    const off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) {
      const int e = errno;
      ::close(fd_);  // the destructor does not run for a throwing constructor
      fail_errno(path, "reading its size", e);
    }
    size_ = static_cast<std::uint64_t>(end);
  }
  ~RawFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;
  std::uint64_t size() const { return size_; }
  // Bytes [at, at + n), which the caller has checked lie inside the file.
  void read(std::uint64_t at, std::size_t n, unsigned char* out) const {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(at + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail_errno(path_, "reading", errno);
      if (got == 0) fail(path_, "reading", " (the file ends early)");
      done += static_cast<std::size_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

std::uint64_t decode_le(const unsigned char* p, unsigned bytes) {
  std::uint64_t v = 0;
  for (unsigned i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// One global heap collection, walked as H5HG__cache_heap_deserialize walks it: object index ->
// its size (objects that never appear: absent).
struct HeapCollection {
  std::vector<std::optional<std::uint64_t>> size;
};

class StringHeapCheck {
 public:
  StringHeapCheck(hid_t f, const std::string& path) : path_(path), raw_(path) {
    Hid fcpl = make(H5Fget_create_plist(f), H5Pclose, path, "reading the file's creation properties");
    size_t sa = 0, ss = 0;
    hsize_t userblock = 0;
    check(H5Pget_sizes(fcpl.get(), &sa, &ss), path, "reading the file's address size");
    check(H5Pget_userblock(fcpl.get(), &userblock), path, "reading the file's user block size");
    sizeof_addr_ = static_cast<unsigned>(sa);
    sizeof_size_ = static_cast<unsigned>(ss);
    base_ = userblock;  // HDF5's addresses count from the end of the user block
  }

  // Checks the strings of dataset `name` when it is a 1-D variable-length string dataset stored
  // as roisim stores them (anything else is left to the reader, which refuses what it cannot use).
  void dataset(hid_t f, const char* name) {
    if (sizeof_addr_ < 1 || sizeof_addr_ > 8 || sizeof_size_ < 1 || sizeof_size_ > 8) return;
    const htri_t exists = H5Lexists(f, name, H5P_DEFAULT);
    if (exists <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return;
    }
    const std::string op = std::string("reading '") + name + "'";
    Hid dset = make(H5Dopen2(f, name, H5P_DEFAULT), H5Dclose, path_, op);
    Hid ftype = make(H5Dget_type(dset.get()), H5Tclose, path_, op);
    if (H5Tget_class(ftype.get()) != H5T_STRING || H5Tis_variable_str(ftype.get()) <= 0) return;
    Hid space = make(H5Dget_space(dset.get()), H5Sclose, path_, op);
    if (H5Sget_simple_extent_ndims(space.get()) != 1) return;
    hsize_t n = 0;
    check(H5Sget_simple_extent_dims(space.get(), &n, nullptr), path_, op);
    if (n == 0) return;
    const std::uint64_t rec = 4 + sizeof_addr_ + 4;
    if (n > raw_.size() / rec)
      fail(path_, op, " (the file is damaged: it declares " + std::to_string(n) + " strings, more than its " +
                          std::to_string(raw_.size()) + " bytes can hold)");
    Hid dcpl = make(H5Dget_create_plist(dset.get()), H5Pclose, path_, op);
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    std::vector<unsigned char> records;
    if (layout == H5D_CONTIGUOUS) {
      const haddr_t at = H5Dget_offset(dset.get());
      if (at == HADDR_UNDEF) {  // never written: every string is empty
        H5Eclear2(H5E_DEFAULT);
        return;
      }
      if (at > raw_.size() || n * rec > raw_.size() - at)
        fail(path_, op, " (the file is damaged: its strings' records lie past the end of the file)");
      records.resize(static_cast<std::size_t>(n * rec));
      raw_.read(at, records.size(), records.data());
      strings(records, 0, n, name);
    } else if (layout == H5D_CHUNKED) {
      if (H5Pget_nfilters(dcpl.get()) != 0) return;
      hsize_t c = 0;
      if (H5Pget_chunk(dcpl.get(), 1, &c) != 1 || c == 0) fail_hdf5(path_, op + " (its chunk shape)");
      for (hsize_t first = 0; first < n; first += c) {
        hsize_t bytes = 0;
        check(H5Dget_chunk_storage_size(dset.get(), &first, &bytes), path_, op);
        if (bytes == 0) continue;  // never written: empty strings
        if (bytes != c * rec)
          fail(path_, op, " (the file is damaged: a chunk of its strings' records holds " + std::to_string(bytes) +
                              " bytes, not " + std::to_string(c * rec) + ")");
        records.resize(static_cast<std::size_t>(bytes));
        std::uint32_t filters = 0;
        check(H5Dread_chunk(dset.get(), H5P_DEFAULT, &first, &filters, records.data()), path_, op);
        strings(records, first, std::min(c, n - first), name);
      }
    }
  }

 private:
  // Records [0, count) of `records`, strings first, first + 1, ... of the dataset.
  void strings(const std::vector<unsigned char>& records, std::uint64_t first, std::uint64_t count, const char* name) {
    const std::size_t rec = 4 + sizeof_addr_ + 4;
    for (std::uint64_t i = 0; i < count; ++i) {
      const unsigned char* r = records.data() + i * rec;
      const std::uint64_t length = decode_le(r, 4);
      const std::uint64_t addr = decode_le(r + 4, sizeof_addr_);
      const std::uint64_t index = decode_le(r + 4 + sizeof_addr_, 4);
      if (addr == 0) continue;  // a null string (HDF5 reads no heap for it)
      const auto damaged = [&](const std::string& what) {
        fail(path_, std::string("reading '") + name + "'",
             " (the file is damaged: string " + std::to_string(first + i) + "'s text, object " + std::to_string(index) +
                 " of the global heap collection at byte " + std::to_string(addr) + ", " + what + ")");
      };
      const HeapCollection& heap = collection(addr, [&](const std::string& what) {
        fail(path_, std::string("reading '") + name + "'",
             " (the file is damaged: the global heap collection at byte " + std::to_string(addr) +
                 ", which holds the text of string " + std::to_string(first + i) + ", " + what + ")");
      });
      if (index == 0 || index >= heap.size.size() || !heap.size[index]) damaged("is not in the collection");
      if (*heap.size[index] != length)
        damaged("holds " + std::to_string(*heap.size[index]) + " bytes where the string has " + std::to_string(length));
    }
  }

  template <class Damaged>
  const HeapCollection& collection(std::uint64_t addr, const Damaged& damaged) {
    if (last_ && last_addr_ == addr) return *last_;  // consecutive strings share a collection
    if (auto it = heaps_.find(addr); it != heaps_.end()) {
      last_addr_ = addr;
      return *(last_ = &it->second);
    }
    const std::uint64_t align8 = 7;
    const std::uint64_t hdr = (4 + 1 + 3 + sizeof_size_ + align8) & ~align8;      // H5HG_SIZEOF_HDR
    const std::uint64_t objhdr = (2 + 2 + 4 + sizeof_size_ + align8) & ~align8;   // H5HG_SIZEOF_OBJHDR
    const std::uint64_t at = base_ + addr;
    if (at < base_ || at > raw_.size() || raw_.size() - at < hdr) damaged("lies past the end of the file");
    unsigned char head[32];
    raw_.read(at, static_cast<std::size_t>(hdr), head);
    if (std::memcmp(head, "GCOL", 4) != 0 || head[4] != 1) damaged("is not there (no GCOL signature)");
    const std::uint64_t size = decode_le(head + 8, sizeof_size_);
    if (size < hdr || size > raw_.size() - at)
      damaged("declares " + std::to_string(size) + " bytes, past the end of the file");
    std::vector<unsigned char> chunk(static_cast<std::size_t>(size));
    raw_.read(at, chunk.size(), chunk.data());
    HeapCollection heap;
    std::uint64_t p = hdr;
    while (p < size) {
      if (size - p < objhdr) break;  // too small for an object header: free space (as HDF5 takes it)
      const unsigned char* o = chunk.data() + p;
      const std::uint64_t idx = decode_le(o, 2), osize = decode_le(o + 8, sizeof_size_);
      std::uint64_t need = 0;
      if (idx > 0) {
        if (osize > size)
          damaged("is corrupt: its object " + std::to_string(idx) + " claims " + std::to_string(osize) +
                  " bytes, more than the collection's " + std::to_string(size));
        need = objhdr + ((osize + align8) & ~align8);
      } else {
        need = osize;  // the free space, its header included
      }
      if (need == 0 || need > size - p)
        damaged("is corrupt: its object " + std::to_string(idx) + " (" + std::to_string(osize) +
                " bytes) runs past the collection's end");
      if (idx >= heap.size.size()) heap.size.resize(static_cast<std::size_t>(idx) + 1);
      heap.size[idx] = osize;
      p += need;
    }
    last_addr_ = addr;
    return *(last_ = &heaps_.emplace(addr, std::move(heap)).first->second);
  }

  std::string path_;
  RawFile raw_;
  unsigned sizeof_addr_ = 8, sizeof_size_ = 8;
  std::uint64_t base_ = 0;
  std::map<std::uint64_t, HeapCollection> heaps_;
  const HeapCollection* last_ = nullptr;  // the collection of the string checked last
  std::uint64_t last_addr_ = 0;
};

// The major version of a format_version text "MAJOR" or "MAJOR.MINOR[.more]" (digits only), or -1.
int format_major(const std::string& v) {
  int major = -1;
  const char* end = v.data() + v.size();
  auto [p, ec] = std::from_chars(v.data(), end, major);
  if (ec != std::errc() || p == v.data() || major < 0) return -1;
  while (p != end) {  // each further part: '.' then digits
    if (*p++ != '.' || p == end || !std::isdigit(static_cast<unsigned char>(*p))) return -1;
    while (p != end && std::isdigit(static_cast<unsigned char>(*p))) ++p;
  }
  return major;
}

// Refuses a file whose root attribute format_version is missing, not text, garbled, or of another
// major version than this build's (kFormatVersion): its datasets may mean something else, and
// reading it as ours would print wrong figures rather than fail.
void check_format_version(hid_t f, const std::string& path) {
  const std::string ours = std::string(" (this roisim reads format ") + std::to_string(kFormatMajor) +
                           ".x and writes " + kFormatVersion + ")";
  const htri_t exists = H5Aexists(f, "format_version");
  if (exists < 0) fail_hdf5(path, "looking up attribute 'format_version'");
  if (exists == 0)
    throw IoError("results file '" + path + "': no root attribute 'format_version'" + ours +
                  "; the file is damaged or was not written by roisim");
  Hid a = make(H5Aopen(f, "format_version", H5P_DEFAULT), H5Aclose, path, "reading attribute 'format_version'");
  const auto v = read_attr(a.get(), "format_version", path);
  const std::string* text = v ? std::get_if<std::string>(&*v) : nullptr;
  if (!text)
    throw IoError("results file '" + path + "': root attribute 'format_version' is not a text \"MAJOR.MINOR\"" + ours);
  const int major = format_major(*text);
  if (major < 0)
    throw IoError("results file '" + path + "': format_version '" + *text + "' is not a version (MAJOR.MINOR)" + ours);
  if (major > kFormatMajor)
    throw IoError("results file '" + path + "': format_version " + *text + " is newer than this roisim's " +
                  kFormatVersion + " (it reads " + std::to_string(kFormatMajor) +
                  ".x): read it with the newer roisim that wrote it");
  if (major < kFormatMajor)
    throw IoError("results file '" + path + "': format_version " + *text + " is older than " + kFormatVersion +
                  ", the first format roisim wrote" + ours);
}

Hid open_file(const std::string& path) {
  silence_hdf5();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("'" + path + "' is a folder, not a results file");
  Hid f = make(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path, "opening");
  // Before any string is read (the attributes below included): see StringHeapCheck. Once per file
  // and version of it in a process: the memo and compare open the file again for each row.
  {
    struct stat st {};
    const bool known = ::stat(path.c_str(), &st) == 0;
    const auto key = std::make_tuple(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                                     static_cast<std::int64_t>(st.st_size), static_cast<std::int64_t>(st.st_mtim.tv_sec),
                                     static_cast<std::int64_t>(st.st_mtim.tv_nsec));
    static std::mutex mutex;
    static std::set<std::remove_const_t<decltype(key)>> checked;
    std::unique_lock lock(mutex);
    if (!known || !checked.count(key)) {
      lock.unlock();
      StringHeapCheck heap(f.get(), path);
      for (const char* name : {"scenario", "funded", "input"}) heap.dataset(f.get(), name);
      lock.lock();
      if (known) checked.insert(key);
    }
  }
  // Another program's HDF5 file would fail later on some missing dataset: say what it is instead.
  bool ours = false;
  if (H5Aexists(f.get(), "filetype") > 0) {
    Hid a = make(H5Aopen(f.get(), "filetype", H5P_DEFAULT), H5Aclose, path, "reading attribute 'filetype'");
    const auto v = read_attr(a.get(), "filetype", path);
    ours = v && std::holds_alternative<std::string>(*v) && std::get<std::string>(*v) == "roisim-results";
  }
  H5Eclear2(H5E_DEFAULT);
  if (!ours)
    throw IoError("'" + path + "' is an HDF5 file but not a roisim results file (no root attribute filetype = \"roisim-results\")");
  check_format_version(f.get(), path);
  return f;
}

Hid open_dataset(hid_t f, const std::string& name, const std::string& file) {
  return make(H5Dopen2(f, name.c_str(), H5P_DEFAULT), H5Dclose, file, "opening dataset '" + name + "'");
}

std::vector<hsize_t> dataset_dims(hid_t dset, const std::string& name, const std::string& file) {
  Hid space = make(H5Dget_space(dset), H5Sclose, file, "reading the shape of '" + name + "'");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail_hdf5(file, "reading the shape of '" + name + "'");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0)
    check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), file,
          "reading the shape of '" + name + "'");
  return dims;
}

std::vector<std::string> read_strings(hid_t f, const std::string& name, const std::string& file) {
  const std::string op = "reading '" + name + "'";
  Hid dset = open_dataset(f, name, file);
  const auto dims = dataset_dims(dset.get(), name, file);
  if (dims.size() != 1) fail(file, op, " (not one-dimensional)");
  const std::size_t n = dims[0];
  std::vector<std::string> out(n);
  if (n == 0) return out;
  Hid ftype = make(H5Dget_type(dset.get()), H5Tclose, file, op);
  if (H5Tget_class(ftype.get()) != H5T_STRING) fail(file, op, " (not a string dataset)");
  Hid mtype = make(H5Tget_native_type(ftype.get(), H5T_DIR_DEFAULT), H5Tclose, file, op);
  const htri_t is_vlen = H5Tis_variable_str(ftype.get());
  if (is_vlen < 0) fail_hdf5(file, op);
  if (is_vlen) {
    std::vector<char*> ptrs(n, nullptr);
    check(H5Dread(dset.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), file, op);
    for (std::size_t i = 0; i < n; ++i) out[i] = ptrs[i] ? ptrs[i] : "";
    Hid space = make(H5Dget_space(dset.get()), H5Sclose, file, op);
    H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t size = H5Tget_size(ftype.get());
    std::vector<char> buf(n * size);
    check(H5Dread(dset.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), file, op);
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * size;
      out[i].assign(s, strnlen(s, size));
    }
  }
  return out;
}

// Reads a float64 dataset whole; checks its shape against `want` (0 in `want`: any length).
std::vector<double> read_doubles(hid_t f, const std::string& name, const std::vector<hsize_t>& want,
                                 const std::string& file) {
  const std::string op = "reading '" + name + "'";
  Hid dset = open_dataset(f, name, file);
  const auto dims = dataset_dims(dset.get(), name, file);
  bool ok = dims.size() == want.size();
  for (std::size_t i = 0; ok && i < dims.size(); ++i) ok = dims[i] == want[i];
  if (!ok) {
    std::string shape;
    for (hsize_t d : dims) {
      if (!shape.empty()) shape += 'x';
      shape += std::to_string(d);
    }
    fail(file, op, " (unexpected shape " + shape + ")");
  }
  std::size_t n = 1;
  for (hsize_t d : dims) n *= static_cast<std::size_t>(d);
  std::vector<double> out(n);
  if (n) check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), file, op);
  return out;
}

bool link_exists(hid_t f, const char* name, const std::string& file) {
  const htri_t e = H5Lexists(f, name, H5P_DEFAULT);
  if (e < 0) fail_hdf5(file, std::string("looking up '") + name + "'");
  return e > 0;
}

// Refuses a file without a dataset that every results file holds (format 1.0 on): a damaged file,
// not an older layout, whose figures would otherwise read as n/a.
void require_dataset(hid_t f, const char* name, const std::string& file) {
  if (!link_exists(f, name, file))
    throw IoError("results file '" + file + "': dataset '" + name + "' is missing; every roisim results file (format " +
                  kFormatVersion + " on) has it, so the file is damaged or incomplete");
}

}  // namespace

ResultsSummary read_results_summary(const std::string& path) {
  Hid file = open_file(path);
  const hid_t f = file.get();
  ResultsSummary out;

  std::vector<std::string> names;
  check(H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr_name, &names), path,
        "listing root attributes");
  for (const auto& name : names) {
    Hid attr =
        make(H5Aopen(f, name.c_str(), H5P_DEFAULT), H5Aclose, path, "opening attribute '" + name + "'");
    if (auto value = read_attr(attr.get(), name, path)) out.attributes.emplace(name, std::move(*value));
  }

  for (const char* name : {"scenario", "input", "funded", "trial", "quantile"}) require_dataset(f, name, path);
  for (const auto& field : kScalarFields)
    if (field.in_every_file) require_dataset(f, field.name, path);
  for (const auto& field : kQuantileFields)
    if (field.in_every_file) require_dataset(f, field.name, path);
  for (const auto& field : kInputFields)
    if (field.in_every_file) require_dataset(f, field.name, path);

  out.scenarios = read_strings(f, "scenario", path);
  // roisim run always simulates at least one scenario (a plan without any is refused).
  if (out.scenarios.empty())
    throw IoError("results file '" + path + "' holds no scenarios (roisim never writes such a file): nothing to read");
  out.inputs = read_strings(f, "input", path);
  const hsize_t S = out.scenarios.size(), K = out.inputs.size();
  out.funded = read_strings(f, "funded", path);
  if (out.funded.size() != S) fail(path, "reading 'funded'", " (length differs from 'scenario')");
  {
    Hid trial = open_dataset(f, "trial", path);
    const auto dims = dataset_dims(trial.get(), "trial", path);
    if (dims.size() != 1) fail(path, "reading 'trial'", " (not one-dimensional)");
    out.trials = dims[0];
  }
  {
    Hid q = open_dataset(f, "quantile", path);
    const auto dims = dataset_dims(q.get(), "quantile", path);
    if (dims.size() != 1 || dims[0] != hsize_t(kNumQuantiles))
      fail(path, "reading 'quantile'", " (expected " + std::to_string(kNumQuantiles) + " levels)");
  }
  out.quantiles = read_doubles(f, "quantile", {hsize_t(kNumQuantiles)}, path);
  // Readers label the columns P5 ... P95 by position: other levels (an edited file) would be
  // printed under the wrong names.
  if (!std::equal(out.quantiles.begin(), out.quantiles.end(), std::begin(kQuantiles)))
    fail(path, "reading 'quantile'", " (its levels are not roisim's 0.05 0.10 0.25 0.50 0.75 0.90 0.95)");
  // The per-trial datasets hold `trial`'s length of columns (the table and the memo count trials
  // by it).
  for (const char* name : {"roi", "npv", "payback_month"}) {
    if (!link_exists(f, name, path)) continue;
    Hid d = open_dataset(f, name, path);
    const auto dims = dataset_dims(d.get(), name, path);
    if (dims.size() != 2 || dims[0] != S || dims[1] != out.trials)
      fail(path, std::string("reading '") + name + "'",
           " (its shape is not [scenario, trial] = [" + std::to_string(S) + ", " + std::to_string(out.trials) + "])");
  }

  out.summary.resize(S);
  // Fields added after format 1.0 (not in_every_file, checked above) may be absent from older
  // files: NaN then.
  for (const auto& field : kScalarFields) {
    if (!link_exists(f, field.name, path)) {
      for (hsize_t i = 0; i < S; ++i) out.summary[i].*(field.member) = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    const auto values = read_doubles(f, field.name, {S}, path);
    for (hsize_t i = 0; i < S; ++i) out.summary[i].*(field.member) = values[i];
  }
  for (const auto& field : kQuantileFields) {
    std::vector<double> values(S * kNumQuantiles, std::numeric_limits<double>::quiet_NaN());
    if (link_exists(f, field.name, path)) values = read_doubles(f, field.name, {S, hsize_t(kNumQuantiles)}, path);
    for (hsize_t i = 0; i < S; ++i)
      std::copy_n(values.begin() + i * kNumQuantiles, kNumQuantiles, out.summary[i].*(field.member));
  }
  for (const auto& field : kInputFields)
    if (link_exists(f, field.name, path)) out.drivers.*(field.member) = read_doubles(f, field.name, {S, K}, path);
  // The four driver details came in together (files from before lack them all), and readers test
  // one of them for all: a file holding only some (edited, damaged) reads as one without any, n/a,
  // rather than half a table (a report of such a file had ended in SIGSEGV).
  Drivers& dr = out.drivers;
  if (dr.variance_contribution.empty() || dr.tornado_low.empty() || dr.tornado_high.empty() || dr.downside_shift.empty())
    dr.variance_contribution.clear(), dr.tornado_low.clear(), dr.tornado_high.clear(), dr.downside_shift.clear();
  out.has_trials =
      link_exists(f, "roi", path) && link_exists(f, "npv", path) && link_exists(f, "payback_month", path);
  check(file.close(), path, "closing");
  return out;
}

std::vector<double> read_trial_row(const std::string& path, const std::string& dataset,
                                   std::uint64_t scenario) {
  if (dataset != "roi" && dataset != "npv" && dataset != "payback_month")
    throw IoError("results file '" + path + "': '" + dataset + "' is not a per-trial dataset");
  Hid file = open_file(path);
  if (!link_exists(file.get(), dataset.c_str(), path))
    fail(path, "reading '" + dataset + "'",
         " (the file has no per-trial data; written with --summary-only?)");
  Hid dset = open_dataset(file.get(), dataset, path);
  const auto dims = dataset_dims(dset.get(), dataset, path);
  const std::string op = "reading row " + std::to_string(scenario) + " of '" + dataset + "'";
  if (dims.size() != 2) fail(path, op, " (not two-dimensional)");
  if (scenario >= dims[0]) fail(path, op, " (the file has " + count_of(dims[0], "scenario") + ")");
  std::vector<double> out(dims[1]);
  if (dims[1] == 0) return out;
  Hid fspace = make(H5Dget_space(dset.get()), H5Sclose, path, op);
  const hsize_t start[2] = {scenario, 0}, count[2] = {1, dims[1]};
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path, op);
  Hid mspace = make(H5Screate_simple(1, &count[1], nullptr), H5Sclose, path, op);
  check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT, out.data()), path,
        op);
  return out;
}

std::vector<double> read_cashflow_quantiles(const std::string& path, std::uint64_t scenario) {
  Hid file = open_file(path);
  if (!link_exists(file.get(), "cashflow_quantile", path)) return {};
  Hid dset = open_dataset(file.get(), "cashflow_quantile", path);
  const auto dims = dataset_dims(dset.get(), "cashflow_quantile", path);
  const std::string op = "reading row " + std::to_string(scenario) + " of 'cashflow_quantile'";
  if (dims.size() != 3) fail(path, op, " (not three-dimensional)");
  if (scenario >= dims[0]) fail(path, op, " (the file has " + count_of(dims[0], "scenario") + ")");
  // [scenario, month, quantile]: month 0 (the build) and at least one more, and roisim's seven
  // levels (the fan chart had drawn "M-nan" paths from one month, and from three levels the
  // wrong bands).
  if (dims[1] < 2 || dims[2] != hsize_t(kNumQuantiles))
    fail(path, op, " (its shape is not [scenario, month, quantile] with 2 or more months and " + std::to_string(kNumQuantiles) +
                       " quantiles)");
  std::vector<double> out(dims[1] * dims[2]);
  if (out.empty()) return out;
  Hid fspace = make(H5Dget_space(dset.get()), H5Sclose, path, op);
  const hsize_t start[3] = {scenario, 0, 0}, count[3] = {1, dims[1], dims[2]};
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path, op);
  Hid mspace = make(H5Screate_simple(2, &count[1], nullptr), H5Sclose, path, op);
  check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT, out.data()), path, op);
  return out;
}

NonFiniteMeans nonfinite_means(const std::string& path) {
  NonFiniteMeans out;
  // The file `run` has just written: two numeric datasets, no strings, so not open_file's checks
  // (which walk every scenario name's heap record: a tenth of a second at 100,000 scenarios).
  silence_hdf5();
  Hid file = make(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path, "opening");
  for (const char* name : {"roi_mean", "npv_mean"}) {
    Hid dset = open_dataset(file.get(), name, path);
    const auto dims = dataset_dims(dset.get(), name, path);
    if (dims.size() != 1) fail(path, std::string("reading '") + name + "'", " (not one-dimensional)");
    std::vector<double> v(dims[0]);
    if (!v.empty())
      check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path,
            std::string("reading '") + name + "'");
    if (out.flags.empty()) out.flags.assign(v.size(), 0);
    for (std::size_t i = 0; i < v.size() && i < out.flags.size(); ++i)
      if (!std::isfinite(v[i])) out.flags[i] = 1;
  }
  for (std::size_t i = 0; i < out.flags.size(); ++i)
    if (out.flags[i] && out.count++ == 0) out.first = i;
  return out;
}

}  // namespace roisim
