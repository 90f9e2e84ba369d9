#include "sim/replaced_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#if defined(__linux__) && __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_register)
#define ROISIM_HAVE_IO_URING 1
#endif
#endif

namespace roisim {

#ifdef ROISIM_HAVE_IO_URING
namespace {

bool local_type(const struct statfs& fs) {
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // ext2 and ext3 too
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case 0x2FC12FC1:  // ZFS
    case TMPFS_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

}  // namespace
#endif

ReplacedFileHold ReplacedFileHold::prepared() {
  ReplacedFileHold hold;
#ifdef ROISIM_HAVE_IO_URING
  if (const char* off = std::getenv("ROISIM_NO_IO_URING"); off && *off && std::string_view(off) != "0") return hold;
  io_uring_params params{};
  const long ring = ::syscall(__NR_io_uring_setup, 1, &params);  // close-on-exec, as every io_uring descriptor
  if (ring >= 0) hold.ring_ = static_cast<int>(ring);
#endif
  return hold;
}

bool ReplacedFileHold::take([[maybe_unused]] const std::string& target) {
#ifdef ROISIM_HAVE_IO_URING
  if (ring_ < 0 || held_) return held_;
  // O_NONBLOCK: a FIFO at the target must not wait for a writer; O_NOFOLLOW: a symbolic link there
  // is what the rename replaces, not the file it names.
  const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st {};
  struct statfs fs {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
      static_cast<unsigned long long>(st.st_size) >= kMinBytes && ::fstatfs(fd, &fs) == 0 && local_type(fs))
    held_ = ::syscall(__NR_io_uring_register, ring_, IORING_REGISTER_FILES, &fd, 1) == 0;
  ::close(fd);
#endif
  return held_;
}

void ReplacedFileHold::release() noexcept {
  if (ring_ >= 0) ::close(std::exchange(ring_, -1));
  held_ = false;
}

int ReplacedFileHold::rename_onto(const std::string& from, const std::string& target) {
  take(target);
  const int err = std::rename(from.c_str(), target.c_str()) == 0 ? 0 : errno;
  release();
  return err;
}

bool ReplacedFileHold::local_file_system([[maybe_unused]] const std::string& path) {
#ifdef ROISIM_HAVE_IO_URING
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && local_type(fs);
#else
  return false;
#endif
}

ReplacedFileHold::ReplacedFileHold(ReplacedFileHold&& other) noexcept
    : ring_(std::exchange(other.ring_, -1)), held_(std::exchange(other.held_, false)) {}

ReplacedFileHold& ReplacedFileHold::operator=(ReplacedFileHold&& other) noexcept {
  if (this != &other) {
    release();
    ring_ = std::exchange(other.ring_, -1);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

}  // namespace roisim
