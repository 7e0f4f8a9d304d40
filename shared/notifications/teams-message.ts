/**
 * A notification as a Microsoft Teams webhook message (Workflows' "post to a channel when a webhook
 * request is received", and the older incoming webhooks): `{type: 'message', attachments: [one
 * Adaptive Card]}` with the title, the facts as a FactSet and one line per cluster.
 */

import type { NotificationSummary, Tone } from './notification-summary';

export interface TeamsMessage {
  readonly type: 'message';
  readonly attachments: readonly {
    readonly contentType: 'application/vnd.microsoft.card.adaptive';
    readonly contentUrl: null;
    readonly content: Record<string, unknown>;
  }[];
}

const COLOR: Record<Tone, string> = { good: 'Good', warning: 'Warning', attention: 'Attention' };

/**
 * @example teamsMessage(summarize(notification)).attachments[0].content.type // 'AdaptiveCard'
 */
export function teamsMessage(summary: NotificationSummary): TeamsMessage {
  const text = (value: string, extra: Record<string, unknown> = {}) => ({
    type: 'TextBlock',
    text: value,
    wrap: true,
    ...extra,
  });
  const body = [
    text(summary.title, { size: 'Medium', weight: 'Bolder', color: COLOR[summary.tone] }),
    { type: 'FactSet', facts: summary.facts.map((fact) => ({ title: fact.label, value: fact.value })) },
    ...summary.clusterLines.map((line) => text(line, { spacing: 'Small' })),
    text(summary.footer, { isSubtle: true, size: 'Small' }),
  ];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
        },
      },
    ],
  };
}
