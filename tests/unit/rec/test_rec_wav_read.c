/* The strict WAV header reader (mg_rec_wav_read_header): good files (mediagate's own header
 * with real and streaming sizes, files written by sox and ffmpeg: PCM, A-law and mu-law with
 * fact, LIST chunks), every truncation, bad sizes, bad fmt fields, odd and unknown chunks,
 * and the bytes-given vs file-length distinction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_msg.h"
#include "rec.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* A WAV built chunk by chunk. */
struct wav {
	uint8_t b[8192];
	size_t len;
};

static void start(struct wav *w)
{
	memcpy(w->b, "RIFF\0\0\0\0WAVE", 12);
	w->len = 12;
}

static size_t chunk(struct wav *w, const char *id, const void *body, uint32_t size, bool pad)
{
	size_t at = w->len;
	memcpy(w->b + at, id, 4);
	put32(w->b + at + 4, size);
	if (body)
		memcpy(w->b + at + 8, body, size);
	else
		memset(w->b + at + 8, 0x11, size);
	w->len += 8 + size + (pad && (size & 1));
	if (pad && (size & 1))
		w->b[w->len - 1] = 0;
	return at;
}

static size_t fmt(struct wav *w, uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits)
{
	uint8_t f[16];
	uint16_t align = (uint16_t)(channels * bits / 8);
	put16(f, format);
	put16(f + 2, channels);
	put32(f + 4, rate);
	put32(f + 8, rate * align);
	put16(f + 12, align);
	put16(f + 14, bits);
	return chunk(w, "fmt ", f, sizeof(f), true);
}

static void finish(struct wav *w)
{
	put32(w->b + 4, (uint32_t)(w->len - 8));
}

static int read_all(const struct wav *w, struct mg_rec_wav_info *info)
{
	return mg_rec_wav_read_header(w->b, w->len, w->len, info);
}

#define EXPECT(w, want, what)                                                                      \
	do {                                                                                       \
		struct mg_rec_wav_info i_;                                                         \
		int rc_ = read_all(w, &i_);                                                        \
		CHECK(rc_ == (want), "%s: got %d (%s), want %d (%s)", what, rc_,                   \
		      mg_rec_wav_strerror(rc_), want, mg_rec_wav_strerror(want));                  \
	} while (0)

/* A canonical stereo 16-bit file: mediagate's own header + frames of audio. */
static void ours(struct wav *w, uint32_t frames, bool streaming)
{
	mg_rec_wav_header(w->b, streaming ? UINT32_MAX : frames * 4);
	for (uint32_t i = 0; i < frames * 4; i++)
		w->b[MG_REC_WAV_HEADER_LEN + i] = (uint8_t)(i * 7);
	w->len = MG_REC_WAV_HEADER_LEN + frames * 4;
}

static void test_good(void)
{
	struct wav w;
	struct mg_rec_wav_info info;
	ours(&w, 800, false);
	int rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && info.format == 1 && info.channels == 2 &&
		  info.sample_rate == 8000 && info.bits_per_sample == 16 && info.block_align == 4 &&
		  info.data_offset == 44 && info.data_bytes == 3200 && info.frames == 800 &&
		  !info.streaming && !info.has_fact,
	      "our header, real sizes: %s", mg_rec_wav_strerror(rc));
	ours(&w, 800, true);
	rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && info.streaming && info.frames == 800 && info.data_offset == 44,
	      "our streaming header: %s, %llu frames", mg_rec_wav_strerror(rc),
	      (unsigned long long)info.frames);
	/* The fixed streaming header reads the same as the one written with real sizes. */
	CHECK(mg_rec_wav_fix_header(w.b, w.len, w.len) == 1, "fix");
	rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && !info.streaming && info.frames == 800, "fixed header: %s",
	      mg_rec_wav_strerror(rc));
	/* Empty data chunk. */
	ours(&w, 0, false);
	rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && info.frames == 0, "no audio: %s", mg_rec_wav_strerror(rc));

	/* G.711 with fmt extension (cbSize 0), fact, and odd/unknown chunks around. */
	start(&w);
	chunk(&w, "JUNK", NULL, 28, true);
	uint8_t f[18];
	put16(f, 6);
	put16(f + 2, 1);
	put32(f + 4, 8000);
	put32(f + 8, 8000);
	put16(f + 12, 1);
	put16(f + 14, 8);
	put16(f + 16, 0);
	chunk(&w, "fmt ", f, 18, true);
	uint8_t fact[4];
	put32(fact, 161);
	chunk(&w, "fact", fact, 4, true);
	chunk(&w, "LIST", NULL, 5, true); /* odd: one pad byte follows */
	size_t data = chunk(&w, "data", NULL, 161, false);
	finish(&w);
	rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && info.format == 6 && info.channels == 1 &&
		  info.bits_per_sample == 8 && info.has_fact && info.fact_frames == 161 &&
		  info.frames == 161 && info.data_offset == data + 8,
	      "A-law mono with JUNK, fact, odd LIST, odd data last without pad: %s",
	      mg_rec_wav_strerror(rc));
	put16(w.b + 12 + 8 + 28 + 8, 7); /* the fmt tag after JUNK: mu-law */
	rc = read_all(&w, &info);
	CHECK(rc == MG_REC_WAV_OK && info.format == 7, "mu-law: %s", mg_rec_wav_strerror(rc));
	printf("good files (ours, streaming, fixed, empty, G.711 + fact + odd chunks): ok\n");
}

static void test_truncations(void)
{
	struct wav full, w;
	/* Real sizes: every shorter file is refused; below 12 bytes as truncated, above as a
	 * RIFF size that does not match. */
	ours(&full, 100, false);
	int bad = 0;
	for (size_t k = 0; k < full.len; k++) {
		struct mg_rec_wav_info info;
		int rc = mg_rec_wav_read_header(full.b, k, k, &info);
		int want = k < 12 ? MG_REC_WAV_ERR_TRUNCATED : MG_REC_WAV_ERR_RIFF_SIZE;
		if (rc != want) {
			bad++;
			CHECK(0, "real sizes cut at %zu: %s", k, mg_rec_wav_strerror(rc));
		}
	}
	/* Streaming sizes: cut inside the header -> truncated (or no data when the cut falls
	 * exactly between chunks); inside the audio -> fine on a frame boundary, refused
	 * mid-frame. */
	ours(&full, 100, true);
	for (size_t k = 0; k < full.len; k++) {
		struct mg_rec_wav_info info;
		int rc = mg_rec_wav_read_header(full.b, k, k, &info);
		int want = k < 12		? MG_REC_WAV_ERR_TRUNCATED
			   : k == 12 || k == 36 ? MG_REC_WAV_ERR_NO_DATA
			   : k < 44		? MG_REC_WAV_ERR_TRUNCATED
			   : (k - 44) % 4	? MG_REC_WAV_ERR_DATA_SIZE
						: MG_REC_WAV_OK;
		if (rc != want || (rc == MG_REC_WAV_OK && info.frames != (k - 44) / 4)) {
			bad++;
			CHECK(0, "streaming cut at %zu: %s", k, mg_rec_wav_strerror(rc));
		}
	}
	/* A file with chunks before data, cut everywhere with real sizes patched to the cut
	 * (as a careless writer would): never OK before the data chunk header is complete. */
	start(&full);
	chunk(&full, "LIST", NULL, 33, true);
	fmt(&full, 1, 2, 8000, 16);
	size_t data = chunk(&full, "data", NULL, 40, false);
	finish(&full);
	for (size_t k = 12; k < data + 8; k++) {
		memcpy(&w, &full, sizeof(w));
		w.len = k;
		finish(&w);
		struct mg_rec_wav_info info;
		int rc = read_all(&w, &info);
		if (rc == MG_REC_WAV_OK) {
			bad++;
			CHECK(0, "cut at %zu before the data chunk read as OK", k);
		}
	}
	/* The bytes given end before the file does: asks for more, never reads past len. */
	ours(&full, 100, false);
	for (size_t k = 0; k < MG_REC_WAV_HEADER_LEN; k++) {
		struct mg_rec_wav_info info;
		int rc = mg_rec_wav_read_header(full.b, k, full.len, &info);
		if (rc != MG_REC_WAV_ERR_SHORT_BUFFER) {
			bad++;
			CHECK(0, "%zu of %zu bytes given: %s", k, full.len,
			      mg_rec_wav_strerror(rc));
		}
	}
	struct mg_rec_wav_info info;
	CHECK(mg_rec_wav_read_header(full.b, 44, full.len, &info) == MG_REC_WAV_OK,
	      "44 bytes of a longer file are enough");
	CHECK(mg_rec_wav_read_header(full.b, 50, 40, &info) == MG_REC_WAV_ERR_ARG,
	      "len > file length refused");
	CHECK(mg_rec_wav_read_header(NULL, 0, 0, &info) == MG_REC_WAV_ERR_ARG, "NULL refused");
	printf("every truncation (real and streaming sizes, chunks before data, short buffer): "
	       "%s\n",
	       bad ? "FAILED" : "ok");
}

static void test_bad(void)
{
	struct wav w;
	ours(&w, 10, false);
	put32(w.b + 4, (uint32_t)w.len - 7);
	EXPECT(&w, MG_REC_WAV_ERR_RIFF_SIZE, "RIFF size one too big");
	put32(w.b + 4, (uint32_t)w.len - 9);
	EXPECT(&w, MG_REC_WAV_ERR_RIFF_SIZE, "RIFF size one too small (trailing byte)");
	put32(w.b + 4, 3);
	EXPECT(&w, MG_REC_WAV_ERR_RIFF_SIZE, "RIFF size 3");
	ours(&w, 10, false);
	memcpy(w.b, "RIFX", 4);
	EXPECT(&w, MG_REC_WAV_ERR_NOT_WAVE, "RIFX");
	ours(&w, 10, false);
	memcpy(w.b + 8, "AVI ", 4);
	EXPECT(&w, MG_REC_WAV_ERR_NOT_WAVE, "AVI");

	ours(&w, 10, false);
	put32(w.b + 40, 41);
	EXPECT(&w, MG_REC_WAV_ERR_DATA_SIZE, "data size past the end");
	put32(w.b + 40, 38);
	EXPECT(&w, MG_REC_WAV_ERR_DATA_SIZE, "data size not whole frames (and short of the end)");
	put32(w.b + 40, UINT32_MAX);
	EXPECT(&w, MG_REC_WAV_ERR_DATA_SIZE, "data placeholder with a real RIFF size");
	ours(&w, 10, true);
	w.len -= 2;
	EXPECT(&w, MG_REC_WAV_ERR_DATA_SIZE, "streaming data not whole frames");
	ours(&w, 10, true);
	put32(w.b + 40, 400);
	EXPECT(&w, MG_REC_WAV_ERR_DATA_SIZE, "streaming RIFF, data size past the end");

	ours(&w, 10, false);
	put32(w.b + 16, 14);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_SIZE, "fmt size 14");
	ours(&w, 10, false);
	put32(w.b + 16, 0xFFFFFFF0u);
	EXPECT(&w, MG_REC_WAV_ERR_CHUNK_SIZE, "fmt size past the RIFF");
	ours(&w, 10, true);
	put32(w.b + 16, 0xFFFFFFF0u);
	EXPECT(&w, MG_REC_WAV_ERR_TRUNCATED, "fmt size past a streaming file's end");

	struct {
		unsigned off, size, value;
		const char *what;
	} fields[] = {{20, 2, 3, "float format"},      {20, 2, 0xFFFE, "extensible format"},
		      {20, 2, 0, "format 0"},	       {22, 2, 0, "0 channels"},
		      {22, 2, 9, "9 channels"},	       {24, 4, 0, "rate 0"},
		      {24, 4, 400000, "rate 400 kHz"}, {28, 4, 32001, "byte rate"},
		      {32, 2, 2, "block align"},       {34, 2, 8, "PCM 8 bits"},
		      {34, 2, 24, "PCM 24 bits"}};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		ours(&w, 10, false);
		if (fields[i].size == 2)
			put16(w.b + fields[i].off, (uint16_t)fields[i].value);
		else
			put32(w.b + fields[i].off, fields[i].value);
		int want = fields[i].off == 20 ? MG_REC_WAV_ERR_FORMAT : MG_REC_WAV_ERR_FMT_FIELDS;
		EXPECT(&w, want, fields[i].what);
	}
	start(&w); /* G.711 must be 8 bits */
	fmt(&w, 6, 1, 8000, 16);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_FIELDS, "A-law with 16 bits");

	/* fmt with an extension size that does not match its length. */
	start(&w);
	uint8_t f[20] = {1, 0, 2, 0, 0x40, 0x1f, 0, 0, 0, 0x7d, 0, 0, 4, 0, 16, 0, 4, 0, 0, 0};
	chunk(&w, "fmt ", f, 20, true);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_SIZE, "fmt 20 bytes with cbSize 4");
	f[16] = 2;
	memcpy(w.b + 20, f, 20);
	EXPECT(&w, MG_REC_WAV_OK, "fmt 20 bytes with cbSize 2");
	put32(w.b + 16, 17);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_SIZE, "fmt 17 bytes");

	/* Chunk order and repetition. */
	start(&w);
	chunk(&w, "data", NULL, 8, true);
	fmt(&w, 1, 2, 8000, 16);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_MISSING, "data before fmt");
	start(&w);
	fmt(&w, 1, 2, 8000, 16);
	fmt(&w, 1, 2, 8000, 16);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FMT_DUPLICATE, "two fmt chunks");
	start(&w);
	fmt(&w, 1, 2, 8000, 16);
	chunk(&w, "LIST", NULL, 10, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_NO_DATA, "no data chunk");
	start(&w);
	fmt(&w, 7, 1, 8000, 8);
	chunk(&w, "fact", NULL, 2, true);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FACT, "fact of 2 bytes");
	start(&w);
	fmt(&w, 7, 1, 8000, 8);
	chunk(&w, "fact", NULL, 4, true);
	chunk(&w, "fact", NULL, 4, true);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_FACT, "two fact chunks");
	/* Odd chunk without its pad byte: the next chunk header is read one byte off. */
	start(&w);
	fmt(&w, 1, 2, 8000, 16);
	chunk(&w, "LIST", NULL, 5, false);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	struct mg_rec_wav_info info;
	CHECK(read_all(&w, &info) != MG_REC_WAV_OK, "odd chunk without its pad byte refused");
	/* Huge unknown chunk: 64-bit arithmetic, no wrap. */
	start(&w);
	fmt(&w, 1, 2, 8000, 16);
	size_t at = chunk(&w, "LIST", NULL, 4, true);
	put32(w.b + at + 4, UINT32_MAX);
	chunk(&w, "data", NULL, 8, true);
	finish(&w);
	EXPECT(&w, MG_REC_WAV_ERR_CHUNK_SIZE, "LIST of 4 GiB");
	printf("bad sizes, fields, chunk order, fact, pad byte: %s\n", failures ? "FAILED" : "ok");
}

/* Files written by sox and ffmpeg (installed by scripts/deps.sh: the test needs them). */
static void test_tools(void)
{
	char dir[] = "/tmp/mg-wav-read.XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	struct {
		const char *cmd, *what;
		unsigned format, channels, rate, frames;
		bool fact;
	} cases[] = {
	    {"sox -n -r 8000 -c 2 -b 16 %s/f.wav synth 1.5 sine 440", "sox PCM stereo", 1, 2, 8000,
	     12000, false},
	    {"sox -n -r 8000 -c 1 -e a-law %s/f.wav synth 1 sine 440", "sox A-law", 6, 1, 8000,
	     8000, true},
	    {"sox -n -r 8000 -c 2 -e u-law %s/f.wav synth 0.5 sine 440", "sox mu-law stereo", 7, 2,
	     8000, 4000, true},
	    {"ffmpeg -v error -y -f lavfi -i sine=d=2:r=16000 -ac 1 -c:a pcm_s16le %s/f.wav",
	     "ffmpeg PCM (LIST chunk)", 1, 1, 16000, 32000, false},
	    {"ffmpeg -v error -y -f lavfi -i sine=d=1:r=8000 -ac 1 -c:a pcm_alaw %s/f.wav",
	     "ffmpeg A-law", 6, 1, 8000, 8000, false},
	    {"ffmpeg -v error -y -f lavfi -i sine=d=1:r=8000 -ac 2 -c:a pcm_mulaw %s/f.wav",
	     "ffmpeg mu-law stereo", 7, 2, 8000, 8000, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cmd[512], path[300];
		snprintf(cmd, sizeof(cmd), cases[i].cmd, dir);
		snprintf(path, sizeof(path), "%s/f.wav", dir);
		unlink(path);
		if (system(cmd) != 0) {
			CHECK(0, "%s failed (sox and ffmpeg are required: scripts/deps.sh)", cmd);
			continue;
		}
		static uint8_t file[1 << 20];
		FILE *f = fopen(path, "rb");
		size_t n = f ? fread(file, 1, sizeof(file), f) : 0;
		if (f)
			fclose(f);
		struct mg_rec_wav_info info;
		int rc = mg_rec_wav_read_header(file, n, n, &info);
		CHECK(
		    rc == MG_REC_WAV_OK && info.format == cases[i].format &&
			info.channels == cases[i].channels && info.sample_rate == cases[i].rate &&
			info.frames == cases[i].frames &&
			(!cases[i].fact || (info.has_fact && info.fact_frames == cases[i].frames)),
		    "%s: %s, format %u, %u ch, %u Hz, %llu frames, fact %d/%u", cases[i].what,
		    mg_rec_wav_strerror(rc), info.format, info.channels, info.sample_rate,
		    (unsigned long long)info.frames, info.has_fact, info.fact_frames);
		printf("  %s: format %u, %u ch, %u Hz, %llu frames, data at %llu\n", cases[i].what,
		       info.format, info.channels, info.sample_rate,
		       (unsigned long long)info.frames, (unsigned long long)info.data_offset);
		/* Every truncation of the real file is refused. */
		int accepted = 0;
		for (size_t k = 0; k < n; k += k < 200 ? 1 : 997)
			accepted += mg_rec_wav_read_header(file, k, k, &info) == MG_REC_WAV_OK;
		CHECK(accepted == 0, "%s: %d truncations accepted", cases[i].what, accepted);
	}
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("note: %s left behind\n", dir);
}

int main(void)
{
	test_good();
	test_truncations();
	test_bad();
	test_tools();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
