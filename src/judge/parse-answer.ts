// Small local models often wrap their JSON in a code fence or a sentence even when asked not to;
// taking the outermost object is what a reader would do, and the schema check still applies.

export type ParsedAnswer = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * The JSON value of a model's answer: the provider's parsed `json` when it has one, else the
 * text itself, else the text inside a ```json fence, else the span from the first `{` to the last `}`.
 */
export function parseAnswer(answer: { text: string; json?: unknown }): ParsedAnswer {
  if (answer.json !== undefined) return { ok: true, value: answer.json };
  const text = answer.text.trim();
  if (text === '') return { ok: false, reason: 'the answer is empty' };
  const candidates = [text];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced) candidates.push(fenced[1].trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(text.slice(first, last + 1));
  let firstError = '';
  for (const candidate of candidates) {
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (err) {
      firstError ||= (err as Error).message;
    }
  }
  return { ok: false, reason: `the answer is not valid JSON (${firstError})` };
}
