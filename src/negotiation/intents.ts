/**
 * The offline negotiator's intent parser: deterministic, word-boundary regexes over a chat message, split into
 * clauses ("start at 25% and bake for 20 min" is two requests). The text is first normalised: Spanish, German and
 * French term words become English (lexicon.ts), decimal commas and arrows are read, misspelt domain words are
 * corrected (spelling.ts). It turns text into proposed amendments, explanation subjects, or a note of what was
 * missing; it decides nothing (the engine does).
 */
import type { Amendment, Contract, GuardrailMetric, RiskFactor, ValidatorKind } from '../domain/model.js';
import { type ExplainSubject, type ExplainTerm, isRiskFactor } from './explain.js';
import { translateTerms } from './lexicon.js';
import { correctSpelling } from './spelling.js';

export type Topic =
  | { kind: 'threshold'; metric: GuardrailMetric }
  | { kind: 'window'; metric?: GuardrailMetric }
  | { kind: 'first_step' }
  | { kind: 'ramp' }
  | { kind: 'step_duration' }
  | { kind: 'bake' }
  | { kind: 'validator'; validator: ValidatorKind };

export type ForbiddenAction = 'approve' | 'reject' | 'promote' | 'rollback' | 'approvals';

export type Intent =
  | { type: 'amend'; topic: Topic; amendments: Amendment[]; notes: string[] }
  | { type: 'explain'; subject: ExplainSubject }
  | { type: 'needs_value'; topic: Topic; reason: string }
  | { type: 'forbidden'; action: ForbiddenAction }
  | { type: 'thanks' }
  /** `suggestion`: the term the text seems to be about, whose supported phrasing the reply offers. */
  | { type: 'unknown'; text: string; suggestion?: Topic };

export interface ParsedMessage {
  intents: Intent[];
  /** The last topic the message was about, for follow-ups such as "what about 20%?". */
  topic?: Topic;
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation and quantities

const NUMBER_WORDS: Record<string, string> = {
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  fifteen: '15',
  twenty: '20',
  thirty: '30',
  forty: '40',
  fifty: '50',
  sixty: '60',
  ninety: '90',
};

export function normalise(text: string): string {
  const lowered = text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/\u00a0/g, ' ');
  return (
    correctSpelling(translateTerms(lowered))
      // "0,25 %": a decimal comma before a unit, not a list ("ramp 10,25,50").
      .replace(
        /(?<![\d,.])(\d+),(\d{1,3})(?![\d,])(?=\s*(?:%|percent|pct|ms|s|secs?|seconds?|min|mins|minutes?|h|hours?)\b|\s*%)/g,
        '$1.$2',
      )
      // "10 % → 5 %", "10%->5%": arrows read as "to".
      .replace(/\s*(?:→|->|=>|⇒)\s*/g, ' to ')
      .replace(/\bhalf an hour\b/g, '30 min')
      .replace(/\b(?:an|one) hour\b/g, '1 h')
      .replace(/\ba minute\b/g, '1 min')
      .replace(
        /\b(one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|fifty|sixty|ninety)\b(?=\s*(?:%|percent|per cent|minutes?|mins?|seconds?|secs?|hours?|hrs?|ms|milliseconds?)\b)/g,
        (w) => NUMBER_WORDS[w] ?? w,
      )
      .replace(/\bper cent\b/g, 'percent')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

type Unit = 'percent' | 'ms' | 's' | 'min' | 'h' | null;

interface Quantity {
  value: number;
  unit: Unit;
  index: number;
}

const QUANTITY =
  /(?<![\w.])(\d+(?:\.\d+)?)\s*(%|percent|pct|ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)?(?![\w])/g;

/** Metric names that contain digits (p95, 5xx, 99th percentile) must not be read as values. */
function maskMetricNames(clause: string): string {
  return clause.replace(
    /\bp(?:50|90|95|99)\b|\b\dxx\b|\b(?:50|90|95|99)(?:th)?[ -]?percentile\b|\bv?\d+\.\d+\.\d+\S*/g,
    (m) => 'x'.repeat(m.length),
  );
}

function unitOf(raw: string | undefined): Unit {
  if (!raw) return null;
  if (raw === '%' || raw === 'percent' || raw === 'pct') return 'percent';
  if (raw.startsWith('ms') || raw.startsWith('milli')) return 'ms';
  if (raw.startsWith('s')) return 's';
  if (raw === 'm' || raw.startsWith('min')) return 'min';
  return 'h';
}

export function quantities(clause: string): Quantity[] {
  const masked = maskMetricNames(clause);
  const out: Quantity[] = [];
  for (const m of masked.matchAll(QUANTITY)) {
    out.push({ value: Number(m[1]), unit: unitOf(m[2]), index: m.index ?? 0 });
  }
  return out;
}

/** Quantities after the first " to " (so "from 10% to 25%" reads 25), else all of them. */
function targetQuantities(clause: string): Quantity[] {
  const all = quantities(clause);
  const to = /\b(?:to|at|into|=)\b|=/.exec(clause);
  if (to) {
    const after = all.filter((q) => q.index > to.index);
    if (after.length > 0) return after;
  }
  return all;
}

function toSeconds(q: Quantity): { seconds: number; assumed: boolean } {
  switch (q.unit) {
    case 's':
      return { seconds: q.value, assumed: false };
    case 'h':
      return { seconds: q.value * 3600, assumed: false };
    case 'min':
      return { seconds: q.value * 60, assumed: false };
    case 'ms':
      return { seconds: q.value / 1000, assumed: false };
    default:
      return { seconds: q.value * 60, assumed: true };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary

const RE = {
  explain:
    /\bwhy\b|\bexplain\b|\bwhat(?:'s|\s+is|\s+are|\s+does|\s+do|\s+was)\b|\bmeaning\b|\bmean\b|\bhow\s+(?:is|was|are|come|did|does|do you)\b|\btell me (?:about|more)\b|\bdefine\b|\bwhere does\b/,
  error: /\berrors?\b|\berror[- ]rate\b|\b5xx\b|\bfailure rate\b|\bfailures?\b/,
  p95: /\bp95\b|\b95(?:th)?[ -]?percentile\b/,
  p99: /\bp99\b|\b99(?:th)?[ -]?percentile\b/,
  latency: /\blatency\b|\bresponse times?\b|\bslowness\b/,
  window: /\bwindows?\b/,
  bake: /\bbak(?:e|es|ed|ing)\b|\bsoak(?:s|ing)?\b/,
  stepDuration:
    /\b(?:each|every|per)\s+(?:canary\s+)?(?:step|stage)\b|\b(?:step|stage)\s+(?:duration|length|time)\b|\b(?:steps?|stages?)\s+(?:last|run|take|hold)\b|\bhold\s+(?:each|every)\b|\bdwell\b|\btime\s+(?:per|on each|for each)\s+(?:step|stage)\b|\b(?:longer|shorter|slower|faster|quicker)\s+(?:canary\s+)?(?:steps|stages)\b|\b(?:steps|stages)\s+(?:longer|shorter)\b/,
  /** One step more or fewer: "one step less", "drop a step", "add another step", "skip the 25% step". */
  stepCount:
    /\b(?:one|a)\s+(?:step|stage)\s+(?:less|fewer|more)\b|\b(?:one|a|an)\s+(?:more|extra|additional|fewer)\s+(?:step|stage)\b|\banother\s+(?:step|stage)\b|\b(?:fewer|more)\s+(?:steps|stages)\b|\b(?:add|insert|drop|remove|skip|delete|cut|lose)\s+(?:a|one|the last|the\s+\d+(?:\.\d+)?\s*%?)\s+(?:(?:canary|ramp)\s+)?(?:step|stage)\b/,
  ramp: /\bramp(?:s|ing)?\b|\bsteps\b|\bstages\b|\bschedule\b/,
  firstStep:
    /\b(?:first|initial|starting|opening)\s+(?:canary\s+)?(?:step|stage|share|percent(?:age)?|slice)\b|\bstart(?:s|ing)?\b|\bbegin(?:ning)?\b|\bcanary\b/,
  featureFlag: /\bfeature[- ]?flags?\b|\bflags?\b|\bkill[- ]?switch\b|\btoggle\b/,
  canary: /\bcanar(?:y|ies)\b/,
  rollbackPlan: /\broll[- ]?back\s+plans?\b/,
  rollbackWord: /\broll[- ]?back\b/,
  tests: /\btests?\b|\btesting\b|\bunit tests\b|\bintegration tests\b/,
  remove:
    /\b(?:drop|remove|skip|without|no|disable|delete|lose|ditch|get rid of|don't need|do not need|dont need|not require|no need for|unnecessary|not needed|optional)\b/,
  add: /\b(?:add|added|require|include|put|use|enable|need|want|with|keep|make .* required|insist|have|has|had|got|'ve|there(?:'s| is| are)|behind|gated|in place|exists?|ready|provide|ships? with|comes? with)\b/,
  raise: /\b(?:raise|increase|loosen|relax|bump|higher|up|extend|longer|lengthen|widen|more)\b/,
  lower: /\b(?:lower|decrease|tighten|reduce|down|shorter|shorten|cut|smaller|narrow|less|fewer|stricter)\b/,
  by: /\bby\s+\d/,
  double: /\bdouble\b|\btwice\b/,
  triple: /\btriple\b|\bthrice\b|\bthree times\b/,
  halve: /\bhalve\b|\bhalf\b/,
  third: /\b(?:a|one)\s+third\b/,
  quarter: /\b(?:a|one)\s+quarter\b/,
  /** "by 25%" of a duration or latency is relative ("reduce the bake by 25%"). */
  byPercent: /\bby\s+(\d+(?:\.\d+)?)\s*(?:%|percent)/,
  /** "3 minutes shorter", "10 ms higher": a delta even without "by". */
  deltaAfter:
    /\d\s*(?:%|percent|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)?\s+(?:longer|shorter|more|less|higher|lower|bigger|smaller|up|down)\b/,
  approvals: /\bapprovals?\b|\bapprovers?\b|\bsign[- ]?offs?\b/,
  approve:
    /\bapprove[ds]?\b|\bapproving\b|\bsign (?:it )?off\b|\bship it\b|\bmerge it\b|\badmin mode\b|\boverride\b|\bbypass\b|\bgo ahead and deploy\b|\bdeploy (?:it )?now\b|\bmark (?:it|this) (?:as )?approved\b/,
  reject: /\breject(?:ed|s)?\b|\bdeny\b|\bcancel (?:the )?(?:rollout|deployment)\b/,
  promote: /\bpromote[ds]?\b|\bpromotion\b|\bgo to 100\b|\bfull rollout\b/,
  rollbackNow: /\broll[- ]?back\b(?!\s*(?:plan|window|steps?|time))/,
  thanks:
    /\bthanks?\b|\bthank you\b|\bthx\b|\bty\b|\bcheers\b|\blgtm\b|\blooks good\b|\bsounds good\b|\bperfect\b|\bgreat\b|\bagreed?\b|\bdeal\b|\bworks for me\b|\ball good\b|^ok(?:ay)?\b|^fine\b|\baccept(?:ed)?\b|\bgood to go\b|\bnice\b|\bawesome\b|\bcool\b/,
  risk: /\brisk(?:y|s)?\b|\bscore\b|\blevel\b|\bstrict\b|\bcritical\b|\bhigh\b|\bdangerous\b|\bconservative\b|\bcautious\b/,
  floor: /\bfloor\b|\bpolicy\b|\bminimums?\b|\bnon[- ]negotiable\b/,
  mde: /\bminimum detectable\b|\bdetectable\b|\bmde\b|\bstatistical power\b|\bsample size\b/,
  guardrail: /\bguardrails?\b|\bthresholds?\b/,
  validator: /\bvalidators?\b|\bproofs?\b/,
  confidence: /\bconfidence\b|\bconfident\b/,
  bakeTerm: /\bbak(?:e|ing)\b|\bsoak\b/,
};

/** Whether a clause asks for a relative change without a number ("halve", "double", "a third less"). */
function hasRelativeWord(clause: string): boolean {
  return (
    RE.double.test(clause) ||
    RE.triple.test(clause) ||
    RE.halve.test(clause) ||
    RE.third.test(clause) ||
    RE.quarter.test(clause)
  );
}

const FACTOR_WORDS: [RiskFactor, RegExp][] = [
  ['database_migration', /\bmigrations?\b|\bdatabase\b|\bschema\b|\bdb\b|\bsql\b/],
  ['caching', /\bcach(?:e|es|ing)\b|\bredis\b|\bmemcached?\b/],
  ['api_contract', /\bapi\b|\bendpoints?\b|\bprotobuf\b|\bserialization\b|\bbreaking change\b/],
  ['traffic_pattern', /\btraffic\b|\bqps\b|\bload pattern\b/],
  ['dependency_update', /\bdependenc(?:y|ies)\b|\bpackages?\b|\blibrar(?:y|ies)\b|\bupgrade\b/],
  ['permissions_authz', /\bauth\w*\b|\bpermissions?\b|\brbac\b|\broles?\b/],
  ['encryption_secrets', /\bencrypt\w*\b|\bsecrets?\b|\bcertificates?\b|\btls\b/],
  ['networking_load_balancing', /\bnetwork\w*\b|\bload[- ]?balanc\w*\b|\bdns\b|\bingress\b|\bproxy\b/],
  ['storage', /\bstorage\b|\bdisks?\b|\bblobs?\b|\bvolumes?\b|\bs3\b/],
  ['configuration_flags', /\bconfig\w*\b|\bsettings?\b/],
  ['infrastructure_as_code', /\binfra\w*\b|\bbicep\b|\bterraform\b|\biac\b|\bdockerfile\b|\bhelm\b/],
  ['change_size_spread', /\bsize\b|\bspread\b|\bbig\b|\blarge\b|\blines\b|\bentropy\b|\bmany files\b/],
];

// ---------------------------------------------------------------------------------------------------------------
// Parsing

export function splitClauses(text: string): string[] {
  return text
    .split(/[;!?\n]+|\.(?=\s|$)|,(?!\s*\d)|\s+(?:and|but|also|then|plus|while)\s+(?!\d)/)
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

function metricOf(clause: string): GuardrailMetric | undefined {
  if (RE.p99.test(clause)) return 'latency_p99';
  if (RE.p95.test(clause)) return 'latency_p95';
  if (RE.error.test(clause)) return 'error_rate';
  if (RE.latency.test(clause)) return 'latency_p95';
  return undefined;
}

function validatorOf(clause: string): ValidatorKind | undefined {
  if (RE.featureFlag.test(clause)) return 'feature_flag';
  if (RE.rollbackPlan.test(clause)) return 'rollback_plan';
  if (RE.rollbackWord.test(clause) && (RE.add.test(clause) || RE.remove.test(clause)) && !/\bnow\b/.test(clause)) {
    return 'rollback_plan';
  }
  if (RE.canary.test(clause)) return 'canary';
  if (RE.tests.test(clause)) return 'tests';
  return undefined;
}

/** The term-change topic of a clause, independent of any number in it. */
export function detectTopic(clause: string): Topic | undefined {
  const metric = metricOf(clause);
  const hasValue = quantities(clause).length > 0 || hasRelativeWord(clause);
  if (RE.window.test(clause)) return metric ? { kind: 'window', metric } : { kind: 'window' };
  // "soak for 15 minutes per step" is the step duration: the per-step phrase wins over the bake word.
  if (RE.stepDuration.test(clause)) return { kind: 'step_duration' };
  if (RE.bake.test(clause)) return { kind: 'bake' };
  if (RE.stepCount.test(clause) && !metric) return { kind: 'ramp' };
  if (RE.ramp.test(clause) && !metric) return { kind: 'ramp' };
  if (metric) return { kind: 'threshold', metric };
  // "start smaller" names the first step without a value: ask for one (a bare "canary" stays the validator).
  const namesStart = /\b(?:first|initial|start(?:s|ing)?|begin(?:ning)?)\b/.test(clause);
  if (RE.firstStep.test(clause) && (hasValue || (namesStart && direction(clause) !== 0))) return { kind: 'first_step' };
  const validator = validatorOf(clause);
  if (validator) return { kind: 'validator', validator };
  return undefined;
}

function termOf(clause: string): ExplainTerm | undefined {
  if (RE.mde.test(clause)) return 'minimum_detectable_effect';
  if (RE.p99.test(clause)) return 'latency_p99';
  if (RE.p95.test(clause)) return 'latency_p95';
  if (RE.window.test(clause)) return 'window';
  if (RE.bakeTerm.test(clause)) return 'bake_time';
  if (RE.stepDuration.test(clause)) return 'step_duration';
  if (RE.featureFlag.test(clause)) return 'feature_flag';
  if (RE.rollbackPlan.test(clause)) return 'rollback_plan';
  if (/\b(?:first|initial|starting)\s+(?:canary\s+)?(?:step|stage|share)\b|\bstart(?:s|ing)? at\b/.test(clause)) {
    return 'first_step';
  }
  if (RE.ramp.test(clause)) return 'ramp';
  if (RE.error.test(clause)) return 'error_rate';
  if (RE.latency.test(clause)) return 'latency_p95';
  if (RE.canary.test(clause)) return 'canary';
  if (RE.tests.test(clause)) return 'tests';
  if (RE.approvals.test(clause)) return 'approvals';
  if (RE.floor.test(clause)) return 'floor';
  if (RE.confidence.test(clause)) return 'confidence';
  if (RE.guardrail.test(clause)) return 'guardrail';
  if (RE.validator.test(clause)) return 'validator';
  return undefined;
}

function factorOf(clause: string): RiskFactor | undefined {
  const id = /\b([a-z]+(?:_[a-z]+)+)\b/.exec(clause)?.[1];
  if (id && isRiskFactor(id)) return id;
  for (const [factor, re] of FACTOR_WORDS) if (re.test(clause)) return factor;
  return undefined;
}

/** "why 10%?": the term of the contract that has that value. */
function termByValue(clause: string, contract: Contract): ExplainTerm | undefined {
  const q = quantities(clause)[0];
  if (!q) return undefined;
  const t = contract.terms;
  const same = (a: number | undefined) => a !== undefined && Math.abs(a - q.value) < 1e-9;
  if (q.unit === 'percent' || q.unit === null) {
    if (same(t.ramp.steps[0]?.trafficPercent)) return 'first_step';
    if (same(t.guardrails.find((g) => g.metric === 'error_rate')?.threshold)) return 'error_rate';
  }
  if (q.unit === 'ms' || q.unit === null) {
    if (same(t.guardrails.find((g) => g.metric === 'latency_p95')?.threshold)) return 'latency_p95';
    if (same(t.guardrails.find((g) => g.metric === 'latency_p99')?.threshold)) return 'latency_p99';
  }
  return undefined;
}

/** The subject of a question; `message` (the whole text) helps when the clause only says "is that why?". */
function explainSubject(clause: string, message: string, contract: Contract): ExplainSubject {
  const term = termOf(clause) ?? termByValue(clause, contract);
  if (term) return { kind: 'term', term };
  const factor = factorOf(clause) ?? factorOf(message);
  if (factor) return { kind: 'factor', factor };
  if (RE.risk.test(clause)) return { kind: 'risk' };
  const other = termOf(message);
  if (other) return { kind: 'term', term: other };
  return { kind: 'contract' };
}

function forbiddenAction(clause: string): ForbiddenAction | undefined {
  if (RE.approvals.test(clause) && !RE.approve.test(clause.replace(RE.approvals, ''))) return 'approvals';
  if (RE.approve.test(clause)) return 'approve';
  if (RE.reject.test(clause)) return 'reject';
  if (RE.promote.test(clause)) return 'promote';
  if (RE.rollbackNow.test(clause)) return 'rollback';
  return undefined;
}

interface Scale {
  /** Relative change: current × factor. */
  factor?: number;
}

function relative(clause: string, dir: 1 | -1 | 0): Scale {
  if (RE.double.test(clause)) return { factor: 2 };
  if (RE.triple.test(clause)) return { factor: 3 };
  if (RE.halve.test(clause)) return { factor: 0.5 };
  // "a third less", "cut the bake by a third", "a quarter longer": a direction word says which way.
  const part = RE.third.test(clause) ? 1 / 3 : RE.quarter.test(clause) ? 1 / 4 : undefined;
  if (part !== undefined && dir !== 0) return { factor: 1 + dir * part };
  return {};
}

function direction(clause: string): 1 | -1 | 0 {
  const up = RE.raise.test(clause);
  const down = RE.lower.test(clause);
  if (up && !down) return 1;
  if (down && !up) return -1;
  return 0;
}

function guardrail(contract: Contract, metric: GuardrailMetric) {
  return contract.terms.guardrails.find((g) => g.metric === metric);
}

const ALL_METRICS: GuardrailMetric[] = ['error_rate', 'latency_p95', 'latency_p99'];

/** Amendments for a clause whose topic is known; undefined when the clause names no usable value. */
function amendmentsFor(
  topic: Topic,
  clause: string,
  contract: Contract,
  justification: string,
): { amendments: Amendment[]; notes: string[] } | { missing: string } {
  const dir = direction(clause);
  const rel = relative(clause, dir);
  // "by 25%" of a quantity that is not itself a percentage is a relative change, not a value.
  const byPercent = RE.byPercent.exec(clause);
  const percentIsRelative =
    byPercent !== null &&
    topic.kind !== 'first_step' &&
    topic.kind !== 'ramp' &&
    !(topic.kind === 'threshold' && topic.metric === 'error_rate');
  if (percentIsRelative && dir !== 0) rel.factor = 1 + (dir * Number(byPercent[1])) / 100;
  const qs = percentIsRelative
    ? targetQuantities(clause).filter((x) => x.unit !== 'percent')
    : targetQuantities(clause);
  const q = qs[0];
  const isBy = RE.by.test(clause) || RE.deltaAfter.test(clause);
  const notes: string[] = [];
  const adjust = (current: number, value: number | undefined): number | undefined => {
    if (rel.factor !== undefined && value === undefined) return current * rel.factor;
    if (value === undefined) return undefined;
    if (isBy) return dir < 0 ? current - value : current + value;
    return value;
  };

  switch (topic.kind) {
    case 'threshold': {
      const g = guardrail(contract, topic.metric);
      let value = q?.value;
      if (
        q &&
        topic.metric === 'error_rate' &&
        (q.unit === 'ms' || q.unit === 's' || q.unit === 'min' || q.unit === 'h')
      ) {
        return { missing: 'the error-rate guardrail is a percentage, not a duration' };
      }
      if (q && topic.metric !== 'error_rate') {
        if (q.unit === 'percent') {
          return { missing: 'latency guardrails are in milliseconds, not percent' };
        }
        if (q.unit === 's') value = q.value * 1000;
      }
      const next = g ? adjust(g.threshold, value) : value;
      if (next === undefined) return { missing: 'no value given' };
      return {
        amendments: [{ kind: 'set_guardrail_threshold', metric: topic.metric, value: round(next), justification }],
        notes,
      };
    }
    case 'window': {
      if (q?.unit === 'percent') return { missing: 'a window is a duration, not a percentage' };
      const metrics = topic.metric ? [topic.metric] : ALL_METRICS;
      const amendments: Amendment[] = [];
      for (const metric of metrics) {
        const g = guardrail(contract, metric);
        if (!g) continue;
        let value: number | undefined;
        if (q) {
          const s = toSeconds(q);
          if (s.assumed) notes.push(`I read “${num(q.value)}” as minutes.`);
          value = s.seconds;
        }
        const next = adjust(g.windowSeconds, value);
        if (next === undefined) return { missing: 'no duration given' };
        amendments.push({
          kind: 'set_guardrail_window',
          metric,
          windowSeconds: Math.max(1, Math.round(next)),
          justification,
        });
      }
      if (amendments.length === 0) return { missing: 'this contract has no guardrail for that metric' };
      return { amendments, notes: dedupe(notes) };
    }
    case 'bake':
    case 'step_duration': {
      if (q?.unit === 'percent') return { missing: 'a duration needs a time unit, not percent' };
      const current =
        topic.kind === 'bake'
          ? contract.terms.ramp.bakeTimeSeconds
          : (contract.terms.ramp.steps[0]?.minDurationSeconds ?? 0);
      let value: number | undefined;
      if (q) {
        const s = toSeconds(q);
        if (s.assumed) notes.push(`I read “${num(q.value)}” as minutes.`);
        value = s.seconds;
      }
      const next = adjust(current, value);
      if (next === undefined) return { missing: 'no duration given' };
      const seconds = Math.max(0, Math.round(next));
      return {
        amendments: [
          topic.kind === 'bake'
            ? { kind: 'set_bake_time', seconds, justification }
            : { kind: 'set_step_duration', seconds: Math.max(1, seconds), justification },
        ],
        notes,
      };
    }
    case 'first_step': {
      const current = contract.terms.ramp.steps[0]?.trafficPercent ?? 0;
      if (q && q.unit !== null && q.unit !== 'percent') return { missing: 'the first step is a share of traffic in %' };
      const next = adjust(current, q?.value);
      if (next === undefined) return { missing: 'no percentage given' };
      return { amendments: [{ kind: 'set_first_canary_step', percent: round(next), justification }], notes };
    }
    case 'ramp': {
      if (RE.stepCount.test(clause)) return rampWithOneStepMoreOrLess(clause, contract, justification);
      const steps = quantities(clause)
        .filter((x) => x.unit === null || x.unit === 'percent')
        .map((x) => x.value)
        .filter((v) => v > 0 && v < 100);
      if (steps.length === 0) return { missing: 'no step percentages given' };
      if (steps.length === 1) {
        return { amendments: [{ kind: 'set_first_canary_step', percent: steps[0] as number, justification }], notes };
      }
      return { amendments: [{ kind: 'set_ramp_steps', steps, justification }], notes };
    }
    case 'validator': {
      const removing = RE.remove.test(clause);
      const adding = RE.add.test(clause) || (!removing && dir > 0);
      if (removing)
        return { amendments: [{ kind: 'remove_validator', validator: topic.validator, justification }], notes };
      if (adding) return { amendments: [{ kind: 'add_validator', validator: topic.validator, justification }], notes };
      return { missing: 'say whether to add or drop it' };
    }
  }
}

/** The ramp with one step added (in the widest gap, 100 % included) or removed (the one named, else the last). */
function rampWithOneStepMoreOrLess(
  clause: string,
  contract: Contract,
  justification: string,
): { amendments: Amendment[]; notes: string[] } | { missing: string } {
  const current = contract.terms.ramp.steps.map((s) => s.trafficPercent);
  const adding = /\b(?:add|insert|more|extra|additional|another)\b/.test(clause) && !/\b(?:less|fewer)\b/.test(clause);
  if (adding) {
    const points = [0, ...current, 100];
    let widest = 1;
    for (let i = 1; i < points.length; i++) {
      if (
        (points[i] as number) - (points[i - 1] as number) >
        (points[widest] as number) - (points[widest - 1] as number)
      )
        widest = i;
    }
    const inserted = round(((points[widest - 1] as number) + (points[widest] as number)) / 2);
    const steps = [...current, inserted].sort((a, b) => a - b);
    return {
      amendments: [{ kind: 'set_ramp_steps', steps, justification }],
      notes: [`I added a ${num(inserted)} % step, in the widest gap of the ramp.`],
    };
  }
  if (current.length === 0) return { missing: 'the ramp has no canary steps to drop' };
  if (current.length === 1)
    return { missing: 'the ramp has a single canary step; say “drop the canary” to go without it' };
  const named = quantities(clause).find((x) => x.unit === 'percent' || x.unit === null)?.value;
  if (named !== undefined && !current.includes(named)) {
    return { missing: `the ramp has no ${num(named)} % step` };
  }
  const dropped = named ?? (current[current.length - 1] as number);
  const steps = current.filter((v) => v !== dropped);
  return {
    amendments: [{ kind: 'set_ramp_steps', steps, justification }],
    notes: named === undefined ? [`I dropped the last canary step (${num(dropped)} %).`] : [],
  };
}

const DURATION_UNITS: Unit[] = ['s', 'min', 'h', null];

/** Whether a bare quantity can belong to a topic (a percentage cannot be a bake time). */
function unitFits(topic: Topic, q: Quantity | undefined): boolean {
  if (!q) return true;
  switch (topic.kind) {
    case 'threshold':
      return topic.metric === 'error_rate'
        ? q.unit === 'percent' || q.unit === null
        : q.unit !== 'percent' && q.unit !== 'min' && q.unit !== 'h';
    case 'window':
    case 'bake':
    case 'step_duration':
      return DURATION_UNITS.includes(q.unit);
    case 'first_step':
    case 'ramp':
      return q.unit === 'percent' || q.unit === null;
    case 'validator':
      return false;
  }
}

function round(x: number): number {
  return Number.parseFloat(x.toPrecision(10));
}

function num(x: number): string {
  return String(round(x));
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

/**
 * Parses one chat message. `previousTopic` comes from the thread's earlier turns, so a bare value ("what about 20%?")
 * applies to the term discussed last. `justification` is recorded on every amendment (the user's own words).
 */
export function parseMessage(message: string, contract: Contract, previousTopic?: Topic): ParsedMessage {
  const text = normalise(message);
  const justification = message.trim().slice(0, 2000);
  const intents: Intent[] = [];
  let topic = previousTopic;
  let lastVerb: 'add' | 'remove' | undefined;
  let lastTopic: Topic | undefined;

  for (const clause of splitClauses(text)) {
    if (RE.explain.test(clause) && !/\bwhat (?:about|if)\b|\bhow about\b/.test(clause)) {
      intents.push({ type: 'explain', subject: explainSubject(clause, text, contract) });
      continue;
    }
    let clauseTopic = detectTopic(clause);
    const hasNumber = quantities(clause).length > 0 || hasRelativeWord(clause);
    // "add tests and a feature flag": the second clause inherits the verb of the first.
    let effective = clause;
    if (clauseTopic?.kind === 'validator') {
      if (RE.remove.test(clause)) lastVerb = 'remove';
      else if (RE.add.test(clause)) lastVerb = 'add';
      else if (lastVerb) effective = `${lastVerb === 'add' ? 'add' : 'drop'} ${clause}`;
    }
    const action = forbiddenAction(clause);
    if (!clauseTopic && action) {
      intents.push({ type: 'forbidden', action });
      continue;
    }
    // A bare value ("what about 20%?") continues the term discussed last, when its unit fits that term.
    if (!clauseTopic && hasNumber) {
      const inherited = [lastTopic, topic].find((t) => t !== undefined && unitFits(t, quantities(clause)[0]));
      if (inherited) clauseTopic = inherited;
    }
    if (clauseTopic) {
      const result = amendmentsFor(clauseTopic, effective, contract, justification);
      topic = clauseTopic;
      lastTopic = clauseTopic;
      if ('missing' in result) {
        if (clauseTopic.kind === 'validator' && !hasNumber) {
          // "feature flag?" with no verb: treat as a question about it.
          intents.push({ type: 'explain', subject: { kind: 'term', term: clauseTopic.validator } });
        } else {
          intents.push({ type: 'needs_value', topic: clauseTopic, reason: result.missing });
        }
      } else {
        intents.push({ type: 'amend', topic: clauseTopic, amendments: result.amendments, notes: result.notes });
      }
      continue;
    }
    if (RE.thanks.test(clause)) {
      intents.push({ type: 'thanks' });
      continue;
    }
    const suggestion = closestTopic(clause);
    intents.push(suggestion ? { type: 'unknown', text: clause, suggestion } : { type: 'unknown', text: clause });
  }
  // "shorter steps, say 4 min": the value came in the next clause, so the request for a value is moot.
  const answered = new Set(intents.flatMap((i) => (i.type === 'amend' ? [i.topic.kind] : [])));
  const kept = intents.filter((i) => i.type !== 'needs_value' || !answered.has(i.topic.kind));
  return topic ? { intents: kept, topic } : { intents: kept };
}

/** The most recent term-change topic in the user's earlier messages, newest first. */
export function topicFromHistory(userMessages: readonly string[]): Topic | undefined {
  for (let i = userMessages.length - 1; i >= 0; i--) {
    const text = normalise(userMessages[i] ?? '');
    const clauses = splitClauses(text);
    for (let j = clauses.length - 1; j >= 0; j--) {
      const clause = clauses[j] ?? '';
      if (RE.explain.test(clause)) continue;
      const t = detectTopic(clause);
      if (t) return t;
    }
  }
  return undefined;
}

/** Loose cues for a clause no rule understood: the term it is most likely about, if any. */
const CUES: [RegExp, (clause: string) => Topic][] = [
  [
    /\bwindows?\b/,
    (c) => (metricOf(c) ? { kind: 'window', metric: metricOf(c) as GuardrailMetric } : { kind: 'window' }),
  ],
  [/\b(?:bake|baking|soak)\b/, () => ({ kind: 'bake' })],
  [
    /\b(?:steps?|stages?)\b.*\b(?:time|long|longer|shorter|slower|faster|quick(?:er)?|minutes?)\b|\b(?:time|long|longer|shorter|slower|faster|minutes?)\b.*\b(?:steps?|stages?)\b/,
    () => ({ kind: 'step_duration' }),
  ],
  [
    /\b(?:error|errors|latency|p95|p99|guardrails?|thresholds?)\b/,
    (c) => ({ kind: 'threshold', metric: metricOf(c) ?? 'error_rate' }),
  ],
  [/\b(?:first|initial|start(?:s|ing)?|begin(?:ning)?|canary|traffic|share)\b/, () => ({ kind: 'first_step' })],
  [/\b(?:ramp|steps|stages|schedule)\b/, () => ({ kind: 'ramp' })],
];

function closestTopic(clause: string): Topic | undefined {
  const validator = validatorOf(clause);
  for (const [cue, topic] of CUES) if (cue.test(clause)) return topic(clause);
  return validator ? { kind: 'validator', validator } : undefined;
}
