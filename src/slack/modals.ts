/**
 * The two modals behind the contract card's buttons: Reject asks for a required reason, Negotiate for the change the
 * user wants. Each carries the clicked card's coordinates in `private_metadata` (Slack returns it unchanged inside the
 * signed submission), so the submission can be decided like a click and the card edited in place.
 */
import type { types } from '@slack/bolt';
import { z } from 'zod';
import { clip, escapeMrkdwn as e } from './mrkdwn.js';

export const REJECT_CALLBACK = 'contract.reject';
export const NEGOTIATE_CALLBACK = 'contract.negotiate';
export const REASON_BLOCK = 'reason';
export const MESSAGE_BLOCK = 'message';

/** Longest reject reason (the chat service refuses longer ones) and negotiation request. */
export const MAX_REASON_CHARS = 500;
export const MAX_REQUEST_CHARS = 2000;

export const modalMetadataSchema = z.object({
  contractId: z.string().min(1).max(300),
  revision: z.number().int().positive(),
  channel: z.string().min(1).max(40),
  /** The clicked card. */
  messageTs: z.string().min(1).max(40),
  /** The thread the card is in (the card's own ts when it is a thread root). */
  threadTs: z.string().min(1).max(40),
});
export type ModalMetadata = z.infer<typeof modalMetadataSchema>;

export function rejectModal(meta: ModalMetadata): types.ModalView {
  return {
    type: 'modal',
    callback_id: REJECT_CALLBACK,
    title: plain('Reject contract'),
    submit: plain('Reject'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(meta),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            `Reject *${e(meta.contractId)}*, revision ${meta.revision}? The reason is shown on the card and kept in the audit log.`,
            3000,
          ),
        },
      },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain('Reason'),
        element: {
          type: 'plain_text_input',
          action_id: REASON_BLOCK,
          multiline: true,
          min_length: 1,
          max_length: MAX_REASON_CHARS,
          placeholder: plain('e.g. The migration is not reversible; add a rollback script first.'),
        },
      },
    ],
  };
}

export function negotiateModal(meta: ModalMetadata): types.ModalView {
  return {
    type: 'modal',
    callback_id: NEGOTIATE_CALLBACK,
    title: plain('Negotiate terms'),
    submit: plain('Send'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(meta),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            `What should change in *${e(meta.contractId)}* (revision ${meta.revision})? The answer comes into the contract's thread; accepted changes post a new revision and void earlier approvals.`,
            3000,
          ),
        },
      },
      {
        type: 'input',
        block_id: MESSAGE_BLOCK,
        label: plain('Your request'),
        element: {
          type: 'plain_text_input',
          action_id: MESSAGE_BLOCK,
          multiline: true,
          min_length: 1,
          max_length: MAX_REQUEST_CHARS,
          placeholder: plain(
            'e.g. start the canary at 20% · extend the bake time to 2 hours · explain database_migration',
          ),
        },
      },
    ],
  };
}

/** A submitted modal's metadata, or undefined when it is not ours or was tampered with. */
export function readModalMetadata(privateMetadata: unknown): ModalMetadata | undefined {
  if (typeof privateMetadata !== 'string' || privateMetadata.length > 3000) return undefined;
  try {
    const parsed = modalMetadataSchema.safeParse(JSON.parse(privateMetadata));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const stateValuesSchema = z.record(z.record(z.object({ value: z.string().nullish() }).passthrough()));

/** The text typed into an input block (block_id and action_id are the same here); '' when absent. */
export function inputValue(stateValues: unknown, block: string): string {
  const parsed = stateValuesSchema.safeParse(stateValues);
  if (!parsed.success) return '';
  return (parsed.data[block]?.[block]?.value ?? '').trim();
}

function plain(text: string): types.PlainTextElement {
  return { type: 'plain_text', text, emoji: true };
}
