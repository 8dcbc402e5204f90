// SPDX-License-Identifier: Apache-2.0
// totp-enroll is installed setuid root, like passwd(1), because the default store is
// root-owned. It runs with the caller's rights and takes root's back only for a short,
// fixed list of operations, each inside an Elevation guard:
//   - authenticating the caller through the PAM service "totp-enroll";
//   - opening, reading and writing the caller's own record in the root-owned store;
//   - reading the root-only configuration and sending mail with its SMTP credentials.
// Everything else (prompts, QR images, import files, output) runs as the caller.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace totp_enroll {

class Privileges {
  public:
    // The first call in main. For a caller other than root it replaces the environment
    // with a minimal sanitized one and sets the effective ids to the real ones; the
    // saved set-user-ID (root, when installed setuid) is kept for elevate().
    static Privileges start();

    bool caller_is_root() const { return real_uid_ == 0; }
    uid_t caller_uid() const { return real_uid_; }

    // Effective uid and gid 0 for the guard's lifetime. Does nothing for a root caller,
    // after drop_permanently(), or when the program is not installed setuid root (the
    // operation then runs with the caller's rights and fails on its own terms).
    class [[nodiscard]] Elevation {
      public:
        Elevation() = default;
        Elevation(Elevation&& other) noexcept;
        Elevation& operator=(Elevation&& other) noexcept;
        Elevation(const Elevation&) = delete;
        Elevation& operator=(const Elevation&) = delete;
        ~Elevation();

      private:
        friend class Privileges;
        Elevation(uid_t uid, gid_t gid);
        void release();
        bool active_ = false;
        uid_t uid_ = 0;
        gid_t gid_ = 0;
    };
    Elevation elevate() const;

    // For work that holds locks other programs wait for (every user's reset links): all of
    // the uids 0, so the caller cannot SIGSTOP the process (kill(2) needs a matching real
    // or saved uid), and the terminal's stop signals held back, so Ctrl-Z waits until the
    // guard ends. The previous uids and signal mask come back at its end. Does nothing for
    // a root caller or when not installed setuid root.
    class [[nodiscard]] Unstoppable {
      public:
        Unstoppable(const Unstoppable&) = delete;
        Unstoppable& operator=(const Unstoppable&) = delete;
        ~Unstoppable();

      private:
        friend class Privileges;
        explicit Unstoppable(bool active);
        bool active_;
        uid_t ruid_ = 0, euid_ = 0, suid_ = 0;
        sigset_t previous_mask_{};
    };
    Unstoppable unstoppable() const;

    // Gives up the saved set-user-ID too (setresuid/setresgid to the real ids), for the
    // rest of the run. Idempotent.
    void drop_permanently();

  private:
    Privileges(uid_t uid, gid_t gid, bool can_elevate)
        : real_uid_(uid), real_gid_(gid), can_elevate_(can_elevate) {}

    uid_t real_uid_;
    gid_t real_gid_;
    bool can_elevate_;
};

}  // namespace totp_enroll
