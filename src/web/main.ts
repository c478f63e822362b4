// The page's shell: a skip link, navigation between the three views (by URL hash, so the browser's
// back button and links work), and a token prompt when the server asks for one.
import type { KbOverview } from '../index.ts';
import './style.css';
import { choices, getJson, setToken, whenUnauthorized, type Choices } from './api.ts';
import { benchView } from './bench.ts';
import { h } from './dom.ts';
import { kbView } from './kb.ts';
import { recommendView } from './recommend.ts';

const VIEWS = [
  { hash: '#recommend', title: 'Recommend' },
  { hash: '#kb', title: 'Knowledge base' },
  { hash: '#bench', title: 'Bench' },
];

const main = h('main', { id: 'main', tabindex: -1 });
const nav = h(
  'nav',
  { 'aria-label': 'Views' },
  h(
    'ul',
    {},
    VIEWS.map((v) => h('li', {}, h('a', { href: v.hash }, v.title))),
  ),
);
const tokenInput = h('input', { id: 'token', type: 'password', autocomplete: 'off' });
const tokenForm = h(
  'form',
  { class: 'token', hidden: true, 'aria-label': 'Access token' },
  h('label', { for: 'token' }, 'This server needs a token'),
  tokenInput,
  h('button', { type: 'submit', class: 'secondary' }, 'Use token'),
);
tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(tokenInput.value.trim());
  tokenForm.hidden = true;
  void show();
});
whenUnauthorized(() => {
  tokenForm.hidden = false;
  tokenInput.focus();
});

document.body.replaceChildren(
  h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
  h('header', {}, h('p', { class: 'brand' }, 'metallmix'), nav, tokenForm),
  main,
);

let loaded: { choices: Choices; kb: KbOverview } | undefined;

async function show(): Promise<void> {
  const hash = VIEWS.some((v) => v.hash === location.hash) ? location.hash : '#recommend';
  for (const a of nav.querySelectorAll('a'))
    if (a.getAttribute('href') === hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  document.title = `metallmix: ${VIEWS.find((v) => v.hash === hash)!.title}`;
  try {
    loaded ??= { choices: await choices(), kb: await getJson<KbOverview>('/v1/kb') };
  } catch (err) {
    main.replaceChildren(
      h('p', { role: 'alert' }, `The server did not answer: ${(err as Error).message}`),
    );
    return;
  }
  const metrics = loaded.kb.metrics.map((m) => m.name);
  if (hash === '#kb') kbView(main, loaded.kb);
  else if (hash === '#bench')
    benchView(
      main,
      loaded.choices,
      loaded.kb.perDataset.map((d) => d.dataset),
      metrics,
    );
  else recommendView(main, loaded.choices, metrics);
}

window.addEventListener('hashchange', () => {
  void show().then(() => main.focus());
});
void show();
