// Access log lines in the Common Log Format (host ident authuser [date] "request" status bytes),
// with the response time in milliseconds after it. The user field is always "-": the bearer token
// is never written anywhere.
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface AccessEntry {
  remote: string | undefined;
  method: string;
  url: string;
  httpVersion: string;
  status: number;
  bytes: string | null;
  ms: number;
  at?: Date;
}

/** `[10/Oct/2000:13:55:36 +0000]`, in UTC. */
export function clfDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

export function accessLogLine(e: AccessEntry): string {
  const request = `${e.method} ${e.url} HTTP/${e.httpVersion}`.replace(/["\\\n\r]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`,
  );
  return `${e.remote ?? '-'} - - ${clfDate(e.at ?? new Date())} "${request}" ${e.status} ${e.bytes ?? '-'} ${e.ms.toFixed(1)}ms`;
}
