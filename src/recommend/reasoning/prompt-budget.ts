// Fitting the recommender's prompt into the model's context window with room for the answer:
// tokens are counted with the model's own tokenizer where the provider has one (in-process
// llama.cpp) and estimated otherwise (HTTP servers: CHARS_PER_TOKEN_ESTIMATE characters per
// token, erring long). What does not fit is trimmed, least useful first: the evidence least
// similar to the dataset, then the last insights, then the lowest-ranked candidates beyond the
// first three; the user is told what was left out.
import { estimateTokens, type ChatMessage, type LanguageModel } from '../../llm/types.ts';
import type { ReasoningContext } from './reasoning-context.ts';

/** Assumed when a provider cannot say (Ollama's default num_ctx). */
const DEFAULT_CONTEXT = 4096;
/** Chat-template tokens around each message (role markers, separators), counted on top of its text. */
const PER_MESSAGE_OVERHEAD = 8;
const MIN_SHORTLIST = 3;

export interface PromptBudget {
  /** The model's window, prompt and answer together. */
  context: number;
  /** Tokens kept free for the answer. */
  answer: number;
  /** Whether counts are estimates (no tokenizer). */
  estimated: boolean;
  count(messages: ChatMessage[]): Promise<number>;
}

export async function promptBudget(llm: LanguageModel, maxTokens: number): Promise<PromptBudget> {
  const context = (await llm.contextTokens?.()) ?? DEFAULT_CONTEXT;
  const counter = llm.countTokens?.bind(llm);
  return {
    context,
    // A small window must still leave the prompt some room: the answer gets at most half.
    answer: Math.min(maxTokens, Math.floor(context / 2)),
    estimated: counter === undefined,
    async count(messages) {
      let n = 0;
      for (const m of messages)
        n +=
          PER_MESSAGE_OVERHEAD + (counter ? await counter(m.content) : estimateTokens(m.content));
      return n;
    },
  };
}

export interface FittedPrompt {
  context: ReasoningContext;
  messages: ChatMessage[];
  tokens: number;
  /** Why and what was trimmed, for the user; undefined when nothing was. */
  notice?: string;
  /** Set when even the most trimmed prompt does not fit. */
  overflow?: string;
}

/** Contexts with one more item left out each, least useful first; the first is the full one. */
function* trimmed(
  context: ReasoningContext,
): Generator<{ context: ReasoningContext; dropped: string }> {
  let ctx = context;
  yield { context: ctx, dropped: '' };
  const bySimilarity = [...ctx.evidence].sort((a, b) => a.similarity - b.similarity);
  for (const e of bySimilarity) {
    ctx = { ...ctx, evidence: ctx.evidence.filter((x) => x.id !== e.id) };
    yield { context: ctx, dropped: 'evidence' };
  }
  while (ctx.insights.length) {
    ctx = { ...ctx, insights: ctx.insights.slice(0, -1) };
    yield { context: ctx, dropped: 'insight' };
  }
  while (ctx.shortlist.length > MIN_SHORTLIST) {
    ctx = { ...ctx, shortlist: ctx.shortlist.slice(0, -1) };
    yield { context: ctx, dropped: 'candidate' };
  }
}

/** The fullest context whose prompt fits the budget. */
export async function fitPrompt(
  context: ReasoningContext,
  build: (ctx: ReasoningContext) => ChatMessage[],
  budget: PromptBudget,
): Promise<FittedPrompt> {
  const room = budget.context - budget.answer;
  const dropped = { evidence: 0, insight: 0, candidate: 0 } as Record<string, number>;
  let last: FittedPrompt | undefined;
  let full = 0;
  for (const step of trimmed(context)) {
    if (step.dropped) dropped[step.dropped]++;
    const messages = build(step.context);
    const tokens = await budget.count(messages);
    if (!step.dropped) full = tokens;
    last = { context: step.context, messages, tokens };
    if (tokens <= room) break;
  }
  const fitted = last!;
  const how = budget.estimated ? 'estimated' : 'counted';
  const parts = Object.entries(dropped)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}${n > 1 ? 's' : ''}`);
  if (fitted.tokens > room)
    return {
      ...fitted,
      overflow: `the prompt needs ${fitted.tokens} tokens (${how}) even trimmed, but the model's context of ${budget.context} tokens leaves ${room} after ${budget.answer} for the answer: use a model with a larger window (--llm-context) or shorter prompts (--prompts-dir)`,
    };
  if (parts.length)
    fitted.notice = `The LLM prompt was trimmed to fit the model's context of ${budget.context} tokens (${budget.answer} kept for the answer; ${full} tokens ${how} in full): left out ${parts.join(', ')}, least similar first.`;
  return fitted;
}
