/**
 * Every test file: fast-check properties run on the suite's seed (test/helpers/fast-check.ts),
 * fixed unless FC_SEED says otherwise, so no property's outcome depends on the run.
 */
import { applySeedPolicy } from './helpers/fast-check';

applySeedPolicy();
