/**
 * The worker thread of scanLevelSeries (record/series.ts): it decodes every process's level series and
 * sums the groups and trees on a connection of its own, while the caller judges on its thread. Started
 * by series.ts with the plan it read, so both sides agree on the timeline and the processes.
 */
export { runLevelWorker } from './series.js';
