/** The chat's error cards: what went wrong, where, and what to do instead. */
import { RequestValidationError } from '../domain/errors.js';
import { type AreaCode, type CodedError, isCodedError } from '../errors.js';
import type { AssessSource } from './commands.js';
import type { ChatCard } from './port.js';

export class ChatInputError extends Error implements CodedError {
  constructor(readonly code: AreaCode<'chat'>) {
    super(code);
    this.name = 'ChatInputError';
  }
}

/** The card for a deployment request that could not be read; rethrows what is not an input problem. */
export function requestErrorCard(error: unknown, source: AssessSource): ChatCard {
  if (error instanceof RequestValidationError) {
    const where =
      source.kind === 'json' ? (source.from === 'attachment' ? 'The attached JSON' : 'The JSON') : 'The request';
    return errorCard({
      title: 'I could not read that deployment request',
      summary: `${where} has ${error.issues.length === 1 ? 'a problem' : `${error.issues.length} problems`}:`,
      problems: error.issues.map((i) => ({ path: i.path, message: i.message })),
      hint: 'Type “help” for the keys and formats I understand.',
    });
  }
  if (error instanceof ChatInputError && error.code === 'chat_no_input') {
    return errorCard({
      title: 'assess needs something to assess',
      summary: 'Give key=value pairs, paste or attach a deployment JSON, or link a pull request.',
      problems: [{ path: 'assess', message: 'no input after the command and no JSON attachment' }],
      hint: 'Example: assess service=checkout version=2.4.0 files=src/api/cart.ts:80',
    });
  }
  if (error instanceof ChatInputError && error.code === 'chat_pull_requests_disabled') {
    return errorCard({
      title: 'Pull request links are not enabled',
      summary:
        'Reading a pull request needs a Git host token (GITHUB_TOKEN or a GitHub App) in the bot’s configuration.',
      problems: [{ path: 'assess', message: 'a pull request link was given but no Git host token is configured' }],
      hint: 'Paste the deployment JSON or use key=value pairs instead.',
    });
  }
  if (isCodedError(error)) {
    return errorCard({
      title: 'I could not read that change',
      summary: error.message.replace(/[\r\n]+/g, ' '),
      problems: [{ path: source.kind === 'pull-request' ? source.url : 'assess', message: error.code }],
    });
  }
  throw error;
}

export function unknownContract(id: string): ChatCard {
  return errorCard({
    title: 'No such contract',
    summary: `I have no contract with the id ${id}.`,
    problems: [{ path: 'contract-id', message: `${id} is unknown` }],
    hint: 'See “history” for recent contracts.',
  });
}

export function noContractHere(command: string): ChatCard {
  return errorCard({
    title: 'Which contract?',
    summary: `There is no contract in this thread yet. Name one with “${command} <contract-id>”, or see “history”.`,
    problems: [{ path: command, message: 'no contract id given and none in this conversation' }],
  });
}

export function invalidArgument(command: string, name: string, value: string): ChatCard {
  return errorCard({
    title: `${command}: that is not a valid ${name}`,
    summary: `${name} takes letters, digits and . _ : - (at most 200 characters).`,
    problems: [{ path: name, message: `"${value.slice(0, 60)}" is not a valid ${name}` }],
  });
}

export function unavailable(command: string, summary: string, problem: string): ChatCard {
  return errorCard({ title: `${command} is not available`, summary, problems: [{ path: command, message: problem }] });
}

function errorCard(input: Extract<ChatCard, { kind: 'error' }>['input']): ChatCard {
  return { kind: 'error', input };
}
