import type { PhrasingCase } from './phrasingSet.js';

export const PHRASINGS: PhrasingCase[] = [];
