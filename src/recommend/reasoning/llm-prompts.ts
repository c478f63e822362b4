// The recommender's messages: system template, then one user message made of the context
// template and the strategy's task template, whose {{feedback}} carries what the previous
// attempt got wrong. One fresh user message per attempt (rather than a growing chat) keeps the
// prompt short for small local models.
import type { Attempt } from '../../core/index.ts';
import { jsonSchemaOf } from '../../core/json-schema.ts';
import {
  citableIds,
  contextValues,
  renderTemplate,
  type PromptTemplates,
} from '../../judge/index.ts';
import type { ChatMessage } from '../../llm/types.ts';
import { hyperparameterSchema } from './hyperparameter-schema.ts';
import type { ReasoningContext } from './reasoning-context.ts';
import { pushAll } from '../../core/arrays.ts';

export type LlmStrategy = 'llm' | 'hybrid';

/** The previous answer shown back to the model is cut here: enough to see the mistake, not a prompt's worth. */
const MAX_PREVIOUS_ANSWER_CHARS = 1500;

const BASE_PROPOSAL_SCHEMA = jsonSchemaOf('LlmProposal') as { properties: Record<string, unknown> };

/**
 * The LlmProposal schema narrowed to this request: the model must be one of the allowed models
 * (the shortlist's for hybrid), the hyperparameters those of the search space (types, ranges,
 * conditions), and every cited id one that exists. Sent as response_format or
 * compiled to a grammar, it rules out invented models and citations before the rules see them.
 */
export function proposalSchemaFor(context: ReasoningContext, strategy: LlmStrategy) {
  const models =
    strategy === 'hybrid'
      ? [...new Set(context.shortlist.map((c) => c.model))]
      : context.models.map((m) => m.id);
  const ids = [...citableIds(context)].sort();
  const properties = {
    ...BASE_PROPOSAL_SCHEMA.properties,
    model: { type: 'string', enum: models },
    hyperparameters: hyperparameterSchema(context.space),
    ...(ids.length
      ? { citedEvidence: { type: 'array', items: { type: 'string', enum: ids } } }
      : {}),
  };
  return { name: 'LlmProposal', jsonSchema: { ...BASE_PROPOSAL_SCHEMA, properties } };
}

/** The {{feedback}} section: empty on the first attempt, otherwise what to fix in the previous answer. */
function renderFeedback(previous: Attempt | undefined, maxAttempts: number): string {
  if (!previous) return '';
  const lines = [
    '',
    `# Your previous answer (attempt ${previous.attempt} of ${maxAttempts}) was rejected`,
  ];
  const raw = previous.raw.trim();
  if (raw)
    lines.push(
      'Previous answer:',
      raw.length > MAX_PREVIOUS_ANSWER_CHARS
        ? `${raw.slice(0, MAX_PREVIOUS_ANSWER_CHARS)} ...`
        : raw,
    );
  if (previous.ruleViolations.length) lines.push('Problems to fix:');
  pushAll(
    lines,
    previous.ruleViolations.map((v) => `- ${v}`),
  );
  if (previous.judge)
    lines.push(
      `Reviewer's scores (1-5): format ${previous.judge.format}, accuracy ${previous.judge.accuracy}, completeness ${previous.judge.completeness}.`,
      `Reviewer's feedback: ${previous.judge.feedback}`,
    );
  if (previous.judgeError) lines.push(`The reviewer could not score it: ${previous.judgeError}`);
  lines.push('Write a corrected answer as one JSON object following the output schema.');
  return lines.join('\n');
}

export function buildRecommenderMessages(req: {
  context: ReasoningContext;
  strategy: LlmStrategy;
  templates: PromptTemplates;
  attempt: number;
  maxAttempts: number;
  previous?: Attempt;
}): ChatMessage[] {
  const values = {
    ...contextValues(req.context),
    schema: JSON.stringify(proposalSchemaFor(req.context, req.strategy).jsonSchema),
    feedback: renderFeedback(req.previous, req.maxAttempts),
    attempt: String(req.attempt),
    maxAttempts: String(req.maxAttempts),
  };
  const task = `task-${req.strategy}.md` as const;
  const user = [
    renderTemplate(req.templates['context.md'], values).trimEnd(),
    renderTemplate(req.templates[task], values).trimEnd(),
  ].join('\n\n');
  return [
    { role: 'system', content: renderTemplate(req.templates['system.md'], values).trimEnd() },
    { role: 'user', content: user },
  ];
}
