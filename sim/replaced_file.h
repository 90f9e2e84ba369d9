#pragma once
// ReplacedFileHold: the file a results file is about to replace is freed after the rename, off the
// caller's thread, not inside it (sim/results_file.cpp, sim/mpi_run.cpp).
#include <cstdint>
#include <string>

namespace roisim {

// A rename(2) onto an existing file drops that file's last link; where nothing else refers to it,
// the kernel frees its blocks inside the rename, and so at the very end of a run, serially. On file
// systems that discard freed blocks synchronously (ext4 mounted with `discard`, as on this
// project's VMs: blkdev_issue_discard under ext4_evict_inode, waited for) replacing the seed
// portfolio's 84 MB full-output file took 40-95 ms of a 0.5-0.9 s run, on one thread and on two
// alike.
//
// A hold opens the file at `target` (a regular file of at least kMinBytes and one link; anything
// else, or a file that cannot be opened for reading, is left alone) and registers it with an
// io_uring instance made for the purpose (IORING_REGISTER_FILES), which then holds a reference to
// it, and closes its own descriptor. The rename then only unlinks the file; release() closes the
// instance, whose teardown, and with it the last reference, the kernel runs in a worker thread of
// its own (io_uring's exit work): the blocks are freed while roisim exits or goes on. Nothing is
// read or written: until the rename the file is the user's previous results, whole (a run that
// fails leaves it so, and releasing a hold on a file still linked frees nothing). Where io_uring is
// missing or refused (kernels before 5.1, io_uring_disabled, seccomp profiles such as Docker's,
// gVisor) or this is not Linux, the hold holds nothing and the rename frees the file as before;
// so too with ROISIM_NO_IO_URING set (to anything but "" or "0"), for a sandbox whose system-call
// filter would kill the process for io_uring_setup rather than refuse it (systemd's
// @system-service allows it, Docker's default profile refuses it with EPERM).
//
// The results writer takes its hold when it creates the temporary file (the engine's prologue,
// beside the sampling), so its cost (~0.3-5 ms, io_uring_setup mostly) is off the critical path.
// A file put at the target during the run is freed by the rename as before; a hold on a file that
// has been replaced or removed by then keeps it only until release().
class ReplacedFileHold {
 public:
  static constexpr std::uint64_t kMinBytes = std::uint64_t{1} << 20;  // smaller: ~2 ms or less to free here

  ReplacedFileHold() = default;
  explicit ReplacedFileHold(const std::string& target);
  ReplacedFileHold(ReplacedFileHold&& other) noexcept;
  ReplacedFileHold& operator=(ReplacedFileHold&& other) noexcept;
  ReplacedFileHold(const ReplacedFileHold&) = delete;
  ReplacedFileHold& operator=(const ReplacedFileHold&) = delete;
  ~ReplacedFileHold() { release(); }

  bool holding() const { return ring_ >= 0; }
  // Drops the reference (see above); the hold then holds nothing.
  void release() noexcept;

 private:
  int ring_ = -1;  // the io_uring instance's descriptor
};

}  // namespace roisim
