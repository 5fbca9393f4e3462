/* RFC 3711 4.3 key derivation with the AES-CM PRF (RFC 6188 4.1 for AES-256), kdr = 0.
 * Control path only, so plain OpenSSL AES-ECB is enough and keeps an independent
 * implementation next to the IPsec-MB data path. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srtp.h"

/* The ciphers are fetched once and each thread keeps one cipher context: a context init
 * restores thousands of calls at start-up (six derivations per SRTP context), and
 * OpenSSL's implicit fetch and context allocation cost more than the AES itself. */
static EVP_CIPHER *aes_ecb[2];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static pthread_key_t ecb_key; /* the thread's context, freed when the thread ends */

static void free_ecb(void *ecb)
{
	EVP_CIPHER_CTX_free(ecb);
}

static void fetch_ciphers(void)
{
	aes_ecb[0] = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	aes_ecb[1] = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
	if (pthread_key_create(&ecb_key, free_ecb) != 0)
		aes_ecb[0] = aes_ecb[1] = NULL;
}

int mg_srtp_kdf(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt,
		size_t salt_len, uint8_t label, uint8_t *out, size_t len)
{
	const EVP_CIPHER *cipher;
	pthread_once(&fetch_once, fetch_ciphers);
	if (key_len == 16)
		cipher = aes_ecb[0];
	else if (key_len == 32)
		cipher = aes_ecb[1];
	else
		return -EINVAL;
	if (!cipher)
		return -EIO;
	if (salt_len > 14 || len > 16 * 256)
		return -EINVAL;

	/* x = (label || r) XOR master_salt, r = 0 because kdr = 0; the 112-bit x is then
	 * multiplied by 2^16 and used as the counter block. A 96-bit AEAD salt is padded with
	 * zeros on the right (RFC 7714 11, as libsrtp does). */
	uint8_t block_in[16] = {0}, block_out[16];
	memcpy(block_in, master_salt, salt_len);
	block_in[7] ^= label;

	EVP_CIPHER_CTX *ecb = pthread_getspecific(ecb_key);
	if (!ecb && (!(ecb = EVP_CIPHER_CTX_new()) || pthread_setspecific(ecb_key, ecb) != 0)) {
		EVP_CIPHER_CTX_free(ecb);
		return -ENOMEM;
	}
	int rc = 0;
	if (EVP_EncryptInit_ex(ecb, cipher, NULL, master_key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ecb, 0) != 1) {
		rc = -EIO;
		goto out;
	}
	for (size_t off = 0, counter = 0; off < len; off += 16, counter++) {
		int out_len = 0;
		block_in[14] = (uint8_t)(counter >> 8);
		block_in[15] = (uint8_t)counter;
		if (EVP_EncryptUpdate(ecb, block_out, &out_len, block_in, 16) != 1 ||
		    out_len != 16) {
			rc = -EIO;
			goto out;
		}
		memcpy(out + off, block_out, len - off < 16 ? len - off : 16);
	}
out:
	OPENSSL_cleanse(block_out, sizeof(block_out));
	EVP_CIPHER_CTX_reset(ecb); /* the key schedule does not stay behind */
	return rc;
}
