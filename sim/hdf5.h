#pragma once
// HDF5 C library helpers shared by the results file's writer and reader (sim/results_file.cpp) and
// the MPI writer (sim/mpi_run.cpp): errors that name the file and what failed, one RAII handle for
// every kind of hid_t, datasets created with netCDF-4's conventions, dimension scales, attributes.
// Every message reads "results file 'FILE': OP failed (CAUSE)", CAUSE the innermost entry of HDF5's
// error stack (or the failed system call's strerror).
#include <hdf5.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "sim/results_file.h"  // AttrValue

namespace roisim::h5 {

// ---- errors

// " (CAUSE)" from HDF5's error stack (empty when it holds nothing), which it then clears.
std::string hdf5_detail();
[[noreturn]] void fail(const std::string& file, const std::string& op, const std::string& detail = "");
[[noreturn]] void fail_hdf5(const std::string& file, const std::string& op);
[[noreturn]] void fail_errno(const std::string& file, const std::string& op, int err);
void check(herr_t status, const std::string& file, const std::string& op);
// HDF5 prints nothing itself (roisim's messages say what failed); the serial build also turns off
// HDF5's clean-up at exit (see the definition). Call before the library's first use.
void silence_hdf5();

// ---- handles

// Set by the MPI writer while its file is open for collective (MPI-IO) access: a handle destroyed
// while an exception unwinds is then left open, as closing it is a collective call that the other
// ranks may never make (they are stopped instead: sim/mpi_run.cpp).
inline std::atomic<bool> g_collective{false};

// One RAII class for every kind of hid_t, holding the matching close function.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Hid& operator=(Hid&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  ~Hid() {
    if (!(g_collective.load(std::memory_order_relaxed) && std::uncaught_exceptions() > 0)) reset();
  }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports the status (the handle is released either way).
  herr_t close() {
    herr_t status = 0;
    if (id_ >= 0 && closer_) status = closer_(id_);
    id_ = H5I_INVALID_HID;
    return status;
  }
  void reset() noexcept { (void)close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// A handle of `id`, or the error `op` failed when id < 0.
Hid make(hid_t id, Hid::Closer closer, const std::string& file, const std::string& op);
Hid make_plist(hid_t cls, const std::string& file);
Hid make_space(const std::vector<hsize_t>& dims, const std::string& file);  // {}: scalar
// Variable-length UTF-8 string type (what netCDF-4 calls NC_STRING).
Hid make_vlen_utf8(const std::string& file);

// Creates the new file `path` (it must not exist; the caller chose the name, see
// temporary_path) with netCDF-4's root group: link and attribute creation order tracked and
// indexed. Messages name `file`, the results file asked for; on failure nothing is left at path.
// fapl: the file access properties (H5P_DEFAULT: the sec2 driver).
Hid create_temporary_file(const std::string& path, const std::string& file, hid_t fapl = H5P_DEFAULT);

// ---- attributes, datasets

void write_attr(hid_t obj, const std::string& name, hid_t type, const void* value, const std::string& file);
void write_attr(hid_t obj, const std::string& name, const AttrValue& value, const std::string& file);

struct DatasetOptions {
  std::vector<hsize_t> chunk;  // empty: contiguous
  bool shuffle = false;
  int deflate = -1;  // -1: none; 0-9: deflate level
  bool fletcher32 = false;
  std::string long_name, units;  // netCDF attributes, written when not empty
};
Hid create_dataset(hid_t file_id, const std::string& file, const std::string& name, hid_t type,
                   const std::vector<hsize_t>& dims, const DatasetOptions& opt);
// Turns a freshly created 1-D dataset into the dimension scale named `name`.
void make_scale(hid_t dset, const std::string& name, const std::string& file);
// Attaches scales[axis] to each axis of dset.
void attach(hid_t dset, const std::vector<hid_t>& scales, const std::string& name, const std::string& file);
// Rows [first, first + count) of a dataset of rank 1, 2 or 3; `cols` is the product of the
// dimensions after the first (for rank 3, the dataset's own trailing dimensions are used).
void write_rows(hid_t dset, hid_t memtype, std::uint64_t first, std::uint64_t count, int rank, hsize_t cols,
                const void* buf, const std::string& name, const std::string& file);
void write_all(hid_t dset, hid_t memtype, const void* buf, const std::string& name, const std::string& file);
// The c_str() of each (for writing vlen strings); valid while `strings` is.
std::vector<const char*> c_strings(const std::vector<std::string>& strings);

// fsync of a file or (directory) folder; a folder that cannot be synced (EINVAL, ENOTSUP) passes.
void fsync_path(const std::string& path, bool directory, const std::string& file);

}  // namespace roisim::h5
