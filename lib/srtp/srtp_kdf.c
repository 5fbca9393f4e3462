/* RFC 3711 4.3 key derivation with the AES-CM PRF (RFC 6188 4.1 for AES-256), kdr = 0.
 * Control path only, so plain OpenSSL AES-ECB is enough and keeps an independent
 * implementation next to the IPsec-MB data path. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srtp.h"

int mg_srtp_kdf(const uint8_t *master_key, size_t key_len, const uint8_t *master_salt,
		size_t salt_len, uint8_t label, uint8_t *out, size_t len)
{
	const EVP_CIPHER *cipher;
	if (key_len == 16)
		cipher = EVP_aes_128_ecb();
	else if (key_len == 32)
		cipher = EVP_aes_256_ecb();
	else
		return -EINVAL;
	if (salt_len > 14 || len > 16 * 256)
		return -EINVAL;

	/* x = (label || r) XOR master_salt, r = 0 because kdr = 0; the 112-bit x is then
	 * multiplied by 2^16 and used as the counter block. A 96-bit AEAD salt is padded with
	 * zeros on the right (RFC 7714 11, as libsrtp does). */
	uint8_t block_in[16] = {0}, block_out[16];
	memcpy(block_in, master_salt, salt_len);
	block_in[7] ^= label;

	EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
	if (!ecb)
		return -ENOMEM;
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
	EVP_CIPHER_CTX_free(ecb);
	return rc;
}
