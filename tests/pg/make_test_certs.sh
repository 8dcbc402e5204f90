#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes the certificates of the TLS test (tests/pg): in DIR, ca.crt and the server's
# server.crt/server.key (for localhost and 127.0.0.1) signed by it, and other_ca.crt, a
# CA that signed nothing the server has. Certificates are valid from 2020 to 2049 so that
# tests running with a set clock see them valid.
#   make_test_certs.sh DIR
set -eu
cd "$1"
cat >openssl.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[req]
distinguished_name = dn
[dn]
CNF
# certificate NAME SUBJECT EXTENSIONS [ISSUER]: a P-256 key NAME.key and its certificate
# NAME.crt, self-signed or signed by ISSUER.
certificate() {
    name=$1 subject=$2 extensions=$3
    : >index.txt
    echo 01 >serial
    openssl req -new -config openssl.cnf -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
    if [ $# -eq 3 ]; then
        signer="-selfsign -keyfile $name.key"
    else
        signer="-cert $4.crt -keyfile $4.key"
    fi
    # shellcheck disable=SC2086 # $signer is two options and their values
    openssl ca -batch -notext -config openssl.cnf $signer -in "$name.csr" -out "$name.crt" \
        -extensions "$extensions" -startdate 20200101000000Z -enddate 20491231000000Z \
        2>/dev/null
    rm -f "$name.csr" ./*.pem index.txt* serial*
}
certificate ca "/CN=pam_totp test CA" ca_ext
certificate other_ca "/CN=pam_totp other test CA" ca_ext
certificate server "/CN=localhost" server_ext ca
rm -f ca.key other_ca.key openssl.cnf
chmod 0644 ca.crt other_ca.crt server.crt
chmod 0600 server.key
