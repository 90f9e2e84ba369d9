// HDF5 helpers shared by the results file's writer and reader and the MPI writer: sim/hdf5.h.
#include "sim/hdf5.h"

#include <fcntl.h>
#include <unistd.h>
// H5DSpublic.h needs hdf5.h first.
#include <H5DSpublic.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <system_error>

#include "sim/errors.h"

namespace roisim::h5 {

// ------------------------------------------------------------------------------------------------
// Errors

namespace {
// The innermost message of HDF5's error stack (the most specific cause).
herr_t collect_error(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && err && err->desc && out->empty()) *out = err->desc;
  return 0;
}
}  // namespace

std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &detail);
  H5Eclear2(H5E_DEFAULT);
  // A failed system call: HDF5's message ("file write failed: time = ..., filename = ..., errno =
  // 28, error message = 'No space left on device', buf = 0x...") comes down to its errno.
  if (const auto at = detail.find("errno = "); at != std::string::npos) {
    int err = 0;
    const char* p = detail.c_str() + at + 8;
    if (std::from_chars(p, detail.c_str() + detail.size(), err).ec == std::errc() && err > 0)
      return " (" + std::string(std::strerror(err)) + ")";
  }
  return detail.empty() ? std::string() : " (" + detail + ")";
}

[[noreturn]] void fail(const std::string& file, const std::string& op, const std::string& detail) {
  throw IoError("results file '" + file + "': " + op + " failed" + detail);
}

[[noreturn]] void fail_hdf5(const std::string& file, const std::string& op) { fail(file, op, hdf5_detail()); }

[[noreturn]] void fail_errno(const std::string& file, const std::string& op, int err) {
  fail(file, op, std::string(" (") + std::strerror(err) + ")");
}

void check(herr_t status, const std::string& file, const std::string& op) {
  if (status < 0) fail_hdf5(file, op);
}

// No clean-up at exit (serial build). When a write fails (a full disk),
// closing the file fails too and HDF5 keeps it open; its clean-up at exit then tried to flush it
// again and crashed (SIGSEGV in H5F__close_cb after the error was reported). Every file is closed
// explicitly on success, and the temporary file is removed on failure, so nothing needs it. (The
// MPI build keeps it: parallel HDF5 ties its clean-up to MPI_Finalize.)
void silence_hdf5() {
#ifndef ROISIM_WITH_MPI
  static std::once_flag once;
  std::call_once(once, [] { H5dont_atexit(); });
#endif
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

// ------------------------------------------------------------------------------------------------
// Handles

Hid make(hid_t id, Hid::Closer closer, const std::string& file, const std::string& op) {
  if (id < 0) fail_hdf5(file, op);
  return Hid(id, closer);
}

Hid make_plist(hid_t cls, const std::string& file) {
  return make(H5Pcreate(cls), H5Pclose, file, "creating a property list");
}

Hid make_space(const std::vector<hsize_t>& dims, const std::string& file) {
  if (dims.empty()) return make(H5Screate(H5S_SCALAR), H5Sclose, file, "creating a dataspace");
  return make(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose, file,
              "creating a dataspace");
}

Hid make_vlen_utf8(const std::string& file) {
  Hid type = make(H5Tcopy(H5T_C_S1), H5Tclose, file, "creating the string type");
  check(H5Tset_size(type.get(), H5T_VARIABLE), file, "creating the string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), file, "creating the string type");
  return type;
}

Hid create_temporary_file(const std::string& path, const std::string& file, hid_t fapl) {
  Hid fcpl = make_plist(H5P_FILE_CREATE, file);
  check(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), file,
        "setting link creation order");
  check(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), file,
        "setting attribute creation order");
  const hid_t fid = H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl);
  if (fid < 0) {
    const std::string detail = hdf5_detail();
    ::unlink(path.c_str());  // HDF5 may have made it before failing (a full disk); the name is ours
    fail(file, "creating '" + path + "' (written there, then renamed)", detail);
  }
  return Hid(fid, H5Fclose);
}

// ------------------------------------------------------------------------------------------------
// Attributes

void write_attr(hid_t obj, const std::string& name, hid_t type, const void* value, const std::string& file) {
  const std::string op = "writing attribute '" + name + "'";
  Hid space = make_space({}, file);
  Hid attr =
      make(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose, file, op);
  check(H5Awrite(attr.get(), type, value), file, op);
  check(attr.close(), file, op);
}

void write_attr(hid_t obj, const std::string& name, const AttrValue& value, const std::string& file) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    Hid type = make_vlen_utf8(file);
    const char* ptr = s->c_str();
    write_attr(obj, name, type.get(), &ptr, file);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    write_attr(obj, name, H5T_NATIVE_INT64, i, file);
  } else {
    write_attr(obj, name, H5T_NATIVE_DOUBLE, &std::get<double>(value), file);
  }
}

// ------------------------------------------------------------------------------------------------
// Datasets

namespace {
constexpr std::size_t kMiB = std::size_t{1} << 20;
}  // namespace

Hid create_dataset(hid_t file_id, const std::string& file, const std::string& name, hid_t type,
                   const std::vector<hsize_t>& dims, const DatasetOptions& opt) {
  const std::string op = "creating dataset '" + name + "'";
  Hid space = make_space(dims, file);
  Hid dcpl = make_plist(H5P_DATASET_CREATE, file);
  Hid dapl = make_plist(H5P_DATASET_ACCESS, file);
  // As netCDF-4 does: attribute creation order tracked and indexed, no object timestamps.
  check(H5Pset_attr_creation_order(dcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), file, op);
  check(H5Pset_obj_track_times(dcpl.get(), 0), file, op);
  // HDF5 cannot chunk a dataset with a zero-length fixed dimension: such datasets stay contiguous.
  const bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!opt.chunk.empty() && !empty) {
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(opt.chunk.size()), opt.chunk.data()), file, op);
    if (opt.shuffle) check(H5Pset_shuffle(dcpl.get()), file, op);
    if (opt.deflate >= 0) check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(opt.deflate)), file, op);
    if (opt.fletcher32) check(H5Pset_fletcher32(dcpl.get()), file, op);
    // A chunk cache that holds a few chunks, so that a chunk only partly covered by one batch stays
    // in memory until the next batch completes it (no re-read / re-compress per batch). Only the
    // rows written through H5Dwrite (scenario names) use it: the writer hands every numeric chunk
    // over whole (H5Dwrite_chunk). 521 hash slots (HDF5's default): its table is allocated and
    // zeroed per dataset, and 10,007 slots had cost ~500 fresh pages a run.
    std::size_t chunk_bytes = H5Tget_size(type);
    for (hsize_t c : opt.chunk) chunk_bytes *= static_cast<std::size_t>(c);
    const std::size_t cache = std::max<std::size_t>(4 * chunk_bytes, kMiB);
    check(H5Pset_chunk_cache(dapl.get(), 521, cache, 0.75), file, op);
  }
  Hid dset = make(H5Dcreate2(file_id, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
                  H5Dclose, file, op);
  if (!opt.long_name.empty()) write_attr(dset.get(), "long_name", AttrValue(opt.long_name), file);
  if (!opt.units.empty()) write_attr(dset.get(), "units", AttrValue(opt.units), file);
  return dset;
}

void make_scale(hid_t dset, const std::string& name, const std::string& file) {
  check(H5DSset_scale(dset, name.c_str()), file, "making '" + name + "' a dimension scale");
}

void attach(hid_t dset, const std::vector<hid_t>& scales, const std::string& name, const std::string& file) {
  for (unsigned axis = 0; axis < scales.size(); ++axis)
    check(H5DSattach_scale(dset, scales[axis], axis), file,
          "attaching dimension scale " + std::to_string(axis) + " of '" + name + "'");
}

namespace {
// A transfer property list whose conversion buffers hold `elements` elements (at least `least`, at
// most 1 MiB). HDF5 allocates its type-conversion and background buffers at the list's size (1 MiB
// each by default) and zeroes them on every H5Dwrite: for a batch's scenario names and the
// layout's coordinate datasets those were fresh pages each call (on this project's VMs a third of
// a summary-only run's page faults, each several microseconds). Any size of at least one element
// of the widest type converts the same.
Hid small_transfer(hid_t memtype, std::size_t least, std::size_t elements, const std::string& file,
                   const std::string& op) {
  Hid dxpl = make(H5Pcreate(H5P_DATASET_XFER), H5Pclose, file, op);
  const std::size_t elem = std::max(H5Tget_size(memtype), std::size_t{16});  // vlen: 16 bytes on file
  const std::size_t bytes = std::clamp<std::size_t>(elem * elements, elem * least, std::max(elem * least, std::size_t{1} << 20));
  check(H5Pset_buffer(dxpl.get(), bytes, nullptr, nullptr), file, op);
  return dxpl;
}
}  // namespace

void write_rows(hid_t dset, hid_t memtype, std::uint64_t first, std::uint64_t count, int rank, hsize_t cols,
                const void* buf, const std::string& name, const std::string& file) {
  if (count == 0 || (rank >= 2 && cols == 0)) return;
  const std::string op = "writing rows of '" + name + "'";
  Hid fspace = make(H5Dget_space(dset), H5Sclose, file, op);
  hsize_t start[3] = {first, 0, 0};
  hsize_t size[3] = {count, cols, 0};
  if (rank == 3) {
    hsize_t dims[3];
    check(H5Sget_simple_extent_dims(fspace.get(), dims, nullptr), file, op);
    size[1] = dims[1];
    size[2] = dims[2];
  }
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start, nullptr, size, nullptr), file, op);
  Hid mspace = make(H5Screate_simple(rank, size, nullptr), H5Sclose, file, op);
  const std::size_t row = rank == 3 ? size[1] * size[2] : (rank == 2 ? cols : 1);
  Hid dxpl = small_transfer(memtype, row, row * count, file, op);
  check(H5Dwrite(dset, memtype, mspace.get(), fspace.get(), dxpl.get(), buf), file, op);
}

void write_all(hid_t dset, hid_t memtype, const void* buf, const std::string& name, const std::string& file) {
  const std::string op = "writing '" + name + "'";
  Hid space = make(H5Dget_space(dset), H5Sclose, file, op);
  const hssize_t elements = H5Sget_simple_extent_npoints(space.get());
  if (elements < 0) throw IoError("results file '" + file + "': " + op + ": cannot read its extent");
  Hid dxpl = small_transfer(memtype, 1, static_cast<std::size_t>(elements), file, op);
  check(H5Dwrite(dset, memtype, H5S_ALL, H5S_ALL, dxpl.get(), buf), file, op);
}

std::vector<const char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<const char*> out;
  out.reserve(strings.size());
  for (const auto& s : strings) out.push_back(s.c_str());
  return out;
}

void fsync_path(const std::string& path, bool directory, const std::string& file) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) fail_errno(file, "opening '" + path + "' to fsync it", errno);
  int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot fsync a directory (EINVAL); the rename itself has happened.
  if (rc != 0 && !(directory && (err == EINVAL || err == ENOTSUP)))
    fail_errno(file, "fsync of '" + path + "'", err);
}

}  // namespace roisim::h5
