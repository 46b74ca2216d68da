/*
 * Worker thread entry: one user range of a split transpose (see `transposeOnThreads`), written
 * into the shared column arrays; posts `done` when finished.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { transposeUsers } from './counting-sort';
import type { TransposeJob } from './transpose-threads';

const job = workerData as TransposeJob;
transposeUsers(job.userPtr, job.userMovies, job.userRatings, job.uFrom, job.uTo, job.next, job.movieUsers, job.movieRatings);
parentPort!.postMessage('done');
