/**
 * Parses an expanded card with the official `adaptivecards` library (its UMD bundle runs in Node without a DOM for
 * parsing and validation) and returns every problem it reports: parse events and the recursive property validation.
 */
import { createRequire } from 'node:module';

/** The few parts of the library used here (its own typings pull in its TypeScript sources). */
interface AdaptiveCardsLibrary {
  AdaptiveCard: new () => {
    parse(source: unknown, context?: unknown): void;
    validateProperties(): { validationEvents: { event: number; message: string }[] };
    version?: { toString(): string };
  };
  SerializationContext: new () => { eventCount: number; getEventAt(i: number): { event: number; message: string } };
  ValidationEvent: Record<number, string>;
}

const require = createRequire(import.meta.url);
// The package's ESM entry uses extensionless imports that Node cannot resolve; its UMD bundle is self-contained.
const AC = require('adaptivecards/dist/adaptivecards.js') as AdaptiveCardsLibrary;

export function parseAdaptiveCard(card: unknown): { problems: string[]; version: string | undefined } {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    problems.push(`${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  for (const event of parsed.validateProperties().validationEvents) {
    problems.push(`${AC.ValidationEvent[event.event]}: ${event.message}`);
  }
  return { problems, version: parsed.version?.toString() };
}
