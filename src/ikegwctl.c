/* SPDX-License-Identifier: ISC */
/* ikegwctl: placeholder until the control socket lands (issue 7). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("ikegwctl %s\n", IKEGW_VERSION);
		return 0;
	}
	fprintf(stderr, "ikegwctl: cannot reach the daemon\n");
	return 2;
}
