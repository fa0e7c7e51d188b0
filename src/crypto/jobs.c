/* SPDX-License-Identifier: ISC */
#include "ikegw/jobs.h"

void jobs_submit(struct jobs *j, struct job *job)
{
	j->submitted++;
	job->run(job);
	j->completed++;
	job->done(job);
}
