// How totp-enroll ends: one exit status per kind of outcome (documented in totp-enroll(1))
// and, on failure, the one line shown on stderr. main() turns these into the exit status.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "totp/result.hpp"

namespace totp_enroll {

enum class Exit : int {
    ok = 0,
    failure = 1,        // runtime: store not writable, mail not sent, I/O
    usage = 2,          // bad option or value, unsupported parameters, malformed input
    not_permitted = 3,  // root-only request, caller authentication failed, another user's record
    not_found = 4,      // unknown user, not enrolled, unreadable import file
    aborted = 5,        // confirmation failed, or Ctrl-C / end of input at a prompt
};

struct Failure {
    Exit exit = Exit::failure;
    std::string message;  // one line, never a secret or code
};

inline Failure fail(Exit exit, std::string message) {
    return Failure{exit, std::move(message)};
}

// A core error as a runtime failure (or `exit`), keeping its message.
inline Failure from_core(const totp::Error& error, Exit exit = Exit::failure) {
    return Failure{exit, error.message};
}

template <class T>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : value_(std::move(value)) {}
    Expected(Failure failure) : failure_(std::move(failure)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    T& value() & { return *value_; }
    T&& value() && { return std::move(*value_); }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() & { return *value_; }
    const T& operator*() const& { return *value_; }
    const Failure& failure() const { return failure_; }

  private:
    std::optional<T> value_;
    Failure failure_;
};

// Success, or the failure that ends the program.
class [[nodiscard]] Outcome {
  public:
    Outcome() = default;
    Outcome(Failure failure) : failure_(std::move(failure)) {}

    bool ok() const { return !failure_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Failure& failure() const { return *failure_; }

  private:
    std::optional<Failure> failure_;
};

}  // namespace totp_enroll
