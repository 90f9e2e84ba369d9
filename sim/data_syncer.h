#pragma once
// DataSyncer: background fdatasync of a file being written (sim/results_file.cpp).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace roisim {

// A thread of the writer's own that makes the file's data durable while later batches are computed:
// after each batch, request() asks it for an fdatasync (requests that arrive during one are served
// by the next). It mostly sleeps in I/O, so it takes little CPU from the simulation. On this
// project's VMs the fsync before the rename took ~40 ms at the end of every full-output run
// (84 MB), serial time, even with the kernel's writeback started after each batch; with the data
// and its block allocations already on disk it takes well under a millisecond. finish() stops it
// and returns the first error (errno) an fdatasync reported: on Linux a write-back error is
// reported once, so it must not be lost to a later fsync.
class DataSyncer {
 public:
  explicit DataSyncer(int fd) : fd_(fd), thread_(start(this)) {}
  DataSyncer(const DataSyncer&) = delete;
  DataSyncer& operator=(const DataSyncer&) = delete;
  ~DataSyncer() { finish(); }
  void request() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++requested_;
    }
    wake_.notify_one();
  }
  // Stops the thread (an fdatasync under way completes; requests not yet served are left to the
  // caller's own fsync) and returns the first error.
  int finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return error_;
  }
  // Waits until every request made so far is served (or the thread has stopped); the first error.
  int drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    served_.wait(lock, [this] { return done_ == requested_ || stop_; });
    return error_;
  }

 private:
  // The thread starts with every signal blocked, so that a Ctrl-C is handled by the threads that
  // run the simulation (the command line's handler cancels the run), never by this one.
  static std::thread start(DataSyncer* self) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      std::thread t([self] { self->loop(); });
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return t;
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
  }
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || requested_ > done_; });
      if (stop_) break;
      const std::uint64_t upto = requested_;
      lock.unlock();
      int rc;
      do rc = ::fdatasync(fd_);
      while (rc != 0 && errno == EINTR);
      const int err = rc != 0 ? errno : 0;
      lock.lock();
      if (err != 0 && error_ == 0) error_ = err;
      done_ = upto;
      served_.notify_all();
    }
    served_.notify_all();
  }
  int fd_;
  std::mutex mutex_;
  std::condition_variable wake_, served_;
  std::uint64_t requested_ = 0, done_ = 0;
  bool stop_ = false;
  int error_ = 0;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace roisim
