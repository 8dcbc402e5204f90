#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The SELinux module (packaging/selinux) compiles with the reference policy's devel
# Makefile, as the RPM builds it, and linked with the reference policy (Debian's
# selinux-policy-default: base, ssh, sudo, su and the user roles) it lets the domains that
# authenticate users update the state, totp-enroll, totp-resetd and totp-verify do their
# jobs, and users' own domains touch neither the state nor the configuration.
#   check_selinux_policy.sh SOURCE_DIR WORK_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
source_dir=$1 work=$2

# scripts/install-deps.sh unpacks the policy there (installing it would build a policy
# in /etc/selinux).
modules=/var/cache/pam_totp-tests/selinux-policy-default/usr/share/selinux/default
[ -e "$modules/base.pp.bz2" ] || modules=/usr/share/selinux/default
to_cil=/usr/libexec/selinux/hll/pp
for need in /usr/share/selinux/devel/Makefile "$modules/base.pp.bz2" "$to_cil"; do
    [ -e "$need" ] || { echo "FAIL: $need is missing (scripts/install-deps.sh)"; exit 1; }
done
/usr/bin/python3 -c 'import setools' || { echo "FAIL: setools is missing (scripts/install-deps.sh)"; exit 1; }
for tool in make secilc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh)"; exit 1; }
done

rm -rf "$work" && mkdir -p "$work"
cp "$source_dir"/packaging/selinux/pam_totp.{te,if,fc} "$work/"
build=$(make -C "$work" -f /usr/share/selinux/devel/Makefile pam_totp.pp 2>&1)
check "the module compiles to pam_totp.pp" test -s "$work/pam_totp.pp"
check_no_output "every interface it calls exists (no m4 or checkmodule warning)" "arning" "$build"

# The policy: the reference policy's base (without its login-name mappings, which name
# users of modules left out) and the modules of the domains checked (xserver for xdm_t,
# with the modules it needs, openvpn and apache for totp-verify's daemon callers), then
# this one.
for module in base ssh sudo su unprivuser staff unconfined xdg getty xserver openvpn apache; do
    bzcat "$modules/$module.pp.bz2" >"$work/$module.pp"
    "$to_cil" "$work/$module.pp" "$work/$module.cil" 2>/dev/null
done
sed -i '/^(selinuxuser /d' "$work/base.cil"
"$to_cil" "$work/pam_totp.pp" "$work/pam_totp.cil" 2>/dev/null
(cd "$work" && secilc -M true -o policy -f /dev/null base.cil ssh.cil sudo.cil su.cil \
    unprivuser.cil staff.cil unconfined.cil xdg.cil getty.cil xserver.cil openvpn.cil apache.cil \
    pam_totp.cil)
check "it links with the reference policy" test -s "$work/policy"

/usr/bin/python3 "$here/check_selinux_rules.py" "$work/policy" ||
    check "the policy's rules (above)" false
finish
