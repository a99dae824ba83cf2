// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daxfs-mountd policy file (see daxfs-mountd(8)):
 *
 *   # comment
 *   allow WHO PREFIX [noexec] [any-owner] [options=KEY[:KEY...]]
 *
 * WHO is uid:N, user:NAME, gid:N or group:NAME (primary or supplementary
 * group).  PREFIX is an absolute, canonical directory path: the client may
 * mount on PREFIX or any directory below it.  Names are resolved when a
 * request is checked, so the file can name users that do not exist yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "daemon/daemon.h"

#define MAX_RULES 4096
#define MAX_POLICY_SIZE (1u << 20)

static int perr(char *why, size_t whylen, unsigned int line, const char *msg, const char *tok)
{
	if (tok)
		snprintf(why, whylen, "line %u: %s \"%.64s\"", line, msg, tok);
	else
		snprintf(why, whylen, "line %u: %s", line, msg);
	return -EINVAL;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.' || *s == '$'))
			return false;
	return true;
}

static int parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (*s < '0' || *s > '9' || daxfs__parse_u64(s, &v) || v >= UINT32_MAX)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static bool valid_optlist(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == ':'))
			return false;
	return true;
}

static int parse_line(char *line, unsigned int ln, struct daxfs_policy_rule *r,
		      char *why, size_t whylen)
{
	char *tok[8], *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, " \t\r\v\f", &save); t; t = strtok_r(NULL, " \t\r\v\f", &save)) {
		if (n == 8)
			return perr(why, whylen, ln, "too many words", NULL);
		tok[n++] = t;
	}
	if (n == 0)
		return 1;	/* blank */
	if (strcmp(tok[0], "allow"))
		return perr(why, whylen, ln, "unknown keyword", tok[0]);
	if (n < 3)
		return perr(why, whylen, ln, "expected: allow WHO PREFIX [OPTIONS]", NULL);
	memset(r, 0, sizeof(*r));
	r->line = ln;
	if (!strncmp(tok[1], "uid:", 4) || !strncmp(tok[1], "gid:", 4)) {
		r->who = tok[1][0] == 'u' ? DAXFS_WHO_UID : DAXFS_WHO_GID;
		if (parse_id(tok[1] + 4, &r->id))
			return perr(why, whylen, ln, "bad number in", tok[1]);
	} else if (!strncmp(tok[1], "user:", 5)) {
		r->who = DAXFS_WHO_USER;
		if (!valid_name(tok[1] + 5))
			return perr(why, whylen, ln, "bad user name in", tok[1]);
		daxfs__strlcpy(r->name, tok[1] + 5, sizeof(r->name));
	} else if (!strncmp(tok[1], "group:", 6)) {
		r->who = DAXFS_WHO_GROUP;
		if (!valid_name(tok[1] + 6))
			return perr(why, whylen, ln, "bad group name in", tok[1]);
		daxfs__strlcpy(r->name, tok[1] + 6, sizeof(r->name));
	} else {
		return perr(why, whylen, ln, "WHO must be uid:N, user:NAME, gid:N or group:NAME, not", tok[1]);
	}
	{
		char pw[128];
		size_t pl;

		if (daxfs__path_check_lexical(tok[2], pw, sizeof(pw)))
			return perr(why, whylen, ln, "prefix must be an absolute canonical path:", tok[2]);
		pl = strlen(tok[2]);
		if (pl > 1 && tok[2][pl - 1] == '/')
			tok[2][pl - 1] = '\0';
		daxfs__strlcpy(r->prefix, tok[2], sizeof(r->prefix));
	}
	for (int i = 3; i < n; i++) {
		if (!strcmp(tok[i], "noexec"))
			r->flags |= DAXFS_POLICY_OPT_FORCE_NOEXEC;
		else if (!strcmp(tok[i], "any-owner"))
			r->flags |= DAXFS_POLICY_OPT_ANY_OWNER;
		else if (!strncmp(tok[i], "options=", 8) && valid_optlist(tok[i] + 8) &&
			 strlen(tok[i] + 8) < sizeof(r->options))
			daxfs__strlcpy(r->options, tok[i] + 8, sizeof(r->options));
		else
			return perr(why, whylen, ln, "unknown rule option", tok[i]);
	}
	return 0;
}

int daxfs__policy_parse(const char *text, size_t len, struct daxfs_policy *pol,
			char *why, size_t whylen)
{
	size_t pos = 0, cap = 0;
	unsigned int ln = 0;
	char line[8192];

	pol->rules = NULL;
	pol->nrules = 0;
	if (why && whylen)
		why[0] = '\0';
	if (len > MAX_POLICY_SIZE) {
		snprintf(why, whylen, "policy file larger than %u bytes", MAX_POLICY_SIZE);
		return -EFBIG;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct daxfs_policy_rule rule;
		char *hash;
		int r;

		ln++;
		if (n >= sizeof(line)) {
			daxfs__policy_free(pol);
			return perr(why, whylen, ln, "line too long", NULL);
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n)) {
			daxfs__policy_free(pol);
			return perr(why, whylen, ln, "NUL byte", NULL);
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		r = parse_line(line, ln, &rule, why, whylen);
		if (r < 0) {
			daxfs__policy_free(pol);
			return r;
		}
		if (r > 0)
			continue;
		if (pol->nrules == MAX_RULES) {
			daxfs__policy_free(pol);
			return perr(why, whylen, ln, "too many rules", NULL);
		}
		if (pol->nrules == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			void *p = realloc(pol->rules, ncap * sizeof(*pol->rules));

			if (!p) {
				daxfs__policy_free(pol);
				snprintf(why, whylen, "out of memory");
				return -ENOMEM;
			}
			pol->rules = p;
			cap = ncap;
		}
		pol->rules[pol->nrules++] = rule;
	}
	return 0;
}

int daxfs__policy_load(const char *path, struct daxfs_policy *pol,
		       char *why, size_t whylen)
{
	struct stat st;
	char *buf;
	size_t got;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, whylen, "%s: not a regular file", path);
		return -EINVAL;
	}
	/* The policy decides who may mount: refuse one that others can change. */
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		close(fd);
		snprintf(why, whylen, "%s: writable by group/others or not owned by root", path);
		return -EPERM;
	}
	if (st.st_size > MAX_POLICY_SIZE) {
		close(fd);
		snprintf(why, whylen, "%s: too large", path);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = daxfs__read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror((int)-n));
		free(buf);
		return (int)n;
	}
	got = (size_t)n;
	r = daxfs__policy_parse(buf, got, pol, why, whylen);
	free(buf);
	return r;
}

void daxfs__policy_free(struct daxfs_policy *pol)
{
	free(pol->rules);
	pol->rules = NULL;
	pol->nrules = 0;
}

static bool name_to_id(enum daxfs_who who, const char *name, uint32_t *id)
{
	char buf[4096];

	if (who == DAXFS_WHO_USER) {
		struct passwd pw, *res = NULL;

		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res)
			return false;
		*id = res->pw_uid;
	} else {
		struct group gr, *res = NULL;

		if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) || !res)
			return false;
		*id = res->gr_gid;
	}
	return true;
}

static bool who_matches(const struct daxfs_policy_rule *r, const struct daxfs_peer *p)
{
	uint32_t id = r->id;

	if ((r->who == DAXFS_WHO_USER || r->who == DAXFS_WHO_GROUP) &&
	    !name_to_id(r->who, r->name, &id))
		return false;
	if (r->who == DAXFS_WHO_UID || r->who == DAXFS_WHO_USER)
		return p->uid == id;
	if (p->gid == id)
		return true;
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i] == id)
			return true;
	return false;
}

const struct daxfs_policy_rule *
daxfs__policy_match(const struct daxfs_policy *pol, const struct daxfs_peer *peer,
		    const char *target, char *why, size_t whylen)
{
	static const struct daxfs_policy_rule root_rule = {
		.prefix = "/", .flags = DAXFS_POLICY_OPT_ANY_OWNER,
	};
	bool someone = false;

	if (peer->uid == 0)
		return &root_rule;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct daxfs_policy_rule *r = &pol->rules[i];

		if (!who_matches(r, peer))
			continue;
		someone = true;
		if (daxfs__path_under(target, r->prefix))
			return r;
	}
	if (someone)
		snprintf(why, whylen, "uid %u may not mount at %s (outside its allowed directories)",
			 (unsigned int)peer->uid, target);
	else
		snprintf(why, whylen, "no policy rule for uid %u gid %u",
			 (unsigned int)peer->uid, (unsigned int)peer->gid);
	return NULL;
}

bool daxfs__options_allowed(const char *opts, const char *allowed,
			    char *why, size_t whylen)
{
	const char *p = opts;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		bool ok = false;

		if (klen) {
			const char *a = allowed;

			while (a && *a) {
				const char *ae = strchr(a, ':');
				size_t an = ae ? (size_t)(ae - a) : strlen(a);

				if (an == klen && !strncmp(a, p, klen)) {
					ok = true;
					break;
				}
				a += an + (ae ? 1 : 0);
			}
			if (!ok) {
				snprintf(why, whylen, "file system option \"%.*s\" not allowed by the policy",
					 (int)(klen > 64 ? 64 : klen), p);
				return false;
			}
		}
		p += n + (end ? 1 : 0);
	}
	return true;
}
