/* SPDX-License-Identifier: ISC */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/sa_table.h"

/* Stands in for struct ike_sa: the entry is embedded, not first. */
struct fake_sa {
	int id;
	struct sa_table_entry entry;
	char more[40];
};

static void peer_v4(struct sockaddr_storage *ss, uint32_t addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons(port);
}

static void peer_v6(struct sockaddr_storage *ss, uint8_t last, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr.s6_addr[0] = 0x20;
	sin6->sin6_addr.s6_addr[1] = 0x01;
	sin6->sin6_addr.s6_addr[15] = last;
	sin6->sin6_port = htons(port);
}

static struct fake_sa *sa_of(struct sa_table_entry *e)
{
	return e ? container_of(e, struct fake_sa, entry) : NULL;
}

static void test_100k_insert_find_remove(void **state)
{
	enum { N = 100000 };
	struct sa_table *t = sa_table_new();
	struct fake_sa *sa = calloc(N, sizeof(*sa));
	(void)state;

	assert_non_null(t);
	assert_non_null(sa);
	for (int i = 0; i < N; i++) {
		sa[i].id = i;
		sa[i].entry.spi_remote = 0x1000000000000000ULL + (uint64_t)i;
		peer_v4(&sa[i].entry.peer, 0xc6120000u + (uint32_t)(i % 60000), 500);
		assert_int_equal(sa_table_insert(t, &sa[i].entry), 0);
		assert_int_not_equal(sa[i].entry.spi_local, 0);
	}
	assert_int_equal(sa_table_count(t), N);
	assert_int_equal(sa_table_half_open_count(t), N);

	for (int i = 0; i < N; i++) {
		assert_ptr_equal(sa_of(sa_table_find(t, sa[i].entry.spi_local)), &sa[i]);
		assert_ptr_equal(sa_of(sa_table_find_half_open(t, sa[i].entry.spi_remote,
							      &sa[i].entry.peer)), &sa[i]);
	}
	for (int i = 0; i < N; i += 2)
		sa_table_mark_established(t, &sa[i].entry);
	assert_int_equal(sa_table_half_open_count(t), N / 2);
	for (int i = 0; i < N; i += 3)
		sa_table_remove(t, &sa[i].entry);
	for (int i = 0; i < N; i++) {
		struct sa_table_entry *e = sa_table_find(t, sa[i].entry.spi_local);
		struct sa_table_entry *h = sa_table_find_half_open(t, sa[i].entry.spi_remote,
								   &sa[i].entry.peer);

		assert_ptr_equal(e, i % 3 ? &sa[i].entry : NULL);
		assert_ptr_equal(h, (i % 3 && i % 2) ? &sa[i].entry : NULL);
	}
	for (int i = 0; i < N; i++)
		sa_table_remove(t, &sa[i].entry);
	assert_int_equal(sa_table_count(t), 0);
	assert_int_equal(sa_table_half_open_count(t), 0);
	assert_null(sa_table_find(t, sa[1].entry.spi_local));
	sa_table_free(t);
	sa_table_free(NULL);
	free(sa);
}

/* SPIs differing only in bits 20..31 land in one bucket: a 200-long chain. */
static void test_bucket_collisions(void **state)
{
	enum { N = 200 };
	struct sa_table *t = sa_table_new();
	struct fake_sa sa[N];
	(void)state;

	memset(sa, 0, sizeof(sa));
	for (int i = 0; i < N; i++) {
		peer_v6(&sa[i].entry.peer, 1, 4500);
		sa[i].entry.spi_remote = 77;
		assert_int_equal(sa_table_insert_spi(t, &sa[i].entry, (uint64_t)(i + 1) << 20 | 5),
				 0);
	}
	for (int i = 0; i < N; i++)
		assert_ptr_equal(sa_table_find(t, (uint64_t)(i + 1) << 20 | 5), &sa[i].entry);
	assert_null(sa_table_find(t, (uint64_t)(N + 1) << 20 | 5));
	/* Remove from the middle, the head and the tail of the chain. */
	sa_table_remove(t, &sa[100].entry);
	sa_table_remove(t, &sa[0].entry);
	sa_table_remove(t, &sa[N - 1].entry);
	for (int i = 0; i < N; i++) {
		bool gone = i == 100 || i == 0 || i == N - 1;

		assert_ptr_equal(sa_table_find(t, (uint64_t)(i + 1) << 20 | 5),
				 gone ? NULL : &sa[i].entry);
	}
	assert_int_equal(sa_table_count(t), N - 3);
	sa_table_free(t);
}

static void test_spi_rules(void **state)
{
	struct sa_table *t = sa_table_new();
	struct fake_sa a = { 0 }, b = { 0 };
	(void)state;

	assert_int_equal(sa_table_insert_spi(t, &a.entry, 0), -EINVAL);
	assert_int_equal(sa_table_insert_spi(t, &a.entry, 42), 0);
	assert_int_equal(sa_table_insert_spi(t, &a.entry, 43), -EEXIST);
	assert_int_equal(sa_table_insert(t, &a.entry), -EEXIST);
	assert_int_equal(sa_table_insert_spi(t, &b.entry, 42), -EEXIST);
	assert_false(b.entry.in_table);
	sa_table_remove(t, &b.entry); /* not in: a no-op */
	sa_table_remove(t, &a.entry);
	sa_table_remove(t, &a.entry);
	assert_int_equal(sa_table_count(t), 0);
	assert_int_equal(sa_table_insert_spi(t, &b.entry, 42), 0);
	assert_int_equal(sa_table_count(t), 1);
	sa_table_free(t);
}

/* A source that repeats itself: the table must draw again, skipping 0 and taken SPIs. */
struct seq_source {
	const uint64_t *v;
	size_t n, i;
};

static int seq_spi(void *ctx, uint64_t *spi)
{
	struct seq_source *s = ctx;

	if (s->i >= s->n)
		return -EIO;
	*spi = s->v[s->i++];
	return 0;
}

static void test_random_spi_retries_on_collision(void **state)
{
	static const uint64_t draws[] = { 9, 9, 0, 9, 10 };
	struct seq_source src = { .v = draws, .n = 5 };
	struct sa_table *t = sa_table_new();
	struct fake_sa a = { 0 }, b = { 0 }, c = { 0 };
	(void)state;

	sa_table_set_spi_source(t, seq_spi, &src);
	assert_int_equal(sa_table_insert(t, &a.entry), 0);
	assert_int_equal(a.entry.spi_local, 9);
	assert_int_equal(sa_table_insert(t, &b.entry), 0);
	assert_int_equal(b.entry.spi_local, 10);
	assert_int_equal(src.i, 5);
	/* The source fails: so does the insert, and nothing is left behind. */
	assert_int_equal(sa_table_insert(t, &c.entry), -EIO);
	assert_false(c.entry.in_table);
	assert_int_equal(sa_table_count(t), 2);
	sa_table_set_spi_source(t, NULL, NULL);
	assert_int_equal(sa_table_insert(t, &c.entry), 0);
	sa_table_free(t);
}

static void test_half_open_lookup_by_spi_and_peer(void **state)
{
	struct sa_table *t = sa_table_new();
	struct fake_sa a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };
	struct sockaddr_storage p;
	(void)state;

	a.entry.spi_remote = 0x1122334455667788ULL;
	peer_v4(&a.entry.peer, 0xc0000201u, 500);
	b.entry.spi_remote = 0x1122334455667788ULL;  /* same SPIi, other peer */
	peer_v4(&b.entry.peer, 0xc0000202u, 500);
	c.entry.spi_remote = 0x1122334455667788ULL;  /* same SPIi, v6 */
	peer_v6(&c.entry.peer, 1, 500);
	assert_int_equal(sa_table_insert(t, &a.entry), 0);
	assert_int_equal(sa_table_insert(t, &b.entry), 0);
	assert_int_equal(sa_table_insert(t, &c.entry), 0);

	peer_v4(&p, 0xc0000201u, 500);
	assert_ptr_equal(sa_of(sa_table_find_half_open(t, a.entry.spi_remote, &p)), &a);
	peer_v4(&p, 0xc0000202u, 500);
	assert_ptr_equal(sa_of(sa_table_find_half_open(t, a.entry.spi_remote, &p)), &b);
	peer_v6(&p, 1, 500);
	assert_ptr_equal(sa_of(sa_table_find_half_open(t, a.entry.spi_remote, &p)), &c);
	/* Another port, another SPI, another family: someone else. */
	peer_v4(&p, 0xc0000201u, 4500);
	assert_null(sa_table_find_half_open(t, a.entry.spi_remote, &p));
	peer_v4(&p, 0xc0000201u, 500);
	assert_null(sa_table_find_half_open(t, a.entry.spi_remote + 1, &p));
	peer_v6(&p, 2, 500);
	assert_null(sa_table_find_half_open(t, a.entry.spi_remote, &p));

	assert_int_equal(sa_table_half_open_count(t), 3);
	sa_table_mark_established(t, &a.entry);
	sa_table_mark_established(t, &a.entry);
	assert_int_equal(sa_table_half_open_count(t), 2);
	assert_false(a.entry.half_open);
	peer_v4(&p, 0xc0000201u, 500);
	assert_null(sa_table_find_half_open(t, a.entry.spi_remote, &p));
	assert_ptr_equal(sa_table_find(t, a.entry.spi_local), &a.entry);
	/* Removing a half-open SA lowers the half-open count too. */
	sa_table_remove(t, &b.entry);
	assert_int_equal(sa_table_half_open_count(t), 1);
	assert_int_equal(sa_table_count(t), 2);
	sa_table_free(t);
}

struct walk {
	int seen;
	struct sa_table *t;
	int stop_at;
};

static int remove_each(struct sa_table_entry *e, void *arg)
{
	struct walk *w = arg;

	w->seen++;
	sa_table_remove(w->t, e);
	return w->stop_at && w->seen == w->stop_at ? 7 : 0;
}

static void test_foreach_with_removal(void **state)
{
	enum { N = 3000 };
	struct sa_table *t = sa_table_new();
	struct fake_sa *sa = calloc(N, sizeof(*sa));
	struct walk w = { .t = t, .stop_at = 10 };
	(void)state;

	assert_non_null(sa);
	for (int i = 0; i < N; i++)
		assert_int_equal(sa_table_insert(t, &sa[i].entry), 0);
	assert_int_equal(sa_table_foreach(t, remove_each, &w), 7);
	assert_int_equal(sa_table_count(t), N - 10);
	w.stop_at = 0;
	assert_int_equal(sa_table_foreach(t, remove_each, &w), 0);
	assert_int_equal(w.seen, N);
	assert_int_equal(sa_table_count(t), 0);
	assert_int_equal(sa_table_half_open_count(t), 0);
	sa_table_free(t);
	free(sa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100k_insert_find_remove),
		cmocka_unit_test(test_bucket_collisions),
		cmocka_unit_test(test_spi_rules),
		cmocka_unit_test(test_random_spi_retries_on_collision),
		cmocka_unit_test(test_half_open_lookup_by_spi_and_peer),
		cmocka_unit_test(test_foreach_with_removal),
	};

	return cmocka_run_group_tests_name("sa_table", tests, NULL, NULL);
}
