/* SPDX-License-Identifier: ISC */
/*
 * YAML -> struct config with libyaml's document API: the generic walker.  Mappings are
 * checked against field tables (config_schema.c): unknown and duplicate keys are
 * reported with the valid ones, required keys are enforced, and each value goes to its
 * typed handler.  Nothing stops the walk, so one run reports every error.  Aliases are
 * refused and secrets are wiped from libyaml's buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config_internal.h"

/* ---- helpers: marks, paths, messages ------------------------------------------ */

struct config_mark cfg_mark_of(const yaml_node_t *n)
{
	return (struct config_mark){ (uint32_t)n->start_mark.line + 1,
				     (uint32_t)n->start_mark.column + 1 };
}

void *cfg_at(void *obj, size_t off)
{
	return (char *)obj + off;
}

size_t cfg_path_push(struct cfg_ctx *c, const char *fmt, ...)
{
	size_t old = c->path_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->path_len = old + (size_t)n < sizeof(c->path) ? old + (size_t)n
								  : sizeof(c->path) - 1;
	return old;
}

void cfg_path_pop(struct cfg_ctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* An error about the value n, prefixed with where we are ("gateway.port: ..."). */
void cfg_perr(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->c->path_len)
		cfg_error(p->c, cfg_mark_of(n), "%s: %s", p->c->path, msg);
	else
		cfg_error(p->c, cfg_mark_of(n), "%s", msg);
}

static const char *kind_name(yaml_node_type_t t)
{
	return t == YAML_SCALAR_NODE ? "a single value" :
	       t == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

int cfg_expect(struct pctx *p, const yaml_node_t *n, yaml_node_type_t t)
{
	if (n->type == t)
		return 1;
	cfg_perr(p, n, "expected %s, got %s", kind_name(t), kind_name(n->type));
	return 0;
}

yaml_node_t *cfg_node(struct pctx *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* The text of a scalar, or NULL (reported) for lists, maps, empty values, NULs. */
const char *cfg_scalar(struct pctx *p, const yaml_node_t *n)
{
	const char *s;

	if (!cfg_expect(p, n, YAML_SCALAR_NODE))
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (n->data.scalar.length == 0) {
		cfg_perr(p, n, "value is missing");
		return NULL;
	}
	if (strlen(s) != n->data.scalar.length) {
		cfg_perr(p, n, "value contains a NUL character");
		return NULL;
	}
	return s;
}

char *cfg_dup_or_flag(struct pctx *p, const char *s)
{
	char *d = strdup(s);

	if (!d)
		p->nomem = 1;
	return d;
}

/* ---- lists -------------------------------------------------------------------- */

void *cfg_parse_list(struct pctx *p, yaml_node_t *n, size_t elem, const struct field *f,
			cfg_item_fn one, size_t *count)
{
	size_t len, k = 0;
	char *arr;

	*count = 0;
	if (!cfg_expect(p, n, YAML_SEQUENCE_NODE))
		return NULL;
	len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (len == 0 && (f->flags & F_NONEMPTY)) {
		cfg_perr(p, n, "must not be empty");
		return NULL;
	}
	arr = calloc(len ? len : 1, elem);
	if (!arr) {
		p->nomem = 1;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		size_t old = cfg_path_push(p->c, "[%zu]", i);
		if (one(p, cfg_node(p, n->data.sequence.items.start[i]), arr + k * elem) == 0)
			k++;
		cfg_path_pop(p->c, old);
	}
	*count = k;
	return arr;
}

void cfg_set_list(void *obj, const struct field *f, void *arr, size_t n)
{
	*(void **)cfg_at(obj, f->off) = arr;
	*(size_t *)cfg_at(obj, f->n_off) = n;
}

/* ---- mappings ----------------------------------------------------------------- */

static const struct field *field_find(const struct field *tbl, const char *name)
{
	for (; tbl->name; tbl++)
		if (strcmp(tbl->name, name) == 0)
			return tbl;
	return NULL;
}

static void unknown_key(struct pctx *p, yaml_node_t *k, const struct field *tbl)
{
	char list[512];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; tbl[i].name && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 tbl[i].name);
	if (p->c->path_len)
		cfg_error(p->c, cfg_mark_of(k), "unknown key '%s' in %s; valid keys: %s",
			  (const char *)k->data.scalar.value, p->c->path, list);
	else
		cfg_error(p->c, cfg_mark_of(k), "unknown top-level key '%s'; valid keys: %s",
			  (const char *)k->data.scalar.value, list);
}

/* One key: 0 when its value should be parsed; the bit of the field in *seen. */
static const struct field *map_key(struct pctx *p, yaml_node_t *k, const struct field *tbl,
				   void *obj, uint64_t *seen)
{
	const struct field *f;
	struct config_mark *m;

	if (k->type != YAML_SCALAR_NODE) {
		cfg_error(p->c, cfg_mark_of(k), "%s%skeys must be plain names, got %s", p->c->path,
			  p->c->path_len ? ": " : "", kind_name(k->type));
		return NULL;
	}
	f = field_find(tbl, (const char *)k->data.scalar.value);
	if (!f) {
		unknown_key(p, k, tbl);
		return NULL;
	}
	m = cfg_at(obj, f->mark_off);
	if (*seen & (1ull << (f - tbl))) {
		cfg_error(p->c, cfg_mark_of(k), "duplicate key '%s%s%s' (first at line %u)",
			  p->c->path, p->c->path_len ? "." : "", f->name, m->line);
		return NULL;
	}
	*seen |= 1ull << (f - tbl);
	*m = cfg_mark_of(k);
	return f;
}

static void missing_keys(struct pctx *p, yaml_node_t *n, const struct field *tbl,
			 uint64_t seen)
{
	for (size_t i = 0; tbl[i].name; i++) {
		if ((tbl[i].flags & F_REQUIRED) && !(seen & (1ull << i)))
			cfg_perr(p, n, "missing required key '%s'", tbl[i].name);
	}
}

void cfg_parse_map(struct pctx *p, yaml_node_t *n, const struct field *tbl, void *obj)
{
	uint64_t seen = 0;

	if (!cfg_expect(p, n, YAML_MAPPING_NODE))
		return;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = cfg_node(p, pr->key), *v = cfg_node(p, pr->value);
		const struct field *f = map_key(p, k, tbl, obj, &seen);
		size_t old;

		if (!f)
			continue;
		old = cfg_path_push(p->c, "%s%s", p->c->path_len ? "." : "", f->name);
		f->parse(p, v, obj, f);
		cfg_path_pop(p->c, old);
	}
	missing_keys(p, n, tbl, seen);
}

void *cfg_parse_map_list(struct pctx *p, yaml_node_t *n, size_t elem,
			    const struct field *tbl, void (*init)(void *), size_t *count)
{
	size_t len;
	char *arr;

	*count = 0;
	if (!cfg_expect(p, n, YAML_SEQUENCE_NODE))
		return NULL;
	len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	arr = calloc(len ? len : 1, elem);
	if (!arr) {
		p->nomem = 1;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		yaml_node_t *item = cfg_node(p, n->data.sequence.items.start[i]);
		size_t old = cfg_path_push(p->c, "[%zu]", i);
		if (init)
			init(arr + i * elem);
		cfg_parse_map(p, item, tbl, arr + i * elem);
		cfg_path_pop(p->c, old);
	}
	*count = len;
	return arr;
}

/* ---- the document ------------------------------------------------------------- */

/* Reader errors carry an offset, not a mark: count lines up to it. */
static struct config_mark offset_mark(const char *text, size_t len, size_t off)
{
	struct config_mark m = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.col = 1;
		} else {
			m.col++;
		}
	}
	return m;
}

static void syntax_error(struct cfg_ctx *c, const yaml_parser_t *ps, const char *text,
			 size_t len)
{
	struct config_mark m = { (uint32_t)ps->problem_mark.line + 1,
				 (uint32_t)ps->problem_mark.column + 1 };
	const char *problem = ps->problem ? ps->problem : "cannot parse";

	if (ps->error == YAML_READER_ERROR) {
		m = offset_mark(text, len, ps->problem_offset);
		cfg_error(c, m, "YAML syntax error: %s", problem);
	} else if (ps->context) {
		cfg_error(c, m, "YAML syntax error: %s (%s that starts at %zu:%zu)", problem,
			  ps->context, ps->context_mark.line + 1, ps->context_mark.column + 1);
	} else {
		cfg_error(c, m, "YAML syntax error: %s", problem);
	}
}

/* The document API resolves *alias to the anchored node itself; a node reached twice
 * would be parsed twice (and nested aliases explode: "billion laughs"), so refuse. */
static int has_alias(struct pctx *p)
{
	size_t n = (size_t)(p->doc->nodes.top - p->doc->nodes.start);
	uint8_t *refs = calloc(n + 1, 1);
	int found = 0;

	if (!refs) {
		p->nomem = 1;
		return 1;
	}
	for (size_t i = 0; i < n && !found; i++) {
		yaml_node_t *nd = &p->doc->nodes.start[i];
		if (nd->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = nd->data.sequence.items.start;
			     it < nd->data.sequence.items.top && !found; it++)
				found = refs[*it]++ ? *it : 0;
		} else if (nd->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *pr = nd->data.mapping.pairs.start;
			     pr < nd->data.mapping.pairs.top && !found; pr++)
				found = refs[pr->key]++ ? pr->key : refs[pr->value]++ ? pr->value : 0;
		}
	}
	free(refs);
	if (found)
		cfg_perr(p, cfg_node(p, found), "YAML aliases (*name) are not supported");
	return found != 0;
}

/* Secrets (PSK, RADIUS) sit in the scalars and in libyaml's buffers: wipe them. */
static void doc_wipe(yaml_document_t *doc)
{
	for (yaml_node_t *nd = doc->nodes.start; nd && nd < doc->nodes.top; nd++)
		if (nd->type == YAML_SCALAR_NODE)
			OPENSSL_cleanse(nd->data.scalar.value, nd->data.scalar.length);
}

static void parser_wipe(yaml_parser_t *ps)
{
	if (ps->buffer.start)
		OPENSSL_cleanse(ps->buffer.start, (size_t)(ps->buffer.end - ps->buffer.start));
	if (ps->raw_buffer.start)
		OPENSSL_cleanse(ps->raw_buffer.start,
				(size_t)(ps->raw_buffer.end - ps->raw_buffer.start));
}

static void walk_document(struct pctx *p)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);

	if (!root) {
		cfg_error(p->c, (struct config_mark){ 1, 1 },
			  "the config is empty: 'gateway' and 'profiles' are required");
		return;
	}
	if (has_alias(p))
		return;
	cfg_parse_map(p, root, cfg_top_fields, p->c->cfg);
}

/* RFC-less but SPEC.md: the file is one YAML document. */
static int second_document(struct cfg_ctx *c, yaml_parser_t *ps, const char *text, size_t len)
{
	yaml_document_t doc;
	yaml_node_t *root;

	if (!yaml_parser_load(ps, &doc)) {
		syntax_error(c, ps, text, len);
		return ps->error == YAML_MEMORY_ERROR ? -ENOMEM : 0;
	}
	root = yaml_document_get_root_node(&doc);
	if (root)
		cfg_error(c, cfg_mark_of(root), "only one YAML document is allowed in the config");
	doc_wipe(&doc);
	yaml_document_delete(&doc);
	return 0;
}

int cfg_parse(struct cfg_ctx *c, const char *text, size_t len)
{
	yaml_parser_t ps;
	yaml_document_t doc;
	struct pctx p = { .c = c, .doc = &doc };
	int rc = 0;

	if (!yaml_parser_initialize(&ps))
		return -ENOMEM;
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	if (!yaml_parser_load(&ps, &doc)) {
		syntax_error(c, &ps, text, len);
		rc = ps.error == YAML_MEMORY_ERROR ? -ENOMEM : 0;
	} else {
		walk_document(&p);
		doc_wipe(&doc);
		yaml_document_delete(&doc);
		rc = p.nomem ? -ENOMEM : second_document(c, &ps, text, len);
	}
	parser_wipe(&ps);
	yaml_parser_delete(&ps);
	return rc;
}

