// Clang thread-safety annotations, and a mutex, lock and condition variable that carry them.
//
// Contract:
//  1. Under clang the MERIDIAN_* macros expand to clang's capability attributes, so a build with
//     -Wthread-safety checks that every MERIDIAN_GUARDED_BY member is touched only with its mutex
//     held (CI: scripts/check_thread_safety). Under GCC they expand to nothing.
//  2. Mutex is a std::mutex that clang can reason about (libstdc++'s is not annotated). MutexLock
//     holds one for a scope. CondVar::Wait(&mu) waits with a Mutex the caller holds; its waits take
//     no predicate (clang cannot see that a lambda runs under the lock): loop on the condition.
//  3. Same costs as std::mutex / std::condition_variable: these are thin inline wrappers.
// The model is LevelDB's port/thread_annotations.h and Abseil's absl/base/thread_annotations.h.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define MERIDIAN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MERIDIAN_THREAD_ANNOTATION(x)
#endif

#define MERIDIAN_CAPABILITY(x) MERIDIAN_THREAD_ANNOTATION(capability(x))
#define MERIDIAN_SCOPED_CAPABILITY MERIDIAN_THREAD_ANNOTATION(scoped_lockable)
#define MERIDIAN_GUARDED_BY(x) MERIDIAN_THREAD_ANNOTATION(guarded_by(x))
#define MERIDIAN_PT_GUARDED_BY(x) MERIDIAN_THREAD_ANNOTATION(pt_guarded_by(x))
#define MERIDIAN_ACQUIRE(...) MERIDIAN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define MERIDIAN_RELEASE(...) MERIDIAN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define MERIDIAN_REQUIRES(...) MERIDIAN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define MERIDIAN_EXCLUDES(...) MERIDIAN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define MERIDIAN_ASSERT_CAPABILITY(x) MERIDIAN_THREAD_ANNOTATION(assert_capability(x))
#define MERIDIAN_NO_THREAD_SAFETY_ANALYSIS MERIDIAN_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace meridian {

class MERIDIAN_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() MERIDIAN_ACQUIRE() { mu_.lock(); }
  void Unlock() MERIDIAN_RELEASE() { mu_.unlock(); }
  // Tells the analysis the caller holds it (checked only by the analysis, not at run time).
  void AssertHeld() const MERIDIAN_ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

class MERIDIAN_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) MERIDIAN_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() MERIDIAN_RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu` (which the caller holds) while waiting and holds it again on return; spurious
  // wake-ups happen, so callers loop on their condition. Every waiter passes the same mutex.
  void Wait(Mutex* mu) MERIDIAN_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, for at most `timeout`; false when it timed out.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout) MERIDIAN_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace meridian
