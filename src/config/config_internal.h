/* SPDX-License-Identifier: ISC */
/* Shared by the config module's files; not part of the public surface:
 *   config.c         load, free, errors, lookups, prefix helpers
 *   config_parse.c   the generic YAML walker (libyaml document API)
 *   config_schema.c  the field tables and typed value handlers
 *   config_value.c   pure string -> value converters
 *   config_check.c   whole-config validation and the certificate/key/CA/CRL checks */
#ifndef IKEGW_CONFIG_INTERNAL_H
#define IKEGW_CONFIG_INTERNAL_H

#include <yaml.h>

#include "ikegw/config.h"

struct cfg_ctx {
	const char *name;           /* the file name as given: the FILE in FILE:LINE:COL */
	const char *dir;            /* absolute folder for relative paths */
	unsigned flags;             /* CONFIG_NO_HOST_CHECKS */
	struct config *cfg;
	struct config_errors *errs; /* may be NULL */
	size_t n_err;               /* counted even when errs is NULL */
	char path[256];             /* "profiles[1].match.ca": where the parser is */
	size_t path_len;
};

/* One error at mark (a zero mark is printed as 1:1). */
void cfg_error(struct cfg_ctx *c, struct config_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dir + "/" + p unless p is absolute; NULL on allocation failure. */
char *cfg_path_resolve(const char *dir, const char *p);

/* Fill in the defaults that do not depend on other values (before parsing). */
int cfg_defaults(struct config *cfg);

/* YAML text -> c->cfg; errors through cfg_error.  Returns 0 or -ENOMEM. */
int cfg_parse(struct cfg_ctx *c, const char *text, size_t len);

/* Cross-value checks and defaults that depend on other values.  Returns 0 or -ENOMEM. */
int cfg_check(struct cfg_ctx *c);

/* Prefix helpers shared by parse and check. */
int cfg_prefix_overlap(const struct config_prefix *a, const struct config_prefix *b);
int cfg_prefix_contains_ip(const struct config_prefix *p, const struct config_ip *ip);
void cfg_ip_format(const struct config_ip *ip, char *out, size_t outlen);
void cfg_prefix_format(const struct config_prefix *p, char *out, size_t outlen);


/* ---- parse state and the field tables -------------------------------------------- */

struct pctx {
	struct cfg_ctx *c;
	yaml_document_t *doc;
	int nomem;
};

struct field;
typedef void (*field_fn)(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f);

#define F_REQUIRED 0x1u
#define F_NONEMPTY 0x2u

struct field {
	const char *name;
	field_fn parse;
	size_t off;      /* the value inside obj */
	size_t mark_off; /* its struct config_mark inside obj (the key's position) */
	size_t n_off;    /* lists: the size_t count inside obj */
	long long min, max;
	const char *const *words; /* enums: NULL-terminated, index = value */
	unsigned flags;
	const struct field *sub; /* nested mappings */
};


/* ---- the YAML walker (config_parse.c), used by the schema (config_schema.c) ---- */

extern const struct field cfg_top_fields[];

struct config_mark cfg_mark_of(const yaml_node_t *n);
void *cfg_at(void *obj, size_t off);
yaml_node_t *cfg_node(struct pctx *p, int id);
/* Append to / restore c->path ("gateway" + ".port"); returns the old length. */
size_t cfg_path_push(struct cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cfg_path_pop(struct cfg_ctx *c, size_t old);
/* An error about the value n, prefixed with the current path ("gateway.port: ..."). */
void cfg_perr(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cfg_expect(struct pctx *p, const yaml_node_t *n, yaml_node_type_t t);
/* The text of a scalar, or NULL (reported) for lists, maps, empty values, NULs. */
const char *cfg_scalar(struct pctx *p, const yaml_node_t *n);
char *cfg_dup_or_flag(struct pctx *p, const char *s);
void cfg_parse_map(struct pctx *p, yaml_node_t *n, const struct field *tbl, void *obj);
/* Parse one list item into out; return 0 to keep it, nonzero to drop it. */
typedef int (*cfg_item_fn)(struct pctx *p, yaml_node_t *item, void *out);
void *cfg_parse_list(struct pctx *p, yaml_node_t *n, size_t elem, const struct field *f,
		     cfg_item_fn one, size_t *count);
void cfg_set_list(void *obj, const struct field *f, void *arr, size_t n);
void *cfg_parse_map_list(struct pctx *p, yaml_node_t *n, size_t elem,
			 const struct field *tbl, void (*init)(void *), size_t *count);

/* ---- scalar converters (config_value.c): 0 or -EINVAL ---------------------------- */

int cfg_parse_uint(const char *s, unsigned long long *v);
int cfg_parse_duration(const char *s, unsigned long long *v);   /* 30s 10m 4h 1d 45 */
int cfg_parse_ip(const char *s, struct config_ip *ip);
/* "ADDRESS/LEN" with no host bits set; on error a one-line reason in why. */
int cfg_parse_prefix(const char *s, struct config_prefix *out, char *why, size_t whylen);
int cfg_valid_dns_name(const char *s); /* 1 or 0 */
int cfg_valid_dn(const char *s);       /* 1 or 0 */
int cfg_hexval(char ch);               /* 0-15 or -1 */

#endif
