// SPDX-License-Identifier: GPL-2.0
/*
 * safetensors reader: a small recursive-descent JSON parser for the subset
 * the header uses, bounds-checked at every byte, plus the checks that make
 * the resulting tensor views safe to dereference.  See safetensors.h.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

static const struct {
	const char *name;
	unsigned int size;
} dtypes[ST_NDTYPES] = {
	[ST_BOOL] = { "BOOL", 1 },	[ST_U8] = { "U8", 1 },
	[ST_I8] = { "I8", 1 },		[ST_F8_E5M2] = { "F8_E5M2", 1 },
	[ST_F8_E4M3] = { "F8_E4M3", 1 },	[ST_I16] = { "I16", 2 },
	[ST_U16] = { "U16", 2 },	[ST_F16] = { "F16", 2 },
	[ST_BF16] = { "BF16", 2 },	[ST_I32] = { "I32", 4 },
	[ST_U32] = { "U32", 4 },	[ST_F32] = { "F32", 4 },
	[ST_I64] = { "I64", 8 },	[ST_U64] = { "U64", 8 },
	[ST_F64] = { "F64", 8 },
};

const char *st_dtype_name(enum st_dtype t)
{
	return (unsigned int)t < ST_NDTYPES ? dtypes[t].name : "?";
}

unsigned int st_dtype_size(enum st_dtype t)
{
	return (unsigned int)t < ST_NDTYPES ? dtypes[t].size : 0;
}

/* ---- the JSON cursor -------------------------------------------------- */

struct cur {
	const uint8_t *p, *end;		/* the header: [p, end) */
	const uint8_t *start;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct cur *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cur *c, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (c->failed)
		return -1;
	c->failed = true;
	if (!c->errlen)
		return -1;
	n = (size_t)snprintf(c->err, c->errlen, "header byte %zu: ", (size_t)(c->p - c->start));
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Skip whitespace and consume @ch if it is next. */
static bool eat(struct cur *c, char ch)
{
	ws(c);
	if (c->p < c->end && *c->p == (uint8_t)ch) {
		c->p++;
		return true;
	}
	return false;
}

static int expect(struct cur *c, char ch)
{
	if (eat(c, ch))
		return 0;
	if (c->p >= c->end)
		return fail(c, "expected '%c', got end of header", ch);
	return fail(c, "expected '%c', got 0x%02x", ch, *c->p);
}

static int hex4(struct cur *c, unsigned int *v)
{
	unsigned int i, d;

	if (c->end - c->p < 4)
		return fail(c, "truncated \\u escape");
	*v = 0;
	for (i = 0; i < 4; i++) {
		uint8_t ch = c->p[i];

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			return fail(c, "bad \\u escape");
		*v = *v << 4 | d;
	}
	c->p += 4;
	return 0;
}

/* Length of a valid UTF-8 sequence at p (< end), or 0. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end)
{
	size_t n, i;
	uint32_t cp;

	if (*p < 0x80)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2, cp = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, cp = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, cp = *p & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A string: decoded into a fresh heap buffer (*out, NUL-terminated; a string
 * with an escaped NUL is refused since names are C strings here), or only
 * validated when out is NULL.  The decoded form is never longer than the
 * encoded one, so the buffer is sized by the raw length.
 */
static int string(struct cur *c, char **out)
{
	const uint8_t *q;
	char *buf = NULL, *o;
	size_t n;

	if (expect(c, '"'))
		return -1;
	for (q = c->p; q < c->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < c->end)
			q++;
	if (q >= c->end)
		return fail(c, "unterminated string");
	if (out) {
		buf = malloc((size_t)(q - c->p) + 1);
		if (!buf)
			return fail(c, "out of memory");
	}
	o = buf;
	while (*c->p != '"') {	/* the scan above proved a '"' is ahead */
		uint8_t ch = *c->p;
		uint32_t cp;
		unsigned int u, lo;

		if (ch < 0x20) {
			fail(c, "control character in string");
			goto err;
		}
		if (ch != '\\') {
			n = utf8_len(c->p, c->end);
			if (!n) {
				fail(c, "invalid UTF-8 in string");
				goto err;
			}
			if (o) {
				memcpy(o, c->p, n);
				o += n;
			}
			c->p += n;
			continue;
		}
		c->p++;		/* the scan guarantees a byte after '\' */
		ch = *c->p++;
		switch (ch) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(c, &u))
				goto err;
			cp = u;
			if (u >= 0xdc00 && u <= 0xdfff) {
				fail(c, "lone low surrogate");
				goto err;
			}
			if (u >= 0xd800 && u <= 0xdbff) {
				if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u') {
					fail(c, "lone high surrogate");
					goto err;
				}
				c->p += 2;
				if (hex4(c, &lo))
					goto err;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(c, "bad surrogate pair");
					goto err;
				}
				cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0) {
				fail(c, "NUL in string");
				goto err;
			}
			break;
		default:
			c->p--;
			fail(c, "bad escape '\\%c'", ch >= 0x20 && ch < 0x7f ? ch : '?');
			goto err;
		}
		if (o)
			o += put_utf8(o, cp);
	}
	c->p++;
	if (out) {
		*o = 0;
		*out = buf;
	}
	return 0;
err:
	free(buf);
	return -1;
}

/* Is the next byte a decimal digit? */
static bool at_digit(const struct cur *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* Skip a run of decimal digits; how many there were. */
static size_t skip_digits(struct cur *c)
{
	const uint8_t *s = c->p;

	while (at_digit(c))
		c->p++;
	return (size_t)(c->p - s);
}

/* A non-negative integer without fraction or exponent, as data_offsets and shape need. */
static int parse_uint(struct cur *c, uint64_t *v)
{
	ws(c);
	if (!at_digit(c))
		return fail(c, "expected a non-negative integer");
	if (*c->p == '0' && c->end - c->p > 1 && c->p[1] >= '0' && c->p[1] <= '9')
		return fail(c, "leading zero in number");
	*v = 0;
	while (at_digit(c)) {
		unsigned int d = *c->p - '0';

		if (*v > (UINT64_MAX - d) / 10)
			return fail(c, "integer overflows 64 bits");
		*v = *v * 10 + d;
		c->p++;
	}
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return fail(c, "expected an integer, got a fraction or exponent");
	return 0;
}

/* Any JSON number (validated, value ignored). */
static int number(struct cur *c)
{
	const uint8_t *s;

	eat(c, '-');
	s = c->p;
	if (!skip_digits(c))
		return fail(c, "bad number");
	if (*s == '0' && c->p - s > 1)
		return fail(c, "leading zero in number");
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!skip_digits(c))
			return fail(c, "bad fraction");
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!skip_digits(c))
			return fail(c, "bad exponent");
	}
	return 0;
}

static int literal(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
		return fail(c, "unexpected character");
	c->p += n;
	return 0;
}

/* Skip any value (unknown keys), with a depth limit against deep nesting. */
static int skip_value(struct cur *c, unsigned int depth)
{
	if (depth > ST_MAX_DEPTH)
		return fail(c, "nesting deeper than %u", ST_MAX_DEPTH);
	ws(c);
	if (c->p >= c->end)
		return fail(c, "expected a value, got end of header");
	switch (*c->p) {
	case '"':
		return string(c, NULL);
	case '{':
		c->p++;
		if (eat(c, '}'))
			return 0;
		do {
			if (string(c, NULL) || expect(c, ':') || skip_value(c, depth + 1))
				return -1;
		} while (eat(c, ','));
		return expect(c, '}');
	case '[':
		c->p++;
		if (eat(c, ']'))
			return 0;
		do {
			if (skip_value(c, depth + 1))
				return -1;
		} while (eat(c, ','));
		return expect(c, ']');
	case 't':
		return literal(c, "true");
	case 'f':
		return literal(c, "false");
	case 'n':
		return literal(c, "null");
	default:
		return number(c);
	}
}

/* [INT, ...] into v[0..max), count in *n. */
static int uint_array(struct cur *c, uint64_t *v, unsigned int max, unsigned int *n,
		      const char *what)
{
	*n = 0;
	if (expect(c, '['))
		return -1;
	if (eat(c, ']'))
		return 0;
	do {
		if (*n == max)
			return fail(c, "%s has more than %u elements", what, max);
		if (parse_uint(c, &v[*n]))
			return -1;
		(*n)++;
	} while (eat(c, ','));
	return expect(c, ']');
}

#define SEEN_DTYPE	1u
#define SEEN_SHAPE	2u
#define SEEN_OFFSETS	4u

static int tensor(struct cur *c, struct st_tensor *t)
{
	unsigned int seen = 0, n, i;
	uint64_t off[2];
	char *key = NULL, *val;

	if (expect(c, '{'))
		return -1;
	if (eat(c, '}'))
		return fail(c, "tensor '%s' is an empty object", t->name);
	do {
		unsigned int bit;

		if (string(c, &key) || expect(c, ':'))
			goto err;
		if (!strcmp(key, "dtype"))
			bit = SEEN_DTYPE;
		else if (!strcmp(key, "shape"))
			bit = SEEN_SHAPE;
		else if (!strcmp(key, "data_offsets"))
			bit = SEEN_OFFSETS;
		else
			bit = 0;
		if (bit & seen) {
			fail(c, "tensor '%s': duplicate key '%s'", t->name, key);
			goto err;
		}
		seen |= bit;
		free(key);
		key = NULL;
		switch (bit) {
		case SEEN_DTYPE:
			if (string(c, &val))
				goto err;
			for (i = 0; i < ST_NDTYPES; i++)
				if (!strcmp(val, dtypes[i].name))
					break;
			if (i == ST_NDTYPES) {
				fail(c, "tensor '%s': unknown dtype '%.16s'", t->name, val);
				free(val);
				goto err;
			}
			free(val);
			t->dtype = (enum st_dtype)i;
			break;
		case SEEN_SHAPE:
			if (uint_array(c, t->shape, ST_MAX_DIMS, &t->ndim, "shape"))
				goto err;
			break;
		case SEEN_OFFSETS:
			if (uint_array(c, off, 2, &n, "data_offsets"))
				goto err;
			if (n != 2) {
				fail(c, "tensor '%s': data_offsets needs 2 integers", t->name);
				goto err;
			}
			t->begin = off[0];
			t->end = off[1];
			break;
		default:
			if (skip_value(c, 1))
				goto err;
		}
	} while (eat(c, ','));
	if (expect(c, '}'))
		goto err;
	if (seen != (SEEN_DTYPE | SEEN_SHAPE | SEEN_OFFSETS))
		return fail(c, "tensor '%s': needs dtype, shape and data_offsets", t->name);
	return 0;
err:
	free(key);
	return -1;
}

static int metadata(struct cur *c, struct st_file *f)
{
	size_t cap = 0;
	char *k = NULL, *v = NULL;

	if (expect(c, '{'))
		return -1;
	if (eat(c, '}'))
		return 0;
	do {
		if (string(c, &k) || expect(c, ':') || string(c, &v))
			goto err;
		if (f->nmeta == cap) {
			struct st_meta *m;

			cap = cap ? 2 * cap : 16;
			m = realloc(f->meta, cap * sizeof(*m));
			if (!m) {
				fail(c, "out of memory");
				goto err;
			}
			f->meta = m;
		}
		f->meta[f->nmeta].key = k;
		f->meta[f->nmeta].value = v;
		f->nmeta++;
		k = v = NULL;
	} while (eat(c, ','));
	return expect(c, '}');
err:
	free(k);
	free(v);
	return -1;
}

static int cmp_begin(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	/* empty tensors sort before a non-empty one at the same offset */
	return (x->end > y->end) - (x->end < y->end);
}

static int cmp_name(const void *a, const void *b)
{
	const struct st_tensor *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

void st_free(struct st_file *f)
{
	size_t i;

	for (i = 0; i < f->ntensors; i++)
		free(f->tensors[i].name);
	for (i = 0; i < f->nmeta; i++) {
		free(f->meta[i].key);
		free(f->meta[i].value);
	}
	free(f->tensors);
	free(f->meta);
	memset(f, 0, sizeof(*f));
}

/* Shapes, sizes, bounds, no overlap, no hole, unique names. */
static int check(struct cur *c, struct st_file *f)
{
	struct st_tensor **byname;
	uint64_t pos = 0;
	size_t i;
	int ret = 0;

	for (i = 0; i < f->ntensors; i++) {
		struct st_tensor *t = &f->tensors[i];
		uint64_t n = 1, bytes;
		unsigned int d;

		for (d = 0; d < t->ndim; d++) {
			if (t->shape[d] && n > UINT64_MAX / t->shape[d])
				return fail(c, "tensor '%s': shape overflows", t->name);
			n *= t->shape[d];
		}
		if (n > UINT64_MAX / dtypes[t->dtype].size)
			return fail(c, "tensor '%s': size overflows", t->name);
		bytes = n * dtypes[t->dtype].size;
		if (t->end < t->begin)
			return fail(c, "tensor '%s': data_offsets end %llu < begin %llu", t->name,
				    (unsigned long long)t->end, (unsigned long long)t->begin);
		if (t->end - t->begin != bytes)
			return fail(c, "tensor '%s': %llu bytes in data_offsets, shape and dtype say %llu",
				    t->name, (unsigned long long)(t->end - t->begin),
				    (unsigned long long)bytes);
		if (t->end > f->data_len)
			return fail(c, "tensor '%s': data_offsets end %llu beyond the data (%llu bytes)",
				    t->name, (unsigned long long)t->end,
				    (unsigned long long)f->data_len);
		t->nelem = n;
		t->size = bytes;
		t->data = f->data + t->begin;
	}
	if (f->ntensors > 1)
		qsort(f->tensors, f->ntensors, sizeof(*f->tensors), cmp_begin);
	for (i = 0; i < f->ntensors; i++) {
		struct st_tensor *t = &f->tensors[i];

		if (t->begin != pos)
			return fail(c, "tensor '%s': data at %llu, expected %llu (%s)", t->name,
				    (unsigned long long)t->begin, (unsigned long long)pos,
				    t->begin < pos ? "overlap" : "hole");
		pos = t->end;
	}
	if (pos != f->data_len)
		return fail(c, "%llu bytes after the last tensor",
			    (unsigned long long)(f->data_len - pos));
	if (f->ntensors < 2)
		return 0;
	byname = malloc(f->ntensors * sizeof(*byname));
	if (!byname)
		return fail(c, "out of memory");
	for (i = 0; i < f->ntensors; i++)
		byname[i] = &f->tensors[i];
	qsort(byname, f->ntensors, sizeof(*byname), cmp_name);
	for (i = 1; i < f->ntensors; i++)
		if (!strcmp(byname[i - 1]->name, byname[i]->name)) {
			ret = fail(c, "duplicate tensor '%s'", byname[i]->name);
			break;
		}
	free(byname);
	return ret;
}

int st_parse(const void *buf, uint64_t len, struct st_file *f, char *err, size_t errlen)
{
	const uint8_t *b = buf;
	struct cur c = { .err = err, .errlen = errlen };
	size_t cap = 0;
	bool have_meta = false;
	char *key = NULL;
	uint64_t n = 0;
	int i;

	memset(f, 0, sizeof(*f));
	if (errlen)
		err[0] = 0;
	if (len < 8) {
		snprintf(err, errlen, "file of %llu bytes is shorter than the 8-byte header length",
			 (unsigned long long)len);
		return -1;
	}
	for (i = 7; i >= 0; i--)
		n = n << 8 | b[i];
	if (n > ST_MAX_HEADER || n > len - 8) {
		snprintf(err, errlen, "header length %llu: beyond the file (%llu bytes) or the %u MiB limit",
			 (unsigned long long)n, (unsigned long long)len, ST_MAX_HEADER >> 20);
		return -1;
	}
	f->base = b;
	f->len = len;
	f->header_len = n;
	f->data = b + 8 + n;
	f->data_len = len - 8 - n;
	c.start = c.p = b + 8;
	c.end = c.p + n;

	if (expect(&c, '{'))
		goto err;
	if (eat(&c, '}'))
		goto done;
	do {
		if (string(&c, &key) || expect(&c, ':'))
			goto err;
		if (!strcmp(key, "__metadata__")) {
			free(key);
			key = NULL;
			if (have_meta) {
				fail(&c, "two __metadata__ objects");
				goto err;
			}
			have_meta = true;
			if (metadata(&c, f))
				goto err;
			continue;
		}
		if (f->ntensors == cap) {
			struct st_tensor *t;

			if (cap >= ST_MAX_TENSORS) {
				fail(&c, "more than %u tensors", ST_MAX_TENSORS);
				goto err;
			}
			cap = cap ? 2 * cap : 64;
			t = realloc(f->tensors, cap * sizeof(*t));
			if (!t) {
				fail(&c, "out of memory");
				goto err;
			}
			f->tensors = t;
		}
		memset(&f->tensors[f->ntensors], 0, sizeof(*f->tensors));
		f->tensors[f->ntensors].name = key;
		f->ntensors++;		/* owns the name from here on */
		key = NULL;
		if (tensor(&c, &f->tensors[f->ntensors - 1]))
			goto err;
	} while (eat(&c, ','));
	if (expect(&c, '}'))
		goto err;
done:
	ws(&c);
	if (c.p != c.end) {
		fail(&c, "trailing bytes after the header object");
		goto err;
	}
	if (check(&c, f))
		goto err;
	return 0;
err:
	free(key);
	st_free(f);
	return -1;
}

const char *st_meta_get(const struct st_file *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->nmeta; i++)
		if (!strcmp(f->meta[i].key, key))
			return f->meta[i].value;
	return NULL;
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->ntensors; i++)
		if (!strcmp(f->tensors[i].name, name))
			return &f->tensors[i];
	return NULL;
}

/* ---- CRC-32, slicing by 8 ----------------------------------------------- */

static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^ crc_tab[0][crc_tab[j - 1][i] & 0xff];
}

uint32_t st_crc32(uint32_t crc, const void *buf, size_t len)
{
	static int ready;
	const uint8_t *p = buf;
	uint64_t w;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		crc_init();	/* idempotent: racing threads write the same table */
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);	/* little-endian host assumed (x86, arm64) */
		w ^= crc;
		crc = crc_tab[7][w & 0xff] ^ crc_tab[6][(w >> 8) & 0xff] ^
		      crc_tab[5][(w >> 16) & 0xff] ^ crc_tab[4][(w >> 24) & 0xff] ^
		      crc_tab[3][(w >> 32) & 0xff] ^ crc_tab[2][(w >> 40) & 0xff] ^
		      crc_tab[1][(w >> 48) & 0xff] ^ crc_tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
