#pragma once
// ReplacedFileHold: the file a results file replaces is freed after the rename, off the caller's
// thread, not inside it (sim/results_file.cpp, sim/mpi_run.cpp).
#include <string>

namespace roisim {

// A rename(2) onto an existing file drops that file's last link; where nothing else refers to it,
// the kernel frees its blocks inside the rename, and so at the very end of a run, serially. On file
// systems that discard freed blocks synchronously (ext4 mounted with `discard`, as on this
// project's VMs: blkdev_issue_discard under ext4_evict_inode, waited for) replacing the seed
// portfolio's 84 MB full-output file took 40-95 ms of a 0.5-0.9 s run, on one thread and on two
// alike.
//
// In two steps. prepared() makes an io_uring instance for the purpose (io_uring_setup, ~0.3-5 ms:
// the results writer does it before it creates its temporary file, in the engine's prologue beside
// the sampling, so that a sandbox that kills a process for io_uring finds nothing of the run to
// leave behind). take(target), just before the rename, opens the file at the target and registers
// it with the instance (IORING_REGISTER_FILES; ~0.05 ms), which then holds a reference to it, and
// closes its own descriptor - only for a regular file of at least kMinBytes and one link on a
// local file system (below). The rename then only unlinks the file; release() closes the instance,
// whose teardown, and with it the last reference, the kernel runs in a worker thread of its own
// (io_uring's exit work, since Linux 5.7; before, close() does it and the gain is lost): the
// blocks are freed while roisim exits or goes on. Nothing is read or written: until the rename the
// file is the user's previous results, whole (a run that fails leaves it so, and releasing a hold
// on a file still linked frees nothing). Between take() and release() only the rename happens, so
// no file deleted during a run is kept from being freed.
//
// Local file systems only (ext2/3/4, XFS, Btrfs, F2FS, ZFS, tmpfs, overlayfs): on NFS, FUSE or SMB
// a rename over an open file leaves a hidden stand-in (.nfsXXXX, .fuse_hiddenXXXX) until the last
// close, and the server frees the file anyway. Where io_uring is missing or refused (kernels before
// 5.1, io_uring_disabled, seccomp profiles such as Docker's, gVisor) or this is not Linux, nothing
// is held and the rename frees the file as before; so too with ROISIM_NO_IO_URING set (to anything
// but "" or "0"), for a sandbox whose system-call filter would kill the process for io_uring_setup
// rather than refuse it (systemd's @system-service allows it, Docker's default profile refuses it
// with EPERM).
class ReplacedFileHold {
 public:
  static constexpr unsigned long long kMinBytes = 1ull << 20;  // smaller: ~2 ms or less to free here

  ReplacedFileHold() = default;  // holds nothing and never will
  // A hold ready to take a file (ready()), where io_uring is to be had.
  static ReplacedFileHold prepared();
  ReplacedFileHold(ReplacedFileHold&& other) noexcept;
  ReplacedFileHold& operator=(ReplacedFileHold&& other) noexcept;
  ReplacedFileHold(const ReplacedFileHold&) = delete;
  ReplacedFileHold& operator=(const ReplacedFileHold&) = delete;
  ~ReplacedFileHold() { release(); }

  bool ready() const { return ring_ >= 0; }
  // Takes the file at `target` where that is worth it (see above); returns holding().
  bool take(const std::string& target);
  bool holding() const { return held_; }
  // Drops the reference, if any, and the instance (see above); the hold is then not ready.
  void release() noexcept;
  // rename(from, target) between take(target) and release(), the only way the writers use a hold:
  // returns 0, or the rename's errno (the file at the target then untouched, and let go).
  int rename_onto(const std::string& from, const std::string& target);

  // Whether the file system holding `path` is one a hold takes files on.
  static bool local_file_system(const std::string& path);

 private:
  int ring_ = -1;  // the io_uring instance's descriptor
  bool held_ = false;
};

}  // namespace roisim
