/* SPDX-License-Identifier: ISC */
/* Jobs inline (the daemon) or queued until asked for (tests); see jobs.h. */
#include <errno.h>
#include <stddef.h>

#include "ikegw/jobs.h"

static struct job *pop(struct jobs *j)
{
	struct job *job = j->head;

	if (!job)
		return NULL;
	j->head = job->next;
	if (!j->head)
		j->tail = NULL;
	job->next = NULL;
	j->queued--;
	return job;
}

void jobs_submit(struct jobs *j, struct job *job)
{
	j->submitted++;
	job->rc = 0;
	job->next = NULL;
	if (j->defer) {
		if (j->tail)
			j->tail->next = job;
		else
			j->head = job;
		j->tail = job;
		j->queued++;
		return;
	}
	job->run(job);
	j->completed++;
	job->done(job);
}

bool jobs_run_one(struct jobs *j)
{
	struct job *job = pop(j);

	if (!job)
		return false;
	job->run(job);
	j->completed++;
	job->done(job); /* may submit more: they queue behind */
	return true;
}

size_t jobs_run_pending(struct jobs *j)
{
	size_t n = 0;

	while (jobs_run_one(j))
		n++;
	return n;
}

void jobs_drain(struct jobs *j)
{
	struct job *job;

	while ((job = pop(j)) != NULL) {
		job->rc = -ECANCELED;
		j->completed++;
		job->done(job);
	}
}
