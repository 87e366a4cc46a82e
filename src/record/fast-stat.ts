/**
 * The recorder's fast /proc/<pid>/stat reader now lives with the one stat parser in
 * src/procfs/pid-stat.ts; these names stay for the modules and tests that import them from here.
 */
export {
  emptyStatFields,
  parseStatBytes,
  readPidStatFields as readStatFields,
  type StatFields,
  type StatRead,
} from '../procfs/pid-stat.js';
