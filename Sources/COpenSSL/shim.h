// OpenSSL 3 headers used by the Crypto target (Debian: libssl-dev).
#pragma once
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
