/**
 * A notification as a Slack incoming-webhook message: `text` (the fallback shown in notifications)
 * and Block Kit `blocks` (a header, the facts as fields, one line per cluster, a context footer).
 * Slack's limits are kept: a header of at most 150 characters, at most 10 fields of at most 2,000,
 * a section text of at most 3,000.
 */

import type { NotificationSummary } from './notification-summary';

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

/** Slack's mrkdwn control characters, escaped as its docs ask. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * @example slackMessage(summarize(notification)) // { text: 'Propagation failed: prod/app-team/db', blocks: […] }
 */
export function slackMessage(summary: NotificationSummary): SlackMessage {
  const icon =
    summary.tone === 'good' ? ':white_check_mark:' : summary.tone === 'warning' ? ':warning:' : ':x:';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(summary.title, 150), emoji: true } },
    {
      type: 'section',
      fields: summary.facts.slice(0, 10).map((fact) => ({
        type: 'mrkdwn',
        // Names in code spans: Slack would read `_` and `*` in a secret or cluster name as markup.
        text: cut(`*${escapeMrkdwn(fact.label)}*\n\`${escapeMrkdwn(fact.value)}\``, 2000),
      })),
    },
  ];
  if (summary.clusterLines.length > 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: cut(summary.clusterLines.map(escapeMrkdwn).join('\n'), 3000) },
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(summary.footer) }] });
  return { text: `${icon} ${escapeMrkdwn(summary.title)}`, blocks };
}
