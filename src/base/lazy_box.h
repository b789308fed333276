// LazyBox<T>: a value of type T kept on the heap, and only once something asked to change it.
//
// A value type: copies are deep, == compares the values, a moved-from box reads as T{}. An empty
// box costs one pointer and reads as T{}. For parts of a state that are large in their full form
// (per-region arrays of wide totals) but absent from most values that hold them: a key's state is
// a variant over every data class, so without a box every key of a store would pay for the
// largest class's arrays whatever its own class (docs/memory.md).
//
// Contract:
//  1. get() is T{} until mut() is first called; mut() allocates then and never again.
//  2. Copying, assigning and comparing behave as for a plain T member.
// Not thread-safe (like a plain member); get() of an empty box reads a shared immutable T{}.
#pragma once

#include <memory>

namespace meridian {

template <typename T>
class LazyBox {
 public:
  LazyBox() = default;
  LazyBox(const LazyBox& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  LazyBox& operator=(const LazyBox& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  LazyBox(LazyBox&&) noexcept = default;
  LazyBox& operator=(LazyBox&&) noexcept = default;
  ~LazyBox() = default;

  const T& get() const { return value_ ? *value_ : Empty(); }
  T& mut() {
    if (!value_) value_ = std::make_unique<T>();
    return *value_;
  }
  // Whether mut() was ever called (the value may still equal T{}).
  bool allocated() const { return value_ != nullptr; }

  bool operator==(const LazyBox& other) const { return get() == other.get(); }

 private:
  static const T& Empty() {
    static const T empty{};
    return empty;
  }
  std::unique_ptr<T> value_;
};

}  // namespace meridian
