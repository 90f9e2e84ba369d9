#include "sim/replaced_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>
#include <utility>

#if defined(__linux__) && __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#include <sys/syscall.h>
#if defined(__NR_io_uring_setup) && defined(__NR_io_uring_register)
#define ROISIM_HAVE_IO_URING 1
#endif
#endif

namespace roisim {

ReplacedFileHold::ReplacedFileHold([[maybe_unused]] const std::string& target) {
#ifdef ROISIM_HAVE_IO_URING
  if (const char* off = std::getenv("ROISIM_NO_IO_URING"); off && *off && std::string_view(off) != "0") return;
  // O_NONBLOCK: a FIFO at the target must not wait for a writer; O_NOFOLLOW: a symbolic link there
  // is what the rename replaces, not the file it names.
  int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
      static_cast<std::uint64_t>(st.st_size) >= kMinBytes) {
    io_uring_params params{};
    const long ring = ::syscall(__NR_io_uring_setup, 1, &params);  // close-on-exec, as every io_uring descriptor
    if (ring >= 0) {
      if (::syscall(__NR_io_uring_register, static_cast<int>(ring), IORING_REGISTER_FILES, &fd, 1) == 0)
        ring_ = static_cast<int>(ring);
      else
        ::close(static_cast<int>(ring));
    }
  }
  ::close(fd);
#endif
}

ReplacedFileHold::ReplacedFileHold(ReplacedFileHold&& other) noexcept : ring_(std::exchange(other.ring_, -1)) {}

ReplacedFileHold& ReplacedFileHold::operator=(ReplacedFileHold&& other) noexcept {
  if (this != &other) {
    release();
    ring_ = std::exchange(other.ring_, -1);
  }
  return *this;
}

void ReplacedFileHold::release() noexcept {
  if (ring_ >= 0) ::close(std::exchange(ring_, -1));
}

}  // namespace roisim
