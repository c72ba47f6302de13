/**
 * Typo tolerance for the negotiation vocabulary: a word that is neither a domain word nor a real English word close
 * to one is replaced by the closest domain word when didyoumean2's Levenshtein similarity is at least 0.8, i.e. one
 * edit in a word of five letters, two in a word of ten (a swap of two neighbouring letters counts as two edits, so
 * "canray" is not corrected). Words shorter than four letters are never touched ("ms", "p95").
 */
import didYouMean, { ReturnTypeEnums, ThresholdTypeEnums } from 'didyoumean2';
import { ENGLISH_WORDS_NEAR_DOMAIN } from './englishWordsNearDomain.js';

/** The words the intent parser keys on. Adding one: run `npm run spelling:guard` to refresh the real-word guard. */
export const DOMAIN_WORDS = [
  'add',
  'added',
  'approval',
  'approvals',
  'approve',
  'approver',
  'approvers',
  'bake',
  'baking',
  'budget',
  'canary',
  'canaries',
  'database',
  'decrease',
  'double',
  'drop',
  'duration',
  'each',
  'enable',
  'error',
  'errors',
  'every',
  'explain',
  'extend',
  'failure',
  'failures',
  'feature',
  'first',
  'flag',
  'flags',
  'guardrail',
  'guardrails',
  'half',
  'halve',
  'hour',
  'hours',
  'increase',
  'initial',
  'integration',
  'kill',
  'latency',
  'length',
  'longer',
  'lower',
  'migration',
  'milliseconds',
  'minute',
  'minutes',
  'percent',
  'percentage',
  'percentile',
  'plan',
  'please',
  'promote',
  'raise',
  'ramp',
  'reduce',
  'reject',
  'remove',
  'require',
  'required',
  'requirement',
  'risk',
  'risky',
  'rollback',
  'rollout',
  'schedule',
  'second',
  'seconds',
  'share',
  'shorter',
  'shorten',
  'skip',
  'soak',
  'stage',
  'stages',
  'start',
  'step',
  'steps',
  'switch',
  'tests',
  'testing',
  'thanks',
  'threshold',
  'thresholds',
  'tighten',
  'toggle',
  'traffic',
  'triple',
  'validator',
  'validators',
  'window',
  'windows',
];

const MIN_SIMILARITY = 0.8;
const MIN_LENGTH = 4;
const KNOWN = new Set([...DOMAIN_WORDS, ...ENGLISH_WORDS_NEAR_DOMAIN]);
/** Corrections already made; chat text repeats the same few misspellings. Cleared when full. */
const corrected = new Map<string, string>();
const CACHE_LIMIT = 10_000;

/** The closest domain word by spelling alone (no real-word guard); used to build the guard list. */
export function closestDomainWord(word: string): string | undefined {
  if (word.length < MIN_LENGTH || DOMAIN_WORDS.includes(word)) return undefined;
  const match = didYouMean(word, DOMAIN_WORDS, {
    threshold: MIN_SIMILARITY,
    thresholdType: ThresholdTypeEnums.SIMILARITY,
    returnType: ReturnTypeEnums.FIRST_CLOSEST_MATCH,
  });
  return typeof match === 'string' ? match : undefined;
}

/** The domain word a misspelt word stands for, or the word itself. */
export function correctWord(word: string): string {
  if (word.length < MIN_LENGTH || KNOWN.has(word)) return word;
  const cached = corrected.get(word);
  if (cached !== undefined) return cached;
  const result = closestDomainWord(word) ?? word;
  if (corrected.size >= CACHE_LIMIT) corrected.clear();
  corrected.set(word, result);
  return result;
}

/** `text` (already lower-cased) with each misspelt domain word corrected. */
export function correctSpelling(text: string): string {
  return text.replace(/[a-z]+/g, correctWord);
}
