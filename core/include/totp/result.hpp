// SPDX-License-Identifier: Apache-2.0
// Errors as values: every fallible core call returns a Result or a Status.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace totp {

enum class Errc {
    invalid_argument,  // caller passed something malformed (bad base32, bad option value)
    not_found,         // no such user / record / file
    unsafe,            // ownership, mode, symlink or name check refused the object
    corrupt,           // a record failed its checksum or strict parse
    io,                // a system call failed (disk full, read-only, EIO), or a query did
    unavailable,       // a remote store could not be reached (no connection within the timeout)
    busy,              // a lock could not be taken
    unsupported,       // a format or feature we deliberately do not handle
    not_permitted,     // the caller may not do this (not root, or did not prove who they are)
    cancelled,         // the person at the terminal declined, interrupted or closed the input
};

struct Error {
    Errc code;
    std::string message;  // one line, safe to log: never contains a secret
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(std::move(value)) {}
    Result(Error error) : error_(std::move(error)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }

    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    T&& value() && { return std::move(*value_); }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() & { return *value_; }
    const T& operator*() const& { return *value_; }

    const Error& error() const { return error_; }

  private:
    std::optional<T> value_;
    Error error_{Errc::io, {}};
};

class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : error_(std::move(error)) {}

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *error_; }

  private:
    std::optional<Error> error_;
};

inline Error make_error(Errc code, std::string message) {
    return Error{code, std::move(message)};
}

}  // namespace totp
